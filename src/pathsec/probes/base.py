"""The probe interface: endpoints, settings, jobs, attempts, bounded I/O and the error type.

A probe works in two steps (after sslyze's plugin contract): :meth:`Probe.plan` lists the
connections it needs (one :class:`Job` per connection), the engine runs each job under its
connection budget, and :meth:`Probe.fold` turns the attempts into one typed, frozen
observation. Every read is bounded in time and bytes; every failure becomes data.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

MAX_LINE_BYTES = 4096
MAX_REPLY_LINES = 200
MAX_REPLY_BYTES = 64 * 1024
TRANSCRIPT_LINES = 60
TRANSCRIPT_LINE_CHARS = 240


class ProtocolError(Exception):
    """The peer said something a parser cannot accept (the only error parsers raise)."""


class ProbeKind(StrEnum):
    """The probes pathsec has; each maps to one module in :mod:`pathsec.probes`."""

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


class AppProtocol(StrEnum):
    """What an endpoint speaks; the ``s`` variants start with TLS (implicit TLS).

    Values are the JSON contract: new protocols are only ever added. ``cldap``,
    ``kerberos-udp``, ``dns-udp`` and ``udp`` are carried over UDP; all others over TCP.
    """

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

    @property
    def implicit_tls(self) -> bool:
        """True when the connection starts with a TLS handshake."""
        return self in _IMPLICIT_TLS

    @property
    def transport(self) -> str:
        """``udp`` for the datagram protocols, ``tcp`` for every other."""
        return "udp" if self in _UDP else "tcp"

    @property
    def family(self) -> ProbeKind | None:
        """The application probe for this protocol (None for bare tcp/tls)."""
        return _FAMILY.get(self)


#: Older name of :class:`AppProtocol`, from when only mail protocols were probed.
MailProtocol = AppProtocol

_IMPLICIT_TLS = frozenset(
    {
        AppProtocol.smtps,
        AppProtocol.pop3s,
        AppProtocol.imaps,
        AppProtocol.tls,
        AppProtocol.https,
        AppProtocol.ldaps,
        AppProtocol.sips,
    }
)
_UDP = frozenset(
    {AppProtocol.cldap, AppProtocol.kerberos_udp, AppProtocol.dns_udp, AppProtocol.udp}
)
_FAMILY: dict[AppProtocol, ProbeKind] = {
    AppProtocol.smtp: ProbeKind.smtp,
    AppProtocol.smtps: ProbeKind.smtp,
    AppProtocol.pop3: ProbeKind.pop3,
    AppProtocol.pop3s: ProbeKind.pop3,
    AppProtocol.imap: ProbeKind.imap,
    AppProtocol.imaps: ProbeKind.imap,
    AppProtocol.http: ProbeKind.http,
    AppProtocol.https: ProbeKind.http,
    AppProtocol.ldap: ProbeKind.ldap,
    AppProtocol.ldaps: ProbeKind.ldap,
    AppProtocol.kerberos: ProbeKind.kerberos,
    AppProtocol.kerberos_udp: ProbeKind.kerberos,
    AppProtocol.dns: ProbeKind.dns,
    AppProtocol.dns_udp: ProbeKind.dns,
    AppProtocol.rpc: ProbeKind.rpc,
    AppProtocol.smb: ProbeKind.smb,
    AppProtocol.sip: ProbeKind.sip,
    AppProtocol.sips: ProbeKind.sip,
    AppProtocol.cldap: ProbeKind.udp,
    AppProtocol.udp: ProbeKind.udp,
}


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


class Observation(BaseModel):
    """Base of every probe's observation: frozen, with status, reason and transcript."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Status = Status.ok
    reason: str | None = None
    transcript: tuple[str, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    """One host:port and the protocol spoken there.

    ``path_id`` lets a probe pick what to ask for (the HTTP probe: the path's virtual
    directories); ``domain`` is the Active Directory domain (DNS, Kerberos).
    """

    host: str
    port: int
    protocol: AppProtocol
    server_name: str | None = None
    path_id: str | None = None
    domain: str | None = None

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


@dataclass(frozen=True)
class Job:
    """One planned connection of one probe; ``variant`` tells jobs of a probe apart."""

    probe: ProbeKind
    endpoint: Endpoint
    variant: str = ""


@dataclass(frozen=True)
class Attempt:
    """What one job produced: status, reason, transcript and the probe's own data."""

    job: Job
    status: Status
    reason: str | None = None
    transcript: tuple[str, ...] = ()
    value: BaseModel | None = None
    elapsed: float = 0.0


class Probe(Protocol):
    """A probe: plan connections, run one, fold the attempts into an observation."""

    kind: ProbeKind

    def plan(
        self, endpoint: Endpoint, settings: ProbeSettings, prior: Mapping[ProbeKind, Observation]
    ) -> Sequence[Job]:
        """Jobs to run, given the observations of earlier stages (empty: nothing to do)."""
        ...

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Run one job (one connection); never raises for network or peer trouble."""
        ...

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> Observation:
        """Combine the attempts into one observation."""
        ...


def clean_text(text: str, limit: int = TRANSCRIPT_LINE_CHARS) -> str:
    """Replace control characters so server text cannot drive a terminal; cut to ``limit``."""
    if text.isascii() and text.isprintable():  # the usual case: nothing to replace
        return text if len(text) <= limit else text[: limit - 1] + "…"
    out = "".join(
        ch if (ch.isprintable() or ch == " ") else f"\\x{ord(ch):02x}" if ord(ch) < 256 else "?"
        for ch in text
    )
    return out if len(out) <= limit else out[: limit - 1] + "…"


def decode_line(raw: bytes) -> str:
    """Decode one protocol line (latin-1 never fails) without its line ending."""
    return raw.rstrip(b"\r\n").decode("latin-1")


@dataclass
class Transcript:
    """A trimmed record of what was said: ``C:`` client lines, ``S:`` server lines."""

    lines: list[str] = field(default_factory=list)
    dropped: int = 0

    def add(self, who: str, text: str) -> None:
        """Record one line (control characters escaped, long lines cut)."""
        if len(self.lines) >= TRANSCRIPT_LINES:
            self.dropped += 1
            return
        # Interned: the same lines recur on every endpoint of a fleet (EHLO keywords,
        # replies), so 10,000 transcripts share them instead of holding copies.
        self.lines.append(sys.intern(f"{who}: {clean_text(text)}"))

    def note(self, text: str) -> None:
        """Record an event that is not a protocol line (TLS handshake, close)."""
        self.add("*", text)

    def freeze(self) -> tuple[str, ...]:
        """The transcript as a tuple, with a marker when lines were dropped."""
        if self.dropped:
            return (*self.lines, f"*: … {self.dropped} more lines not kept")
        return tuple(self.lines)


class Conn:
    """A client connection with bounded, timed reads and a transcript."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        settings: ProbeSettings,
        transcript: Transcript,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.settings = settings
        self.transcript = transcript

    async def readline(self) -> str:
        """Read one line (at most ``max_line_bytes``) within the timeout."""
        async with asyncio.timeout(self.settings.timeout):
            return await self._line()

    async def _line(self) -> str:
        """One line, bounded in bytes; the caller bounds the time."""
        try:
            raw = await self.reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise ProtocolError(f"line longer than {self.settings.max_line_bytes} bytes") from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                self.transcript.add("S", decode_line(exc.partial))
            raise ConnectionResetError("connection closed by the server") from None
        line = decode_line(raw)
        self.transcript.add("S", line)
        return line

    async def read_until(self, done: _LineTest) -> list[str]:
        """Read lines until ``done(line)`` is true, bounded in lines, bytes and time.

        One timeout covers the whole reply (a multi-line EHLO or CAPA reply is read
        without arming a timer per line).
        """
        lines: list[str] = []
        total = 0
        async with asyncio.timeout(self.settings.timeout):
            while True:
                line = await self._line()
                lines.append(line)
                total += len(line) + 2
                if done(line):
                    return lines
                if (
                    len(lines) >= self.settings.max_reply_lines
                    or total > self.settings.max_reply_bytes
                ):
                    raise ProtocolError(
                        f"reply longer than {self.settings.max_reply_lines} lines or "
                        f"{self.settings.max_reply_bytes} bytes"
                    )

    async def send(self, line: str, shown: str | None = None) -> None:
        """Send one CRLF-terminated line; ``shown`` replaces it in the transcript."""
        self.transcript.add("C", shown if shown is not None else line)
        self.writer.write(line.encode("ascii") + b"\r\n")
        if self.writer.transport.get_write_buffer_size():  # the kernel did not take it all
            async with asyncio.timeout(self.settings.timeout):
                await self.writer.drain()

    async def start_tls(self, ctx: ssl.SSLContext, server_hostname: str | None) -> None:
        """Upgrade the connection to TLS (STARTTLS, STLS) within the timeout."""
        async with asyncio.timeout(self.settings.timeout):
            await self.writer.start_tls(ctx, server_hostname=server_hostname)
        self.transcript.note(f"TLS handshake done ({self.tls_version()})")

    def ssl_object(self) -> ssl.SSLObject | None:
        """The TLS state of the connection, if it is encrypted."""
        obj = self.writer.get_extra_info("ssl_object")
        return obj if isinstance(obj, ssl.SSLObject) else None

    def tls_version(self) -> str | None:
        """Negotiated TLS version, or None in plain text."""
        obj = self.ssl_object()
        return obj.version() if obj is not None else None

    async def close(self) -> None:
        """Close without waiting long for the peer."""
        self.writer.close()
        try:
            async with asyncio.timeout(min(self.settings.timeout, 1.0)):
                await self.writer.wait_closed()
        except (OSError, TimeoutError, ssl.SSLError):
            pass


class _LineTest(Protocol):
    def __call__(self, line: str, /) -> bool: ...


def sni_for(endpoint: Endpoint) -> str | None:
    """The SNI name to send: the server name, or the host when it is not an IP address."""
    name = endpoint.server_name or endpoint.host
    return None if is_ip(name) else name


def is_ip(text: str) -> bool:
    """True for an IPv4 or IPv6 literal."""
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@dataclass
class ConnectRecord:
    """The first TCP connect of one job: its time in ms, or the error that ended it.

    The engine starts a record per job (:func:`record_connect`); :func:`connect` fills it, so
    an application probe's own connection tells open, closed or filtered and the connect
    time without a separate TCP probe connection.
    """

    ms: float | None = None
    error: BaseException | None = None

    @property
    def settled(self) -> bool:
        """True once the first connect succeeded or failed."""
        return self.ms is not None or self.error is not None


_CONNECT_RECORD: ContextVar[ConnectRecord | None] = ContextVar("pathsec_connect", default=None)


def record_connect() -> ConnectRecord:
    """Start recording the first connect made in the current task (one job)."""
    record = ConnectRecord()
    _CONNECT_RECORD.set(record)
    return record


async def open_socket(endpoint: Endpoint, settings: ProbeSettings) -> socket.socket:
    """A connected non-blocking TCP socket to ``endpoint`` (names resolved off the loop)."""
    loop = asyncio.get_running_loop()
    if is_ip(endpoint.host):
        ip_family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
        addresses: list[tuple[int, tuple[Any, ...]]] = [(ip_family, (endpoint.host, endpoint.port))]
    else:
        infos = await loop.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
        addresses = [(info[0], info[4]) for info in infos]
    error: OSError = OSError(f"no address for {endpoint.host}")
    for family, address in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            if settings.source_address:
                sock.bind((settings.source_address, 0))
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise error


async def connect(
    endpoint: Endpoint,
    settings: ProbeSettings,
    transcript: Transcript,
    tls: ssl.SSLContext | None = None,
) -> Conn:
    """Open a connection (TLS at once when ``tls`` is given) within the timeout.

    The first connect of a job is recorded (:class:`ConnectRecord`) when the engine asked.
    """
    record = _CONNECT_RECORD.get()
    if record is not None and record.settled:
        record = None  # only the job's first connect counts
    start = time.monotonic()
    sock: socket.socket | None = None
    try:
        async with asyncio.timeout(settings.timeout):
            sock = await open_socket(endpoint, settings)
            if record is not None:
                record.ms = round((time.monotonic() - start) * 1000, 2)
            reader, writer = await asyncio.open_connection(
                sock=sock,
                ssl=tls,
                # asyncio's own default for a host: the SNI name, else the address
                server_hostname=(sni_for(endpoint) or endpoint.host) if tls is not None else None,
                limit=settings.max_line_bytes,
                ssl_handshake_timeout=settings.timeout if tls is not None else None,
            )
    except BaseException as exc:
        if record is not None and record.ms is None:
            record.error = exc
        if sock is not None:
            sock.close()
        raise
    conn = Conn(reader, writer, settings, transcript)
    if tls is not None:
        transcript.note(f"TLS handshake done ({conn.tls_version()})")
    return conn


def classify(exc: BaseException) -> tuple[Status, str]:
    """Map an exception from a connection to a status and a short reason."""
    if isinstance(exc, TimeoutError):
        return Status.timeout, "no answer within the timeout"
    if isinstance(exc, ConnectionRefusedError):
        return Status.refused, "connection refused"
    if isinstance(exc, ssl.SSLError):
        return Status.tls_error, f"TLS error: {exc.reason or exc}"
    if isinstance(exc, ssl.CertificateError):
        return Status.tls_error, f"TLS error: {exc}"
    if isinstance(exc, ProtocolError):
        return Status.protocol_error, str(exc)
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, EOFError)):
        return Status.reset, str(exc) or "connection reset"
    if isinstance(exc, OSError):
        return Status.error, exc.strerror or str(exc)
    return Status.error, f"{type(exc).__name__}: {exc}"


async def guarded(job: Job, body: _JobBody, settings: ProbeSettings) -> Attempt:
    """Run ``body`` with a fresh transcript; turn every network or peer failure into data."""
    transcript = Transcript()
    start = time.monotonic()
    try:
        value = await body(transcript)
    except (OSError, TimeoutError, ssl.SSLError, ProtocolError, EOFError) as exc:
        status, reason = classify(exc)
        transcript.note(reason)
        return Attempt(
            job, status, reason, transcript.freeze(), None, round(time.monotonic() - start, 4)
        )
    return Attempt(
        job, Status.ok, None, transcript.freeze(), value, round(time.monotonic() - start, 4)
    )


class _JobBody(Protocol):
    async def __call__(self, transcript: Transcript, /) -> BaseModel: ...
