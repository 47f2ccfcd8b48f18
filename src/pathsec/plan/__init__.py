"""Stage 3, the plan: catalog + deployment -> concrete flows and topology findings.

Public API: :func:`build_plan` and the models in :mod:`pathsec.plan.models`.
"""

from pathsec.plan.build import build_plan
from pathsec.plan.findings import CHECKS
from pathsec.plan.models import Flow, HostInfo, Plan, PlanFinding

__all__ = ["CHECKS", "Flow", "HostInfo", "Plan", "PlanFinding", "build_plan"]
