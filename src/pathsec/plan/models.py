"""What the planner hands downstream (firewall, audit, report): plain frozen data.

A :class:`Plan` is self-contained: besides the flows and findings it carries the hosts,
zones and firewalls the downstream stages need, so they never read the deployment file.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from pathsec.ident import (
    AddressOrCIDR,
    FindingId,
    FlowId,
    InterfaceName,
    LongText,
    Name,
    PathId,
    Port,
    ShortText,
    Token,
    Word,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Severity(StrEnum):
    """Severity of a topology finding."""

    error = "error"  # unsupported by the reference
    warning = "warning"  # risky
    info = "info"


class HostKind(StrEnum):
    """What a plan endpoint is."""

    server = "server"
    client_population = "client_population"
    ip_gateway = "ip_gateway"
    backup = "backup"
    admin = "admin"
    partner = "partner"
    internet_mail = "internet_mail"  # any mail server on the internet (internet_mail)
    crl_endpoint = "crl_endpoint"  # CRL distribution points Edge servers check
    dns_resolver = "dns_resolver"
    publisher = "publisher"  # reverse proxy, load balancer or NAT publishing Client Access


class FlowBasis(StrEnum):
    """Where a flow comes from: the reference's row, a reading beyond its cells, or beyond it."""

    reference = "reference"
    inferred = "inferred"  # a destination, protocol or direction the seed does not state
    operational = "operational"  # a flow the reference does not list (with its KB/TechNet)


class PortSpan(_Frozen):
    """An inclusive port range; a single port has ``start == end``."""

    start: Port
    end: Port

    @model_validator(mode="after")
    def _ordered(self) -> PortSpan:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is above end {self.end}")
        return self

    def __str__(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"


class HostInfo(_Frozen):
    """A plan endpoint: a server, a client population, a gateway, a partner …"""

    name: Name
    kind: HostKind
    zone: Name
    site: Name | None = None
    addresses: tuple[AddressOrCIDR, ...] = Field(
        description="IP addresses or CIDRs (client populations and zones use CIDRs)."
    )
    roles: tuple[Word, ...] = ()
    host_firewall: bool = False
    windows: Word | None = None
    rpc_range: PortSpan | None = Field(
        default=None, description="RPC dynamic range of a Windows server (KB 154596)."
    )
    rpc_range_configured: bool = False
    listen_ports: dict[Port, Port] = Field(
        default_factory=dict,
        description=(
            "Reference port -> port actually listening (deployment ``listen_ports``); "
            "omitted from JSON when empty."
        ),
    )

    @model_serializer(mode="wrap")
    def _omit_empty_listen_ports(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Additive field: plans without overrides serialise exactly as before.
        data = handler(self)
        if isinstance(data, dict) and not self.listen_ports:
            data.pop("listen_ports", None)
        return data

    def __hash__(self) -> int:
        return hash((self.name, self.kind, self.zone, self.addresses))


class ZoneInfo(_Frozen):
    """A network zone with its address ranges."""

    name: Name
    kind: Word
    cidrs: tuple[AddressOrCIDR, ...]


class FirewallInfo(_Frozen):
    """A network firewall between zones; ``interfaces`` maps zone name to interface name."""

    name: Name
    zones: tuple[Name, ...]
    interfaces: dict[Name, InterfaceName] = Field(default_factory=dict)


class EncryptionExpectation(_Frozen):
    """What the reference expects of a flow's encryption."""

    supported: bool
    mechanisms: tuple[Word, ...] = ()
    by_default: bool | Literal["conditional"]


class Flow(_Frozen):
    """One concrete flow: source host to destination host on one protocol and port (range)."""

    id: FlowId = Field(description="Stable id: path id, source, destination, protocol, port.")
    path_id: PathId
    source: Name
    source_zone: Name
    destination: Name
    destination_zone: Name
    protocol: Literal["tcp", "udp"] | None = Field(
        description="null where the reference names no protocol (e.g. random ports)."
    )
    port: Port | None = None
    port_range: PortSpan | None = Field(
        default=None, description="Set for RPC dynamic ranges and other ranges; port is then null."
    )
    label: ShortText | None = None
    local: bool = Field(default=False, description="Inside one host: no network traffic.")
    default_auth: tuple[Word, ...]
    supported_auth: tuple[Word, ...]
    encryption: EncryptionExpectation
    crosses: tuple[Name, ...] = Field(
        default=(), description="Names of network firewalls the flow passes, in order."
    )
    reason: LongText | None = Field(
        default=None, description="Why this flow exists, when not obvious."
    )
    basis: FlowBasis = Field(
        default=FlowBasis.reference,
        description="reference: a row of the reference as it stands; inferred: a reading the "
        "seed does not state (basis_note says which); operational: beyond the reference.",
    )
    basis_note: LongText | None = Field(
        default=None, description="The reason or KB/TechNet reference of a non-reference basis."
    )
    deviation: LongText | None = Field(
        default=None,
        description="Set on flows a deployment exception removed (Plan.removed_flows): why.",
    )


class PlanFinding(_Frozen):
    """A topology finding: something the reference calls unsupported or risky."""

    id: FindingId
    severity: Severity
    message: LongText
    message_zh: LongText
    rule: Token | None = Field(default=None, description="Catalog rule id it comes from.")
    objects: tuple[ShortText, ...] = ()


class Plan(_Frozen):
    """The planner's output for one deployment."""

    schema_version: Literal[1] = 1
    deployment: ShortText = Field(description="Organisation name.")
    source_file: LongText | None = None
    hosts: tuple[HostInfo, ...]
    zones: tuple[ZoneInfo, ...]
    firewalls: tuple[FirewallInfo, ...] = ()
    flows: tuple[Flow, ...]
    findings: tuple[PlanFinding, ...] = ()
    removed_flows: tuple[Flow, ...] = Field(
        default=(),
        description="Flows of the reference the deployment's exceptions leave out, each with "
        "its deviation; no firewall opens them.",
    )

    def host(self, name: str) -> HostInfo:
        """The host called ``name`` (KeyError when absent)."""
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)
