"""Endpoint results as the engine records them, built from observations (for rule tests)."""

from __future__ import annotations

from collections.abc import Sequence

from pathsec.audit.models import EndpointResult
from pathsec.audit.observations import observations
from pathsec.discover.scope import port_protocol
from pathsec.probes.interface import Observation, ProbeKind, Status
from pathsec.probes.registry import KIND_OF
from pathsec.probes.smtp import SmtpObservation, parse_ehlo, parse_reply
from pathsec.probes.tcp import TcpObservation


def result(host: str, port: int, *obs: Observation) -> EndpointResult:
    """An open endpoint with these observations (as the engine records them)."""
    seen: dict[ProbeKind, Observation] = {ProbeKind.tcp: TcpObservation(state="open")}
    for o in obs:
        seen[KIND_OF[type(o)]] = o
    return EndpointResult(
        host=host,
        port=port,
        protocol=port_protocol(port),
        path_id=None,
        status=Status.ok,
        observations=observations(seen),
    )


def smtp(banner: str, ehlo: Sequence[str]) -> SmtpObservation:
    """An SMTP observation from a banner and the EHLO reply lines, by the probe's parsers."""
    info = parse_ehlo(parse_reply(list(ehlo)))
    return SmtpObservation(
        banner=banner,
        ehlo_before=info,
        starttls_offered=info.starttls,
        exchange_markers=info.exchange_markers,
    )
