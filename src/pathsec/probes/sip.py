"""SIP probe (5060 TCP, 5061 TLS): one OPTIONS request, the status line and the product headers.

OPTIONS is SIP's capability query; it sets up no call. The reply's headers are read up to
the blank line (bounded in lines and bytes), the body is not read. Over TLS the session and
certificate are recorded; the ``tls`` probe adds the version table.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from pathsec.probes.base import (
    Attempt,
    Endpoint,
    Job,
    Observation,
    ProbeKind,
    ProbeSettings,
    ProtocolError,
    Transcript,
    connect,
    guarded,
)
from pathsec.probes.certs import TlsSession, describe_session, tls_context


class SipObservation(Observation):
    """The answer to OPTIONS."""

    status_code: int | None = None
    status_line: str | None = None
    server: str | None = None
    user_agent: str | None = None
    allow: tuple[str, ...] = ()
    supported: tuple[str, ...] = ()
    tls: TlsSession | None = None

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


class SipProbe:
    """The SIP probe: one OPTIONS over TCP or TLS."""

    kind = ProbeKind.sip

    def plan(
        self, endpoint: Endpoint, settings: ProbeSettings, prior: Mapping[ProbeKind, Observation]
    ) -> Sequence[Job]:
        """Always one job."""
        return (Job(self.kind, endpoint),)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Send OPTIONS, read the response headers."""

        async def body(transcript: Transcript) -> BaseModel:
            ep = job.endpoint
            tls = ep.protocol.implicit_tls
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
        a = attempts[0]
        base = a.value if isinstance(a.value, SipObservation) else SipObservation()
        return base.model_copy(
            update={"status": a.status, "reason": a.reason, "transcript": a.transcript}
        )
