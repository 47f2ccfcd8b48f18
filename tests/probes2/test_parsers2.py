"""Parsers, encoders and limits of the part-2 probes, against byte-level peers on loopback."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

from pathsec.audit.coverage import protocol_for
from pathsec.plan.models import EncryptionExpectation, Flow
from pathsec.probes.dns import queries_for
from pathsec.probes.http import HttpProbe, vdirs_for
from pathsec.probes.interface import AppProtocol, ProbeSettings, ProtocolError
from pathsec.probes.kerberos import as_req, parse_reply
from pathsec.probes.registry import endpoint
from pathsec.probes.rpc import tcp_ports
from pathsec.probes.udp import UdpProbe, cldap_rootdse_request, looks_like_ldap
from probes2.helpers import ids, run, target


def test_kerberos_request_and_reply_parsing() -> None:
    req = as_req("LAB.TEST", "nobody")
    assert req[0] == 0x6A  # [APPLICATION 10] AS-REQ
    assert b"LAB.TEST" in req and b"nobody" in req and b"krbtgt" in req
    with pytest.raises(ProtocolError, match="not a Kerberos message"):
        parse_reply(b"HTTP/1.1 400 Bad Request\r\n")
    with pytest.raises(ProtocolError, match="malformed KRB-ERROR"):
        parse_reply(b"\x7e\x03\x02\x01\x05")
    with pytest.raises(ProtocolError):
        parse_reply(b"")


def test_cldap_request_is_ber() -> None:
    req = cldap_rootdse_request(7)
    assert req[0] == 0x30 and req[1] == len(req) - 2
    assert looks_like_ldap(req)
    assert b"objectClass" in req and b"dnsHostName" in req
    assert not looks_like_ldap(b"pong")


def test_small_helpers() -> None:
    assert tcp_ports(
        ["ncacn_ip_tcp:10.0.0.1[49668]", "ncacn_np:\\\\DC[\\pipe\\lsass]", "ncacn_ip_tcp:x[135]"]
    ) == (135, 49668)
    assert queries_for(None) == ((".", "SOA"),)
    assert queries_for("lab.test.")[1] == ("_ldap._tcp.lab.test", "SRV")
    assert vdirs_for("client_access.webdav") == ("/Exchange", "/Public")
    assert len(vdirs_for(None)) == 9

    def flow(proto: str | None, port: int) -> Flow:
        return Flow(
            id=f"p.x:a>b:{proto or 'any'}/{port}",
            path_id="p.x",
            source="a",
            source_zone="z",
            destination="b",
            destination_zone="z",
            protocol=proto,
            port=port,
            default_auth=(),
            supported_auth=(),
            encryption=EncryptionExpectation(supported=False, by_default=False),
        )

    assert protocol_for(flow("udp", 88)) is AppProtocol.kerberos_udp
    assert protocol_for(flow(None, 587)) is AppProtocol.smtp
    assert protocol_for(flow("tcp", 6001)) is AppProtocol.tcp
    assert protocol_for(flow("udp", 3343)) is AppProtocol.udp


def test_udp_states_on_loopback() -> None:
    """Closed (ICMP unreachable), open (a reply) and open|filtered (silence)."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as echo,
    ):
        quiet.bind(("127.0.0.1", 0))
        echo.bind(("127.0.0.1", 0))
        stop = threading.Event()

        def answer() -> None:
            echo.settimeout(0.1)
            while not stop.is_set():
                try:
                    _data, addr = echo.recvfrom(2048)
                except TimeoutError:
                    continue
                echo.sendto(b"\x30\x05\x02\x01\x01\x65\x00", addr)

        th = threading.Thread(target=answer, daemon=True)
        th.start()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        try:
            res = run(
                target("127.0.0.1", closed, "udp"),
                target("127.0.0.1", echo.getsockname()[1], "cldap"),
                target("127.0.0.1", quiet.getsockname()[1], "udp"),
                timeout=0.5,
            )
        finally:
            stop.set()
            th.join(timeout=2)
    states = [e.observations.udp.state for e in res.endpoints]
    assert states == ["closed", "open", "open|filtered"]
    assert res.endpoints[1].observations.udp.protocol_reply is True
    assert ids(res, closed) == {"PS-TCP-001"}


@pytest.fixture
def endless_http() -> Iterator[int]:
    """An HTTP server that sends headers and then an endless body."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nServer: hostile/1.0\r\n\r\n")
                    for _ in range(2000):  # bounded: 2000 x 4 KiB
                        conn.sendall(b"x" * 4096)
                except OSError:
                    pass

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        th.join(timeout=5)
        srv.close()


def test_http_body_is_capped(endless_http: int) -> None:
    probe = HttpProbe()
    ep = endpoint("127.0.0.1", endless_http, AppProtocol.http, path_id="client_access.owa")
    settings = ProbeSettings(timeout=3, max_reply_bytes=32 * 1024)

    async def go():
        (job,) = probe.plan(ep, settings, {})
        return probe.fold(ep, [await probe.run(job, settings)])

    obs = asyncio.run(go())
    (r,) = obs.responses
    assert r.status == 200 and r.body_truncated
    assert 32 * 1024 <= r.body_bytes < 32 * 1024 + 70000
    assert r.headers["server"] == "hostile/1.0"


def test_udp_probe_plans_one_datagram() -> None:
    ep = endpoint("127.0.0.1", 3343, AppProtocol.udp)
    assert len(UdpProbe().plan(ep, ProbeSettings(), {})) == 1
