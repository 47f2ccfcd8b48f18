"""The reference catalog as frozen, validated models.

A :class:`Catalog` holds every data path of the reference (:class:`DataPath`) and every
rule of its prose notes (:class:`Rule`). Vocabularies (roles, authentication tokens,
encryption mechanisms) are string enums, so the committed JSON Schema lists them too.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pathsec.ident import Description, PathId, ShortText, Token
from pathsec.ident import Port as IdentPort


class Frozen(BaseModel):
    """Base for catalog models: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Section(StrEnum):
    """The four tables of the reference."""

    transport = "transport"
    mailbox = "mailbox"
    client_access = "client_access"
    unified_messaging = "unified_messaging"
    #: Flows an administrator needs that the reference does not list (``Catalog.operational``).
    operational = "operational"


class Role(StrEnum):
    """Who stands at either end of a data path (servers, services, clients, peers)."""

    hub_transport = "hub_transport"
    edge_transport = "edge_transport"
    mailbox = "mailbox"
    client_access = "client_access"
    unified_messaging = "unified_messaging"
    domain_controller = "domain_controller"
    edge_adam = "edge_adam"
    smtp_client = "smtp_client"
    outlook_client = "outlook_client"
    web_client = "web_client"
    mobile_client = "mobile_client"
    pop_imap_client = "pop_imap_client"
    webdav_client = "webdav_client"
    ip_gateway = "ip_gateway"
    legacy_mailbox = "legacy_mailbox"
    remote_organization = "remote_organization"
    backup = "backup"
    admin = "admin"
    cluster_node = "cluster_node"
    dns_resolver = "dns_resolver"


ROLE_DESCRIPTIONS: dict[Role, tuple[str, str]] = {
    Role.hub_transport: ("Hub Transport server", "集线器传输服务器"),
    Role.edge_transport: ("Edge Transport server", "边缘传输服务器"),
    Role.mailbox: ("Exchange 2007 Mailbox server", "邮箱服务器"),
    Role.client_access: ("Client Access server", "客户端访问服务器"),
    Role.unified_messaging: ("Unified Messaging server", "统一消息服务器"),
    Role.domain_controller: (
        "Active Directory domain controller / global catalog / DNS",
        "Active Directory 域控制器 / 全局编录 / DNS",
    ),
    Role.edge_adam: (
        "ADAM directory service on an Edge Transport server",
        "边缘传输服务器上的 ADAM",
    ),
    Role.smtp_client: ("End-user SMTP client (e.g. Outlook Express)", "最终用户 SMTP 客户端"),
    Role.outlook_client: (
        "Outlook client (MAPI, Outlook Anywhere, Autodiscover, OAB)",
        "Outlook 客户端",
    ),
    Role.web_client: ("Web browser (Outlook Web Access)", "Web 浏览器 (Outlook Web Access)"),
    Role.mobile_client: ("Mobile device (Exchange ActiveSync)", "移动设备 (Exchange ActiveSync)"),
    Role.pop_imap_client: ("POP3 / IMAP4 client", "POP3/IMAP4 客户端"),
    Role.webdav_client: ("WebDAV application or client", "WebDAV 应用程序或客户端"),
    Role.ip_gateway: ("VoIP gateway or IP PBX", "IP 网关或 IP PBX"),
    Role.legacy_mailbox: (
        "Mailbox server running Exchange Server 2003",
        "运行 Exchange Server 2003 的邮箱服务器",
    ),
    Role.remote_organization: ("Another organisation's mail servers", "其他组织的邮件服务器"),
    Role.backup: ("Backup server or agent", "备份服务器"),
    Role.admin: ("Administrator workstation", "管理员工作站"),
    Role.cluster_node: ("Node of a Mailbox cluster (CCR/SCR)", "群集节点 (CCR/SCR)"),
    Role.dns_resolver: (
        "DNS resolver an Edge Transport server uses",
        "边缘传输服务器使用的 DNS 解析器",
    ),
}


class Auth(StrEnum):
    """Authentication methods named by the reference."""

    kerberos = "kerberos"
    ntlm = "ntlm"
    basic = "basic"
    digest = "digest"
    negotiate = "negotiate"
    forms = "forms"
    certificate = "certificate"
    direct_trust = "direct_trust"
    anonymous = "anonymous"
    ip_address = "ip_address"


class Mechanism(StrEnum):
    """Encryption mechanisms named by the reference."""

    tls = "tls"
    ssl = "ssl"
    ipsec = "ipsec"
    rpc = "rpc"
    kerberos = "kerberos"
    ldaps = "ldaps"
    https = "https"
    sip_tls = "sip_tls"


class Protocol(StrEnum):
    """Transport protocol of a port."""

    tcp = "tcp"
    udp = "udp"


class PortRange(StrEnum):
    """A port the source gives without a number."""

    dynamic = "dynamic"
    random = "random"
    local = "local"


class Scope(StrEnum):
    """Where a path runs; the planner turns it into concrete host pairs.

    ``local``: inside one server, no network flow. ``site``: within an AD site.
    ``organization``: anywhere in the organisation. ``subscription``: between an Edge and
    the Hub servers of its subscribed site. ``cluster``: between nodes of one cluster.
    ``external``: to or from something outside the organisation (clients, partners, gateways).
    """

    local = "local"
    site = "site"
    organization = "organization"
    subscription = "subscription"
    cluster = "cluster"
    external = "external"


class BasisKind(StrEnum):
    """Where a value comes from."""

    source = "source"
    english_original = "english_original"
    #: The Exchange 2010 edition of the reference (Exchange Network Port Reference), same row.
    exchange_2010_edition = "exchange_2010_edition"
    inferred = "inferred"
    #: Beyond the reference: a flow administrators need, with its KB or TechNet reference.
    operational = "operational"


class Text(Frozen):
    """A statement in both languages."""

    zh: Description | None = None
    en: Description


class Name(Frozen):
    """The name of a data path: the Chinese of the seed verbatim, and English."""

    zh: ShortText = Field(min_length=1)
    en: ShortText = Field(min_length=1)


class Basis(Frozen):
    """How a value was established; ``reason`` is required unless it is read from the seed."""

    kind: BasisKind
    reason: Description | None = None

    @model_validator(mode="after")
    def _reason_needed(self) -> Basis:
        if self.kind is not BasisKind.source and not self.reason:
            raise ValueError("a reason is required when the value is not read from the source")
        return self


class Direction(StrEnum):
    """Which way a port of a path is opened."""

    #: As the path: source to destination, and back where the path is bidirectional.
    both = "both"
    #: Only from the path's source role outwards, never towards it.
    outbound = "outbound"


class Towards(StrEnum):
    """Whom a port of a path reaches."""

    destination = "destination"
    #: The certificate revocation (CRL) distribution points of the peer's certificate.
    certificate_revocation = "certificate_revocation"


class PortDirection(Frozen):
    """How a port of a path is read: its direction and whom it reaches, with the basis."""

    direction: Direction
    towards: Towards = Towards.destination
    quote_zh: Description = Field(
        min_length=1, description="The seed's words the reading rests on."
    )
    basis: Basis


class Port(Frozen):
    """One port of a path: a number or a range kind, with the label the source attaches."""

    protocol: Protocol | None = None
    port: IdentPort | None = None
    range: PortRange | None = None
    label: ShortText | None = None
    rule: Token | None = Field(
        default=None, description="Rule id when the port comes from a note, not the table cell."
    )
    protocol_basis: Basis | None = Field(
        default=None,
        description="How the protocol was established where the seed names none (null: read "
        "from the seed, or none given).",
    )
    direction: PortDirection | None = Field(
        default=None,
        description="Direction and target of this port when they differ from the path's "
        "(null: as the path).",
    )

    @model_validator(mode="after")
    def _number_or_range(self) -> Port:
        if (self.port is None) == (self.range is None):
            raise ValueError("give exactly one of 'port' and 'range'")
        if self.protocol_basis is not None and (
            self.protocol is None or self.protocol_basis.kind is BasisKind.source
        ):
            raise ValueError("protocol_basis explains a protocol the seed does not name")
        return self

    def display(self) -> str:
        """Render like the reference: ``25/TCP (TLS)``, ``dynamic``."""
        head = str(self.port) if self.port is not None else str(self.range)
        if self.protocol is not None:
            head += f"/{self.protocol.value.upper()}"
        return f"{head} ({self.label})" if self.label else head


class Condition(Frozen):
    """A condition attached to a path or a cell, optionally changing the default auth."""

    id: Token
    en: Description
    zh: Description | None = None
    rule: Token | None = None
    default_auth: tuple[Auth, ...] | None = Field(
        default=None, description="Default authentication when the condition holds."
    )


class Encryption(Frozen):
    """Whether a path can be encrypted, how, and whether it is by default."""

    supported: bool
    mechanisms: tuple[Mechanism, ...] = ()
    by_default: bool | Literal["conditional"]
    supported_raw: ShortText | None = Field(
        default=None, description="Seed cell; null when dropped."
    )
    by_default_raw: ShortText | None = Field(
        default=None, description="Seed cell; null when dropped."
    )
    supported_basis: Basis
    by_default_basis: Basis
    conditions: tuple[Condition, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Encryption:
        if not self.supported and (self.mechanisms or self.by_default is not False):
            raise ValueError("an unsupported encryption has no mechanisms and is not on by default")
        if self.supported and not self.mechanisms:
            raise ValueError("supported encryption needs at least one mechanism")
        if (self.supported_raw is None) != (self.supported_basis.kind is not BasisKind.source):
            raise ValueError("supported_basis is 'source' exactly when supported_raw is given")
        if (self.by_default_raw is None) != (self.by_default_basis.kind is not BasisKind.source):
            raise ValueError("by_default_basis is 'source' exactly when by_default_raw is given")
        return self

    @property
    def level(self) -> Literal["none", "optional", "default"]:
        """Summarise as none (unsupported), optional, or default (on, or on conditionally)."""
        if not self.supported:
            return "none"
        return "optional" if self.by_default is False else "default"


class DataPath(Frozen):
    """One row of the reference's tables."""

    id: PathId
    section: Section
    index: int = Field(ge=1, le=10_000, description="1-based position of the row in its table.")
    name: Name
    source_role: Role
    destination_role: Role
    scope: Scope
    bidirectional: bool = False
    ports: tuple[Port, ...] = Field(min_length=1)
    ports_raw: ShortText
    default_auth: tuple[Auth, ...] = Field(min_length=1)
    default_auth_raw: ShortText
    supported_auth: tuple[Auth, ...] = Field(min_length=1)
    supported_auth_raw: ShortText
    encryption: Encryption
    conditions: tuple[Condition, ...] = ()
    notes: tuple[Text, ...] = ()
    rules: tuple[Token, ...] = ()
    destination_basis: Basis | None = Field(
        default=None,
        description="Where the seed names no destination: how the destination role was chosen.",
    )
    basis: Basis | None = Field(
        default=None,
        description="Rows beyond the reference (section 'operational'): kind operational and "
        "the KB or TechNet reference.",
    )

    @model_validator(mode="after")
    def _default_within_supported(self) -> DataPath:
        missing = set(self.default_auth) - set(self.supported_auth)
        if missing:
            raise ValueError(f"default_auth not in supported_auth: {sorted(missing)}")
        operational = self.section is Section.operational
        if operational != (self.basis is not None and self.basis.kind is BasisKind.operational):
            raise ValueError("a path has basis 'operational' exactly when its section is")
        return self


class RuleKind(StrEnum):
    """What a rule of the notes becomes."""

    topology = "topology"
    port_fact = "port_fact"
    auth_behaviour = "auth_behaviour"
    encryption_fact = "encryption_fact"
    recommendation = "recommendation"
    information = "information"


class Rule(Frozen):
    """One rule stated in the prose notes of the reference."""

    id: Token
    section: Section | None = None
    kind: RuleKind
    quote_zh: Description
    statement_en: Description
    severity: Literal["error", "warning", "info"] | None = Field(
        default=None, description="For topology rules: how a violation is graded."
    )
    paths: tuple[PathId, ...] = ()
    ports: tuple[Port, ...] = ()
    references: tuple[ShortText, ...] = Field(
        default=(), description="KB articles or documents cited."
    )


class SourceInfo(Frozen):
    """Bibliographic data of the reference the catalog encodes."""

    title_zh: ShortText
    title_en: ShortText
    product: ShortText
    last_modified: ShortText
    english_original: ShortText


class Catalog(Frozen):
    """The whole reference: data paths in source order and the rules of its notes."""

    schema_version: Literal[1] = 1
    source: SourceInfo
    paths: tuple[DataPath, ...]
    rules: tuple[Rule, ...]
    operational: tuple[DataPath, ...] = Field(
        default=(),
        description="Flows beyond the reference that administrators need (section "
        "'operational', basis 'operational'); planned only on request, always labelled.",
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalog:
        for p in self.paths:
            if p.section is Section.operational:
                raise ValueError(f"path {p.id}: operational rows belong under 'operational'")
        for p in self.operational:
            if p.section is not Section.operational:
                raise ValueError(f"operational row {p.id}: section must be 'operational'")
        path_ids = [p.id for p in (*self.paths, *self.operational)]
        rule_ids = [r.id for r in self.rules]
        for kind, ids in (("path", path_ids), ("rule", rule_ids)):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} id(s): {', '.join(dupes)}")
        known_rules = set(rule_ids)
        known_paths = set(path_ids)
        for p in (*self.paths, *self.operational):
            refs = list(p.rules) + [c.rule for c in p.conditions if c.rule]
            refs += [c.rule for c in p.encryption.conditions if c.rule]
            refs += [pt.rule for pt in p.ports if pt.rule]
            for ref in refs:
                if ref not in known_rules:
                    raise ValueError(f"path {p.id} references unknown rule {ref!r}")
        for r in self.rules:
            for ref in r.paths:
                if ref not in known_paths:
                    raise ValueError(f"rule {r.id} references unknown path {ref!r}")
        return self

    def path(self, path_id: str) -> DataPath:
        """Return the path (reference or operational row) with ``path_id`` or raise KeyError."""
        for p in (*self.paths, *self.operational):
            if p.id == path_id:
                return p
        raise KeyError(path_id)

    def rule(self, rule_id: str) -> Rule:
        """Return the rule with ``rule_id`` or raise KeyError."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def rules_for(self, path: DataPath) -> tuple[Rule, ...]:
        """Rules a path names, plus rules that name the path."""
        ids = set(path.rules)
        ids |= {c.rule for c in path.conditions if c.rule}
        ids |= {c.rule for c in path.encryption.conditions if c.rule}
        ids |= {pt.rule for pt in path.ports if pt.rule}
        return tuple(r for r in self.rules if r.id in ids or path.id in r.paths)
