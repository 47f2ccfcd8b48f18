"""Kerberos KDC on the domain controller (TCP and UDP 88): every AS-REQ gets a KRB-ERROR.

Hand-written on impacket's Kerberos ASN.1 structures (``impacket.krb5.asn1``): no KDC
library is a dependency, and the lab holds no principals, so every request is answered
KDC_ERR_C_PRINCIPAL_UNKNOWN in the domain's realm, as a DC does for an unknown user.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl

from impacket.krb5 import constants
from impacket.krb5.asn1 import AS_REQ, KRB_ERROR, seq_set
from impacket.krb5.types import KerberosTime, Principal
from pyasn1.codec.der import decoder, encoder  # type: ignore[import-untyped]
from pyasn1.error import PyAsn1Error  # type: ignore[import-untyped]

from pathsec.lab.common import TcpAndUdp, Unit, with_udp

MAX_REQUEST = 65536
IDLE_SECONDS = 30.0


def error_reply(realm: str, request: bytes, now: dt.datetime | None = None) -> bytes:
    """The DER KRB-ERROR (KDC_ERR_C_PRINCIPAL_UNKNOWN) answering ``request`` (an AS-REQ)."""
    now = now or dt.datetime.now(dt.UTC)
    err = KRB_ERROR()
    err["pvno"] = 5
    err["msg-type"] = constants.ApplicationTagNumbers.KRB_ERROR.value
    err["stime"] = KerberosTime.to_asn1(now)
    err["susec"] = now.microsecond
    err["error-code"] = constants.ErrorCodes.KDC_ERR_C_PRINCIPAL_UNKNOWN.value
    err["realm"] = realm
    sname = Principal(f"krbtgt/{realm}", type=constants.PrincipalNameType.NT_SRV_INST.value)
    with contextlib.suppress(PyAsn1Error, KeyError, ValueError):
        req, _ = decoder.decode(request, asn1Spec=AS_REQ())
        body = req["req-body"]
        if body["cname"].hasValue():
            names = [str(n) for n in body["cname"]["name-string"]]
            client = Principal("/".join(names), type=int(body["cname"]["name-type"]))
            err["crealm"] = realm
            seq_set(err, "cname", client.components_to_asn1)
    seq_set(err, "sname", sname.components_to_asn1)
    return bytes(encoder.encode(err))


async def start(unit: Unit) -> TcpAndUdp:
    """Listen for Kerberos over TCP (4-byte length prefix, RFC 4120 §7.2.2) and over UDP on
    the same port (one message per datagram, no prefix, §7.2.1)."""
    realm = unit.identity.dns_domain.upper()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        unit.track(writer)
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(4), IDLE_SECONDS)
                size = int.from_bytes(head, "big")
                if size > MAX_REQUEST:
                    return
                request = await asyncio.wait_for(reader.readexactly(size), IDLE_SECONDS)
                reply = error_reply(realm, request)
                writer.write(len(reply).to_bytes(4, "big") + reply)
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            unit.untrack(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2.0)

    tcp = await asyncio.start_server(on_client, unit.host, unit.port)
    return await with_udp(tcp, unit.host, lambda data: error_reply(realm, data))
