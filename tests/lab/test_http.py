"""IIS 7.0 / CAS 2007 virtual directories against the fingerprints file (§4, §5)."""

from __future__ import annotations

import datetime as dt
import socket
import ssl

import httpx
import pytest
from cryptography import x509

from lab.labkit import EX2007_NTLM, NEGOTIATE, RunningLab, client_tls, decode_challenge

BUILD = "8.3.83.6"  # Exchange 2007 SP3, §8


def _client() -> httpx.Client:
    return httpx.Client(verify=client_tls(), timeout=5.0)


def _url(lab: RunningLab, path: str, service: str = "https") -> str:
    e = lab.ep("EX2007", service)
    return f"{'https' if service == 'https' else 'http'}://{e.address}:{e.port}{path}"


def _iis_headers(r: httpx.Response) -> None:
    assert r.headers["server"] == "Microsoft-IIS/7.0"
    assert r.headers["x-powered-by"] == "ASP.NET"
    assert r.headers["x-aspnet-version"] == "2.0.50727"
    assert r.headers["x-owa-version"] == BUILD


def test_owa_forms_redirect_and_logon_page(lab_default: RunningLab) -> None:
    e = lab_default.ep("EX2007", "https")
    host = f"{e.address}:{e.port}"
    with _client() as c:
        r = c.get(_url(lab_default, "/owa"))
        assert r.status_code == 302
        _iis_headers(r)
        assert r.headers["location"] == (
            f"https://{host}/owa/auth/logon.aspx?url=https://{host}/owa/&reason=0"
        )
        page = c.get(_url(lab_default, "/owa/auth/logon.aspx"))
        assert page.status_code == 200
        assert "<title>Microsoft Exchange - Outlook Web Access</title>" in page.text
        assert f"/owa/{BUILD}/themes/base/logon.css" in page.text
        assert "<!-- OwaPage = ASP.auth_logon_aspx -->" in page.text
        for legacy in ("/exchange/", "/public/", "/exchweb/"):
            r = c.get(_url(lab_default, legacy))
            assert (r.status_code, r.headers["location"]) == (302, f"https://{host}/owa/")


@pytest.mark.parametrize(
    "path",
    [
        "/Autodiscover/Autodiscover.xml",
        "/EWS/Exchange.asmx",
        "/OAB/",
        "/UnifiedMessaging/Service.asmx",
    ],
)
def test_web_services_ask_negotiate_ntlm_basic(lab_default: RunningLab, path: str) -> None:
    e = lab_default.ep("EX2007", "https")
    with _client() as c:
        r = c.get(_url(lab_default, path), headers={"Host": "mail.contoso.local"})
    assert r.status_code == 401
    _iis_headers(r)
    assert r.headers.get_list("www-authenticate") == [
        "Negotiate",
        "NTLM",
        'Basic realm="mail.contoso.local"',
    ]
    assert r.headers["content-length"] == "0"
    assert e.real_port == 443


def test_activesync_options_and_basic(lab_default: RunningLab) -> None:
    with _client() as c:
        r = c.options(_url(lab_default, "/Microsoft-Server-ActiveSync"))
        assert r.status_code == 200
        assert r.headers["ms-server-activesync"] == "8.3"
        assert r.headers["ms-asprotocolversions"] == "1.0,2.0,2.1,2.5,12.0,12.1"
        assert r.headers["allow"] == "OPTIONS,POST" == r.headers["public"]
        assert "Provision" in r.headers["ms-asprotocolcommands"].split(",")
        r = c.post(_url(lab_default, "/Microsoft-Server-ActiveSync?Cmd=Sync"))
        assert r.status_code == 401
        address = lab_default.ep("EX2007", "https").address
        assert r.headers.get_list("www-authenticate") == [f'Basic realm="{address}"']


def test_outlook_anywhere_basic_and_ntlm(lab_default: RunningLab) -> None:
    with _client() as c:
        r = c.request("RPC_IN_DATA", _url(lab_default, "/rpc/rpcproxy.dll?ex2007:6001"))
    assert r.status_code == 401
    auth = r.headers.get_list("www-authenticate")
    assert auth[0].startswith("Basic realm=") and auth[1:] == ["NTLM"]


@pytest.mark.parametrize("scheme", ["NTLM", "Negotiate"])
def test_ntlm_challenge_over_http(lab_default: RunningLab, scheme: str) -> None:
    with _client() as c:
        r = c.get(
            _url(lab_default, "/EWS/Exchange.asmx"),
            headers={"Authorization": f"{scheme} {NEGOTIATE}"},
        )
    assert r.status_code == 401
    (value,) = r.headers.get_list("www-authenticate")
    got_scheme, _, blob = value.partition(" ")
    assert got_scheme == scheme
    info = decode_challenge(blob)
    info.pop("timestamp")
    assert info == EX2007_NTLM


def test_plain_http_requires_ssl_by_default(lab_default: RunningLab) -> None:
    with _client() as c:
        for path in ("/owa/", "/EWS/Exchange.asmx", "/Microsoft-Server-ActiveSync"):
            r = c.get(_url(lab_default, path, "http"))
            assert r.status_code == 403
            assert "403.4" in r.text
            assert "www-authenticate" not in r.headers
        assert c.get(_url(lab_default, "/nope.aspx")).status_code == 404


def test_https_certificate_verifies_against_itself(lab_default: RunningLab) -> None:
    """TLS works with the generated certificate: trust it as a CA and check the name."""
    cert_path = lab_default.lab.certs["EX2007"].cert
    ctx = ssl.create_default_context(cafile=str(cert_path))
    ctx.minimum_version = ssl.TLSVersion.TLSv1  # Windows 2008 SChannel: TLS 1.0 only
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    e = lab_default.ep("EX2007", "https")

    with (
        socket.create_connection((e.address, e.port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="ex2007.contoso.local") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        assert tls.version() == "TLSv1"
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    assert cert.not_valid_after_utc > dt.datetime.now(dt.UTC)


def test_empty_host_leaks_the_server_address(lab_default: RunningLab) -> None:
    """HTTP/1.0 without Host: the realm names the internal address (§4, KB 967342)."""
    e = lab_default.ep("EX2007", "https")
    with (
        socket.create_connection((e.address, e.port), timeout=5) as raw,
        client_tls().wrap_socket(raw) as tls,
    ):
        tls.sendall(b"GET /Autodiscover/Autodiscover.xml HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := tls.recv(4096):
            data += chunk
    head = data.split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert head[0] == "HTTP/1.1 401 Unauthorized"
    assert f'WWW-Authenticate: Basic realm="{e.address}"' in head
    assert "Connection: close" in head
