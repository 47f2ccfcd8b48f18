"""The files the collector writes, one pydantic model per file (one row each).

Column names are the Exchange cmdlets' documented property names. Identifiers that become
deployment names (servers, sites, clusters) are checked by the deployment models' own field
validation, so a name with ``;`` or quotes is refused here with the file, line and column.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, cast

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as _VE

from pathsec.errors import InputError, InputProblem
from pathsec.inventory.csvexport import read_rows
from pathsec.topology.models import Cluster, Server, Site

COLLECTOR_VERSION = "1"


@cache
def _adapter(model: type[BaseModel], field: str) -> TypeAdapter[Any]:
    info = model.model_fields[field]
    return TypeAdapter(cast(Any, Annotated[info.annotation, info]))


def deployment_name(value: str, model: type[BaseModel] = Server, field: str = "name") -> str:
    """``value`` checked by the deployment model's own rule for ``model.field``."""
    try:
        return str(_adapter(model, field).validate_python(value))
    except _VE as exc:
        msg = exc.errors(include_url=False)[0]["msg"]
        raise ValueError(f"not usable as a name in a deployment: {msg}") from None


def _split(value: object) -> list[str]:
    if value is None:
        return []
    return [p.strip() for p in str(value).split("|") if p.strip()]


def machine_name(value: str) -> str:
    """A host name as Exchange lists it (``NODE1``, ``node1.contoso.com``, ``NODE1 <Active>``)
    reduced to its first label and checked as a server name."""
    text = re.sub(r"<[^>]*>", "", value).strip()
    return deployment_name(text.split(".", 1)[0] if text else text)


def _server_name(value: str) -> str:
    return deployment_name(value.strip())


def _site_name(value: str) -> str:
    return deployment_name(value.strip(), Site)


def _site_path(value: str) -> str | None:
    """``contoso.com/Configuration/Sites/HQ`` -> ``HQ``; empty -> None."""
    text = value.strip().rstrip("/")
    if not text:
        return None
    return deployment_name(text.rsplit("/", 1)[-1], Site)


def _cluster_name(value: str) -> str:
    return deployment_name(value.strip(), Cluster)


def _addresses(value: str) -> tuple[str, ...]:
    out = []
    for part in _split(value):
        try:
            out.append(str(ipaddress.ip_address(part.split("%", 1)[0])))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address") from None
    return tuple(out)


def _optional_address(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address") from None


def _bool(value: object) -> bool | None:
    text = str(value).strip().lower()
    if text in ("", "$null"):
        return None
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise ValueError("expected True or False")


def _text(limit: int) -> Any:
    return Field(default="", max_length=limit)


ServerName = Annotated[str, AfterValidator(_server_name)]
MachineNames = Annotated[
    tuple[str, ...], BeforeValidator(lambda v: tuple(machine_name(p) for p in _split(v)))
]
SitePath = Annotated[str | None, BeforeValidator(lambda v: _site_path(str(v)))]
Addresses = Annotated[tuple[str, ...], BeforeValidator(lambda v: _addresses(str(v)))]
OptionalBool = Annotated[bool | None, BeforeValidator(_bool)]
Text = Annotated[str, Field(max_length=1000)]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class ExchangeRole(StrEnum):
    """``ServerRole`` values of Exchange 2007 (``None`` for Exchange 2003 and older)."""

    Mailbox = "Mailbox"
    ClientAccess = "ClientAccess"
    HubTransport = "HubTransport"
    UnifiedMessaging = "UnifiedMessaging"
    Edge = "Edge"
    ProvisionedServer = "ProvisionedServer"
    None_ = "None"


def _roles(value: object) -> tuple[ExchangeRole, ...]:
    out = []
    known = {r.value.lower(): r for r in ExchangeRole}
    for part in str(value).replace("|", ",").split(","):
        token = part.strip()
        if not token:
            continue
        if token.lower() not in known:
            names = ", ".join(r.value for r in ExchangeRole)
            raise ValueError(f"unknown role {token!r} (Exchange 2007 has {names})")
        out.append(known[token.lower()])
    if not out:
        raise ValueError("no role")
    return tuple(out)


_VERSION = re.compile(r"^\s*Version\s+(\d+)\.(\d+)\s+\(Build\s+(\d+)\.(\d+)", re.IGNORECASE)


def _version(value: object) -> tuple[int, int, int, int]:
    m = _VERSION.match(str(value))
    if not m:
        raise ValueError("expected AdminDisplayVersion like 'Version 8.1 (Build 240.6)'")
    a, b, c, d = (int(g) for g in m.groups())
    return a, b, c, d


class ExchangeServerRow(_Row):
    """``Get-ExchangeServer``: one Exchange server (or clustered mailbox server) of the org."""

    name: ServerName = Field(alias="Name")
    fqdn: Text = Field(default="", alias="Fqdn")
    domain: Text = Field(default="", alias="Domain")
    site: SitePath = Field(alias="Site")
    roles: Annotated[tuple[ExchangeRole, ...], BeforeValidator(_roles)] = Field(alias="ServerRole")
    version: Annotated[tuple[int, int, int, int], BeforeValidator(_version)] = Field(
        alias="AdminDisplayVersion"
    )
    edition: Text = Field(default="", alias="Edition")


class StorageType(StrEnum):
    """``ClusteredStorageType`` of Get-MailboxServer."""

    Disabled = "Disabled"
    NonShared = "NonShared"  # CCR
    Shared = "Shared"  # SCC


class MailboxServerRow(_Row):
    """``Get-MailboxServer``: clustering of a Mailbox server."""

    name: ServerName = Field(alias="Name")
    storage: Annotated[StorageType, BeforeValidator(lambda v: str(v).strip() or "Disabled")] = (
        Field(alias="ClusteredStorageType")
    )
    redundant_machines: MachineNames = Field(default=(), alias="RedundantMachines")


class ClusterStatusRow(_Row):
    """``Get-ClusteredMailboxServerStatus``: the nodes a clustered mailbox server runs on."""

    cms: Annotated[str, BeforeValidator(lambda v: machine_name(str(v)))] = Field(
        alias="ClusteredMailboxServerName"
    )
    state: Text = Field(default="", alias="State")
    operational_machines: MachineNames = Field(default=(), alias="OperationalMachines")


class StorageGroupRow(_Row):
    """``Get-StorageGroup``: standby (SCR) targets of a server's storage group."""

    server: Annotated[str, BeforeValidator(lambda v: machine_name(str(v)))] = Field(alias="Server")
    name: Text = Field(default="", alias="Name")
    standby_machines: MachineNames = Field(default=(), alias="StandbyMachines")


class EdgeSubscriptionRow(_Row):
    """``Get-EdgeSubscription``: an Edge Transport server subscribed to an AD site."""

    name: ServerName = Field(alias="Name")
    site: SitePath = Field(alias="Site")
    domain: Text = Field(default="", alias="Domain")


class UMServerRow(_Row):
    """``Get-UMServer``: a Unified Messaging server and its dial plans."""

    name: ServerName = Field(alias="Name")
    status: Text = Field(default="", alias="Status")
    dial_plans: Annotated[tuple[str, ...], BeforeValidator(_split)] = Field(
        default=(), alias="DialPlans"
    )


class VoipSecurity(StrEnum):
    """``VoIPSecurity`` of a UM dial plan."""

    Unsecured = "Unsecured"
    SIPSecured = "SIPSecured"
    Secured = "Secured"


class UMDialPlanRow(_Row):
    """``Get-UMDialPlan``: whether SIP (and media) are secured."""

    name: Annotated[str, Field(min_length=1, max_length=256)] = Field(alias="Name")
    voip_security: VoipSecurity = Field(alias="VoIPSecurity")


class UMIPGatewayRow(_Row):
    """``Get-UMIPGateway``: a VoIP gateway or IP PBX (Address is an IP address or an FQDN)."""

    name: Annotated[str, Field(min_length=1, max_length=256)] = Field(alias="Name")
    address: Annotated[str, Field(max_length=255, pattern=r"^[A-Za-z0-9.:\-]*$")] = Field(
        alias="Address"
    )
    port: Annotated[int | None, BeforeValidator(lambda v: None if str(v).strip() == "" else v)] = (
        Field(default=None, ge=1, le=65535, alias="Port")
    )
    resolved: Addresses = Field(default=(), alias="ResolvedAddresses")


class UMHuntGroupRow(_Row):
    """``Get-UMHuntGroup``: links a gateway to a dial plan."""

    dial_plan: Text = Field(alias="UMDialPlan")
    gateway: Text = Field(alias="UMIPGateway")


class AuthMechanism(StrEnum):
    """``AuthMechanism`` / ``SmartHostAuthMechanism`` flags of Exchange 2007 connectors."""

    None_ = "None"
    Tls = "Tls"
    Integrated = "Integrated"
    BasicAuth = "BasicAuth"
    BasicAuthRequireTLS = "BasicAuthRequireTLS"
    ExchangeServer = "ExchangeServer"
    ExternalAuthoritative = "ExternalAuthoritative"


def _flags(value: object) -> tuple[AuthMechanism, ...]:
    known = {m.value.lower(): m for m in AuthMechanism}
    out = []
    for part in str(value).replace("|", ",").split(","):
        token = part.strip()
        if token:
            if token.lower() not in known:
                raise ValueError(f"unknown authentication mechanism {token!r}")
            out.append(known[token.lower()])
    return tuple(out)


def _bindings(value: object) -> tuple[tuple[str, int], ...]:
    out = []
    for part in _split(value):
        host, _, port = part.rpartition(":")
        try:
            address = str(ipaddress.ip_address(host.strip("[]")))
            number = int(port)
        except ValueError:
            raise ValueError(f"{part!r} is not a binding like 0.0.0.0:25") from None
        if not 1 <= number <= 65535:
            raise ValueError(f"{part!r}: port out of range")
        out.append((address, number))
    return tuple(out)


Flags = Annotated[tuple[AuthMechanism, ...], BeforeValidator(_flags)]


class ReceiveConnectorRow(_Row):
    """``Get-ReceiveConnector``: where a Hub (or Edge) server accepts SMTP, and how."""

    server: Annotated[str, BeforeValidator(lambda v: machine_name(str(v)))] = Field(alias="Server")
    name: Text = Field(default="", alias="Name")
    bindings: Annotated[tuple[tuple[str, int], ...], BeforeValidator(_bindings)] = Field(
        alias="Bindings"
    )
    auth: Flags = Field(default=(), alias="AuthMechanism")
    permission_groups: Text = Field(default="", alias="PermissionGroups")
    require_tls: OptionalBool = Field(default=None, alias="RequireTLS")
    enabled: OptionalBool = Field(default=None, alias="Enabled")


class SendConnectorRow(_Row):
    """``Get-SendConnector``: how the org sends SMTP out (smart hosts, TLS, sources)."""

    name: Text = Field(default="", alias="Name")
    address_spaces: Annotated[tuple[str, ...], BeforeValidator(_split)] = Field(
        default=(), alias="AddressSpaces"
    )
    sources: MachineNames = Field(default=(), alias="SourceTransportServers")
    smart_host_auth: Flags = Field(default=(), alias="SmartHostAuthMechanism")
    require_tls: OptionalBool = Field(default=None, alias="RequireTLS")
    dns_routing: OptionalBool = Field(default=None, alias="DNSRoutingEnabled")
    enabled: OptionalBool = Field(default=None, alias="Enabled")


class AdSiteRow(_Row):
    """An AD site of the forest."""

    name: Annotated[str, AfterValidator(_site_name)] = Field(alias="Name")


def _cidr(value: object) -> str:
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=True))
    except ValueError as exc:
        raise ValueError(f"not a subnet like 10.1.0.0/16 ({exc})") from None


class AdSubnetRow(_Row):
    """An AD subnet and the site it belongs to."""

    name: Annotated[str, BeforeValidator(_cidr)] = Field(alias="Name")
    site: Annotated[str | None, BeforeValidator(lambda v: _site_path(str(v)))] = Field(alias="Site")


class DomainControllerRow(_Row):
    """A domain controller of the forest (System.DirectoryServices.ActiveDirectory)."""

    name: Annotated[str, BeforeValidator(lambda v: machine_name(str(v)))] = Field(alias="Name")
    domain: Text = Field(default="", alias="Domain")
    site: Annotated[str | None, BeforeValidator(lambda v: _site_path(str(v)))] = Field(
        default=None, alias="Site"
    )
    address: Annotated[str | None, BeforeValidator(lambda v: _optional_address(str(v)))] = Field(
        default=None, alias="IPAddress"
    )
    os_version: Text = Field(default="", alias="OSVersion")
    global_catalog: OptionalBool = Field(default=None, alias="IsGlobalCatalog")


class ServerHostRow(_Row):
    """What WMI and DNS said about one server: addresses and Windows version."""

    name: Annotated[str, BeforeValidator(lambda v: machine_name(str(v)))] = Field(alias="Name")
    wmi_addresses: Addresses = Field(default=(), alias="IPAddresses")
    dns_addresses: Addresses = Field(default=(), alias="DnsAddresses")
    os_caption: Text = Field(default="", alias="OSCaption")
    os_version: Annotated[str, Field(pattern=r"^(\d+(\.\d+){1,3})?$")] = Field(
        default="", alias="OSVersion"
    )


class CollectorRow(_Row):
    """About the collection: collector version, PowerShell, time, organisation."""

    version: Annotated[str, Field(pattern=r"^\d+$")] = Field(alias="CollectorVersion")
    powershell: Annotated[str, Field(max_length=40)] = Field(default="", alias="PowerShellVersion")
    collected: Annotated[str, Field(max_length=40)] = Field(default="", alias="Collected")
    organization: Annotated[str, Field(max_length=256)] = Field(default="", alias="Organization")
    forest: Annotated[str, Field(max_length=255, pattern=r"^[A-Za-z0-9.\-]*$")] = Field(
        default="", alias="Forest"
    )
    domain: Annotated[str, Field(max_length=255, pattern=r"^[A-Za-z0-9.\-]*$")] = Field(
        default="", alias="Domain"
    )


class ProblemRow(_Row):
    """Something the collector could not read (Errors.csv)."""

    step: Text = Field(alias="Step")
    target: Text = Field(default="", alias="Target")
    message: Text = Field(default="", alias="Message")


#: File name -> model: every file the collector writes.
FILES: dict[str, type[_Row]] = {
    "Collector.csv": CollectorRow,
    "ExchangeServer.csv": ExchangeServerRow,
    "MailboxServer.csv": MailboxServerRow,
    "ClusteredMailboxServerStatus.csv": ClusterStatusRow,
    "StorageGroup.csv": StorageGroupRow,
    "EdgeSubscription.csv": EdgeSubscriptionRow,
    "UMServer.csv": UMServerRow,
    "UMDialPlan.csv": UMDialPlanRow,
    "UMIPGateway.csv": UMIPGatewayRow,
    "UMHuntGroup.csv": UMHuntGroupRow,
    "ReceiveConnector.csv": ReceiveConnectorRow,
    "SendConnector.csv": SendConnectorRow,
    "AdSite.csv": AdSiteRow,
    "AdSubnet.csv": AdSubnetRow,
    "DomainController.csv": DomainControllerRow,
    "ServerHost.csv": ServerHostRow,
    "Errors.csv": ProblemRow,
}


class Inventory:
    """Every file of one collector folder, read and validated; rows keep their line."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise InputError(
                InputProblem(str(folder), None, None, "not a folder written by the collector")
            )
        self.folder = folder
        self.rows: dict[str, list[tuple[int, Any]]] = {
            name: read_rows(folder / name, model) for name, model in FILES.items()
        }
        about = self.rows["Collector.csv"]
        where = str(folder / "Collector.csv")
        if len(about) != 1:
            raise InputError(InputProblem(where, None, None, f"{len(about)} rows, expected 1"))
        line, self.about = about[0]
        if self.about.version != COLLECTOR_VERSION:
            raise InputError(
                InputProblem(
                    where,
                    line,
                    "CollectorVersion",
                    f"version {self.about.version} (this pathsec reads {COLLECTOR_VERSION}); "
                    "collect again with `pathsec collector`",
                )
            )

    def get(self, name: str) -> list[Any]:
        """The rows of one file, without line numbers."""
        return [row for _, row in self.rows[name]]

    def where(self, name: str, line: int, field: str | None = None) -> InputProblem:
        """A problem location in one of the files (for cross-file checks)."""
        return InputProblem(str(self.folder / name), line, field, "")
