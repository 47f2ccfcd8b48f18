"""Baselines: what a known-good deployment offers per path, and drift from it (PS-DRIFT-…).

``pathsec baseline`` audits once and records, per endpoint and path, a flat set of facts
(port state, TLS versions, authentication offered, StartTLS, SMB dialects and signing, the
HTTP status and schemes of each virtual directory …). ``pathsec audit --policy`` compares a
new audit with it: a changed fact is PS-DRIFT-001, an endpoint of the baseline that was not
audited PS-DRIFT-002, an endpoint the baseline does not know PS-DRIFT-003. Facts that change
by design (RPC dynamic ports, timestamps) are not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from pathsec.audit.checks.texts import texts_of
from pathsec.audit.models import AuditResult, EndpointResult, Finding, FindingSeverity
from pathsec.probes import registry
from pathsec.probes.interface import AppProtocol, FactValue
from pathsec.yamlfile import load_yaml_file, validate_located


class BaselineEndpoint(BaseModel):
    """The facts of one endpoint and path in the known-good state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    path_id: str | None = None
    host: str
    port: int
    protocol: str
    from_zone: str | None = None
    offers: dict[str, FactValue]


class Policy(BaseModel):
    """A baseline policy file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy_version: Literal[1] = 1
    description: str = ""
    created: str
    endpoints: list[BaselineEndpoint] = Field(default_factory=list)


def endpoint_key(e: EndpointResult) -> str:
    """``path host:port/protocol [from zone]`` — how drift matches endpoints."""
    host = f"[{e.host}]" if ":" in e.host else e.host
    zone = f" from {e.from_zone}" if e.from_zone else ""
    return f"{e.path_id or '-'} {host}:{e.port}/{e.protocol.value}{zone}"


def offers(e: EndpointResult) -> dict[str, FactValue]:
    """The stable facts of one endpoint result: its status and each probe's ``facts``."""
    f: dict[str, FactValue] = {"status": e.status.value}
    for kind, obs in e.observations.items():
        f.update(registry.probe(kind).facts(obs))
    return f


def make_policy(result: AuditResult, created: str, description: str = "") -> Policy:
    """The baseline of one audit result."""
    return Policy(
        description=description,
        created=created,
        endpoints=[
            BaselineEndpoint(
                key=endpoint_key(e),
                path_id=e.path_id,
                host=e.host,
                port=e.port,
                protocol=e.protocol.value,
                from_zone=e.from_zone,
                offers=offers(e),
            )
            for e in result.endpoints
        ],
    )


def policy_yaml(policy: Policy) -> str:
    """The policy as YAML text (a header comment says how to use it)."""
    head = (
        "# pathsec baseline: what the deployment offered when it was known to be good.\n"
        "# Check for drift with: pathsec audit DEPLOYMENT.yaml --policy THIS-FILE\n"
    )
    body = yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    return head + body


def load_policy(path: Path) -> Policy:
    """Read a policy file; bad input names file, line and field."""
    return validate_located(Policy, load_yaml_file(path))


def _finding(
    id_: str,
    sev: FindingSeverity,
    e: BaselineEndpoint | EndpointResult,
    evidence: Sequence[str],
) -> Finding:
    texts = texts_of(id_)
    return Finding(
        id=id_,
        severity=sev,
        title=texts.title,
        remediation=texts.remediation,
        host=e.host,
        port=e.port,
        protocol=AppProtocol(e.protocol),
        path_id=e.path_id,
        flow_id=e.flow_id if isinstance(e, EndpointResult) else None,
        from_zone=e.from_zone,
        evidence=tuple(evidence),
    )


def with_drift(result: AuditResult, policy: Policy) -> AuditResult:
    """``result`` with its drift from ``policy`` added to the findings (in report order)."""
    from pathsec.audit.run import ordered

    return result.model_copy(
        update={"findings": ordered([*result.findings, *drift(policy, result)])}
    )


def drift(policy: Policy, result: AuditResult) -> list[Finding]:
    """Findings for every difference between the baseline and this audit."""
    known = {b.key: b for b in policy.endpoints}
    seen: set[str] = set()
    out: list[Finding] = []
    for e in result.endpoints:
        key = endpoint_key(e)
        seen.add(key)
        base = known.get(key)
        now = offers(e)
        if base is None:
            out.append(_finding("PS-DRIFT-003", FindingSeverity.info, e, [key]))
            continue
        changed = [
            f"{k}: {base.offers.get(k)!r} -> {now.get(k)!r}"
            for k in sorted(set(base.offers) | set(now))
            if base.offers.get(k) != now.get(k)
        ]
        if changed:
            out.append(_finding("PS-DRIFT-001", FindingSeverity.medium, e, changed[:20]))
    for key, base in known.items():
        if key not in seen:
            out.append(_finding("PS-DRIFT-002", FindingSeverity.low, base, [key]))
    return out
