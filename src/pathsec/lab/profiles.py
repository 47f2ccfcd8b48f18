"""Lab profiles: which emulated servers run which services, and how they behave.

A profile is data (``profiles/*.yaml``), validated here. ``default`` is an Exchange 2007
SP3 organisation as Setup leaves it; ``hardened`` closes plain-text ports and Basic;
``misconfigured`` carries a documented list of deviations, each with an id, so tests and
the demo can assert the exact findings an audit must report.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pathsec.errors import InputError, InputProblem
from pathsec.yamlfile import load_yaml_file, validate_located

BUILTIN_PROFILES = ("default", "hardened", "misconfigured", "windows2003")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Service(StrEnum):
    """A listener the lab can run; the value names it in profiles and endpoint files."""

    smtp_default = "smtp_default"  # Hub "Default <server>" receive connector, 25
    smtp_client = "smtp_client"  # Hub "Client <server>" receive connector, 587
    smtp_edge = "smtp_edge"  # Edge "Default internal receive connector", 25
    pop3 = "pop3"
    pop3s = "pop3s"
    imap = "imap"
    imaps = "imaps"
    http = "http"
    https = "https"
    sip = "sip"
    sips = "sips"
    sips_5062 = "sips_5062"  # UM's third SIP port the reference lists for CAS->UM (TLS)
    ldap = "ldap"
    gc = "gc"
    adam = "adam"
    adams = "adams"
    kerberos = "kerberos"
    dns = "dns"
    epmap = "epmap"  # RPC endpoint mapper, plus listeners on the registered dynamic ports
    rdp = "rdp"  # only a listener: stands for a port open beyond the plan


#: Real port of every service.
SERVICE_PORTS: dict[Service, int] = {
    Service.smtp_default: 25,
    Service.smtp_client: 587,
    Service.smtp_edge: 25,
    Service.pop3: 110,
    Service.pop3s: 995,
    Service.imap: 143,
    Service.imaps: 993,
    Service.http: 80,
    Service.https: 443,
    Service.sip: 5060,
    Service.sips: 5061,
    Service.sips_5062: 5062,
    Service.ldap: 389,
    Service.gc: 3268,
    Service.adam: 50389,
    Service.adams: 50636,
    Service.kerberos: 88,
    Service.dns: 53,
    Service.epmap: 135,
    Service.rdp: 3389,
}

#: Services that speak TLS from the first byte.
IMPLICIT_TLS = frozenset(
    {
        Service.pop3s,
        Service.imaps,
        Service.https,
        Service.sips,
        Service.sips_5062,
        Service.adams,
    }
)

Role = Literal[
    "hub_transport",
    "edge_transport",
    "mailbox",
    "client_access",
    "unified_messaging",
    "domain_controller",
]


class LabServer(_Frozen):
    """One emulated server: its names, loopback address, roles and listeners."""

    name: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,14}$", description="NetBIOS name.")
    address: str = Field(pattern=r"^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$")
    zone: Literal["internal", "perimeter"] = "internal"
    roles: tuple[Role, ...] = Field(min_length=1)
    services: tuple[Service, ...] = Field(min_length=1)
    domain_joined: bool = True
    expired_certificate: bool = False


class SmtpConnector(_Frozen):
    """EHLO keywords and AUTH behaviour of one receive connector."""

    size: int | None = Field(default=None, description="SIZE value; none: a bare SIZE.")
    anonymous_tls: bool = True
    auth_before_tls: tuple[str, ...] = ()
    auth_after_tls: tuple[str, ...] = ()
    exps: tuple[str, ...] = Field(default=(), description="X-EXPS mechanisms; none: no line.")
    xexch50: bool = True
    xrdst: bool = True
    require_auth: bool = Field(default=False, description="MAIL before AUTH: 530 5.7.1.")


class MailAccess(_Frozen):
    """POP3/IMAP4 LoginType: ``secure`` (Exchange default) or ``plain`` (PlainTextLogin)."""

    login_type: Literal["secure", "plain"] = "secure"


class HttpSettings(_Frozen):
    """Authentication of the IIS virtual directories."""

    web_services_auth: tuple[Literal["Negotiate", "NTLM", "Basic"], ...] = (
        "Negotiate",
        "NTLM",
        "Basic",
    )
    basic_over_http: bool = Field(
        default=False, description="Port 80 answers 401 Basic instead of 403.4 SSL required."
    )


class Deviation(_Frozen):
    """One documented departure from the default profile, visible on the wire."""

    id: str = Field(pattern=r"^LAB-[A-Z]+-\d{3}$")
    title: str
    description: str
    server: str
    service: Service | None = None
    expect_findings: tuple[str, ...] = Field(
        default=(),
        description="Finding ids a plan-driven audit (profile reference) reports for this "
        "deviation, on this server.",
    )
    expect_findings_hardened: tuple[str, ...] = Field(
        default=(),
        description="Further finding ids the stricter audit profile hardened reports for it.",
    )


class LabTls(_Frozen):
    """How the lab's TLS speaks: the Windows SChannel it stands for, as far as the local
    OpenSSL can serve it (``cannot_emulate`` says what it cannot)."""

    platform: str = Field(description="The SChannel emulated, e.g. Windows Server 2008.")
    max_version: Literal["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] = "TLSv1.3"
    ciphers: str = Field(
        default="DEFAULT", description="OpenSSL cipher list, in the server's order."
    )
    server_preference: bool = Field(
        default=True, description="The server picks by its own order, as SChannel does."
    )
    dh_bits: Literal[1024, 2048] | None = Field(
        default=None, description="DHE group: RFC 2409 group 2 (1024) or RFC 3526 group 14."
    )
    cannot_emulate: tuple[str, ...] = Field(
        default=(), description="What the platform speaks that the local OpenSSL cannot serve."
    )


class LabProfile(_Frozen):
    """A whole lab profile."""

    name: str
    description: str
    organization: str = "Contoso"
    dns_domain: str = "contoso.local"
    netbios_domain: str = Field(default="CONTOSO", pattern=r"^[A-Z0-9-]{1,15}$")
    exchange_build: str = Field(default="8.3.83.6", pattern=r"^8\.\d+\.\d+\.\d+$")
    windows_version: str = Field(default="6.0.6002", pattern=r"^\d+\.\d+\.\d+$")
    tls_min_version: Literal["TLSv1", "TLSv1.1", "TLSv1.2"] = "TLSv1.2"
    tls: LabTls | None = None
    servers: tuple[LabServer, ...] = Field(min_length=1)
    smtp_default: SmtpConnector
    smtp_client: SmtpConnector
    smtp_edge: SmtpConnector
    mail_access: MailAccess = MailAccess()
    http: HttpSettings = HttpSettings()
    deviations: tuple[Deviation, ...] = ()
    expect_findings: tuple[str, ...] = Field(
        default=(),
        description="Finding ids the audit reports by design of the profile (self-signed "
        "certificates, Exchange fingerprints, services the lab does not emulate).",
    )

    def server(self, name: str) -> LabServer:
        """The server called ``name`` (KeyError when absent)."""
        for s in self.servers:
            if s.name == name:
                return s
        raise KeyError(name)

    def fqdn(self, server: LabServer) -> str:
        """The server's DNS name: NetBIOS name in lower case + the DNS domain."""
        return f"{server.name.lower()}.{self.dns_domain}"


def _check(profile: LabProfile, where: str) -> LabProfile:
    names = [s.name for s in profile.servers]
    addrs = [s.address for s in profile.servers]
    for label, values in (("servers.name", names), ("servers.address", addrs)):
        dup = {v for v in values if values.count(v) > 1}
        if dup:
            raise InputError(InputProblem(where, None, label, f"duplicate: {sorted(dup)}"))
    for dev in profile.deviations:
        if dev.server not in names:
            raise InputError(
                InputProblem(where, None, "deviations.server", f"unknown server {dev.server!r}")
            )
    return profile


def load_profile(name_or_path: str) -> LabProfile:
    """Load a built-in profile by name, or a profile YAML file by path."""
    if name_or_path in BUILTIN_PROFILES:
        ref = resources.files("pathsec.lab") / "profiles" / f"{name_or_path}.yaml"
        with resources.as_file(ref) as path:
            doc = load_yaml_file(path)
            where = f"{name_or_path}.yaml"
            return _check(validate_located(LabProfile, doc), where)
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(BUILTIN_PROFILES)
        raise InputError(
            InputProblem("--profile", None, None, f"{name_or_path!r}: not {known} nor a file")
        )
    doc = load_yaml_file(path)
    return _check(validate_located(LabProfile, doc), str(path))
