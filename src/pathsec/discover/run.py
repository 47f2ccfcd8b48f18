"""One discovery: probe the Exchange and AD ports of every address through the audit's
engine, fingerprint each address, and write the draft and its evidence.

Two rounds through the engine (:func:`pathsec.audit.run.probe_or_stop`, the audit's own
concurrency, connection budget, pacing and signal handling): every discovery port of every
address; then, once a domain controller or KDC has named the AD domain, DNS and Kerberos
again on the addresses where they answered, asking for that domain's SOA, SRV records and
realm. Follow-up probes (TLS version tables, cipher lists) are left out: the application
probes' own handshakes already show the certificates; ``--ntlm-info`` keeps the NTLM one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pathsec.audit.engine import AuditObserver, Limits
from pathsec.audit.models import EndpointResult, Target
from pathsec.audit.run import probe_or_stop
from pathsec.discover.draft import build_draft
from pathsec.discover.hosts import EXCHANGE_ROLES, is_open, judge
from pathsec.discover.models import DiscoveryReport, LeftOut, ServerVerdict
from pathsec.discover.scope import DISCOVERY_PORTS, Scope, endpoint_targets
from pathsec.discover.versions import domain_estimate, exchange_fallback, windows_estimate
from pathsec.inventory.draft import Draft, DraftSource, render_draft
from pathsec.jsontext import escape_controls
from pathsec.probes import registry
from pathsec.probes.interface import ProbeKind, ProbeSettings

#: Follow-up probes discovery leaves out (all but NTLM, which runs only with --ntlm-info).
SKIP = frozenset(k for layer in registry.FOLLOW_UPS for k in layer) - {ProbeKind.ntlm}
#: Ports asked again once the AD domain is known.
DOMAIN_PORTS = (53, 88)
#: Addresses per pass through the engine (x 21 ports: about 21,500 endpoints, ~60 MB).
BATCH = 1024


@dataclass(frozen=True)
class Discovery:
    """What one run found: the evidence report, the draft and its YAML text."""

    report: DiscoveryReport
    draft: Draft | None
    text: str | None
    stopped: int | None = None
    errors: int = 0
    warnings: int = 0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _probe(
    targets: Sequence[Target],
    settings: ProbeSettings,
    limits: Limits,
    observer: AuditObserver | None,
) -> tuple[list[EndpointResult], int | None]:
    done, stopped = probe_or_stop(targets, settings, limits, observer, SKIP)
    return [done[i] for i in sorted(done)], stopped


def _second_round(
    results: dict[str, list[EndpointResult]],
    domain: str,
    settings: ProbeSettings,
    limits: Limits,
    observer: AuditObserver | None,
) -> tuple[int, int | None]:
    """DNS and Kerberos again with the AD domain; their results replace the first round's."""
    again = [
        t
        for address, rs in results.items()
        for t in endpoint_targets([address], domain)
        if t.port in DOMAIN_PORTS and any(r.port == t.port and is_open(r) for r in rs)
    ]
    if not again:
        return 0, None
    found, stopped = _probe(again, settings, limits, observer)
    for r in found:
        results[r.host] = [x for x in results[r.host] if x.port != r.port] + [r]
    return len(again), stopped


def _unique_names(servers: Sequence[ServerVerdict]) -> list[str]:
    """Each server's name; a name taken twice gets ``-2``, ``-3`` … (case-insensitively)."""
    taken: set[str] = set()
    out = []
    for v in servers:
        base = v.name.value or "host"
        name, n = base, 2
        while name.upper() in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name.upper())
        out.append(name)
    return out


def _ranges(addresses: Sequence[str]) -> tuple[str, ...]:
    """Consecutive addresses collapsed into ``first-last`` ranges."""
    out: list[str] = []
    ips = [ipaddress.ip_address(a) for a in addresses]
    i = 0
    while i < len(ips):
        j = i
        while j + 1 < len(ips) and _next(ips[j], ips[j + 1]):
            j += 1
        out.append(str(ips[i]) if i == j else f"{ips[i]}-{ips[j]}")
        i = j + 1
    return tuple(out)


def _next(a: ipaddress.IPv4Address | ipaddress.IPv6Address, b: object) -> bool:
    return isinstance(b, type(a)) and int(b) == int(a) + 1


def _with_fallbacks(servers: list[ServerVerdict], names: Sequence[str]) -> list[ServerVerdict]:
    """Exchange servers without a release on the wire get the organisation's (and the
    Windows that follows from it, when nothing else told it)."""
    known = [(n, v.exchange) for v, n in zip(servers, names, strict=True) if v.exchange is not None]
    out = []
    for v in servers:
        if v.exchange is None and {r.role for r in v.roles} & EXCHANGE_ROLES:
            fallback = exchange_fallback(known)
            windows = v.windows
            if windows.value is None:
                windows = windows_estimate((), fallback.value)
                if windows.value is None:
                    windows = v.windows
            v = v.model_copy(update={"exchange": fallback, "windows": windows})
        out.append(v)
    return out


def discover(
    scope: Scope,
    settings: ProbeSettings,
    limits: Limits,
    observer: AuditObserver | None = None,
) -> Discovery:
    """Probe ``scope`` and make the draft; an interrupted run returns no draft.

    Addresses go through the engine :data:`BATCH` at a time and only the endpoints that
    accepted a connection are kept, so memory stays flat however large the range.
    """
    started, clock = _now(), time.monotonic()
    progress = _Progress(observer, len(scope.addresses) * len(DISCOVERY_PORTS))
    results: dict[str, list[EndpointResult]] = {}
    probed, stopped = 0, None
    for i in range(0, len(scope.addresses), BATCH):
        targets = endpoint_targets(scope.addresses[i : i + BATCH])
        found, stopped = _probe(targets, settings, limits, progress)
        probed += len(targets)
        for r in found:
            if is_open(r):
                results.setdefault(r.host, []).append(r)
        if stopped is not None:
            break
    progress.finish()
    domain = domain_estimate([r for rs in results.values() for r in rs])
    if stopped is None and domain.value:
        extra, stopped = _second_round(results, domain.value, settings, limits, observer)
        probed += extra
    seconds = round(time.monotonic() - clock, 3)
    return conclude(scope, results, probed, started, seconds, stopped)


class _Progress:
    """One progress display over every batch (the engine reports each batch as a run)."""

    def __init__(self, observer: AuditObserver | None, total: int) -> None:
        self.observer = observer
        self.total = total
        self.started = False

    def run_started(self, endpoints: int) -> None:
        """The first batch starts the display, with the whole run's count."""
        if self.observer is not None and not self.started:
            self.observer.run_started(self.total)
        self.started = True

    def endpoint_done(self, result: EndpointResult) -> None:
        """Pass on."""
        if self.observer is not None:
            self.observer.endpoint_done(result)

    def run_finished(self) -> None:
        """A batch finished: the display goes on."""

    def finish(self) -> None:
        """The last batch finished."""
        if self.observer is not None and self.started:
            self.observer.run_finished()


def conclude(
    scope: Scope,
    results: Mapping[str, Sequence[EndpointResult]],
    endpoints: int,
    started: str = "",
    seconds: float = 0.0,
    stopped: int | None = None,
) -> Discovery:
    """What the endpoint results of ``scope`` (by address) make: verdicts, the evidence
    report and, unless the run was stopped or found nothing, the draft."""
    domain = domain_estimate([r for rs in results.values() for r in rs])
    servers: list[ServerVerdict] = []
    left_out: list[LeftOut] = []
    silent: list[str] = []
    for address in scope.addresses:
        verdict = judge(address, results.get(address, ()))
        if isinstance(verdict, ServerVerdict):
            servers.append(verdict)
        elif isinstance(verdict, LeftOut):
            left_out.append(verdict)
        else:
            silent.append(address)
    names = _unique_names(servers)
    servers = _with_fallbacks(servers, names)
    report = DiscoveryReport(
        started=started or _now(),
        finished=_now(),
        targets=scope.given,
        addresses=len(scope.addresses),
        endpoints=endpoints,
        seconds=seconds,
        domain=domain,
        servers=tuple(servers),
        left_out=tuple(left_out),
        silent=_ranges(silent),
        complete=stopped is None,
    )
    if stopped is not None or not servers:
        return Discovery(report, None, None, stopped)
    draft = build_draft(report, names, scope.networks)
    errors, warnings = _validate(draft)
    source = DraftSource(
        intro=(
            f"Draft deployment written by `pathsec discover {' '.join(scope.given)}`",
            f"({report.addresses} addresses, {report.endpoints} endpoints, {report.finished}).",
            "Each server's comments give the evidence for its roles and versions, and how",
            "sure each role is; all of it is in the evidence file (NAME.evidence.json beside",
            "the draft, or --evidence). It is a draft: review every TODO below (site, zone",
            "kinds, Edge subscriptions, firewalls, client populations), then run",
            "`pathsec validate` and `pathsec plan` on it.",
        ),
        absent="seen on the network",
        absent_long="seen on the network",
        noted="Noted while discovering:",
        left_out="Left out (answered, but no Exchange or AD server):",
    )
    return Discovery(report, draft, render_draft(draft, source), None, errors, warnings)


def _validate(draft: Draft) -> tuple[int, int]:
    """``pathsec validate`` on the draft: counts, and the errors noted at its top (a partial
    scan can miss a role a site needs: the draft says so rather than inventing a server)."""
    from pathsec.catalog import load_builtin
    from pathsec.plan.build import build_plan
    from pathsec.plan.models import Severity

    plan = build_plan(load_builtin(), draft.deployment)
    errors = [f for f in plan.findings if f.severity is Severity.error]
    warnings = sum(1 for f in plan.findings if f.severity is Severity.warning)
    draft.header.extend(f"validate: error {f.id}: {f.message}" for f in errors)
    return len(errors), warnings


def report_json(report: DiscoveryReport) -> str:
    """The evidence file's text (server text escaped as in the audit's results)."""
    return escape_controls(report.model_dump_json(indent=2)) + "\n"
