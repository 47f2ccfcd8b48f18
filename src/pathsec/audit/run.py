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

from pydantic import BaseModel

from pathsec.audit.checks.registry import grade
from pathsec.audit.engine import AuditObserver, Engine, Limits, NullObserver, loop_factory
from pathsec.audit.models import AuditResult, EndpointResult, Finding, FindingSeverity, Target
from pathsec.audit.profiles import Profile
from pathsec.compaction import sharing_values
from pathsec.gctune import batched_gc
from pathsec.jsontext import escape_controls
from pathsec.probes.interface import ProbeKind, ProbeSettings, Status


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
    with batched_gc(), sharing_values():
        return _audit(targets, profile, settings, limits, observer)


def _audit(
    targets: Sequence[Target],
    profile: Profile,
    settings: ProbeSettings | None,
    limits: Limits | None,
    observer: AuditObserver | None,
) -> tuple[AuditResult, int | None]:
    started = _now()
    done, stopped = _probe(targets, settings, limits, observer, frozenset())
    results: list[EndpointResult] = []
    findings: list[Finding] = []
    for i, r in sorted(done.items()):
        graded, errors = grade(targets[i], r, profile)
        if errors:  # a check's bug: this endpoint is not fully graded, and says so
            reason = f"pathsec internal error in check {'; '.join(errors)}"
            r = r.model_copy(update={"status": Status.error, "reason": reason})
        results.append(r)
        findings += graded
    result = AuditResult(
        started=started,
        finished=_now(),
        complete=stopped is None and len(results) == len(targets),
        profile=profile.name,
        endpoints=tuple(results),
        findings=ordered(findings),
    )
    return result, stopped


def probe_or_stop(
    targets: Sequence[Target],
    settings: ProbeSettings | None = None,
    limits: Limits | None = None,
    observer: AuditObserver | None = None,
    skip: frozenset[ProbeKind] = frozenset(),
) -> tuple[dict[int, EndpointResult], int | None]:
    """Run the probes of every target through the engine, ungraded (the audit grades them;
    ``pathsec discover`` fingerprints them). Ctrl-C (SIGINT) or SIGTERM end the run early:
    the endpoints that finished are returned (by target index) with the signal number
    (None when the run was not interrupted). ``skip``: follow-up probes to leave out.
    """
    with batched_gc(), sharing_values():
        return _probe(targets, settings, limits, observer, skip)


def _probe(
    targets: Sequence[Target],
    settings: ProbeSettings | None,
    limits: Limits | None,
    observer: AuditObserver | None,
    skip: frozenset[ProbeKind],
) -> tuple[dict[int, EndpointResult], int | None]:
    stopped: list[int] = []
    engine = Engine(
        settings or ProbeSettings(), limits or Limits(), observer or NullObserver(), skip
    )
    try:
        with _sigterm_unwinds(stopped), asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(engine.run(targets))
    except (KeyboardInterrupt, asyncio.CancelledError):
        if not stopped:
            stopped.append(signal.SIGINT)
    return dict(engine.done), (int(stopped[0]) if stopped else None)


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


#: How :func:`result_json` lays out the two lists when they are empty.
_LISTS = '\n  "endpoints": [],\n  "findings": []\n}'
#: Endpoints or findings per piece of :func:`result_json_pieces`.
_PIECE = 64


def result_json_pieces(result: AuditResult) -> Iterator[str]:
    """:func:`result_json`'s text, piece by piece: the same characters, never all of them at
    once (10,000 endpoints are about 100 MB of JSON, held twice while one string is made)."""
    head = result.model_copy(update={"endpoints": (), "findings": ()}).model_dump_json(indent=2)
    start, sep, tail = head.partition(_LISTS)
    if not sep or tail:  # another layout: the whole text at once
        yield result_json(result)
        return
    yield escape_controls(start) + '\n  "endpoints": '
    yield from _json_list(result.endpoints)
    yield ',\n  "findings": '
    yield from _json_list(result.findings)
    yield "\n}\n"


def _json_list(items: Sequence[BaseModel]) -> Iterator[str]:
    """A list of models as :func:`result_json` writes it, one level down (4 spaces)."""
    if not items:
        yield "[]"
        return
    for i in range(0, len(items), _PIECE):
        texts = (
            "    " + m.model_dump_json(indent=2).replace("\n", "\n    ")
            for m in items[i : i + _PIECE]
        )
        yield ("[\n" if i == 0 else ",\n") + escape_controls(",\n".join(texts))
    yield "\n  ]"


def results_schema() -> dict[str, Any]:
    """JSON Schema of the results document."""
    schema = AuditResult.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pathsec audit results"
    return schema


def results_schema_text() -> str:
    """The committed schema file's content."""
    return json.dumps(results_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
