"""UM SIP, DC LDAP/Kerberos/DNS and Edge ADAM (fingerprints §6, §7)."""

from __future__ import annotations

import datetime as dt
import socket
import ssl

import dns.message
import dns.query
import dns.rcode
import ldap3
from impacket.krb5 import constants
from impacket.krb5.asn1 import AS_REQ, KRB_ERROR, seq_set, seq_set_iter
from impacket.krb5.types import KerberosTime, Principal
from pyasn1.codec.der import decoder, encoder

from lab.labkit import RunningLab, client_tls


def _sip_options(lab: RunningLab, service: str) -> list[str]:
    e = lab.ep("UM01", service)
    req = (
        f"OPTIONS sip:um01.contoso.local:{e.real_port} SIP/2.0\r\n"
        "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
        "From: <sip:probe@127.0.0.1>;tag=42\r\n"
        "To: <sip:um01.contoso.local>\r\n"
        "Call-ID: abc@127.0.0.1\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    raw = socket.create_connection((e.address, e.port), timeout=5)
    sock = client_tls().wrap_socket(raw) if service.startswith("sips") else raw
    with sock:
        sock.sendall(req.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            assert chunk
            data += chunk
    return data.split(b"\r\n\r\n")[0].decode().split("\r\n")


def test_sip_options_200_with_um_server_header(lab_default: RunningLab) -> None:
    for service in ("sip", "sips"):
        lines = _sip_options(lab_default, service)
        assert lines[0] == "SIP/2.0 200 OK"
        headers = dict(x.split(": ", 1) for x in lines[1:])
        assert headers["Server"] == "RTCC/1.0.0.0 MSExchangeUM/08.03.0083.006"
        assert headers["Call-ID"] == "abc@127.0.0.1"
        assert headers["CSeq"] == "1 OPTIONS"
        assert headers["To"].startswith("<sip:um01.contoso.local>;tag=")
        assert "OPTIONS" in headers["Allow"]


def _root_dse(lab: RunningLab, server: str, service: str) -> ldap3.Server:
    e = lab.ep(server, service)
    # Windows 2008 SChannel: TLS 1.0 with AES-CBC-SHA (ldap3's own context stops at TLS 1.2)
    tls = ldap3.Tls(validate=ssl.CERT_NONE, version=ssl.PROTOCOL_TLSv1, ciphers="ALL:@SECLEVEL=0")
    srv = ldap3.Server(
        e.address, port=e.port, use_ssl=service == "adams", tls=tls, get_info=ldap3.ALL
    )
    conn = ldap3.Connection(srv, auto_bind=True, receive_timeout=5)
    assert not conn.search("DC=contoso,DC=local", "(objectClass=user)")
    assert conn.result["result"] == 1  # operationsError: a bind is needed, as on AD
    conn.unbind()
    return srv


def test_dc_root_dse(lab_default: RunningLab) -> None:
    for service in ("ldap", "gc"):
        info = _root_dse(lab_default, "DC01", service).info
        assert info is not None
        other = info.other
        assert other["dnsHostName"] == ["dc01.contoso.local"]
        assert other["ldapServiceName"] == ["contoso.local:dc01$@CONTOSO.LOCAL"]
        assert other["defaultNamingContext"] == ["DC=contoso,DC=local"]
        assert other["domainControllerFunctionality"] == ["3"]  # Windows 2008
        assert other["isGlobalCatalogReady"] == ["TRUE"]
        caps = {c[0] for c in info.supported_features}
        assert "1.2.840.113556.1.4.800" in caps and "1.2.840.113556.1.4.1851" not in caps
        assert {"GSSAPI", "GSS-SPNEGO"} <= set(info.supported_sasl_mechanisms)
        assert [str(v) for v in info.supported_ldap_versions] == ["3", "2"]


def test_edge_adam_root_dse(lab_default: RunningLab) -> None:
    for service in ("adam", "adams"):
        info = _root_dse(lab_default, "EDGE01", service).info
        assert info is not None
        caps = {c[0] for c in info.supported_features}
        assert "1.2.840.113556.1.4.1851" in caps and "1.2.840.113556.1.4.800" not in caps
        assert "defaultNamingContext" not in info.other
        assert info.other["dnsHostName"] == ["edge01.contoso.local"]


def _as_req(user: str, realm: str) -> bytes:
    req = AS_REQ()
    req["pvno"] = 5
    req["msg-type"] = constants.ApplicationTagNumbers.AS_REQ.value
    body = seq_set(req, "req-body")
    body["kdc-options"] = constants.encodeFlags([constants.KDCOptions.forwardable.value])
    seq_set(body, "sname", Principal(f"krbtgt/{realm}", type=2).components_to_asn1)
    seq_set(body, "cname", Principal(user, type=1).components_to_asn1)
    body["realm"] = realm
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    body["till"] = KerberosTime.to_asn1(now)
    body["nonce"] = 12345
    seq_set_iter(body, "etype", (23, 18))
    return bytes(encoder.encode(req))


def test_kerberos_as_req_gets_principal_unknown(lab_default: RunningLab) -> None:
    e = lab_default.ep("DC01", "kerberos")
    msg = _as_req("nobody", "CONTOSO.LOCAL")
    with socket.create_connection((e.address, e.port), timeout=5) as s:
        s.sendall(len(msg).to_bytes(4, "big") + msg)
        f = s.makefile("rb")
        size = int.from_bytes(f.read(4), "big")
        reply = f.read(size)
    err, _ = decoder.decode(reply, asn1Spec=KRB_ERROR())
    assert int(err["error-code"]) == constants.ErrorCodes.KDC_ERR_C_PRINCIPAL_UNKNOWN.value
    assert str(err["realm"]) == "CONTOSO.LOCAL"
    assert str(err["cname"]["name-string"][0]) == "nobody"


def test_dns_zone(lab_default: RunningLab) -> None:
    e = lab_default.ep("DC01", "dns")
    q = dns.message.make_query("_ldap._tcp.contoso.local", "SRV")
    r = dns.query.udp(q, e.address, port=e.port, timeout=5)
    assert [x.to_text() for x in r.answer[0]] == ["0 100 389 dc01.contoso.local."]
    r = dns.query.tcp(
        dns.message.make_query("_kerberos._tcp.contoso.local", "SRV"),
        e.address,
        port=e.port,
        timeout=5,
    )
    assert [x.to_text() for x in r.answer[0]] == ["0 100 88 dc01.contoso.local."]
    r = dns.query.tcp(
        dns.message.make_query("ex2007.contoso.local", "A"), e.address, port=e.port, timeout=5
    )
    assert [x.to_text() for x in r.answer[0]] == ["127.0.10.10"]
    r = dns.query.udp(
        dns.message.make_query("contoso.local", "SOA"), e.address, port=e.port, timeout=5
    )
    assert r.answer[0][0].mname.to_text() == "dc01.contoso.local."
    r = dns.query.udp(
        dns.message.make_query("nope.contoso.local", "A"), e.address, port=e.port, timeout=5
    )
    assert r.rcode() == dns.rcode.NXDOMAIN
