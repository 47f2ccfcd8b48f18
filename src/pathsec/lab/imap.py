"""IMAP4 (143 with STARTTLS, 993 implicit TLS) with Exchange 2007's banner and capabilities.

Hand-written (see :mod:`pathsec.lab.lines`). CAPABILITY follows the SecureLogin transcript
of fingerprints §2 (cweiske.de); every login is refused: the lab holds no mailboxes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii

from pathsec.lab.common import Unit, is_ntlm_negotiate, ntlm_challenge
from pathsec.lab.lines import LineSession, serve
from pathsec.lab.profiles import Service


def banner(build: str) -> str:
    """The greeting: 2007 RTM words it differently from SP1 and later (§2)."""
    if build.startswith("8.0."):
        return "* OK Microsoft Exchange Server 2007 IMAP4 service ready"
    return "* OK The Microsoft Exchange IMAP4 service is ready."


def capability(login_type: str, tls: bool) -> str:
    """The untagged CAPABILITY line for a LoginType and the TLS state."""
    caps = ["IMAP4", "IMAP4rev1", "AUTH=NTLM", "AUTH=GSSAPI"]
    if tls or login_type == "plain":
        caps.append("AUTH=PLAIN")
    else:
        caps.append("LOGINDISABLED")
    if not tls:
        caps.append("STARTTLS")
    caps += ["IDLE", "NAMESPACE", "LITERAL+"]
    return "* CAPABILITY " + " ".join(caps)


async def _authenticate(s: LineSession, tag: str, mech: str, plain_ok: bool) -> bool:
    """Run AUTHENTICATE; False when the client went away."""
    failed = f"{tag} NO AUTHENTICATE failed."
    if mech not in ("NTLM", "GSSAPI", "PLAIN"):
        await s.send(f"{tag} NO The specified authentication mechanism is not supported.")
        return True
    if mech == "PLAIN" and not plain_ok:
        await s.send(f"{tag} BAD Command received in Invalid state.")
        return True
    await s.send("+ ")
    first = await s.readline()
    if first is None:
        return False
    if mech == "NTLM":
        try:
            token = base64.b64decode(first, validate=True)
        except (binascii.Error, ValueError):
            token = b""
        if is_ntlm_negotiate(token):
            challenge = ntlm_challenge(s.unit.identity)
            await s.send("+ " + base64.b64encode(challenge).decode("ascii"))
            if await s.readline() is None:
                return False
    await s.send(failed)
    return True


async def session(s: LineSession) -> None:
    """Run one IMAP4 session in the not-authenticated state until LOGOUT or EOF."""
    login_type = s.unit.profile.mail_access.login_type
    await s.send(banner(s.unit.identity.exchange_build))
    while (line := await s.readline()) is not None:
        parts = line.split(" ", 2)
        if len(parts) < 2 or not parts[0]:
            await s.send("* BAD Command Error. 10")
            continue
        tag, cmd = parts[0], parts[1].upper()
        arg = parts[2] if len(parts) > 2 else ""
        plain_ok = s.tls or login_type == "plain"
        if cmd == "CAPABILITY":
            await s.send(capability(login_type, s.tls), f"{tag} OK CAPABILITY completed.")
        elif cmd == "STARTTLS" and not s.tls:
            await s.send(f"{tag} OK Begin TLS negotiation now.")
            if not await s.start_tls():
                return
        elif cmd == "NOOP":
            await s.send(f"{tag} OK NOOP completed.")
        elif cmd == "LOGOUT":
            await s.send(
                "* BYE Microsoft Exchange Server 2007 IMAP4 server signing off.",
                f"{tag} OK LOGOUT completed.",
            )
            return
        elif cmd == "LOGIN":
            if plain_ok:
                await s.send(f"{tag} NO LOGIN failed.")
            else:
                await s.send(f"{tag} BAD Command received in Invalid state.")
        elif cmd == "AUTHENTICATE":
            if not await _authenticate(s, tag, arg.split(" ")[0].upper(), plain_ok):
                return
        else:
            await s.send(f"{tag} BAD Command Error. 10")


async def start(unit: Unit) -> asyncio.Server:
    """Listen for IMAP4 (``imap``: STARTTLS; ``imaps``: implicit TLS)."""
    return await serve(unit, unit.service is Service.imaps, session)
