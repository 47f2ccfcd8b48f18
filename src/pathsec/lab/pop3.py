"""POP3 (110 with STLS, 995 implicit TLS) with Exchange 2007's banner and CAPA logic.

Hand-written (see :mod:`pathsec.lab.lines`). CAPA follows the decompiled
``Pop3RequestCapa`` of fingerprints §3; every login is refused: the lab holds no mailboxes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii

from pathsec.lab.common import Unit, is_ntlm_negotiate, ntlm_challenge
from pathsec.lab.lines import LineSession, serve
from pathsec.lab.profiles import Service

LOGON_FAILURE = "-ERR Logon failure: unknown user name or bad password."
BAD_STATE = "-ERR Command is not valid in this state."


def banner(build: str) -> str:
    """The greeting: 2007 RTM words it differently from SP1 and later (§3)."""
    if build.startswith("8.0."):
        return "+OK Microsoft Exchange Server 2007 POP3 service ready"
    return "+OK The Microsoft Exchange POP3 service is ready."


def capa_lines(login_type: str, tls: bool) -> list[str]:
    """CAPA reply lines for a LoginType (``secure``/``plain``) and the TLS state."""
    lines = ["+OK", "TOP", "UIDL"]
    if tls or login_type == "plain":
        lines += ["SASL NTLM GSSAPI PLAIN", "USER"]
    if not tls:
        lines.append("STLS")
    return [*lines, "."]


def _plain_allowed(s: LineSession) -> bool:
    return s.tls or s.unit.profile.mail_access.login_type == "plain"


async def _auth_ntlm(s: LineSession, initial: str | None) -> None:
    if initial is None:
        await s.send("+ ")
        initial = await s.readline()
        if initial is None:
            return
    try:
        token = base64.b64decode(initial, validate=True)
    except (binascii.Error, ValueError):
        await s.send("-ERR Invalid base64 data.")
        return
    if not is_ntlm_negotiate(token):
        await s.send(LOGON_FAILURE)
        return
    await s.send("+ " + base64.b64encode(ntlm_challenge(s.unit.identity)).decode("ascii"))
    if await s.readline() is not None:
        await s.send(LOGON_FAILURE)


async def session(s: LineSession) -> None:
    """Run one POP3 session in the AUTHORIZATION state until QUIT or EOF."""
    login_type = s.unit.profile.mail_access.login_type
    await s.send(banner(s.unit.identity.exchange_build))
    while (line := await s.readline()) is not None:
        verb, _, arg = line.partition(" ")
        verb = verb.upper()
        if verb == "CAPA":
            await s.send(*capa_lines(login_type, s.tls))
        elif verb == "STLS" and not s.tls:
            await s.send("+OK Begin TLS negotiation.")
            if not await s.start_tls():
                return
        elif verb == "NOOP":
            await s.send("+OK")
        elif verb == "QUIT":
            await s.send("+OK Microsoft Exchange Server 2007 POP3 server signing off.")
            return
        elif verb in ("USER", "PASS"):
            if not _plain_allowed(s):
                await s.send(BAD_STATE)
            elif verb == "USER":
                await s.send("+OK")
            else:
                await s.send(LOGON_FAILURE)
        elif verb == "AUTH":
            mech, _, initial = arg.partition(" ")
            mech = mech.upper()
            if mech == "NTLM":
                await _auth_ntlm(s, initial or None)
            elif mech in ("PLAIN", "GSSAPI") and (mech != "PLAIN" or _plain_allowed(s)):
                if not initial:
                    await s.send("+ ")
                    if await s.readline() is None:
                        return
                await s.send(LOGON_FAILURE)
            elif mech == "PLAIN":
                await s.send(BAD_STATE)
            else:
                await s.send("-ERR Unrecognized authentication type.")
        else:
            await s.send("-ERR Protocol error.")


async def start(unit: Unit) -> asyncio.Server:
    """Listen for POP3 (``pop3``: STLS; ``pop3s``: implicit TLS)."""
    return await serve(unit, unit.service is Service.pop3s, session)
