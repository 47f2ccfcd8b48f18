"""SMTP probe (25, 587, 465): banner, EHLO before and after STARTTLS, AUTH, Exchange markers.

It sends only EHLO, STARTTLS and QUIT; never MAIL, RCPT or credentials.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass

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
from pathsec.probes.session import SessionProbe, session_of, upgrade

#: EHLO keywords that mark Microsoft Exchange (see exchange-wire-fingerprints.md).
EXCHANGE_MARKERS = (
    "X-ANONYMOUSTLS",
    "X-EXPS",
    "XEXCH50",
    "X-EXCHANGEAUTH",
    "XSHADOW",
    "XSHADOWREQUEST",
    "XRDST",
)


def _is_code(text: str) -> bool:
    """A reply code: 2xx to 5xx (three ASCII digits)."""
    return len(text) == 3 and text[0] in "2345" and text[1] in _DIGITS and text[2] in _DIGITS


_DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class SmtpReply:
    """A (possibly multi-line) SMTP reply."""

    code: int
    lines: tuple[str, ...]


def parse_reply(lines: Sequence[str]) -> SmtpReply:
    """Parse the lines of one reply; raise :class:`ProtocolError` on anything else."""
    if not lines:
        raise ProtocolError("empty SMTP reply")
    code: str | None = None
    texts: list[str] = []
    last_index = len(lines) - 1
    for i, line in enumerate(lines):
        sep = line[3:4]
        if sep not in (" ", "-") or not _is_code(line[:3]):
            raise ProtocolError(f"not an SMTP reply line: {line[:80]!r}")
        if code is not None and line[:3] != code:
            raise ProtocolError("reply code changes inside a multi-line reply")
        code = line[:3]
        if (sep != "-") != (i == last_index):
            raise ProtocolError("multi-line reply ends early or never")
        texts.append(line[4:])
    assert code is not None
    return SmtpReply(int(code), tuple(texts))


def is_last_reply_line(line: str) -> bool:
    """True for the final line of a reply (``250 ...``); also ends on garbage for the parser."""
    return len(line) < 4 or line[3] != "-"


class EhloInfo(BaseModel):
    """What one EHLO reply advertises."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    greeting: str
    keywords: tuple[str, ...]
    auth: tuple[str, ...]
    starttls: bool
    size: int | None
    size_advertised: bool
    exchange_markers: tuple[str, ...]
    x_exps: tuple[str, ...]


def parse_ehlo(reply: SmtpReply) -> EhloInfo:
    """Interpret a 250 EHLO reply; raise :class:`ProtocolError` when it is not one."""
    if reply.code != 250:
        raise ProtocolError(f"EHLO refused: {reply.code} {reply.lines[0][:80]}")
    keywords: list[str] = []
    auth: list[str] = []
    x_exps: list[str] = []
    size: int | None = None
    size_seen = False
    for text in reply.lines[1:]:
        parts = text.split()
        if not parts:
            continue
        kw = sys.intern(parts[0].upper())  # shared across endpoints, like the lines
        keywords.append(kw)
        if kw == "AUTH" or kw.startswith("AUTH="):
            extra = kw[5:].split(",") if kw.startswith("AUTH=") else []
            for mech in [*extra, *parts[1:]]:
                m = sys.intern(mech.upper())
                if m and m not in auth:
                    auth.append(m)
        elif kw == "X-EXPS":
            x_exps.extend(p.upper() for p in parts[1:])
        elif kw == "SIZE":
            size_seen = True
            if len(parts) > 1 and parts[1].isdigit() and len(parts[1]) < 19:
                size = int(parts[1])
    markers = tuple(k for k in EXCHANGE_MARKERS if k in keywords)
    if size_seen and size is None:
        markers = (*markers, "SIZE (no value)")
    return EhloInfo(
        greeting=reply.lines[0],
        keywords=tuple(keywords),
        auth=tuple(auth),
        starttls="STARTTLS" in keywords,
        size=size,
        size_advertised=size_seen,
        exchange_markers=markers,
        x_exps=tuple(x_exps),
    )


class SmtpObservation(StartTlsObservation):
    """What the SMTP endpoint offered before and after TLS."""

    banner: str | None = None
    implicit_tls: bool = False
    ehlo_before: EhloInfo | None = None
    starttls_offered: bool = False
    starttls_reply: str | None = None
    starttls_error: str | None = None
    tls: TlsSession | None = None
    ehlo_after: EhloInfo | None = None
    exchange_markers: tuple[str, ...] = ()

    def identifies_microsoft(self) -> bool:
        """Exchange's EHLO keywords, or its banner (``Microsoft ESMTP MAIL Service``)."""
        return bool(self.exchange_markers) or "Microsoft ESMTP MAIL Service" in (self.banner or "")

    def tls_offered(self) -> bool:
        """STARTTLS was in the EHLO reply."""
        return self.starttls_offered

    def tls_failure(self) -> str | None:
        """Why the STARTTLS handshake failed."""
        return self.starttls_error

    def tls_session(self) -> TlsSession | None:
        """The session of the implicit TLS or STARTTLS handshake."""
        return self.tls

    def capabilities_before(self) -> tuple[str, ...]:
        """The EHLO keywords before TLS."""
        return self.ehlo_before.keywords if self.ehlo_before is not None else ()

    def auth_before_tls(self) -> tuple[str, ...]:
        """AUTH mechanisms offered in plain text (empty with implicit TLS)."""
        if self.implicit_tls or self.ehlo_before is None:
            return ()
        return self.ehlo_before.auth

    def auth_after_tls(self) -> tuple[str, ...]:
        """AUTH mechanisms offered once encrypted."""
        if self.implicit_tls:
            return self.ehlo_before.auth if self.ehlo_before else ()
        return self.ehlo_after.auth if self.ehlo_after else ()


async def read_reply(conn: Conn) -> SmtpReply:
    """Read one reply, bounded in lines and bytes."""
    return parse_reply(await conn.read_until(is_last_reply_line))


async def ehlo(conn: Conn) -> EhloInfo:
    """Send EHLO and parse what comes back."""
    await conn.send(f"EHLO {conn.settings.ehlo_name}")
    return parse_ehlo(await read_reply(conn))


async def greet(conn: Conn) -> SmtpReply:
    """Read the banner; a non-220 banner is a protocol error."""
    banner = await read_reply(conn)
    if banner.code != 220:
        raise ProtocolError(f"server refuses service: {banner.code} {banner.lines[0][:80]}")
    return banner


class SmtpProbe(SessionProbe[SmtpObservation], StartTls, NtlmAuth):
    """The SMTP probe: one connection."""

    kind = ProbeKind.smtp
    observation = SmtpObservation
    speaks = (
        Speaks(
            AppProtocol.smtp,
            (25, 587),
            twin=Twin(AppProtocol.smtps, (465,)),
            client_path="transport.smtp_client_to_hub",
        ),
    )

    async def session(self, conn: Conn, endpoint: Endpoint) -> SmtpObservation:
        """Banner, EHLO, STARTTLS, EHLO, QUIT."""
        implicit = endpoint.implicit_tls
        banner = await greet(conn)
        before = await ehlo(conn)
        seen: dict[str, object] = {
            "banner": " ".join(banner.lines),
            "implicit_tls": implicit,
            "ehlo_before": before,
            "starttls_offered": before.starttls,
            "tls": session_of(conn, endpoint),
        }
        after: EhloInfo | None = None
        if not implicit and before.starttls:
            await conn.send("STARTTLS")
            reply = await read_reply(conn)
            seen["starttls_reply"] = f"{reply.code} {reply.lines[0]}"
            if reply.code == 220:
                error = await upgrade(conn, endpoint)
                if error is not None:
                    seen["starttls_error"] = error
                    return SmtpObservation.model_validate(seen)
                after = await ehlo(conn)
                seen["tls"] = session_of(conn, endpoint)
                seen["ehlo_after"] = after
        await conn.send("QUIT")
        with contextlib.suppress(OSError, TimeoutError, ProtocolError):
            await read_reply(conn)
        seen["exchange_markers"] = tuple(
            dict.fromkeys([*before.exchange_markers, *(after.exchange_markers if after else ())])
        )
        return SmtpObservation.model_validate(seen)

    async def starttls(self, conn: Conn) -> None:
        """Banner, EHLO, STARTTLS: the point where the TLS handshake starts.

        The EHLO reply is only checked for its final code: :meth:`session` interpreted it.
        """
        await greet(conn)
        await conn.send(f"EHLO {conn.settings.ehlo_name}")
        last = (await conn.read_until(is_last_reply_line))[-1]
        if not last.startswith("250"):
            raise ProtocolError(f"EHLO refused: {last[:80]}")
        await conn.send("STARTTLS")
        reply = await read_reply(conn)
        if reply.code != 220:
            raise ProtocolError(f"STARTTLS refused: {reply.code}")

    async def ready_for_auth(self, conn: Conn, endpoint: Endpoint, use_starttls: bool) -> None:
        """Banner, EHLO and (when offered) STARTTLS + EHLO: the state where AUTH may be sent."""
        await greet(conn)
        info = await ehlo(conn)
        if use_starttls and info.starttls:
            await conn.send("STARTTLS")
            if (await read_reply(conn)).code == 220:
                await conn.start_tls(tls_context(), sni_for(endpoint))
                await ehlo(conn)

    async def ntlm_exchange(self, conn: Conn, negotiate_b64: str) -> str:
        """Send AUTH NTLM and the NEGOTIATE message; return the base64 challenge, then cancel."""
        await conn.send("AUTH NTLM")
        reply = await read_reply(conn)
        if reply.code != 334:
            raise ProtocolError(f"AUTH NTLM refused: {reply.code}")
        await conn.send(negotiate_b64, shown=f"{negotiate_b64}  (NTLMSSP NEGOTIATE)")
        reply = await read_reply(conn)
        if reply.code != 334:
            raise ProtocolError(f"no NTLM challenge: {reply.code}")
        await conn.send("*")
        await read_reply(conn)
        return reply.lines[0].strip()

    def summary(self, obs: SmtpObservation) -> str:
        """The banner."""
        return obs.banner or ""

    def facts(self, obs: SmtpObservation) -> Facts:
        """STARTTLS and the AUTH mechanisms before and after TLS."""
        return {
            "smtp.starttls": obs.starttls_offered,
            "smtp.auth_before_tls": list(obs.auth_before_tls()),
            "smtp.auth_after_tls": list(obs.auth_after_tls()),
        }
