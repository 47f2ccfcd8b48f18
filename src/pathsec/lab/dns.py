"""DNS on the domain controller (53, TCP and UDP): the AD zone with SOA, A and SRV records.

Messages are parsed and built with dnspython; the listener is a few lines of asyncio
because dnspython is a client library. SRV records name the real ports, as AD publishes
them; where the lab maps ports, ``lab-endpoints.json`` has the mapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl

import dns.exception
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from pathsec.lab.common import Unit
from pathsec.lab.profiles import SERVICE_PORTS, Service

IDLE_SECONDS = 30.0
TTL = 600


def zone_records(unit: Unit) -> list[tuple[str, str, str]]:
    """``(name, type, text)`` records of the AD zone the DC serves."""
    p = unit.profile
    d = p.dns_domain
    dc = unit.identity.fqdn
    recs = [
        (d, "SOA", f"{dc}. hostmaster.{d}. 2026112801 900 600 86400 3600"),
        (d, "NS", f"{dc}."),
        (d, "A", unit.server.address),
    ]
    for s in p.servers:
        recs.append((p.fqdn(s), "A", s.address))
    srv = [
        ("_ldap._tcp", SERVICE_PORTS[Service.ldap]),
        ("_ldap._tcp.dc._msdcs", SERVICE_PORTS[Service.ldap]),
        ("_kerberos._tcp", SERVICE_PORTS[Service.kerberos]),
        ("_kerberos._udp", SERVICE_PORTS[Service.kerberos]),
        ("_kpasswd._tcp", 464),
        ("_gc._tcp", SERVICE_PORTS[Service.gc]),
    ]
    recs += [(f"{label}.{d}", "SRV", f"0 100 {port} {dc}.") for label, port in srv]
    return recs


def answer(unit: Unit, wire: bytes) -> bytes | None:
    """The response to one query in wire format (None for garbage)."""
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return None
    resp = dns.message.make_response(query)
    resp.flags |= dns.flags.AA
    if not query.question:
        resp.set_rcode(dns.rcode.FORMERR)
        return bytes(resp.to_wire())
    q = query.question[0]
    qname = q.name.to_text(omit_final_dot=True).lower()
    records = zone_records(unit)
    known = {n.lower() for n, _, _ in records}
    hits = [
        r
        for r in records
        if r[0].lower() == qname
        and (q.rdtype == dns.rdatatype.ANY or dns.rdatatype.from_text(r[1]) == q.rdtype)
    ]
    for name, rtype, text in hits:
        resp.answer.append(dns.rrset.from_text(name + ".", TTL, "IN", rtype, text))
    if not hits:
        domain = unit.profile.dns_domain
        if qname not in known:
            resp.set_rcode(dns.rcode.NXDOMAIN if qname.endswith(domain) else dns.rcode.REFUSED)
        soa = next(r for r in records if r[1] == "SOA")
        if qname.endswith(domain):
            resp.authority.append(dns.rrset.from_text(soa[0] + ".", TTL, "IN", "SOA", soa[2]))
    return bytes(resp.to_wire())


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        reply = answer(self.unit, data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply[:512], addr)


class _DnsServer:
    """The TCP server plus the UDP endpoint on the same port, closed together."""

    def __init__(self, tcp: asyncio.Server, udp: asyncio.BaseTransport | None):
        self.tcp = tcp
        self.udp = udp

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        """The TCP listening sockets."""
        return self.tcp.sockets

    def close(self) -> None:
        """Stop listening on TCP and UDP."""
        self.tcp.close()
        if self.udp is not None:
            self.udp.close()

    async def wait_closed(self) -> None:
        """Wait until the TCP server is closed."""
        await self.tcp.wait_closed()


async def start(unit: Unit) -> _DnsServer:
    """Listen for DNS over TCP, and over UDP on the same port number."""

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        unit.track(writer)
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(2), IDLE_SECONDS)
                wire = await asyncio.wait_for(
                    reader.readexactly(int.from_bytes(head, "big")), IDLE_SECONDS
                )
                reply = answer(unit, wire)
                if reply is None:
                    return
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            unit.untrack(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2.0)

    tcp = await asyncio.start_server(on_client, unit.host, unit.port)
    port = tcp.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    try:
        udp, _ = await loop.create_datagram_endpoint(
            lambda: _Udp(unit), local_addr=(unit.host, port)
        )
    except OSError:
        tcp.close()
        raise
    return _DnsServer(tcp, udp)
