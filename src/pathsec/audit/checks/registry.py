"""Every check, collected from the area modules, and how a profile's checks grade an endpoint.

An area module (``tcp``, ``tls``, ``mail`` …) exports ``CHECKS``; :data:`AREAS` lists the
modules, and :data:`CHECKS` maps each id to its check (a duplicate id raises).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pathsec.audit.checks import (
    ciphers,
    dns,
    http,
    kerberos,
    ldap,
    mail,
    ntlm,
    rpc,
    sip,
    smb,
    tcp,
    tls,
    zone,
)
from pathsec.audit.checks.model import Check, Context, collect
from pathsec.audit.checks.texts import texts_of
from pathsec.audit.models import EndpointResult, Finding, FindingSeverity, Target
from pathsec.audit.observations import observations
from pathsec.audit.profiles import Profile, load_profile
from pathsec.compaction import compact
from pathsec.probes import registry as probes
from pathsec.probes.interface import AppProtocol, Observation, Status
from pathsec.probes.text import clean_text

#: The area modules; a new area is one module and one entry here.
AREAS = (tcp, tls, ciphers, mail, ntlm, http, ldap, kerberos, dns, rpc, smb, sip, zone)

#: Every check pathsec knows, by id. Ids are stable: never renumber, only add.
CHECKS: Mapping[str, Check] = collect(c for area in AREAS for c in area.CHECKS)


def finding(
    finding_id: str,
    severity: FindingSeverity,
    target: Target | EndpointResult,
    evidence: Sequence[str],
) -> Finding:
    """A finding of ``finding_id`` at an endpoint, with its texts from ``texts.yaml``."""
    texts = texts_of(finding_id)
    out = Finding(
        id=finding_id,
        severity=severity,
        title=texts.title,
        remediation=texts.remediation,
        host=target.host,
        port=target.port,
        protocol=target.protocol,
        path_id=target.path_id,
        flow_id=target.flow_id,
        from_zone=target.from_zone,
        evidence=tuple(evidence),
    )
    compact(out)
    return out


def evaluate(target: Target, result: EndpointResult, profile: Profile) -> list[Finding]:
    """Run the profile's checks on one endpoint (a check that raises, raises)."""
    return grade(target, result, profile, guard=False)[0]


def grade(
    target: Target, result: EndpointResult, profile: Profile, guard: bool = True
) -> tuple[list[Finding], list[str]]:
    """The findings of the profile's checks at one endpoint, and (``guard``) the checks that
    failed with an exception, as ``id: error`` lines, instead of raising."""
    ctx = Context(target, result, profile)
    out: list[Finding] = []
    errors: list[str] = []
    for check_id, severity in profile.checks.items():
        check = CHECKS[check_id]
        if not check.applies(target):
            continue
        try:
            evidence = check.fn(ctx)
        except Exception as exc:
            if not guard:
                raise
            errors.append(clean_text(f"{check_id}: {type(exc).__name__}: {exc}"))
            continue
        if evidence:
            out.append(finding(check_id, severity, target, evidence))
    return out, errors


def evaluate_check(
    check_id: str,
    *seen: Observation,
    protocol: AppProtocol,
    profile: Profile | None = None,
    **target: Any,
) -> tuple[str, ...]:
    """The evidence of one check on one endpoint that showed ``seen`` (empty: no finding).

    For unit tests of a check: the endpoint is ``192.0.2.1`` on the protocol's default port
    (``target`` overrides any :class:`Target` field, e.g. ``expectations``); the profile is
    ``hardened`` unless given; a check that does not apply to the endpoint gives nothing.
    """
    fields: dict[str, Any] = {
        "host": "192.0.2.1",
        "port": probes.speaks(protocol).default_port or 1,
        "protocol": protocol,
        **target,
    }
    t = Target(**fields)
    obs = observations({probes.KIND_OF[type(o)]: o for o in seen})
    result = EndpointResult(
        host=t.host,
        port=t.port,
        protocol=t.protocol,
        path_id=t.path_id,
        expect=t.expect,
        status=Status.ok,
        observations=obs,
    )
    check = CHECKS[check_id]
    if not check.applies(t):
        return ()
    return tuple(check.fn(Context(t, result, profile or load_profile("hardened"))))
