"""``pathsec demo``: the lab, planned, audited and reported in one call."""

from pathsec.demo.run import DemoOutcome, run_demo

__all__ = ["DemoOutcome", "run_demo"]
