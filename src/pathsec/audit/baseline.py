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

from pathsec.audit.models import AuditResult, EndpointResult, Finding, FindingSeverity, Text
from pathsec.probes.base import AppProtocol
from pathsec.yamlfile import load_yaml_file, validate_located

FactValue = str | bool | int | list[str] | None


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
    """The stable facts of one endpoint result."""
    o = e.observations
    f: dict[str, FactValue] = {"status": e.status.value}
    if o.tcp is not None:
        f["tcp"] = o.tcp.state
    if o.udp is not None:
        f["udp"] = o.udp.state
    if o.tls is not None:
        f["tls.accepted"] = list(o.tls.accepted)
        cert = o.tls.session.certificate if o.tls.session else None
        if cert is not None:
            f["tls.subject"] = cert.subject
            f["tls.issuer"] = cert.issuer
            f["tls.not_after"] = str(cert.not_after)
    if o.smtp is not None:
        f["smtp.starttls"] = o.smtp.starttls_offered
        f["smtp.auth_before_tls"] = list(o.smtp.auth_before_tls)
        f["smtp.auth_after_tls"] = list(o.smtp.auth_after_tls)
    if o.pop3 is not None:
        f["pop3.stls"] = o.pop3.stls_offered
        f["pop3.plain_before_tls"] = list(o.pop3.plain_before_tls)
    if o.imap is not None:
        f["imap.starttls"] = o.imap.starttls_offered
        f["imap.plain_before_tls"] = list(o.imap.plain_before_tls)
    if o.http is not None:
        for r in o.http.responses:
            f[f"http{r.path}.status"] = r.status
            f[f"http{r.path}.auth"] = list(r.auth_schemes)
            if r.location is not None:
                f[f"http{r.path}.redirect_https"] = r.redirect_to_https
    if o.ldap is not None and o.ldap.root_dse is not None:
        f["ldap.sasl"] = sorted(o.ldap.root_dse.sasl_mechanisms)
        f["ldap.starttls"] = o.ldap.starttls_performed
        if o.ldap.sasl_after_tls is not None:
            f["ldap.sasl_after_tls"] = sorted(o.ldap.sasl_after_tls)
    if o.kerberos is not None:
        f["kerberos.kdc"] = o.kerberos.kdc
    if o.dns is not None:
        for q in o.dns.queries:
            f[f"dns.{q.rdtype}.{q.name}"] = q.rcode
    if o.rpc is not None:
        f["rpc.lookup"] = o.rpc.status.value
    if o.smb is not None:
        f["smb.dialects"] = sorted(d for d, ok in o.smb.dialects.items() if ok)
        f["smb.signing_required"] = o.smb.signing_required
        f["smb.encryption"] = o.smb.encryption
    if o.sip is not None:
        f["sip.status"] = o.sip.status_code
        f["sip.server"] = o.sip.server
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
    en: str,
    zh: str,
    fix: str,
    fix_zh: str,
    e: BaselineEndpoint | EndpointResult,
    evidence: Sequence[str],
) -> Finding:
    proto = AppProtocol(e.protocol)
    return Finding(
        id=id_,
        severity=sev,
        title=Text(en=en, zh=zh),
        remediation=Text(en=fix, zh=fix_zh),
        host=e.host,
        port=e.port,
        protocol=proto,
        path_id=e.path_id,
        flow_id=e.flow_id if isinstance(e, EndpointResult) else None,
        from_zone=e.from_zone,
        evidence=tuple(evidence),
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
            out.append(
                _finding(
                    "PS-DRIFT-003",
                    FindingSeverity.info,
                    "Drift: endpoint not in the baseline",
                    "偏差:基线中没有该终结点",
                    "Review it; if it is expected, record a new baseline (pathsec baseline).",
                    "检查该终结点;如属预期,请重新记录基线(pathsec baseline)。",
                    e,
                    [key],
                )
            )
            continue
        changed = [
            f"{k}: {base.offers.get(k)!r} -> {now.get(k)!r}"
            for k in sorted(set(base.offers) | set(now))
            if base.offers.get(k) != now.get(k)
        ]
        if changed:
            out.append(
                _finding(
                    "PS-DRIFT-001",
                    FindingSeverity.medium,
                    "Drift: the endpoint offers something else than in the baseline",
                    "偏差:终结点提供的内容与基线不同",
                    "Find out what changed (an update, a configuration change); restore the "
                    "baseline or record a new one when the change is intended.",
                    "查明发生了什么变化(更新、配置更改);恢复基线,或在变化属预期时记录新基线。",
                    e,
                    changed[:20],
                )
            )
    for key, base in known.items():
        if key not in seen:
            out.append(
                _finding(
                    "PS-DRIFT-002",
                    FindingSeverity.low,
                    "Drift: endpoint of the baseline was not audited",
                    "偏差:未审核基线中的终结点",
                    "Audit the same targets and zone as the baseline, or record a new baseline.",
                    "审核与基线相同的目标和区域,或记录新基线。",
                    base,
                    [key],
                )
            )
    return out
