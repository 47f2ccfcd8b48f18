"""Audit inputs (targets with expectations) and outputs (the results JSON contract)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pathsec.audit.observations import Observations
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


#: One shared ``fields set`` per distinct set of field names (see :func:`compact`).
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


#: Values :func:`compact` has nothing to do for.
_SCALARS = frozenset({int, float, bool, type(None)})


def compact(value: object) -> None:
    """Let frozen models share their pydantic ``fields set`` with all equal ones.

    Every model instance carries the set of field names it was given (hundreds of bytes);
    a frozen model never changes it (``model_copy`` copies it first), so the 60-odd models
    of each endpoint's observations share a handful of sets instead of holding copies.
    String fields (and tuples of strings) are interned: equal values, one copy.
    """
    if isinstance(value, BaseModel):
        if value.model_config.get("frozen"):
            fields = value.__pydantic_fields_set__
            key = frozenset(fields)
            shared = _FIELDS_SETS.get(key)
            if shared is None:
                shared = _FIELDS_SETS[key] = set(key)
            if fields is not shared:
                object.__setattr__(value, "__pydantic_fields_set__", shared)
        values = value.__dict__
        for name, item in values.items():
            kind = type(item)
            if name == "transcript":  # Transcript.add interned every line already
                continue
            if kind is str:  # not enum members (str subclasses)
                values[name] = sys.intern(item)  # the same value: names, subjects, banners
            elif kind in _SCALARS:
                continue
            elif kind is tuple and item and all(type(x) is str for x in item):
                values[name] = tuple(sys.intern(x) for x in item)
            else:
                compact(item)
    elif isinstance(value, (tuple, list)):
        for item in value:
            if type(item) not in _SCALARS and type(item) is not str:
                compact(item)
    elif isinstance(value, dict):
        for item in value.values():
            if type(item) not in _SCALARS and type(item) is not str:
                compact(item)
