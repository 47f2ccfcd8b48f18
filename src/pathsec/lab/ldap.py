"""LDAP rootDSE of the domain controller (389, GC 3268) and of Edge ADAM (50389, 50636).

Hand-written on the LDAP ASN.1 structures of ``ldap3.protocol.rfc4511`` (pyasn1), which
ldap3 already brings: no LDAP *server* library is a dependency, and the lab answers one
request, the anonymous base search of the rootDSE (fingerprints §6). Binds other than
anonymous fail; searches below the root need a bind, as on AD. The DC's port 389 also
answers CLDAP over UDP (MS-ADTS §3.1.1.3.5): a rootDSE search gets the entry and the done
message in one datagram; a netlogon ping (attribute ``Netlogon``) gets a
NETLOGON_SAM_LOGON_RESPONSE_EX (MS-ADTS §6.3.1.9).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
import struct
import uuid
from collections.abc import Mapping

from ldap3.protocol.rfc4511 import (
    BindResponse,
    ExtendedResponse,
    LDAPMessage,
    PartialAttribute,
    PartialAttributeList,
    ProtocolOp,
    ResponseName,
    SearchResultDone,
    SearchResultEntry,
    Vals,
)
from pyasn1.codec.ber import decoder, encoder  # type: ignore[import-untyped]
from pyasn1.error import PyAsn1Error  # type: ignore[import-untyped]

from pathsec.lab.common import Identity, TcpAndUdp, Unit, with_udp
from pathsec.lab.profiles import Service

MAX_PDU = 65536
IDLE_SECONDS = 60.0
START_TLS_OID = "1.3.6.1.4.1.1466.20037"
NEEDS_BIND = (
    "000004DC: LdapErr: DSID-0C0906E8, comment: In order to perform this operation a "
    "successful bind must be completed on the connection., data 0, v1db1"
)
BAD_CREDENTIALS = (
    "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1"
)
#: domain/forest/DC functionality level of the DC's Windows release (2003: 2, 2008: 3 …).
FUNCTIONALITY = {"5.2": "2", "6.0": "3", "6.1": "4"}
CONTROLS = (
    "1.2.840.113556.1.4.319",
    "1.2.840.113556.1.4.801",
    "1.2.840.113556.1.4.473",
    "1.2.840.113556.1.4.528",
    "1.2.840.113556.1.4.417",
    "1.2.840.113556.1.4.619",
    "1.2.840.113556.1.4.841",
    "1.2.840.113556.1.4.529",
    "1.2.840.113556.1.4.805",
    "1.2.840.113556.1.4.521",
    "1.2.840.113556.1.4.970",
    "1.2.840.113556.1.4.1338",
    "1.2.840.113556.1.4.474",
    "1.2.840.113556.1.4.1339",
    "1.2.840.113556.1.4.1340",
    "1.2.840.113556.1.4.1413",
    "2.16.840.1.113730.3.4.9",
    "2.16.840.1.113730.3.4.10",
    "1.2.840.113556.1.4.1504",
    "1.2.840.113556.1.4.1852",
    "1.2.840.113556.1.4.802",
    "1.2.840.113556.1.4.1907",
    "1.2.840.113556.1.4.1948",
)
EXTENSIONS = (
    "1.3.6.1.4.1.1466.20037",
    "1.3.6.1.4.1.1466.101.119.1",
    "1.2.840.113556.1.4.1781",
    "1.3.6.1.4.1.4203.1.11.3",
)
POLICIES = (
    "MaxPoolThreads",
    "MaxDatagramRecv",
    "MaxReceiveBuffer",
    "InitRecvTimeout",
    "MaxConnections",
    "MaxConnIdleTime",
    "MaxPageSize",
    "MaxQueryDuration",
    "MaxTempTableSize",
    "MaxResultSetSize",
    "MaxNotificationPerConn",
    "MaxValRange",
    "ThreadMemoryLimit",
    "SystemMemoryLimitPercent",
)
#: Instance GUID of the lab's ADAM configuration partition (ADAM names it CN={GUID}).
ADAM_GUID = "{8E1C8C0D-2F0A-4E39-9C53-3B5A0D6E0A01}"


def root_dse(ident: Identity, adam: bool, global_catalog: bool) -> dict[str, tuple[str, ...]]:
    """The rootDSE attributes of a Windows DC or of the Edge server's ADAM instance."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S.0Z")
    level = FUNCTIONALITY.get(ident.os_version[:3], "3")
    if adam:
        config = f"CN=Configuration,CN={ADAM_GUID}"
        site = f"CN=Default-First-Site-Name,CN=Sites,{config}"
        server = f"CN={ident.netbios}$MSExchangeAdam,CN=Servers,{site}"
        return {
            "currentTime": (now,),
            "subschemaSubentry": (f"CN=Aggregate,CN=Schema,{config}",),
            "dsServiceName": (f"CN=NTDS Settings,{server}",),
            "namingContexts": (config, f"CN=Schema,{config}"),
            "configurationNamingContext": (config,),
            "schemaNamingContext": (f"CN=Schema,{config}",),
            "serverName": (server,),
            "supportedControl": CONTROLS,
            "supportedLDAPVersion": ("3", "2"),
            "supportedLDAPPolicies": POLICIES,
            "highestCommittedUSN": ("13780",),
            "supportedSASLMechanisms": ("GSS-SPNEGO", "GSSAPI", "DIGEST-MD5"),
            "dnsHostName": (ident.fqdn,),
            "supportedCapabilities": (
                "1.2.840.113556.1.4.1851",
                "1.2.840.113556.1.4.1670",
                "1.2.840.113556.1.4.1791",
                "1.2.840.113556.1.4.1935",
            ),
            "isSynchronized": ("TRUE",),
            "supportedExtension": EXTENSIONS,
        }
    domain = ",".join(f"DC={p}" for p in ident.dns_domain.split("."))
    config = f"CN=Configuration,{domain}"
    server = f"CN={ident.netbios},CN=Servers,CN=Default-First-Site-Name,CN=Sites,{config}"
    return {
        "currentTime": (now,),
        "subschemaSubentry": (f"CN=Aggregate,CN=Schema,{config}",),
        "dsServiceName": (f"CN=NTDS Settings,{server}",),
        "namingContexts": (
            domain,
            config,
            f"CN=Schema,{config}",
            f"DC=DomainDnsZones,{domain}",
            f"DC=ForestDnsZones,{domain}",
        ),
        "defaultNamingContext": (domain,),
        "rootDomainNamingContext": (domain,),
        "configurationNamingContext": (config,),
        "schemaNamingContext": (f"CN=Schema,{config}",),
        "serverName": (server,),
        "supportedControl": CONTROLS,
        "supportedLDAPVersion": ("3", "2"),
        "supportedLDAPPolicies": POLICIES,
        "highestCommittedUSN": ("20510",),
        "supportedSASLMechanisms": ("GSSAPI", "GSS-SPNEGO", "EXTERNAL", "DIGEST-MD5"),
        "dnsHostName": (ident.fqdn,),
        "ldapServiceName": (
            f"{ident.dns_domain}:{ident.netbios.lower()}$@{ident.dns_domain.upper()}",
        ),
        "supportedCapabilities": (
            "1.2.840.113556.1.4.800",
            "1.2.840.113556.1.4.1670",
            "1.2.840.113556.1.4.1791",
            "1.2.840.113556.1.4.1935",
        ),
        "isSynchronized": ("TRUE",),
        "isGlobalCatalogReady": ("TRUE" if global_catalog else "FALSE",),
        "domainFunctionality": (level,),
        "forestFunctionality": (level,),
        "domainControllerFunctionality": (level,),
        "supportedExtension": EXTENSIONS,
    }


def _message(mid: int, name: str, op: object) -> bytes:
    msg = LDAPMessage()
    msg["messageID"] = mid
    choice = ProtocolOp()
    choice[name] = op
    msg["protocolOp"] = choice
    return bytes(encoder.encode(msg))


def _result(cls: type, code: int, diag: str = "") -> object:
    r = cls()
    r["resultCode"] = code
    r["matchedDN"] = ""
    r["diagnosticMessage"] = diag
    return r


def entry_message(mid: int, attrs: Mapping[str, tuple[str | bytes, ...]]) -> bytes:
    """A searchResEntry for the rootDSE (empty DN) with ``attrs``."""
    entry = SearchResultEntry()
    entry["object"] = ""
    plist = PartialAttributeList()
    for i, (name, values) in enumerate(attrs.items()):
        pa = PartialAttribute()
        pa["type"] = name
        vals = Vals()
        for j, v in enumerate(values):
            vals.setComponentByPosition(j, v)
        pa["vals"] = vals
        plist.setComponentByPosition(i, pa)
    entry["attributes"] = plist
    return _message(mid, "searchResEntry", entry)


def _ber_length(buf: bytes) -> int | None:
    """Total length of the BER element at the start of ``buf``; None when incomplete."""
    if len(buf) < 2:
        return None
    first = buf[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    if n == 0 or n > 4 or len(buf) < 2 + n:
        return None if len(buf) < 2 + n else -1
    return 2 + n + int.from_bytes(buf[2 : 2 + n], "big")


def _selected(attrs: dict[str, tuple[str, ...]], wanted: list[str]) -> dict[str, tuple[str, ...]]:
    lowered = {w.lower() for w in wanted}
    if not lowered or lowered & {"*", "+"}:
        return attrs
    return {k: v for k, v in attrs.items() if k.lower() in lowered}


#: DS_PDC, DS_GC, DS_LDAP, DS_DS, DS_KDC, DS_TIMESERV, DS_CLOSEST, DS_WRITABLE,
#: DS_GOOD_TIMESERV, DS_FULL_SECRET_DOMAIN_6 (a Windows Server 2008 writable DC).
NETLOGON_FLAGS = 0x000013FD
LOGON_SAM_LOGON_RESPONSE_EX = 23
#: Domain GUID of the lab's domain (fixed, so replies are stable).
DOMAIN_GUID = uuid.UUID("6a1f3b2c-4d5e-4f60-8a7b-9c0d1e2f3a4b")


def _dns_name(name: str) -> bytes:
    """A name in RFC 1035 label form, as NETLOGON responses carry (no compression)."""
    out = b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.split(".") if p)
    return out + b"\x00"


def netlogon_response(ident: Identity, global_catalog: bool) -> bytes:
    """A NETLOGON_SAM_LOGON_RESPONSE_EX naming the DC, its domain and its site."""
    flags = NETLOGON_FLAGS if global_catalog else NETLOGON_FLAGS & ~0x4
    site = "Default-First-Site-Name"
    return (
        struct.pack("<HHI", LOGON_SAM_LOGON_RESPONSE_EX, 0, flags)
        + DOMAIN_GUID.bytes_le
        + _dns_name(ident.dns_domain)  # DnsForestName
        + _dns_name(ident.dns_domain)  # DnsDomainName
        + _dns_name(ident.fqdn)  # DnsHostName
        + _dns_name(ident.netbios_domain)  # NetbiosDomainName
        + _dns_name(ident.netbios)  # NetbiosComputerName
        + b"\x00"  # UserName
        + _dns_name(site)  # DcSiteName
        + _dns_name(site)  # ClientSiteName
        + struct.pack("<IHH", 5, 0xFFFF, 0xFFFF)  # NtVersion 1|5EX, LM tokens
    )


def _tlvs(buf: bytes) -> list[tuple[int, bytes]]:
    """The BER elements (tag, value) in ``buf``; single-byte tags, definite lengths."""
    out, i = [], 0
    while i < len(buf):
        tag, first = buf[i], buf[i + 1]
        if first < 0x80:
            start, size = i + 2, first
        else:
            n = first & 0x7F
            if not 0 < n <= 4:
                raise ValueError("unsupported BER length")
            start, size = i + 2 + n, int.from_bytes(buf[i + 2 : i + 2 + n], "big")
        if start + size > len(buf):
            raise ValueError("truncated BER element")
        out.append((tag, buf[start : start + size]))
        i = start + size
    return out


def parse_search(datagram: bytes) -> tuple[int, str, int, list[str]] | None:
    """``(message id, base, scope, attributes)`` of a searchRequest; None for other messages.

    Walked by hand: ldap3's pyasn1 ``Filter`` leaves ``and``/``or`` without a component
    type (a recursion it cannot declare), so decoding a netlogon ping's filter fails.
    """
    ((tag, body),) = _tlvs(datagram)
    parts = _tlvs(body)
    if tag != 0x30 or len(parts) < 2 or parts[0][0] != 0x02 or parts[1][0] != 0x63:
        return None
    fields = _tlvs(parts[1][1])
    if len(fields) != 8 or fields[0][0] != 0x04 or fields[7][0] != 0x30:
        return None
    attrs = [v.decode("utf-8", "replace") for t, v in _tlvs(fields[7][1]) if t == 0x04]
    mid = int.from_bytes(parts[0][1], "big", signed=True)
    return mid, fields[0][1].decode("utf-8", "replace"), int.from_bytes(fields[1][1], "big"), attrs


def cldap_answer(ident: Identity, global_catalog: bool, datagram: bytes) -> bytes | None:
    """The CLDAP reply to one datagram: searchResEntry and searchResDone concatenated."""
    search = parse_search(datagram)
    if search is None:
        return None
    mid, base, scope, wanted = search
    done = _message(mid, "searchResDone", _result(SearchResultDone, 0))
    if base != "" or scope != 0:
        return _message(mid, "searchResDone", _result(SearchResultDone, 1, NEEDS_BIND))
    if any(w.lower() == "netlogon" for w in wanted):
        entry = entry_message(mid, {"Netlogon": (netlogon_response(ident, global_catalog),)})
        return entry + done
    attrs = _selected(root_dse(ident, False, global_catalog), wanted)
    return entry_message(mid, attrs) + done


async def start(unit: Unit) -> asyncio.Server | TcpAndUdp:
    """Listen for LDAP (``ldap``/``gc``/``adam``: plain with StartTLS; ``adams``: LDAPS);
    the DC's ``ldap`` also answers CLDAP on the same UDP port."""
    adam = unit.service in (Service.adam, Service.adams)
    gc = Service.gc in unit.server.services

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        unit.track(writer)
        buf = b""
        try:
            while True:
                total = _ber_length(buf)
                while total is None or len(buf) < total:
                    if total == -1 or len(buf) > MAX_PDU:
                        return
                    chunk = await asyncio.wait_for(reader.read(4096), IDLE_SECONDS)
                    if not chunk:
                        return
                    buf += chunk
                    total = _ber_length(buf)
                if total is None or total < 0 or total > MAX_PDU:
                    return
                pdu, buf = buf[:total], buf[total:]
                msg, _ = decoder.decode(pdu, asn1Spec=LDAPMessage())
                mid = int(msg["messageID"])
                op = msg["protocolOp"]
                kind = op.getName()
                out: list[bytes] = []
                if kind == "unbindRequest":
                    return
                if kind == "bindRequest":
                    auth = op["bindRequest"]["authentication"]
                    anonymous = auth.getName() == "simple" and not bytes(auth["simple"])
                    out.append(
                        _message(
                            mid,
                            "bindResponse",
                            _result(
                                BindResponse,
                                0 if anonymous else 49,
                                "" if anonymous else BAD_CREDENTIALS,
                            ),
                        )
                    )
                elif kind == "searchRequest":
                    req = op["searchRequest"]
                    if str(req["baseObject"]) == "" and int(req["scope"]) == 0:
                        wanted = [str(a) for a in req["attributes"]]
                        out.append(
                            entry_message(mid, _selected(root_dse(unit.identity, adam, gc), wanted))
                        )
                        out.append(_message(mid, "searchResDone", _result(SearchResultDone, 0)))
                    else:
                        out.append(
                            _message(mid, "searchResDone", _result(SearchResultDone, 1, NEEDS_BIND))
                        )
                elif (
                    kind == "extendedReq" and str(op["extendedReq"]["requestName"]) == START_TLS_OID
                ):
                    resp = _result(ExtendedResponse, 0)
                    resp["responseName"] = ResponseName(START_TLS_OID)  # type: ignore[index]
                    writer.write(_message(mid, "extendedResp", resp))
                    await writer.drain()
                    await writer.start_tls(unit.tls)
                    continue
                else:
                    out.append(
                        _message(mid, "extendedResp", _result(ExtendedResponse, 2, "unsupported"))
                    )
                writer.write(b"".join(out))
                await writer.drain()
        except (TimeoutError, ConnectionError, ssl.SSLError, PyAsn1Error, ValueError, KeyError):
            pass
        finally:
            unit.untrack(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2.0)

    tls = unit.tls if unit.service is Service.adams else None
    server = await asyncio.start_server(on_client, unit.host, unit.port, ssl=tls)
    if unit.service is not Service.ldap:
        return server
    return await with_udp(server, unit.host, lambda d: cldap_answer(unit.identity, gc, d))
