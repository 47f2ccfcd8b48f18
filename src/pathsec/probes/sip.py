"""SIP probe (5060 TCP, 5061 TLS): one OPTIONS request, the status line and the product headers.

OPTIONS is SIP's capability query; it sets up no call. The reply's headers are read up to
the blank line (bounded in lines and bytes), the body is not read. Over TLS the session and
certificate are recorded; the ``tls`` probe adds the version table.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from pydantic import BaseModel

from pathsec.probes.certs import TlsSession, describe_session, tls_context
from pathsec.probes.interface import (
    AppProtocol,
    Attempt,
    Endpoint,
    Facts,
    Job,
    Observation,
    Prior,
    Probe,
    ProbeKind,
    ProbeSettings,
    ProtocolError,
    Speaks,
    Twin,
)
from pathsec.probes.runtime import connect, guarded
from pathsec.probes.text import Transcript


class SipObservation(Observation):
    """The answer to OPTIONS."""

    status_code: int | None = None
    status_line: str | None = None
    server: str | None = None
    user_agent: str | None = None
    allow: tuple[str, ...] = ()
    supported: tuple[str, ...] = ()
    tls: TlsSession | None = None

    def tls_session(self) -> TlsSession | None:
        """The session of a SIP-over-TLS connection."""
        return self.tls

    @property
    def exchange_um(self) -> bool:
        """True when Server or User-Agent names Exchange Unified Messaging."""
        return "msexchangeum" in f"{self.server or ''} {self.user_agent or ''}".lower()


def options_request(ep: Endpoint, local: tuple[str, int], transport: str) -> str:
    """An RFC 3261 OPTIONS request (CRLF line ends, empty body)."""
    host = f"[{ep.host}]" if ":" in ep.host else ep.host
    lhost = f"[{local[0]}]" if ":" in local[0] else local[0]
    tag, call, branch = secrets.token_hex(4), secrets.token_hex(8), secrets.token_hex(6)
    scheme = "sips" if transport == "TLS" else "sip"
    lines = [
        f"OPTIONS {scheme}:{host}:{ep.port} SIP/2.0",
        f"Via: SIP/2.0/{transport} {lhost}:{local[1]};branch=z9hG4bK{branch};rport",
        "Max-Forwards: 70",
        f"From: <{scheme}:pathsec@{lhost}>;tag={tag}",
        f"To: <{scheme}:{host}:{ep.port}>",
        f"Call-ID: {call}@pathsec.invalid",
        "CSeq: 1 OPTIONS",
        f"Contact: <{scheme}:pathsec@{lhost}:{local[1]};transport={transport.lower()}>",
        "Accept: application/sdp",
        "User-Agent: pathsec",
        "Content-Length: 0",
    ]
    return "\r\n".join(lines) + "\r\n"


def parse_reply(lines: Sequence[str]) -> SipObservation:
    """Parse a SIP response's status line and headers (compact forms understood)."""
    if not lines or not lines[0].startswith("SIP/2.0 "):
        raise ProtocolError(f"not a SIP response: {lines[0] if lines else '(nothing)'}")
    parts = lines[0].split(" ", 2)
    try:
        code = int(parts[1])
    except (IndexError, ValueError):
        raise ProtocolError(f"bad SIP status line: {lines[0]}") from None
    headers: dict[str, list[str]] = {}
    compact = {"k": "supported"}
    for line in lines[1:]:
        if ":" not in line:
            continue
        name, value = line.split(":", 1)
        key = compact.get(name.strip().lower(), name.strip().lower())
        headers.setdefault(key, []).append(value.strip())

    def items(name: str) -> tuple[str, ...]:
        out: list[str] = []
        for v in headers.get(name, []):
            out += [x.strip() for x in v.split(",") if x.strip()]
        return tuple(out)

    return SipObservation(
        status_code=code,
        status_line=lines[0],
        server=next(iter(headers.get("server", [])), None),
        user_agent=next(iter(headers.get("user-agent", [])), None),
        allow=items("allow"),
        supported=items("supported"),
    )


class SipProbe(Probe[SipObservation]):
    """The SIP probe: one OPTIONS over TCP or TLS."""

    kind = ProbeKind.sip
    observation = SipObservation
    #: 5060 is SIP over TCP and 5061 SIP over TLS. The reference lists 5062 beside them on
    #: every UM path, whose encryption it gives as SIP over TLS; pathsec probes it as SIP
    #: over TLS, as the lab (after the reference) answers there.
    speaks = (Speaks(AppProtocol.sip, (5060,), twin=Twin(AppProtocol.sips, (5061, 5062))),)

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """Always one job."""
        return (Job(self.kind, endpoint),)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Send OPTIONS, read the response headers."""

        async def body(transcript: Transcript) -> BaseModel:
            ep = job.endpoint
            tls = ep.implicit_tls
            conn = await connect(ep, settings, transcript, tls_context() if tls else None)
            try:
                sock = conn.extra("sockname")
                local = (str(sock[0]), int(sock[1])) if sock else ("0.0.0.0", 0)
                request = options_request(ep, local, "TLS" if tls else "TCP")
                for line in request.split("\r\n")[:1]:
                    transcript.add("C", line)
                conn.write(request.encode("ascii") + b"\r\n")
                lines = await conn.read_until(lambda line: line == "")
                obs = parse_reply([x for x in lines if x])
                session = describe_session(conn.ssl_object(), ep.server_name or ep.host)
                return obs.model_copy(update={"tls": session})
            finally:
                await conn.close()

        return await guarded(job, body, settings)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> SipObservation:
        """The single attempt's observation."""
        return self.fold_one(attempts)

    def summary(self, obs: SipObservation) -> str:
        """The status line and the product the server names."""
        return f"{obs.status_line or ''} {obs.server or obs.user_agent or ''}".strip()

    def facts(self, obs: SipObservation) -> Facts:
        """The status code and the Server header."""
        return {"sip.status": obs.status_code, "sip.server": obs.server}
