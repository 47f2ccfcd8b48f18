"""POP3 probe (110, 995): banner, CAPA before and after STLS, USER and SASL mechanisms.

It sends only CAPA, STLS and QUIT (and, with ``--ntlm-info``, AUTH NTLM with a NEGOTIATE).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from pathsec.probes.certs import TlsSession, tls_context
from pathsec.probes.interface import (
    AppProtocol,
    Endpoint,
    Facts,
    NtlmAuth,
    ProbeKind,
    ProtocolError,
    Speaks,
    StartTls,
    StartTlsObservation,
    Twin,
)
from pathsec.probes.runtime import Conn, sni_for
from pathsec.probes.session import SessionProbe, continuation_ntlm, session_of, upgrade


class Pop3Capa(BaseModel):
    """A parsed CAPA reply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    capabilities: tuple[str, ...]
    user: bool
    stls: bool
    sasl: tuple[str, ...]


def parse_status(line: str) -> bool:
    """True for ``+OK``, False for ``-ERR``; :class:`ProtocolError` otherwise."""
    if line.startswith("+OK"):
        return True
    if line.startswith("-ERR"):
        return False
    raise ProtocolError(f"not a POP3 status line: {line[:80]!r}")


def parse_capa(lines: Sequence[str]) -> Pop3Capa:
    """Parse a CAPA reply (status line, capabilities, ``.``); ProtocolError on garbage."""
    if not lines or not parse_status(lines[0]):
        raise ProtocolError("CAPA refused")
    if lines[-1] != ".":
        raise ProtocolError("CAPA reply not terminated by '.'")
    caps: list[str] = []
    sasl: list[str] = []
    for line in lines[1:-1]:
        parts = line.split()
        if not parts:
            continue
        name = parts[0].upper()
        caps.append(line.strip())
        if name == "SASL":
            sasl.extend(p.upper() for p in parts[1:])
    names = {c.split()[0].upper() for c in caps}
    return Pop3Capa(
        capabilities=tuple(caps), user="USER" in names, stls="STLS" in names, sasl=tuple(sasl)
    )


class Pop3Observation(StartTlsObservation):
    """What the POP3 endpoint offered before and after TLS."""

    banner: str | None = None

    def identifies_microsoft(self) -> bool:
        """Exchange's POP3 banner."""
        return "Microsoft Exchange" in (self.banner or "")

    implicit_tls: bool = False
    capa_before: Pop3Capa | None = None
    stls_offered: bool = False
    stls_error: str | None = None
    tls: TlsSession | None = None
    capa_after: Pop3Capa | None = None

    def tls_offered(self) -> bool:
        """STLS was in the CAPA reply."""
        return self.stls_offered

    def tls_failure(self) -> str | None:
        """Why STLS or its handshake failed."""
        return self.stls_error

    def tls_session(self) -> TlsSession | None:
        """The session of the implicit TLS or STLS handshake."""
        return self.tls

    def capabilities_before(self) -> tuple[str, ...]:
        """The CAPA reply before TLS."""
        return self.capa_before.capabilities if self.capa_before is not None else ()

    def auth_before_tls(self) -> tuple[str, ...]:
        """Login methods offered in plain text: ``USER`` and SASL mechanisms."""
        if self.implicit_tls or self.capa_before is None:
            return ()
        return (("USER",) if self.capa_before.user else ()) + self.capa_before.sasl

    def auth_after_tls(self) -> tuple[str, ...]:
        """Login methods offered once encrypted."""
        capa = self.capa_before if self.implicit_tls else self.capa_after
        if capa is None:
            return ()
        return (("USER",) if capa.user else ()) + capa.sasl


async def greet(conn: Conn) -> str:
    """Read the banner; ``-ERR`` is a protocol error."""
    line = await conn.readline()
    if not parse_status(line):
        raise ProtocolError(f"server refuses service: {line[:80]}")
    return line


async def capa(conn: Conn) -> Pop3Capa | None:
    """Send CAPA; None when the server does not know it."""
    await conn.send("CAPA")
    first = await conn.readline()
    if not parse_status(first):
        return None
    rest = await conn.read_until(lambda line: line == ".")
    return parse_capa([first, *rest])


class Pop3Probe(SessionProbe[Pop3Observation], StartTls, NtlmAuth):
    """The POP3 probe: one connection."""

    kind = ProbeKind.pop3
    observation = Pop3Observation
    speaks = (
        Speaks(
            AppProtocol.pop3,
            (110,),
            twin=Twin(AppProtocol.pop3s, (995,)),
            client_path="client_access.pop3",
        ),
    )

    async def session(self, conn: Conn, endpoint: Endpoint) -> Pop3Observation:
        """Banner, CAPA, STLS, CAPA, QUIT."""
        implicit = endpoint.implicit_tls
        banner = await greet(conn)
        before = await capa(conn)
        obs = Pop3Observation(
            banner=banner,
            implicit_tls=implicit,
            capa_before=before,
            stls_offered=bool(before and before.stls),
            tls=session_of(conn, endpoint),
        )
        if not implicit and obs.stls_offered:
            await conn.send("STLS")
            if not parse_status(await conn.readline()):
                obs = obs.model_copy(update={"stls_error": "STLS refused"})
            elif (error := await upgrade(conn, endpoint)) is not None:
                return obs.model_copy(update={"stls_error": error})
            else:
                obs = obs.model_copy(
                    update={"tls": session_of(conn, endpoint), "capa_after": await capa(conn)}
                )
        await conn.send("QUIT")
        with contextlib.suppress(OSError, TimeoutError, ProtocolError):
            await conn.readline()
        return obs

    async def starttls(self, conn: Conn) -> None:
        """Banner, STLS: the point where the TLS handshake starts."""
        await greet(conn)
        await conn.send("STLS")
        if not parse_status(await conn.readline()):
            raise ProtocolError("STLS refused")

    async def ready_for_auth(self, conn: Conn, endpoint: Endpoint, use_starttls: bool) -> None:
        """Banner and (when asked) STLS: the state where AUTH may be sent."""
        await greet(conn)
        if use_starttls:
            await conn.send("STLS")
            if parse_status(await conn.readline()):
                await conn.start_tls(tls_context(), sni_for(endpoint))

    async def ntlm_exchange(self, conn: Conn, negotiate_b64: str) -> str:
        """AUTH NTLM, the NEGOTIATE message, read the challenge, cancel with ``*``."""
        return await continuation_ntlm(conn, "AUTH NTLM", negotiate_b64)

    def summary(self, obs: Pop3Observation) -> str:
        """The banner."""
        return obs.banner or ""

    def facts(self, obs: Pop3Observation) -> Facts:
        """STLS and the logins offered before TLS."""
        return {
            "pop3.stls": obs.stls_offered,
            "pop3.plain_before_tls": list(obs.auth_before_tls()),
        }
