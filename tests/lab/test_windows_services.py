"""RPC endpoint mapper, Kerberos over UDP, CLDAP, UM web service and SIP TLS 5062.

Clients are the real ones: impacket's endpoint-mapper client, pathsec's RPC, Kerberos and
UDP probes, ldap3's message codec, httpx and a TLS socket.
"""

from __future__ import annotations

import asyncio
import socket
import struct

import httpx
import pytest
from impacket.dcerpc.v5 import epm, transport
from impacket.dcerpc.v5.rpcrt import (
    MSRPC_BIND,
    MSRPC_BINDACK,
    MSRPC_FAULT,
    CtxItem,
    DCERPCException,
    MSRPCBind,
    MSRPCBindAck,
    MSRPCHeader,
)
from impacket.krb5 import constants
from impacket.krb5.asn1 import KRB_ERROR
from impacket.uuid import uuidtup_to_bin
from ldap3.operation.search import search_operation
from ldap3.protocol.rfc4511 import LDAPMessage, ProtocolOp
from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.codec.ber import encoder as ber_encoder
from pyasn1.codec.der import decoder

from lab.labkit import RunningLab, client_tls
from lab.test_other_services import _as_req, _sip_options
from pathsec.lab.rpc import DC_INTERFACES, EXCHANGE_INTERFACES, NDR, dynamic_range
from pathsec.probes.interface import AppProtocol, ProbeSettings, Status
from pathsec.probes.kerberos import KerberosProbe
from pathsec.probes.registry import endpoint
from pathsec.probes.rpc import RpcObservation, RpcProbe
from pathsec.probes.udp import UdpProbe, cldap_rootdse_request

LOW, HIGH = dynamic_range("6.0.6002")  # the profiles' Windows Server 2008 SP2


def _dce(lab: RunningLab, server: str) -> object:
    e = lab.ep(server, "epmap")
    assert e.real_port == 135
    dce = transport.DCERPCTransportFactory(f"ncacn_ip_tcp:{e.address}[{e.port}]").get_dce_rpc()
    dce.connect()
    return dce


@pytest.mark.parametrize(
    ("server", "interfaces"), [("DC01", DC_INTERFACES), ("EX2007", EXCHANGE_INTERFACES)]
)
def test_ept_lookup_lists_the_interfaces_on_real_ports_inside_the_range(
    lab_default: RunningLab, server: str, interfaces: tuple[object, ...]
) -> None:
    dce = _dce(lab_default, server)
    try:
        entries = epm.hept_lookup(None, dce=dce)  # binds to the EPM, then ept_lookup
    finally:
        dce.disconnect()
    address = lab_default.ep(server, "epmap").address
    seen = {}
    for entry in entries:
        floors = entry["tower"]["Floors"]
        binding = epm.PrintStringBinding(floors)
        assert binding.startswith(f"ncacn_ip_tcp:{address}[")
        seen[str(floors[0]).lower()] = int(binding.rsplit("[", 1)[1].rstrip("]"))
    want = {f"{i.uuid} v{i.version}" for i in interfaces}  # type: ignore[attr-defined]
    assert set(seen) == want
    assert "12345678-1234-abcd-ef00-01234567cffb v1.0" in seen or server == "EX2007"
    assert "a4f1db00-ca47-1067-b31f-00dd010662da v0.81" in seen or server == "DC01"
    for port in set(seen.values()):
        assert LOW <= port <= HIGH
        with socket.create_connection((address, port), timeout=5):
            pass  # the port the mapper hands out is a real listener


def test_ept_map_finds_netlogon_and_refuses_an_unknown_interface(
    lab_default: RunningLab,
) -> None:
    dce = _dce(lab_default, "DC01")
    try:
        netlogon = uuidtup_to_bin(("12345678-1234-abcd-ef00-01234567cffb", "1.0"))
        got = epm.hept_map("127.0.10.11", netlogon, protocol="ncacn_ip_tcp", dce=dce)
        assert got is not None and got.startswith("ncacn_ip_tcp:127.0.10.11[")
        assert LOW <= int(got.rsplit("[", 1)[1].rstrip("]")) <= HIGH
        emsmdb = uuidtup_to_bin(("a4f1db00-ca47-1067-b31f-00dd010662da", "0.81"))
        with pytest.raises(DCERPCException, match="ept_s_not_registered"):
            epm.hept_map("127.0.10.11", emsmdb, protocol="ncacn_ip_tcp", dce=dce)
    finally:
        dce.disconnect()


def _exchange(lab: RunningLab, pdus: list[bytes]) -> list[bytes]:
    e = lab.ep("DC01", "epmap")
    out = []
    with socket.create_connection((e.address, e.port), timeout=5) as s:
        f = s.makefile("rb")
        for pdu in pdus:
            s.sendall(pdu)
            head = f.read(16)
            out.append(head + f.read(int.from_bytes(head[8:10], "little") - 16))
    return out


def _bind(abstract: bytes) -> bytes:
    item = CtxItem()
    item["ContextID"] = 0
    item["TransItems"] = 1
    item["AbstractSyntax"] = abstract
    item["TransferSyntax"] = NDR
    bind = MSRPCBind()
    bind.addCtxItem(item)
    pdu = MSRPCHeader()
    pdu["type"] = MSRPC_BIND
    pdu["call_id"] = 7
    pdu["pduData"] = bind.getData()
    return bytes(pdu.getData())


def test_bind_ack_accepts_the_epm_only_and_calls_need_a_bind(lab_default: RunningLab) -> None:
    samr = uuidtup_to_bin(("12345778-1234-abcd-ef00-0123456789ac", "1.0"))
    request = bytes.fromhex("05000003100000001800000009000000000000000000" + "0200")
    refused, before_bind = _exchange(lab_default, [_bind(samr), request])
    ack = MSRPCBindAck(refused)
    assert ack["type"] == MSRPC_BINDACK and ack["call_id"] == 7
    assert ack.getCtxItem(1)["Result"] == 2  # provider rejection: not served on 135
    assert MSRPCHeader(before_bind)["type"] == MSRPC_FAULT
    (accepted,) = _exchange(lab_default, [_bind(epm.MSRPC_UUID_PORTMAP)])
    ack = MSRPCBindAck(accepted)
    assert ack.getCtxItem(1)["Result"] == 0
    assert ack.getCtxItem(1)["TransferSyntax"] == NDR
    assert ack["SecondaryAddr"] == str(lab_default.ep("DC01", "epmap").port)


def test_pathsec_rpc_probe_enumerates_the_lab(lab_default: RunningLab) -> None:
    probe = RpcProbe()
    for server, count in (("DC01", len(DC_INTERFACES)), ("EX2007", len(EXCHANGE_INTERFACES))):
        e = lab_default.ep(server, "epmap")
        ep = endpoint(e.address, e.port, AppProtocol.rpc, server)
        settings = ProbeSettings(timeout=5)
        attempt = asyncio.run(probe.run(probe.plan(ep, settings, {})[0], settings))
        obs = probe.fold(ep, [attempt])
        assert isinstance(obs, RpcObservation)
        assert obs.status is Status.ok, obs.reason
        assert obs.enumerated and obs.entries == count
        assert obs.tcp_ports and all(LOW <= p <= HIGH for p in obs.tcp_ports)
        registered = DC_INTERFACES if server == "DC01" else EXCHANGE_INTERFACES
        assert set(obs.interfaces) == {f"{i.uuid} v{i.version}" for i in registered}


def test_kerberos_over_udp_answers_krb_error_without_length_prefix(
    lab_default: RunningLab,
) -> None:
    e = lab_default.ep("DC01", "kerberos")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(_as_req("nobody", "CONTOSO.LOCAL"), (e.address, e.port))
        reply, _ = s.recvfrom(65536)
    assert reply[0] == 0x7E  # [APPLICATION 30] KRB-ERROR, no 4-byte prefix
    err, _ = decoder.decode(reply, asn1Spec=KRB_ERROR())
    assert int(err["error-code"]) == constants.ErrorCodes.KDC_ERR_C_PRINCIPAL_UNKNOWN.value
    assert str(err["realm"]) == "CONTOSO.LOCAL"
    assert str(err["cname"]["name-string"][0]) == "nobody"
    probe = KerberosProbe()
    ep = endpoint(e.address, e.port, AppProtocol.kerberos_udp, "DC01", domain="contoso.local")
    settings = ProbeSettings(timeout=5)
    attempt = asyncio.run(probe.run(probe.plan(ep, settings, {})[0], settings))
    assert attempt.status is Status.ok, attempt.reason


def _cldap(lab: RunningLab, datagram: bytes) -> list[object]:
    e = lab.ep("DC01", "ldap")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(datagram, (e.address, e.port))
        reply, _ = s.recvfrom(65536)
    messages = []
    while reply:
        msg, reply = ber_decoder.decode(reply, asn1Spec=LDAPMessage())
        messages.append(msg)
    return messages


def test_cldap_root_dse_entry_and_done_in_one_datagram(lab_default: RunningLab) -> None:
    entry, done = _cldap(lab_default, cldap_rootdse_request(9))
    assert int(entry["messageID"]) == 9 and int(done["messageID"]) == 9  # type: ignore[index]
    res = entry["protocolOp"]["searchResEntry"]  # type: ignore[index]
    attrs = {str(a["type"]): [str(v) for v in a["vals"]] for a in res["attributes"]}
    assert attrs == {
        "dnsHostName": ["dc01.contoso.local"],
        "supportedCapabilities": [
            "1.2.840.113556.1.4.800",
            "1.2.840.113556.1.4.1670",
            "1.2.840.113556.1.4.1791",
            "1.2.840.113556.1.4.1935",
        ],
    }
    assert int(done["protocolOp"]["searchResDone"]["resultCode"]) == 0  # type: ignore[index]
    e = lab_default.ep("DC01", "ldap")
    probe = UdpProbe()
    ep = endpoint(e.address, e.port, AppProtocol.cldap, "DC01")
    settings = ProbeSettings(timeout=5)
    obs = probe.fold(ep, [asyncio.run(probe.run(probe.plan(ep, settings, {})[0], settings))])
    assert obs.state == "open" and obs.protocol_reply


def test_cldap_netlogon_ping(lab_default: RunningLab) -> None:
    search = search_operation(
        "",
        "(&(DnsDomain=contoso.local)(NtVer=\\06\\00\\00\\00))",
        "BASE",
        "NEVER",
        ["Netlogon"],
        0,
        0,
        False,
        True,
        True,
    )
    msg = LDAPMessage()
    msg["messageID"] = 3
    op = ProtocolOp()
    op["searchRequest"] = search
    msg["protocolOp"] = op
    entry, done = _cldap(lab_default, bytes(ber_encoder.encode(msg)))
    (attr,) = entry["protocolOp"]["searchResEntry"]["attributes"]  # type: ignore[index]
    assert str(attr["type"]) == "Netlogon"
    blob = bytes(attr["vals"][0])
    opcode, _, flags = struct.unpack_from("<HHI", blob)
    assert opcode == 23  # LOGON_SAM_LOGON_RESPONSE_EX
    assert flags & 0x20 and flags & 0x4  # a KDC and a global catalog
    assert b"\x04dc01\x07contoso\x05local\x00" in blob
    assert b"\x07CONTOSO\x00" in blob
    assert int(done["protocolOp"]["searchResDone"]["resultCode"]) == 0  # type: ignore[index]


def test_um_web_service_is_served_by_the_client_access_server(lab_default: RunningLab) -> None:
    """/UnifiedMessaging/Service.asmx lives on the CAS (Get-UMVirtualDirectory), not on UM01."""
    e = lab_default.ep("EX2007", "https")
    plain = lab_default.ep("EX2007", "http")
    with httpx.Client(verify=client_tls(), timeout=5) as c:
        r = c.get(f"https://{e.address}:{e.port}/UnifiedMessaging/Service.asmx")
        clear = c.get(f"http://{plain.address}:{plain.port}/UnifiedMessaging/Service.asmx")
    assert r.status_code == 401
    assert r.headers.get_list("www-authenticate") == [
        "Negotiate",
        "NTLM",
        f'Basic realm="{e.address}"',
    ]
    assert r.headers["server"] == "Microsoft-IIS/7.0"
    assert r.headers["x-powered-by"] == "ASP.NET"
    assert r.headers["x-aspnet-version"] == "2.0.50727"
    assert clear.status_code == 403  # 403.4 SSL required
    um = {x.service for x in lab_default.lab.endpoints if x.server == "UM01"}
    assert not um & {"http", "https"}, "the UM server runs no web service of its own"


def test_um_web_service_takes_basic_on_port_80_in_misconfigured(
    lab_misconfigured: RunningLab,
) -> None:
    """LAB-MIS-001 (Basic over HTTP) covers every Client Access vdir, the UM web service too."""
    e = lab_misconfigured.ep("EX2007", "http")
    r = httpx.get(f"http://{e.address}:{e.port}/UnifiedMessaging/Service.asmx", timeout=5)
    assert r.status_code == 401
    assert any(v.startswith("Basic") for v in r.headers.get_list("www-authenticate"))


def test_sip_tls_5062_options_200(lab_default: RunningLab) -> None:
    e = lab_default.ep("UM01", "sips_5062")
    assert e.real_port == 5062 and e.tls == "implicit"
    lines = _sip_options(lab_default, "sips_5062")
    assert lines[0] == "SIP/2.0 200 OK"
    headers = dict(x.split(": ", 1) for x in lines[1:])
    assert headers["Contact"].endswith(";transport=Tls>")
    assert headers["Server"] == "RTCC/1.0.0.0 MSExchangeUM/08.03.0083.006"


def test_malformed_input_is_dropped_and_the_services_keep_answering(
    lab_default: RunningLab,
) -> None:
    ldap_ep, krb = lab_default.ep("DC01", "ldap"), lab_default.ep("DC01", "kerberos")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        for junk in (b"\x30\x84\xff\xff", b"0\x03\x02\x01", b"0"):
            s.sendto(junk, (ldap_ep.address, ldap_ep.port))
        with pytest.raises(TimeoutError):
            s.recvfrom(65536)  # CLDAP ignores what it cannot parse
        s.settimeout(5)
        s.sendto(b"x", (krb.address, krb.port))
        reply, _ = s.recvfrom(65536)  # the KDC answers anything with a KRB-ERROR
        assert int(decoder.decode(reply, asn1Spec=KRB_ERROR())[0]["error-code"]) == 6
    e = lab_default.ep("DC01", "epmap")
    with socket.create_connection((e.address, e.port), timeout=5) as s:
        s.sendall(b"\x05\x00\x0b\x03\x10\x00\x00\x00\x1c\x00\x00\x00" + b"\xff" * 16)
        assert s.recv(100) == b""  # a bind that does not parse ends the association
    bound = _bind(epm.MSRPC_UUID_PORTMAP)
    unknown_op = bytes.fromhex("050000031000000018000000080000000000000000000900")
    ack, reply = _exchange(lab_default, [bound, unknown_op])
    assert MSRPCBindAck(ack).getCtxItem(1)["Result"] == 0
    assert MSRPCHeader(reply)["type"] == MSRPC_FAULT
    assert struct.unpack_from("<L", reply, 24)[0] == 0x1C010002  # nca_s_op_rng_error
    assert len(_cldap(lab_default, cldap_rootdse_request(2))) == 2
