"""SMTP receive connectors (Hub Default, Hub Client, Edge) on aiosmtpd.

aiosmtpd does the protocol: command parsing, STARTTLS, AUTH LOGIN, limits. The handler's
hooks give Exchange's EHLO list and status texts; the subclass adds only what aiosmtpd
cannot be told: the banner date per connection, AUTH offered per TLS state, NTLM/GSSAPI
mechanisms, and the handful of reply texts aiosmtpd hard-codes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from pathsec.lab.common import Identity, Unit, is_ntlm_negotiate, ntlm_challenge, rfc2822ish
from pathsec.lab.profiles import Service, SmtpConnector

AUTH_FAILED = "535 5.7.3 Authentication unsuccessful"

# aiosmtpd hard-codes these texts; Exchange words them differently (fingerprints §1).
_REWRITE = {
    "220 Ready to start TLS": "220 2.0.0 SMTP server ready",
    "502 EXPN not implemented": "502 5.3.3 Command not implemented",
    "503 Error: send HELO first": "503 5.5.2 Send hello first",
    "503 Error: send EHLO first": "503 5.5.2 Send hello first",
    "504 5.5.4 Unrecognized authentication type": "504 5.7.4 Unrecognized authentication type",
    "503 Error: need MAIL command": "503 5.5.2 Need mail command",
    "503 Error: need RCPT command": "503 5.5.2 Need rcpt command",
}
_REWRITE_PREFIX = {
    "500 Error: command": "500 5.3.3 Unrecognized command",
    "500 Error: bad syntax": "500 5.3.3 Unrecognized command",
}


def ehlo_lines(ident: Identity, conn: SmtpConnector, peer: str, tls: bool) -> list[str]:
    """Exchange 2007's EHLO reply (without ``250-``/``250 `` prefixes), keyword order of §1."""
    lines = [f"{ident.fqdn} Hello [{peer}]"]
    lines.append("SIZE" if conn.size is None else f"SIZE {conn.size}")
    lines += ["PIPELINING", "DSN", "ENHANCEDSTATUSCODES"]
    if not tls:
        lines.append("STARTTLS")
        if conn.anonymous_tls:
            lines.append("X-ANONYMOUSTLS")
    auth = conn.auth_after_tls if tls else conn.auth_before_tls
    if auth:
        lines.append("AUTH " + " ".join(auth))
    if conn.exps:
        lines.append("X-EXPS " + " ".join(conn.exps))
    lines += ["8BITMIME", "BINARYMIME", "CHUNKING"]
    if conn.xexch50:
        lines.append("XEXCH50")
    if conn.xrdst:
        lines.append("XRDST")
    return lines


def _with_codes(lines: list[str]) -> list[str]:
    return [f"250-{x}" for x in lines[:-1]] + [f"250 {lines[-1]}"]


class ExchangeHandler:
    """aiosmtpd handler hooks with Exchange's replies; the lab accepts no mail."""

    def __init__(
        self, ident: Identity, conn: SmtpConnector, conns: set[asyncio.BaseTransport]
    ) -> None:
        self.ident = ident
        self.conn = conn
        self.conns = conns

    async def handle_EHLO(
        self,
        server: ExchangeSMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """Replace aiosmtpd's keyword list with the connector's."""
        session.host_name = hostname
        return _with_codes(ehlo_lines(self.ident, self.conn, server.peer_ip, server.tls_active))

    async def handle_HELO(
        self, server: ExchangeSMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        """``250 <fqdn> Hello [<ip>]``."""
        session.host_name = hostname
        return f"250 {self.ident.fqdn} Hello [{server.peer_ip}]"

    async def handle_MAIL(
        self,
        server: ExchangeSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        """Sender OK, or 530 on a connector that requires authentication."""
        if self.conn.require_auth and not session.authenticated:
            return "530 5.7.1 Client was not authenticated"
        envelope.mail_from = address
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(
        self,
        server: ExchangeSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        """The lab holds no mailboxes: every recipient is unknown."""
        return "550 5.1.1 User unknown"

    async def handle_NOOP(
        self, server: ExchangeSMTP, session: Session, envelope: Envelope, arg: str
    ) -> str:
        """Exchange's NOOP reply."""
        return "250 2.0.0 OK"

    async def handle_RSET(self, server: ExchangeSMTP, session: Session, envelope: Envelope) -> str:
        """Exchange's RSET reply."""
        return "250 2.0.0 Resetting"

    async def handle_VRFY(
        self, server: ExchangeSMTP, session: Session, envelope: Envelope, address: str
    ) -> str:
        """Exchange's VRFY reply (§1, other replies)."""
        return "252 2.1.5 Cannot VRFY user"

    async def handle_QUIT(self, server: ExchangeSMTP, session: Session, envelope: Envelope) -> str:
        """Exchange's QUIT reply."""
        return "221 2.0.0 Service closing transmission channel"


def _always_fail(*_: Any) -> AuthResult:
    return AuthResult(success=False, handled=False, message=AUTH_FAILED)


class ExchangeSMTP(SMTP):
    """aiosmtpd's SMTP with Exchange's banner, per-TLS-state AUTH and NTLM/GSSAPI."""

    # Exchange prompts AUTH LOGIN with "Username:"/"Password:" (334 VXNlcm5hbWU6).
    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"

    def __init__(self, handler: ExchangeHandler, tls: Any, loop: asyncio.AbstractEventLoop):
        # Exchange dates its banner per connection; aiosmtpd takes a fixed ident string.
        super().__init__(
            handler,
            hostname=handler.ident.fqdn,
            ident=f"Microsoft ESMTP MAIL Service ready at {rfc2822ish()}",
            tls_context=tls,
            data_size_limit=handler.conn.size or 10485760,
            auth_require_tls=False,  # per-mechanism TLS rule is in smtp_AUTH below
            auth_exclude_mechanism=["PLAIN"],
            authenticator=_always_fail,
            loop=loop,
        )
        self.ex = handler

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Track the raw connection so that stopping the lab can close it."""
        if self._original_transport is None:
            self.ex.conns.add(transport)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        """Forget the connection."""
        self.ex.conns.discard(self._original_transport or self.transport)
        super().connection_lost(error)

    @property
    def tls_active(self) -> bool:
        """Whether STARTTLS has completed on this connection."""
        return self._tls_protocol is not None

    @property
    def peer_ip(self) -> str:
        """The client's address as Exchange shows it in ``Hello [ip]``."""
        peer = self.session.peer if self.session else None
        return str(peer[0]) if isinstance(peer, tuple) else "127.0.0.1"

    async def push(self, status: Any) -> None:
        """Send a reply, reworded where aiosmtpd hard-codes a text Exchange words otherwise."""
        text = status.decode("ascii", "replace") if isinstance(status, bytes) else status
        text = _REWRITE.get(text, text)
        for prefix, repl in _REWRITE_PREFIX.items():
            if text.startswith(prefix):
                text = repl
        await super().push(text)

    async def smtp_AUTH(self, arg: str) -> None:
        """Refuse mechanisms the connector does not offer in the current TLS state."""
        offered = self.ex.conn.auth_after_tls if self.tls_active else self.ex.conn.auth_before_tls
        mech = arg.split()[0].upper() if arg and arg.split() else ""
        if self.session and self.session.host_name and mech and mech not in offered:
            await self.push("504 5.7.4 Unrecognized authentication type")
            return
        await super().smtp_AUTH(arg)

    async def _client_token(self, args: list[str]) -> bytes | None:
        if len(args) > 1:
            try:
                return base64.b64decode(args[1], validate=True)
            except (binascii.Error, ValueError):
                await self.push("501 5.5.2 Cannot decode base64")
                return None
        got = await self.challenge_auth(b"", encode_to_b64=False)
        return got if isinstance(got, bytes) else None

    async def auth_NTLM(self, _: Any, args: list[str]) -> AuthResult:
        """NTLM: answer a NEGOTIATE with a CHALLENGE, then fail the AUTHENTICATE."""
        token = await self._client_token(args)
        if token is None:
            return AuthResult(success=False, handled=True)
        if not is_ntlm_negotiate(token):
            return AuthResult(success=False, handled=False, message=AUTH_FAILED)
        await self.challenge_auth(ntlm_challenge(self.ex.ident))
        return AuthResult(success=False, handled=False, message=AUTH_FAILED)

    async def auth_GSSAPI(self, _: Any, args: list[str]) -> AuthResult:
        """GSSAPI: read the client's token; the lab has no Kerberos keys, so fail."""
        token = await self._client_token(args)
        if token is None:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message=AUTH_FAILED)


CONNECTORS = {
    Service.smtp_default: "smtp_default",
    Service.smtp_client: "smtp_client",
    Service.smtp_edge: "smtp_edge",
}


async def start(unit: Unit) -> asyncio.Server:
    """Listen with one connector of ``unit.server``."""
    conn: SmtpConnector = getattr(unit.profile, CONNECTORS[unit.service])
    handler = ExchangeHandler(unit.identity, conn, unit.conns)
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: ExchangeSMTP(handler, unit.tls, loop), unit.host, unit.port
    )
