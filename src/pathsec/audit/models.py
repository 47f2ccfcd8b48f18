"""Audit inputs (targets with expectations) and outputs (the results JSON contract)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pathsec.audit.observations import Observations
from pathsec.compaction import compact
from pathsec.ident import (
    DomainName,
    FindingId,
    FlowId,
    HostName,
    Name,
    PathId,
    Port,
    ResultText,
    ShortText,
    Word,
)
from pathsec.probes.interface import AppProtocol, Endpoint, Status
from pathsec.probes.registry import endpoint


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FindingSeverity(StrEnum):
    """Severity of an audit finding, most severe first."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for info."""
        return list(reversed(FindingSeverity)).index(self)


class Expectations(_Frozen):
    """What the reference expects of the path an endpoint serves."""

    encryption_supported: bool
    encryption_by_default: bool | Literal["conditional"]
    default_auth: tuple[Word, ...]
    supported_auth: tuple[Word, ...]
    assumed: bool = Field(
        default=False,
        description="The path was assumed from the port of an ad-hoc target (no --path): its "
        "authentication rows apply only where the endpoint shows Exchange's or AD's markers.",
    )


class Target(_Frozen):
    """One endpoint to audit, with the catalog path it serves and what to expect there."""

    host: HostName
    port: Port
    protocol: AppProtocol
    path_id: PathId | None = None
    expectations: Expectations | None = None
    server_name: HostName | None = Field(
        default=None, description="Name for SNI and the hostname check (default: host)."
    )
    flow_id: FlowId | None = None
    trusted_source: bool = Field(
        default=False, description="The audited source zone is trusted (NTLM disclosure check)."
    )
    domain: DomainName | None = Field(
        default=None, description="Active Directory domain (DNS SOA/SRV, Kerberos realm)."
    )
    rpc_range: tuple[Port, Port] | None = Field(
        default=None, description="Configured RPC dynamic port range of the host (KB 154596)."
    )
    expect: Literal["open", "closed"] = Field(
        default="open",
        description="closed: the plan keeps this port closed to the audited zone.",
    )
    from_zone: Name | None = Field(default=None, description="The zone audited from.")
    dial_port: Port | None = Field(
        default=None,
        description="Port actually connected to when the service listens elsewhere than "
        "``port`` (deployment ``listen_ports``); results still report ``port``.",
    )

    def endpoint(self) -> Endpoint:
        """The probe-level endpoint (it dials ``dial_port`` when one is set)."""
        return endpoint(
            self.host,
            self.dial_port or self.port,
            self.protocol,
            self.server_name,
            self.path_id,
            self.domain,
        )


class EndpointResult(_Frozen):
    """Everything observed at one endpoint."""

    host: HostName
    port: Port
    protocol: AppProtocol
    path_id: PathId | None
    flow_id: FlowId | None = None
    expect: Literal["open", "closed"] = "open"
    from_zone: Name | None = None
    status: Status
    reason: ResultText | None = None
    observations: Observations


class Text(_Frozen):
    """A message in English and Chinese."""

    en: ResultText
    zh: ResultText


class Finding(_Frozen):
    """One deviation of an endpoint from the profile."""

    id: FindingId
    severity: FindingSeverity
    title: Text
    remediation: Text
    host: HostName
    port: Port
    protocol: AppProtocol
    path_id: PathId | None
    flow_id: FlowId | None = None
    from_zone: Name | None = None
    evidence: tuple[ResultText, ...]


class AuditResult(_Frozen):
    """The results JSON of ``pathsec audit --format json``."""

    schema_version: Literal[1] = 1
    started: ShortText
    finished: ShortText
    complete: bool = Field(description="False when the run was cut short.")
    profile: ShortText
    endpoints: tuple[EndpointResult, ...]
    findings: tuple[Finding, ...]


__all__ = [
    "AuditResult",
    "EndpointResult",
    "Expectations",
    "Finding",
    "FindingSeverity",
    "Target",
    "Text",
    "compact",
]
