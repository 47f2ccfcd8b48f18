"""IMAP probe (143, 993): greeting, CAPABILITY before and after STARTTLS, LOGINDISABLED, AUTH=.

It sends only CAPABILITY, STARTTLS and LOGOUT (and, with ``--ntlm-info``, AUTHENTICATE NTLM
with a NEGOTIATE message).
"""

from __future__ import annotations

import contextlib
import re
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

_CAP_CODE = re.compile(r"\[CAPABILITY ([^\]]*)\]", re.IGNORECASE)


class ImapCaps(BaseModel):
    """A parsed capability list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    capabilities: tuple[str, ...]
    starttls: bool
    logindisabled: bool
    auth: tuple[str, ...]


def parse_capabilities(text: str) -> ImapCaps:
    """Parse the atoms after ``CAPABILITY``; ProtocolError when there is no IMAP4rev1 atom."""
    atoms = tuple(a.upper() for a in text.split())
    if not any(a.startswith("IMAP4") for a in atoms):
        raise ProtocolError(f"not an IMAP capability list: {text[:80]!r}")
    return ImapCaps(
        capabilities=atoms,
        starttls="STARTTLS" in atoms,
        logindisabled="LOGINDISABLED" in atoms,
        auth=tuple(a[5:] for a in atoms if a.startswith("AUTH=") and len(a) > 5),
    )


def parse_greeting(line: str) -> ImapCaps | None:
    """Check a greeting (``* OK`` or ``* PREAUTH``); return its CAPABILITY code if any."""
    upper = line.upper()
    if upper.startswith("* BYE"):
        raise ProtocolError(f"server refuses service: {line[:80]}")
    if not (upper.startswith("* OK") or upper.startswith("* PREAUTH")):
        raise ProtocolError(f"not an IMAP greeting: {line[:80]!r}")
    m = _CAP_CODE.search(line)
    return parse_capabilities(m.group(1)) if m else None


def parse_tagged(tag: str, lines: Sequence[str]) -> tuple[bool, ImapCaps | None]:
    """Interpret the reply to a tagged command: (OK?, capabilities from untagged lines)."""
    if not lines:
        raise ProtocolError("empty IMAP reply")
    caps: ImapCaps | None = None
    for line in lines[:-1]:
        if line.upper().startswith("* CAPABILITY "):
            caps = parse_capabilities(line[13:])
    last = lines[-1]
    if not last.startswith(tag + " "):
        raise ProtocolError(f"unexpected IMAP line: {last[:80]!r}")
    status = last[len(tag) + 1 :].split(" ", 1)[0].upper()
    if status not in ("OK", "NO", "BAD"):
        raise ProtocolError(f"bad IMAP status: {last[:80]!r}")
    if caps is None:
        m = _CAP_CODE.search(last)
        caps = parse_capabilities(m.group(1)) if m else None
    return status == "OK", caps


class ImapObservation(StartTlsObservation):
    """What the IMAP endpoint offered before and after TLS."""

    greeting: str | None = None

    def identifies_microsoft(self) -> bool:
        """Exchange's IMAP4 greeting."""
        return "Microsoft Exchange" in (self.greeting or "")

    implicit_tls: bool = False
    caps_before: ImapCaps | None = None
    starttls_offered: bool = False
    starttls_error: str | None = None
    tls: TlsSession | None = None
    caps_after: ImapCaps | None = None

    def tls_offered(self) -> bool:
        """STARTTLS was in the capability list."""
        return self.starttls_offered

    def tls_failure(self) -> str | None:
        """Why STARTTLS or its handshake failed."""
        return self.starttls_error

    def tls_session(self) -> TlsSession | None:
        """The session of the implicit TLS or STARTTLS handshake."""
        return self.tls

    def capabilities_before(self) -> tuple[str, ...]:
        """The capability list before TLS."""
        return self.caps_before.capabilities if self.caps_before is not None else ()

    def auth_before_tls(self) -> tuple[str, ...]:
        """Login methods offered in plain text: ``LOGIN`` unless LOGINDISABLED, and AUTH=."""
        if self.implicit_tls or self.caps_before is None:
            return ()
        login = () if self.caps_before.logindisabled else ("LOGIN",)
        return login + self.caps_before.auth

    def auth_after_tls(self) -> tuple[str, ...]:
        """Login methods offered once encrypted."""
        caps = self.caps_before if self.implicit_tls else self.caps_after
        if caps is None:
            return ()
        return (() if caps.logindisabled else ("LOGIN",)) + caps.auth


class _Tags:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"a{self.n}"


async def command(conn: Conn, tags: _Tags, text: str) -> tuple[bool, ImapCaps | None]:
    """Send a tagged command and read to its tagged reply."""
    tag = tags.next()
    await conn.send(f"{tag} {text}")
    lines = await conn.read_until(lambda line: line.startswith(tag + " "))
    return parse_tagged(tag, lines)


async def greet(conn: Conn) -> ImapCaps | None:
    """Read the greeting."""
    return parse_greeting(await conn.readline())


class ImapProbe(SessionProbe[ImapObservation], StartTls, NtlmAuth):
    """The IMAP probe: one connection."""

    kind = ProbeKind.imap
    observation = ImapObservation
    speaks = (
        Speaks(
            AppProtocol.imap,
            (143,),
            twin=Twin(AppProtocol.imaps, (993,)),
            client_path="client_access.imap4",
        ),
    )

    async def session(self, conn: Conn, endpoint: Endpoint) -> ImapObservation:
        """Greeting, CAPABILITY, STARTTLS, CAPABILITY, LOGOUT."""
        implicit = endpoint.implicit_tls
        tags = _Tags()
        greeting_line = await conn.readline()
        parse_greeting(greeting_line)
        _, before = await command(conn, tags, "CAPABILITY")
        if before is None:
            raise ProtocolError("CAPABILITY returned no capability list")
        obs = ImapObservation(
            greeting=greeting_line,
            implicit_tls=implicit,
            caps_before=before,
            starttls_offered=before.starttls,
            tls=session_of(conn, endpoint),
        )
        if not implicit and before.starttls:
            ok, _ = await command(conn, tags, "STARTTLS")
            if not ok:
                return obs.model_copy(update={"starttls_error": "STARTTLS refused"})
            if (error := await upgrade(conn, endpoint)) is not None:
                return obs.model_copy(update={"starttls_error": error})
            _, after = await command(conn, tags, "CAPABILITY")
            obs = obs.model_copy(update={"tls": session_of(conn, endpoint), "caps_after": after})
        with contextlib.suppress(OSError, TimeoutError, ProtocolError):
            await command(conn, tags, "LOGOUT")
        return obs

    async def starttls(self, conn: Conn) -> None:
        """Greeting, STARTTLS: the point where the TLS handshake starts."""
        await greet(conn)
        ok, _ = await command(conn, _Tags(), "STARTTLS")
        if not ok:
            raise ProtocolError("STARTTLS refused")

    async def ready_for_auth(self, conn: Conn, endpoint: Endpoint, use_starttls: bool) -> None:
        """Greeting and (when asked) STARTTLS: the state where AUTHENTICATE may be sent."""
        await greet(conn)
        if use_starttls:
            ok, _ = await command(conn, _Tags(), "STARTTLS")
            if ok:
                await conn.start_tls(tls_context(), sni_for(endpoint))

    async def ntlm_exchange(self, conn: Conn, negotiate_b64: str) -> str:
        """AUTHENTICATE NTLM, the NEGOTIATE message, read the challenge, cancel with ``*``."""
        return await continuation_ntlm(conn, "n1 AUTHENTICATE NTLM", negotiate_b64)

    def summary(self, obs: ImapObservation) -> str:
        """The greeting."""
        return obs.greeting or ""

    def facts(self, obs: ImapObservation) -> Facts:
        """STARTTLS and the logins offered before TLS."""
        return {
            "imap.starttls": obs.starttls_offered,
            "imap.plain_before_tls": list(obs.auth_before_tls()),
        }
