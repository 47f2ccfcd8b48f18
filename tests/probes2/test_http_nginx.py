"""HTTP probe against a real nginx on loopback: HTTPS, Basic, Negotiate/NTLM 401s, forms
redirect, HTTP->HTTPS redirect, version headers, and the NTLM challenge through NTLM and
SPNEGO-wrapped Negotiate (nginx serves a fixed CHALLENGE when the client sent NEGOTIATE)."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from spnego._context import GSSMech
from spnego._ntlm_raw import messages as m
from spnego._spnego import NegState, NegTokenResp

from pathsec.probes.http import parse_auth_schemes
from probes2.helpers import ids, run, target
from servers.conftest import free_port, free_ports, make_cert, need, stop, wait_port

pytestmark = [pytest.mark.server, pytest.mark.root]


def _challenge() -> bytes:
    info = m.TargetInfo()
    info[m.AvId.nb_domain_name] = "LAB"
    info[m.AvId.nb_computer_name] = "EXCAS01"
    info[m.AvId.dns_domain_name] = "lab.test"
    info[m.AvId.dns_computer_name] = "excas01.lab.test"
    msg = m.Challenge(
        flags=m.NegotiateFlags.unicode
        | m.NegotiateFlags.ntlm
        | m.NegotiateFlags.target_info
        | m.NegotiateFlags.version,
        server_challenge=b"\x01\x02\x03\x04\x05\x06\x07\x08",
        target_name="LAB",
        target_info=info,
        version=m.Version(6, 0, 6002),
    )
    return bytes(msg.pack())


@dataclass(frozen=True)
class Nginx:
    http: int
    https: int


CONF = """
worker_processes 1;
error_log {d}/error.log;
pid {d}/nginx.pid;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
  map $http_authorization $ntlm_reply {{
    "~^NTLM "      "NTLM {ntlm}";
    "~^Negotiate " "Negotiate {spnego}";
    default        "NTLM";
  }}
  server {{
    listen 127.0.0.1:{http};
    location /Exchange {{ auth_basic "plain realm"; auth_basic_user_file {d}/htpasswd; }}
    location / {{ return 301 https://mail.lab.test:{https}$request_uri; }}
  }}
  server {{
    listen 127.0.0.1:{https} ssl;
    server_name mail.lab.test;
    ssl_certificate {cert}; ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    add_header X-OWA-Version 8.1.240.6 always;
    add_header X-AspNet-Version 2.0.50727 always;
    location /owa {{ return 302 https://mail.lab.test/owa/auth/logon.aspx?url=https://mail.lab.test/owa/&reason=0; }}
    location /EWS/ {{
      add_header WWW-Authenticate "Negotiate" always;
      add_header WWW-Authenticate $ntlm_reply always;
      return 401;
    }}
    location /Public {{ auth_basic "lab basic"; auth_basic_user_file {d}/htpasswd; }}
    location / {{ return 404; }}
  }}
}}
"""


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    binary = need("nginx")
    d = tmp_path_factory.mktemp("nginx")
    (d / "tmp").mkdir()
    (d / "htpasswd").write_text("alice:$apr1$abc$0123456789abcdefghijk/\n")
    cert = make_cert(d, "web")
    ntlm = base64.b64encode(_challenge()).decode()
    spnego = base64.b64encode(
        NegTokenResp(
            neg_state=NegState.accept_incomplete,
            supported_mech=GSSMech.ntlm.value,
            response_token=_challenge(),
        ).pack()
    ).decode()
    ports = Nginx(*free_ports(2))
    (d / "nginx.conf").write_text(
        CONF.format(
            d=d,
            http=ports.http,
            https=ports.https,
            cert=cert.cert,
            key=cert.key,
            ntlm=ntlm,
            spnego=spnego,
        )
    )
    proc = subprocess.Popen(
        [binary, "-p", str(d), "-c", str(d / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(ports.https, proc, d / "error.log")
        yield ports
    finally:
        stop(proc)


def test_https_virtual_directories(nginx: Nginx) -> None:
    res = run(target("127.0.0.1", nginx.https, "https"))
    ep = res.endpoints[0]
    h = ep.observations.http
    assert ep.status.value == "ok" and h is not None
    by_path = {r.path: r for r in h.responses}
    assert len(by_path) == 9  # every Exchange virtual directory when no path is given
    assert by_path["/owa"].status == 302 and by_path["/owa"].forms_logon
    assert by_path["/EWS/Exchange.asmx"].status == 401
    assert by_path["/EWS/Exchange.asmx"].auth_schemes == ("Negotiate", "NTLM")
    assert by_path["/Public"].auth_schemes == ("Basic",)
    assert by_path["/Public"].basic_realm == "lab basic"
    assert by_path["/OAB"].status == 404
    assert by_path["/owa"].headers["x-owa-version"] == "8.1.240.6"
    assert by_path["/owa"].headers["server"].startswith("nginx")
    tls = ep.observations.tls
    assert tls is not None and set(tls.accepted) == {"TLSv1.2", "TLSv1.3"}
    assert tls.session is not None and tls.session.certificate is not None
    assert tls.session.certificate.subject_cn == "mail.lab.test"
    assert "PS-HTTP-003" in ids(res)  # version headers
    assert "PS-HTTP-001" not in ids(res)  # Basic, but over TLS


def test_path_selects_directories_and_grades_auth(nginx: Nginx) -> None:
    res = run(
        target("127.0.0.1", nginx.https, "https", "client_access.availability_service"),
        target("127.0.0.1", nginx.https, "https", "client_access.owa"),
        target("127.0.0.1", nginx.https, "https", "client_access.outlook_oab_web"),
    )
    ews, owa, _oab = (e.observations.http for e in res.endpoints)
    assert [r.path for r in ews.responses] == ["/EWS/Exchange.asmx"]
    assert [r.path for r in owa.responses] == ["/owa"]
    assert "PS-HTTP-007" in {
        f.id for f in res.findings if f.path_id == "client_access.outlook_oab_web"
    }
    owa_ids = {f.id for f in res.findings if f.path_id == "client_access.owa"}
    assert "PS-HTTP-005" not in owa_ids  # forms logon is OWA's default
    assert "PS-HTTP-007" not in owa_ids


def test_plain_http_redirect_and_basic(nginx: Nginx) -> None:
    res = run(
        target("127.0.0.1", nginx.http, "http", "client_access.owa"),
        target("127.0.0.1", nginx.http, "http", "client_access.webdav"),
    )
    owa, _dav = res.endpoints
    r = owa.observations.http.responses[0]
    assert r.status == 301 and r.redirect_to_https
    assert r.location == f"https://mail.lab.test:{nginx.https}/owa"
    assert owa.observations.tls is None  # plain HTTP: no TLS probe
    dav_ids = {f.id for f in res.findings if f.path_id == "client_access.webdav"}
    assert "PS-HTTP-001" in dav_ids  # /Exchange: Basic over plain HTTP
    owa_ids = {f.id for f in res.findings if f.path_id == "client_access.owa"}
    assert "PS-HTTP-001" not in owa_ids and "PS-HTTP-002" not in owa_ids
    basic = next(f for f in res.findings if f.id == "PS-HTTP-001")
    assert "/Exchange" in basic.evidence[0] and "plain realm" in basic.evidence[0]


def test_ntlm_challenge_through_ntlm_and_negotiate(nginx: Nginx) -> None:
    res = run(
        target("127.0.0.1", nginx.https, "https", "client_access.availability_service"),
        ntlm_info=True,
    )
    h = res.endpoints[0].observations.http
    got = {n.scheme: n for n in h.ntlm}
    assert set(got) == {"NTLM", "Negotiate"}
    for n in got.values():
        assert n.status == 401 and n.error is None
        assert n.challenge.netbios_computer == "EXCAS01"
        assert n.challenge.dns_domain == "lab.test"
        assert n.challenge.os_version == "6.0.6002"
    f = next(f for f in res.findings if f.id == "PS-HTTP-006")
    assert any("via Negotiate" in e for e in f.evidence)


def test_refused_port_is_data() -> None:
    res = run(target("127.0.0.1", free_port(), "https"), timeout=1.0)
    assert res.endpoints[0].observations.tcp.state == "closed"
    assert "PS-TCP-001" in ids(res)


def test_auth_header_parser() -> None:
    assert parse_auth_schemes(['Basic realm="a, b"', "Negotiate,NTLM"]) == (
        ("Basic", "Negotiate", "NTLM"),
        "a, b",
    )
    assert parse_auth_schemes(['Digest realm="x", nonce="y", qop="auth"']) == (("Digest",), None)
