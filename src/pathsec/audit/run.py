"""One audit run: targets in, the results document out (engine + findings + timestamps)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pathsec.audit.checks.registry import grade
from pathsec.audit.engine import AuditObserver, Engine, Limits, NullObserver, loop_factory
from pathsec.audit.models import AuditResult, EndpointResult, Finding, FindingSeverity, Target
from pathsec.audit.profiles import Profile
from pathsec.gctune import batched_gc
from pathsec.jsontext import escape_controls
from pathsec.probes.interface import ProbeSettings, Status


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def audit(
    targets: Sequence[Target],
    profile: Profile,
    settings: ProbeSettings | None = None,
    limits: Limits | None = None,
    observer: AuditObserver | None = None,
) -> AuditResult:
    """Probe every target and grade the observations with ``profile``."""
    return audit_or_stop(targets, profile, settings, limits, observer)[0]


class _Stopped(KeyboardInterrupt):
    """SIGTERM arrived: unwind like Ctrl-C."""


@contextmanager
def _sigterm_unwinds(stopped: list[int]) -> Iterator[None]:
    """While active (main thread only), SIGTERM unwinds the run like Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: object) -> None:
        stopped.append(signum)
        raise _Stopped()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def audit_or_stop(
    targets: Sequence[Target],
    profile: Profile,
    settings: ProbeSettings | None = None,
    limits: Limits | None = None,
    observer: AuditObserver | None = None,
) -> tuple[AuditResult, int | None]:
    """Like :func:`audit`, but Ctrl-C (SIGINT) or SIGTERM end the run early.

    The endpoints that finished are kept and graded, the result is marked
    ``complete: false``, and the signal number is returned beside it (None when the run
    was not interrupted).
    """
    with batched_gc():
        return _audit(targets, profile, settings, limits, observer)


def _audit(
    targets: Sequence[Target],
    profile: Profile,
    settings: ProbeSettings | None,
    limits: Limits | None,
    observer: AuditObserver | None,
) -> tuple[AuditResult, int | None]:
    started = _now()
    stopped: list[int] = []
    engine = Engine(settings or ProbeSettings(), limits or Limits(), observer or NullObserver())
    try:
        with _sigterm_unwinds(stopped), asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(engine.run(targets))
    except (KeyboardInterrupt, asyncio.CancelledError):
        if not stopped:
            stopped.append(signal.SIGINT)
    results: list[EndpointResult] = []
    findings: list[Finding] = []
    for i, r in sorted(engine.done.items()):
        graded, errors = grade(targets[i], r, profile)
        if errors:  # a check's bug: this endpoint is not fully graded, and says so
            reason = f"pathsec internal error in check {'; '.join(errors)}"
            r = r.model_copy(update={"status": Status.error, "reason": reason})
        results.append(r)
        findings += graded
    result = AuditResult(
        started=started,
        finished=_now(),
        complete=not stopped and len(results) == len(targets),
        profile=profile.name,
        endpoints=tuple(results),
        findings=ordered(findings),
    )
    return result, (int(stopped[0]) if stopped else None)


def ordered(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Findings in report order: most severe first, then by host, port and id."""
    return tuple(sorted(findings, key=lambda f: (-f.severity.rank, f.host, f.port, f.id)))


def worst(result: AuditResult) -> FindingSeverity | None:
    """The most severe finding's severity (None without findings)."""
    if not result.findings:
        return None
    return max((f.severity for f in result.findings), key=lambda s: s.rank)


def result_json(result: AuditResult) -> str:
    """The results document as JSON text (the documented contract)."""
    return escape_controls(result.model_dump_json(indent=2)) + "\n"


def results_schema() -> dict[str, Any]:
    """JSON Schema of the results document."""
    schema = AuditResult.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pathsec audit results"
    return schema


def results_schema_text() -> str:
    """The committed schema file's content."""
    return json.dumps(results_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
