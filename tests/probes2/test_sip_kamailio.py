"""SIP probe against a real Kamailio on loopback: OPTIONS over TCP and over TLS."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pathsec.probes.sip import parse_reply
from probes2.helpers import ids, run, target
from servers.conftest import free_ports, make_cert, need, stop, wait_port

pytestmark = [pytest.mark.server, pytest.mark.root]

CFG = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
enable_tls=yes
auto_aliases=no
listen=tcp:127.0.0.1:{tcp}
listen=tls:127.0.0.1:{tls}
server_header="Server: kamailio-lab MSExchangeUM/8.1.240.5"
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tls.so"
loadmodule "sl.so"
modparam("tls", "config", "{d}/tls.cfg")
request_route {{
    if (method=="OPTIONS") {{ sl_send_reply("200", "OK"); exit; }}
    sl_send_reply("403", "Forbidden");
}}
"""
TLS = """[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = {key}
certificate = {cert}
"""


@dataclass(frozen=True)
class Kamailio:
    tcp: int
    tls: int


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    binary = need("kamailio")
    d = tmp_path_factory.mktemp("kamailio")
    cert = make_cert(d, "sip")
    ports = Kamailio(*free_ports(2))
    (d / "tls.cfg").write_text(TLS.format(key=cert.key, cert=cert.cert))
    (d / "kamailio.cfg").write_text(CFG.format(d=d, tcp=ports.tcp, tls=ports.tls))
    log = d / "kamailio.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-DD", "-E", "-f", str(d / "kamailio.cfg"), "-Y", str(d), "-m", "32"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_port(ports.tls, proc, log)
        wait_port(ports.tcp, proc, log)
        yield ports
    finally:
        stop(proc)


def test_options_over_tcp_and_tls(kamailio: Kamailio) -> None:
    res = run(
        target("127.0.0.1", kamailio.tcp, "sip", "unified_messaging.pbx"),
        target("127.0.0.1", kamailio.tls, "sips", "unified_messaging.pbx"),
        profile="hardened",
    )
    tcp, tls = res.endpoints
    for ep in (tcp, tls):
        sip = ep.observations.sip
        assert ep.status.value == "ok" and sip is not None
        assert sip.status_code == 200 and sip.status_line == "SIP/2.0 200 OK"
        assert sip.server == "kamailio-lab MSExchangeUM/8.1.240.5"
        assert sip.exchange_um
    assert tcp.observations.sip.tls is None and tcp.observations.tls is None
    assert tls.observations.sip.tls is not None
    assert tls.observations.sip.tls.certificate.subject_cn == "mail.lab.test"
    assert "TLSv1.2" in tls.observations.tls.accepted
    assert "TLSv1.0" not in tls.observations.tls.accepted
    assert "PS-SIP-001" in ids(res, kamailio.tcp)  # signalling in clear text
    assert "PS-SIP-001" not in ids(res, kamailio.tls)
    assert "PS-SIP-002" in ids(res, kamailio.tls)


def test_sip_reply_parser() -> None:
    obs = parse_reply(
        ["SIP/2.0 200 OK", "Allow: INVITE, ACK,OPTIONS", "k: timer", "User-Agent: UA/1"]
    )
    assert obs.allow == ("INVITE", "ACK", "OPTIONS") and obs.supported == ("timer",)
    assert obs.user_agent == "UA/1" and obs.server is None
    with pytest.raises(Exception, match="not a SIP response"):
        parse_reply(["HTTP/1.1 200 OK"])
