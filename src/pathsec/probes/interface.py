"""The probe contract: what a probe declares, what it is given and what it returns.

A probe is one module with one :class:`Probe` subclass, listed once in
:data:`pathsec.probes.registry.PROBES`. The class declares its :class:`ProbeKind`, its
observation model, the application protocols it speaks (:class:`Speaks`: ports, transport,
implicit-TLS twin, the catalog path of ad-hoc targets), its :class:`Stage`, and optional
hooks other probes call: :class:`StartTls` (the TLS probe reaches the handshake through it)
and :class:`NtlmAuth` (the NTLM probe sends its NEGOTIATE through it). ``summary`` and
``facts`` say what tables and baselines show. Every other table — port to protocol, default
ports, stages, the fields of the results' ``observations`` — is derived from the registry.

The work itself is two steps (after sslyze's plugin contract): :meth:`Probe.plan` lists the
connections needed (one :class:`Job` each), the engine runs each job under its connection
budget, and :meth:`Probe.fold` turns the attempts into one typed, frozen observation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # annotations only: both modules import this one
    from pathsec.probes.certs import TlsSession
    from pathsec.probes.runtime import Conn

MAX_LINE_BYTES = 4096
MAX_REPLY_LINES = 200
MAX_REPLY_BYTES = 64 * 1024

Transport = Literal["tcp", "udp"]
#: A baseline fact: ``probe.name`` -> a value that stays the same while the server does.
FactValue = str | bool | int | list[str] | None
Facts = dict[str, FactValue]


class ProtocolError(Exception):
    """The peer said something a parser cannot accept (the only error parsers raise)."""


class ProbeKind(StrEnum):
    """The probes pathsec has; each is one module in :mod:`pathsec.probes`.

    The value names the probe's field in the results' ``observations``.
    """

    tcp = "tcp"
    tls = "tls"
    smtp = "smtp"
    pop3 = "pop3"
    imap = "imap"
    ntlm = "ntlm"
    http = "http"
    ldap = "ldap"
    kerberos = "kerberos"
    dns = "dns"
    rpc = "rpc"
    smb = "smb"
    sip = "sip"
    udp = "udp"
    ciphers = "ciphers"


class AppProtocol(StrEnum):
    """What an endpoint speaks; the ``s`` variants start with TLS (implicit TLS).

    Values are the JSON contract: new protocols are only ever added. ``cldap``,
    ``kerberos-udp``, ``dns-udp`` and ``udp`` are carried over UDP; all others over TCP.
    """

    # The probe that speaks each value declares its ports, transport and implicit TLS
    # (``Probe.speaks``); this docstring is part of the committed results schema.

    smtp = "smtp"
    smtps = "smtps"
    pop3 = "pop3"
    pop3s = "pop3s"
    imap = "imap"
    imaps = "imaps"
    tls = "tls"
    tcp = "tcp"
    http = "http"
    https = "https"
    ldap = "ldap"
    ldaps = "ldaps"
    kerberos = "kerberos"
    dns = "dns"
    rpc = "rpc"
    smb = "smb"
    sip = "sip"
    sips = "sips"
    cldap = "cldap"
    kerberos_udp = "kerberos-udp"
    dns_udp = "dns-udp"
    udp = "udp"


class Stage(StrEnum):
    """When a probe runs at an endpoint: later stages plan from what earlier ones saw."""

    connect = "connect"  # a bare TCP connect (skipped when the application probe reports it)
    application = "application"  # the probe of the endpoint's protocol
    follow_up = "follow_up"  # probes that build on the application probe (TLS versions, NTLM)


class Status(StrEnum):
    """How an attempt ended; everything but ``ok`` carries a reason."""

    ok = "ok"
    refused = "refused"
    timeout = "timeout"
    reset = "reset"
    tls_error = "tls_error"
    protocol_error = "protocol_error"
    error = "error"
    skipped = "skipped"


@dataclass(frozen=True)
class Twin:
    """The implicit-TLS variant of a plain protocol, on its own ports (smtp -> smtps on 465)."""

    protocol: AppProtocol
    ports: tuple[int, ...]


@dataclass(frozen=True)
class Speaks:
    """An application protocol a probe speaks, as its module declares it.

    ``ports``: the well-known ports, the first being the default (empty for a bare
    protocol whose port a target must give); ``twin``: the implicit-TLS variant, which the
    registry declares as a protocol of its own with ``implicit_tls`` set; ``client_path``:
    the catalog path an ad-hoc target of this protocol is graded against.
    """

    protocol: AppProtocol
    ports: tuple[int, ...] = ()
    transport: Transport = "tcp"
    implicit_tls: bool = False
    twin: Twin | None = None
    client_path: str | None = None

    @property
    def default_port(self) -> int | None:
        """The port a target without one is given (None: the target must name one)."""
        return self.ports[0] if self.ports else None

    def expanded(self) -> tuple[Speaks, ...]:
        """This protocol and its implicit-TLS twin as two declarations."""
        if self.twin is None:
            return (self,)
        twin = Speaks(
            self.twin.protocol,
            self.twin.ports,
            self.transport,
            implicit_tls=True,
            client_path=self.client_path,
        )
        plain = Speaks(
            self.protocol,
            self.ports,
            self.transport,
            self.implicit_tls,
            client_path=self.client_path,
        )
        return (plain, twin)


class Observation(BaseModel):
    """Base of every probe's observation: frozen, with status, reason and transcript."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Status = Status.ok
    reason: str | None = None
    transcript: tuple[str, ...] = ()

    def tls_session(self) -> TlsSession | None:
        """The TLS session this probe's own connection negotiated (None: none)."""
        return None

    def tls_failure(self) -> str | None:
        """Why an in-band TLS upgrade (STARTTLS and the like) failed, if one did."""
        return None

    def identifies_microsoft(self) -> bool:
        """True when what the server said marks it as the product the reference describes:
        Exchange (banners, EHLO keywords, IIS/OWA headers) or Active Directory."""
        return False


class StartTlsObservation(Observation):
    """An observation of a line protocol that offers TLS in-band and advertises its logins.

    The TLS probe runs on such an endpoint when :meth:`tls_offered`; the NTLM probe when a
    login method is NTLM; the checks PS-TLS-001 and the plain-text login checks read it.
    """

    @abstractmethod
    def tls_offered(self) -> bool:
        """True when the server offered the in-band upgrade (or the port is implicit TLS)."""

    @abstractmethod
    def capabilities_before(self) -> tuple[str, ...]:
        """What the server advertised before TLS (EHLO keywords, CAPA, CAPABILITY)."""

    @abstractmethod
    def auth_before_tls(self) -> tuple[str, ...]:
        """Login methods offered in plain text (empty on implicit-TLS ports)."""

    @abstractmethod
    def auth_after_tls(self) -> tuple[str, ...]:
        """Login methods offered once encrypted."""


@dataclass(frozen=True)
class Endpoint:
    """One host:port, the protocol spoken there (as its probe declares it) and context.

    ``path_id`` lets a probe pick what to ask for (the HTTP probe: the path's virtual
    directories); ``domain`` is the Active Directory domain (DNS, Kerberos).
    """

    host: str
    port: int
    speaks: Speaks
    server_name: str | None = None
    path_id: str | None = None
    domain: str | None = None

    @property
    def protocol(self) -> AppProtocol:
        """The protocol spoken at the endpoint."""
        return self.speaks.protocol

    @property
    def implicit_tls(self) -> bool:
        """True when a connection starts with the TLS handshake."""
        return self.speaks.implicit_tls

    @property
    def label(self) -> str:
        """``host:port/protocol`` (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}/{self.protocol.value}"


@dataclass(frozen=True)
class ProbeSettings:
    """Knobs shared by every probe."""

    timeout: float = 5.0
    source_address: str | None = None
    ehlo_name: str = "pathsec.invalid"
    ntlm_info: bool = False
    max_line_bytes: int = MAX_LINE_BYTES
    max_reply_lines: int = MAX_REPLY_LINES
    max_reply_bytes: int = MAX_REPLY_BYTES
    #: ``full``: enumerate cipher suites, key exchange and chain (the ``ciphers`` probe);
    #: ``quick``: TLS versions and the certificate only.
    tls_depth: Literal["full", "quick"] = "full"
    #: Further trusted roots for chain validation (PEM), beside the system trust store.
    ca_file: str | None = None


@dataclass(frozen=True)
class Job:
    """One planned connection of one probe; ``variant`` tells jobs of a probe apart."""

    probe: ProbeKind
    endpoint: Endpoint
    variant: str = ""

    @property
    def needs_connection(self) -> bool:
        """False for a job answered from earlier observations (no connection budget)."""
        return True


@dataclass(frozen=True)
class Attempt:
    """What one job produced: status, reason, transcript and the probe's own data."""

    job: Job
    status: Status
    reason: str | None = None
    transcript: tuple[str, ...] = ()
    value: BaseModel | None = None
    elapsed: float = 0.0


@dataclass(frozen=True)
class Prior:
    """What the earlier stages saw at one endpoint, and the endpoint's application probe."""

    app: Probe[Any] | None = None
    observations: Mapping[ProbeKind, Observation] = field(default_factory=dict)

    def app_observation(self) -> Observation | None:
        """The application probe's observation, once it ran."""
        return self.observations.get(self.app.kind) if self.app is not None else None


ObsT = TypeVar("ObsT", bound=Observation)


class Probe(ABC, Generic[ObsT]):
    """A probe: plan connections, run one, fold the attempts into an observation.

    Subclasses set the class attributes below; the registry derives every table from them.
    """

    kind: ClassVar[ProbeKind]
    #: The observation model; a default instance stands in when the dialogue failed early.
    observation: type[ObsT]
    stage: ClassVar[Stage] = Stage.application
    #: Follow-up probes whose observations this one plans from: it runs in a later stage.
    after: ClassVar[tuple[ProbeKind, ...]] = ()
    #: The application protocols this probe speaks (ports, twin, ad-hoc catalog path).
    speaks: ClassVar[tuple[Speaks, ...]] = ()
    #: The job's first act is one TCP connect (:func:`pathsec.probes.runtime.connect`),
    #: which the engine reads as the endpoint's TCP observation: no separate connect stage.
    reports_connect: ClassVar[bool] = False

    @abstractmethod
    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """Jobs to run, given what earlier stages saw (empty: nothing to do)."""

    @abstractmethod
    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Run one job (one connection); never raises for network or peer trouble."""

    @abstractmethod
    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> ObsT:
        """Combine the attempts into one observation."""

    @abstractmethod
    def summary(self, obs: ObsT) -> str:
        """One line for tables: what the server said (its text made inert by the caller)."""

    @abstractmethod
    def facts(self, obs: ObsT) -> Facts:
        """The stable facts a baseline records (``kind.name`` keys; empty: none)."""

    def fold_one(self, attempts: Sequence[Attempt], default: ObsT | None = None) -> ObsT:
        """The observation of a single-attempt probe: its value, status, reason, transcript."""
        a = attempts[0]
        if isinstance(a.value, self.observation):
            base = a.value
        else:
            base = default if default is not None else self.observation()
        return base.model_copy(
            update={"status": a.status, "reason": a.reason, "transcript": a.transcript}
        )


class StartTls(ABC):
    """Hook of a probe whose protocol upgrades to TLS in-band (STARTTLS, STLS).

    The TLS probe calls it on fresh connections of a plain port before each handshake; the
    probe's observation is a :class:`StartTlsObservation`.
    """

    @abstractmethod
    async def starttls(self, conn: Conn) -> None:
        """Bring a fresh plain connection to the point where the TLS handshake starts."""


class NtlmAuth(ABC):
    """Hook of a probe whose protocol carries NTLM in a login exchange (AUTH NTLM).

    The NTLM probe (``--ntlm-info``) uses it when the observation lists NTLM as a login.
    """

    @abstractmethod
    async def ready_for_auth(self, conn: Conn, endpoint: Endpoint, use_starttls: bool) -> None:
        """Greeting and (when asked and offered) the TLS upgrade: where a login may start."""

    @abstractmethod
    async def ntlm_exchange(self, conn: Conn, negotiate_b64: str) -> str:
        """Send the NEGOTIATE, return the server's base64 CHALLENGE, cancel the login."""
