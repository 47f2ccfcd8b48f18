"""The whole pipeline against the lab: lab -> deployment -> plan -> audit -> report.

The lab runs in this process, on its own event loop in a helper thread, on kernel-chosen
ports; its ``deployment.yaml`` maps each real port to the listening one (``listen_ports``)
so the audit goes through exactly the code of ``pathsec audit deployment.yaml``: the
planner, :func:`pathsec.audit.deployment.deployment_targets` and
:func:`pathsec.audit.run.audit`. Whatever happens, the lab is stopped and the thread joined
before :func:`run_demo` returns.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pathsec.atomic import make_private_dirs, write_atomic
from pathsec.audit.deployment import deployment_targets, load_plan
from pathsec.audit.models import AuditResult
from pathsec.audit.profiles import load_profile as load_audit_profile
from pathsec.audit.run import audit, result_json
from pathsec.errors import PathsecError
from pathsec.lab.core import DEPLOYMENT_FILE, Lab, PortMode
from pathsec.plan.models import Plan
from pathsec.probes.interface import ProbeSettings
from pathsec.report import ReportFormat, ReportInput, writer_for

T = TypeVar("T")

REPORT_FILE = "report.html"
RESULTS_FILE = "results.json"
#: Seconds per connect or read: the lab answers at once, a stuck probe must not hold the demo.
PROBE_TIMEOUT = 3.0
#: Longest wait for the lab to start or stop.
LAB_TIMEOUT = 30.0


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo produced and how long each part took (seconds)."""

    lab_profile: str
    audit_profile: str
    result: AuditResult
    plan: Plan
    deployment: Path
    results: Path
    report: Path
    targets: int
    seconds_lab: float
    seconds_audit: float
    seconds_total: float


class _LabThread:
    """A :class:`Lab` on its own event loop in a daemon thread (the audit owns the main one)."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="pathsec-lab", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(LAB_TIMEOUT)

    def start(self) -> None:
        self.thread.start()
        self.call(self.lab.start())

    def stop(self) -> None:
        try:
            if self.thread.is_alive():
                self.call(self.lab.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(LAB_TIMEOUT)
            if not self.thread.is_alive():
                self.loop.close()


@contextmanager
def running_lab(profile: str) -> Iterator[Lab]:
    """Start the lab ``profile`` on kernel-chosen ports; stop it on exit, whatever happened."""
    runner = _LabThread(Lab(profile, ports=PortMode.ephemeral))
    try:
        runner.start()
        yield runner.lab
    finally:
        runner.stop()


def run_demo(
    out_dir: Path,
    lab_profile: str = "misconfigured",
    audit_profile: str = "reference",
) -> DemoOutcome:
    """Start the lab, write its deployment, plan, audit every probeable flow, write the report.

    Writes ``deployment.yaml``, ``results.json`` and ``report.html`` into ``out_dir``.
    Raises :class:`~pathsec.errors.PathsecError` when the run cannot complete.
    """
    t0 = time.monotonic()
    prof = load_audit_profile(audit_profile)
    make_private_dirs(out_dir)
    with running_lab(lab_profile) as lab:
        t_lab = time.monotonic() - t0
        # Only deployment.yaml goes to out_dir; the endpoints file stays in the lab's
        # temporary state directory, which the lab removes when it stops.
        dep_tmp, _ = lab.write_files()
        deployment = write_atomic(out_dir / DEPLOYMENT_FILE, dep_tmp.read_text(encoding="utf-8"))
        loaded = load_plan(deployment)
        targets = deployment_targets(loaded)
        if not targets:
            raise PathsecError("the lab's plan has no flow to audit")
        t1 = time.monotonic()
        result = audit(targets, prof, ProbeSettings(timeout=PROBE_TIMEOUT))
        t_audit = time.monotonic() - t1
    if not result.complete:
        raise PathsecError("the audit of the lab did not complete")
    results = write_atomic(out_dir / RESULTS_FILE, result_json(result))
    html = writer_for(ReportFormat.html).render(
        ReportInput(
            result,
            loaded.plan,
            title=f"pathsec demo: lab profile {lab_profile}, audit profile {prof.name}",
        )
    )
    report = write_atomic(out_dir / REPORT_FILE, html)
    return DemoOutcome(
        lab_profile=lab_profile,
        audit_profile=prof.name,
        result=result,
        plan=loaded.plan,
        deployment=deployment,
        results=results,
        report=report,
        targets=len(targets),
        seconds_lab=t_lab,
        seconds_audit=t_audit,
        seconds_total=time.monotonic() - t0,
    )
