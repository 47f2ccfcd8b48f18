"""Scope safety: pathsec touches only what it was given, paces itself, and sends only verbs.

Neighbour listeners sit on other loopback addresses (same port) and must see no connection;
a rate-limited run is counted connection by connection on the server; and fully featured
scripted servers record every line pathsec sends.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest

from hostile.server import HostileServer, Peer, server_context, serving
from pathsec.cli.main import run

NET = f"127.77.{os.getpid() % 250 + 1}"


CHALLENGE = base64.b64encode(
    b"NTLMSSP\x00\x02\x00\x00\x00" + b"\x00" * 8 + b"\x05\x02\x89\xa2" + b"\x01" * 8 + b"\x00" * 16
)


async def smtp_full(p: Peer) -> None:
    """SMTP with STARTTLS and AUTH PLAIN LOGIN NTLM; records every line."""
    ctx = _CTX
    tls = False
    if not await p.send(b"220 full.example ESMTP\r\n"):
        return
    async for line, verb in p.commands(30):
        if verb == "EHLO":
            await p.send(
                b"250-full.example\r\n"
                + (b"" if tls else b"250-STARTTLS\r\n")
                + b"250 AUTH PLAIN LOGIN NTLM\r\n"
            )
        elif verb == "STARTTLS" and not tls:
            await p.send(b"220 go ahead\r\n")
            if not await p.start_tls(ctx):
                return
            tls = True
        elif line.upper() == "AUTH NTLM":
            await p.send(b"334 \r\n")
            if await p.line() is None:
                return
            await p.send(b"334 " + CHALLENGE + b"\r\n")
        elif verb == "QUIT":
            await p.send(b"221 bye\r\n")
            return
        else:
            await p.send(b"501 cancelled\r\n")


async def pop3_full(p: Peer) -> None:
    if not await p.send(b"+OK ready\r\n"):
        return
    async for line, verb in p.commands(30):
        if verb == "CAPA":
            await p.send(b"+OK\r\nUSER\r\nSASL PLAIN LOGIN NTLM\r\nSTLS\r\n.\r\n")
        elif line.upper() == "AUTH NTLM":
            await p.send(b"+ \r\n")
            if await p.line() is None:
                return
            await p.send(b"+ " + CHALLENGE + b"\r\n")
        elif verb == "STLS":
            await p.send(b"+OK go\r\n")
            if not await p.start_tls(_CTX):
                return
        elif verb == "QUIT":
            await p.send(b"+OK bye\r\n")
            return
        else:
            await p.send(b"-ERR no\r\n")


async def imap_full(p: Peer) -> None:
    if not await p.send(b"* OK ready\r\n"):
        return
    for _ in range(30):
        line = await p.line()
        if line is None:
            return
        tag, _, rest = line.partition(" ")
        verb = rest.split(" ", 1)[0].upper()
        if verb == "CAPABILITY":
            caps = b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN AUTH=NTLM\r\n"
            await p.send(caps + tag.encode() + b" OK done\r\n")
        elif rest.upper() == "AUTHENTICATE NTLM":
            await p.send(b"+ \r\n")
            if await p.line() is None:
                return
            await p.send(b"+ " + CHALLENGE + b"\r\n")
        elif verb == "STARTTLS":
            await p.send(tag.encode() + b" OK go\r\n")
            if not await p.start_tls(_CTX):
                return
        elif verb == "LOGOUT":
            await p.send(b"* BYE\r\n" + tag.encode() + b" OK bye\r\n")
            return
        else:
            await p.send(tag.encode() + b" BAD no\r\n")


with tempfile.TemporaryDirectory() as _tmp:
    _CTX = server_context(Path(_tmp))


def _neighbours(stack: ExitStack, port: int, hosts: list[str]) -> list[HostileServer]:
    return [stack.enter_context(serving(smtp_full, host=h, port=port)) for h in hosts]


def test_target_touches_only_the_given_address(capsys: pytest.CaptureFixture[str]) -> None:
    with ExitStack() as stack:
        srv = stack.enter_context(serving(smtp_full, host=f"{NET}.2"))
        others = _neighbours(stack, srv.port, ["127.0.0.1", f"{NET}.3", f"{NET}.1"])
        rc = run(["audit", "-t", f"{NET}.2:{srv.port}/smtp", "--timeout", "2", "-q"])
    assert rc in (0, 1)
    assert srv.connections >= 2  # tcp, smtp, tls versions
    assert [o.connections for o in others] == [0, 0, 0]
    assert {peer for _, peer in srv.accepted} == {"127.0.0.1"}  # the default source address


def test_source_address_is_used(capsys: pytest.CaptureFixture[str]) -> None:
    with serving(smtp_full, host=f"{NET}.2") as srv:
        rc = run(["audit", "-t", f"{NET}.2:{srv.port}/smtp", "--source-address", f"{NET}.9", "-q"])
    assert rc in (0, 1)
    assert {peer for _, peer in srv.accepted} == {f"{NET}.9"}


DEPLOYMENT = """
schema_version: 1
organization: {{name: Scope, forest: scope.example, domain: scope.example}}
sites:
  - name: HQ
zones:
  - name: internal
    kind: internal
    cidrs: [{net}.0/28]
  - name: clients
    kind: internet
    cidrs: [{net}.128/25]
servers:
  - name: DC1
    addresses: [{net}.10]
    site: HQ
    zone: internal
    roles: [domain_controller]
    windows: "2003"
  - name: EX1
    addresses: [{net}.2]
    site: HQ
    zone: internal
    roles: [hub_transport, client_access, mailbox]
    exchange: 2007-sp1
    windows: "2008"
    listen_ports: {{143: {port}}}
client_populations:
  - name: mailers
    kind: pop_imap_clients
    zone: clients
"""


def test_deployment_audit_touches_only_its_addresses(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    with ExitStack() as stack:
        srv = stack.enter_context(serving(imap_full, host=f"{NET}.2"))
        # Same port, addresses inside the file's zones but not servers of it.
        others = _neighbours(stack, srv.port, [f"{NET}.3", f"{NET}.11", f"{NET}.129", "127.0.0.1"])
        dep = tmp_path / "d.yaml"
        dep.write_text(DEPLOYMENT.format(net=NET, port=srv.port))
        rc = run(["audit", str(dep), "-q", "-f", "json", "--timeout", "1"])
    out = capsys.readouterr().out
    assert rc in (0, 1), out
    assert srv.connections >= 2, "the planned IMAP flow to EX1 was audited"
    assert [o.connections for o in others] == [0, 0, 0, 0]
    import json

    hosts = {e["host"] for e in json.loads(out)["endpoints"]}
    assert hosts <= {f"{NET}.2", f"{NET}.10"}


def test_max_rate_bounds_new_connections_per_second(capsys: pytest.CaptureFixture[str]) -> None:
    """30 endpoints x 1 connection (the smtp probe's, whose connect is also the tcp check)
    at --max-rate 10 take at least ~3 s."""

    async def plain(p: Peer) -> None:
        await p.send(b"220 plain\r\n")
        for _ in range(5):
            line = await p.line()
            if line is None or line.upper() == "QUIT":
                await p.send(b"221 bye\r\n")
                return
            await p.send(b"250 plain\r\n")

    with serving(plain) as srv:
        targets = [a for _ in range(30) for a in ("-t", f"127.0.0.1:{srv.port}/smtp")]
        rc = run(["audit", *targets, "--max-rate", "10", "--timeout", "2", "-q"])
    assert rc in (0, 1)
    times = sorted(t for t, _ in srv.accepted)
    assert len(times) == 30
    assert times[-1] - times[0] >= 2.5  # 29 gaps of 0.1 s, with slack for the clock
    # In any one-second window, at most 10 (+1 for the window's edge) connections started.
    assert max(sum(1 for u in times if t <= u < t + 1.0) for t in times) <= 11


ALLOWED = {
    "smtp": {"EHLO", "STARTTLS", "QUIT"},
    "pop3": {"CAPA", "STLS", "QUIT"},
    "imap": {"CAPABILITY", "STARTTLS", "LOGOUT"},
}
NTLM_EXTRA = {"AUTH", "AUTHENTICATE", "*"}
SERVERS: dict[str, Callable[[Peer], object]] = {
    "smtp": smtp_full,
    "pop3": pop3_full,
    "imap": imap_full,
}


def _verb(proto: str, line: str) -> str:
    words = line.split(" ")
    if proto == "imap" and len(words) > 1:
        return words[1].upper()
    return words[0].upper()


@pytest.mark.parametrize("proto", ["smtp", "pop3", "imap"])
@pytest.mark.parametrize("ntlm", [False, True], ids=["default", "ntlm-info"])
def test_only_protocol_verbs_are_sent(proto: str, ntlm: bool, capsys) -> None:  # type: ignore[no-untyped-def]
    with serving(SERVERS[proto]) as srv:  # type: ignore[arg-type]
        argv = ["audit", "-t", f"127.0.0.1:{srv.port}/{proto}", "--timeout", "2", "-q"]
        rc = run([*argv, "--ntlm-info"] if ntlm else argv)
    assert rc in (0, 1)
    assert srv.received, "the server was probed"
    verbs = [_verb(proto, line) for line in srv.received]
    allowed = ALLOWED[proto] | (NTLM_EXTRA if ntlm else set())
    unexpected = [
        line
        for line, verb in zip(srv.received, verbs, strict=True)
        if verb not in allowed and not (ntlm and line.startswith("TlRMTVNT"))  # NEGOTIATE
    ]
    assert unexpected == []
    assert not any(v in {"MAIL", "RCPT", "USER", "PASS", "LOGIN", "DATA"} for v in verbs)
    if ntlm:  # the NTLM exchange really ran: AUTH, NEGOTIATE, then "*" to cancel
        assert any(v in {"AUTH", "AUTHENTICATE"} for v in verbs) and "*" in verbs
    else:
        assert not any(v in NTLM_EXTRA for v in verbs)
