"""RPC endpoint mapper (TCP 135) of the domain controller and of the Exchange server.

A hand-written minimal DCE/RPC dispatcher: no library provides an endpoint-mapper *server*.
The PDUs are impacket's structures (``impacket.dcerpc.v5.rpcrt`` headers, ``epm`` towers and
NDR calls). It answers a bind to the EPM interface (NDR transfer syntax) with a bind_ack,
``ept_lookup`` (opnum 2) with every registered entry in one batch, ``ept_map`` (opnum 3)
with the towers of the asked interface, and any other call with a fault. The interfaces it
registers listen on TCP ports inside the server's RPC dynamic range (KB 154596); each of
those ports is a real listener that accepts and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
from dataclasses import dataclass, replace

from impacket.dcerpc.v5 import epm
from impacket.dcerpc.v5.rpcrt import (
    MSRPC_BIND,
    MSRPC_BINDACK,
    MSRPC_FAULT,
    MSRPC_REQUEST,
    MSRPC_RESPONSE,
    PFC_FIRST_FRAG,
    PFC_LAST_FRAG,
    CtxItem,
    CtxItemResult,
    MSRPCBind,
    MSRPCBindAck,
    MSRPCHeader,
    MSRPCRequestHeader,
    MSRPCRespHeader,
)
from impacket.uuid import string_to_bin, uuidtup_to_bin

from pathsec.lab import tcp
from pathsec.lab.common import Unit
from pathsec.plan.hosts import DEFAULT_RPC_RANGE
from pathsec.topology.models import WindowsVersion

MAX_PDU = 65536
IDLE_SECONDS = 30.0
MAX_XMIT = 5840  # what Windows Server 2008 answers in max_xmit_frag / max_recv_frag
NDR = uuidtup_to_bin(("8a885d04-1ceb-11c9-9fe8-08002b104860", "2.0"))
#: Status codes (MS-RPCE / DCE 1.1).
EPT_S_NOT_REGISTERED = 0x16C9A0D6
NCA_S_OP_RNG_ERROR = 0x1C010002
NCA_S_UNKNOWN_IF = 0x1C010003
FLOOR_RPC_CO = 0x0B  # connection-oriented RPC v5
ASSOC_GROUP = 0x0001F3A5


@dataclass(frozen=True)
class Interface:
    """One registered RPC interface: UUID, version, annotation, and which port group serves it."""

    uuid: str
    version: str
    annotation: str
    group: int


#: Interfaces of a Windows Server 2008 DC: lsass serves netlogon, lsarpc, samr and drsuapi
#: on one port; DFS Replication has its own.
DC_INTERFACES = (
    Interface("12345678-1234-abcd-ef00-01234567cffb", "1.0", "", 0),
    Interface("12345778-1234-abcd-ef00-0123456789ab", "0.0", "", 0),
    Interface("12345778-1234-abcd-ef00-0123456789ac", "1.0", "", 0),
    Interface("e3514235-4b06-11d1-ab04-00c04fc2dcd2", "4.0", "MS NT Directory DRS Interface", 0),
    Interface("897e2e5f-93f3-4376-9c9c-fd2277495c27", "1.0", "Frs2 Service", 1),
)
#: Interfaces of an Exchange 2007 mailbox server: the store (MAPI/EMSMDB) and the System
#: Attendant's directory proxy (NSPI, RFR).
EXCHANGE_INTERFACES = (
    Interface(
        "a4f1db00-ca47-1067-b31f-00dd010662da", "0.81", "Exchange Server STORE EMSMDB Interface", 0
    ),
    Interface(
        "5261574a-4572-206e-b268-6b199213b4e4", "0.1", "Exchange Server STORE ADMIN Interface", 0
    ),
    Interface(
        "f5cc5a18-4264-101a-8c59-08002b2f8426", "56.0", "MS Exchange Directory NSPI Proxy", 1
    ),
    Interface(
        "1544f5e0-613c-11d1-93df-00c04fd7bd09", "1.0", "MS Exchange Directory RFR Interface", 1
    ),
)
#: First port of each group, as an offset from the start of the dynamic range.
GROUP_OFFSETS = {"domain_controller": (3, 6), "exchange": (10, 14)}
PORT_TRIES = 64


def interfaces_for(roles: tuple[str, ...]) -> tuple[tuple[Interface, ...], tuple[int, int]]:
    """The interfaces a server with ``roles`` registers, and the range offsets of its ports."""
    if "domain_controller" in roles:
        return DC_INTERFACES, GROUP_OFFSETS["domain_controller"]
    return EXCHANGE_INTERFACES, GROUP_OFFSETS["exchange"]


def dynamic_range(windows_version: str) -> tuple[int, int]:
    """The default RPC dynamic range of the Windows release (``6.0.6002`` -> 49152-65535)."""
    release = {"5.2": WindowsVersion.w2003, "6.1": WindowsVersion.w2008_r2}.get(
        windows_version[:3], WindowsVersion.w2008
    )
    span = DEFAULT_RPC_RANGE[release]
    return span.start, span.end


def tower(iface: Interface, address: str, port: int) -> bytes:
    """The ``ncacn_ip_tcp`` protocol tower of ``iface`` at ``address:port`` (5 floors)."""
    major, minor = (int(x) for x in iface.version.split("."))
    floor1 = epm.EPMRPCInterface()
    floor1["InterfaceUUID"] = string_to_bin(iface.uuid)
    floor1["MajorVersion"] = major
    floor1["MinorVersion"] = minor
    floor2 = epm.EPMRPCDataRepresentation()
    floor2["DataRepUuid"] = NDR[:16]
    floor2["MajorVersion"] = 2
    floor2["MinorVersion"] = 0
    floor3 = epm.EPMProtocolIdentifier()
    floor3["ProtIdentifier"] = FLOOR_RPC_CO
    floor4 = epm.EPMPortAddr()
    floor4["IpPort"] = port
    floor5 = epm.EPMHostAddr()
    floor5["Ip4addr"] = socket.inet_aton(address)
    t = epm.EPMTower()
    t["NumberOfFloors"] = 5
    t["Floors"] = b"".join(f.getData() for f in (floor1, floor2, floor3, floor4, floor5))
    return bytes(t.getData())


@dataclass(frozen=True)
class Registration:
    """One endpoint-map entry: an interface and the port it listens on."""

    iface: Interface
    port: int


class EndpointMap:
    """The endpoint map of one server: entries and the PDUs that answer a client."""

    def __init__(self, address: str, registrations: tuple[Registration, ...]) -> None:
        self.address = address
        self.registrations = registrations

    def lookup(self, stub: bytes) -> bytes:
        """The NDR stub of the ``ept_lookup`` response (every entry, null context handle)."""
        req = epm.ept_lookup(stub)
        max_ents = int(req["max_ents"])
        regs = self.registrations[:max_ents] if max_ents else ()
        resp = epm.ept_lookupResponse()
        resp["entry_handle"] = epm.ept_lookup_handle_t()
        resp["num_ents"] = len(regs)
        entries = []
        for r in regs:
            entry = epm.ept_entry_t()
            entry["object"] = b"\x00" * 16
            raw = tower(r.iface, self.address, r.port)
            entry["tower"]["tower_length"] = len(raw)
            entry["tower"]["tower_octet_string"] = raw
            entry["annotation"] = (r.iface.annotation + "\x00").encode("latin-1")
            entries.append(entry)
        resp["entries"] = entries
        resp["status"] = 0 if regs else EPT_S_NOT_REGISTERED
        return bytes(resp.getData())

    def map(self, stub: bytes) -> bytes:
        """The NDR stub of the ``ept_map`` response: towers of the interface asked for."""
        req = epm.ept_map(stub)
        asked = epm.EPMTower(b"".join(req["map_tower"]["tower_octet_string"]))
        floor = epm.EPMRPCInterface(asked["Floors"][0].getData())
        wanted = (floor["InterfaceUUID"], int(floor["MajorVersion"]))
        hits = [
            r
            for r in self.registrations
            if (string_to_bin(r.iface.uuid), int(r.iface.version.split(".")[0])) == wanted
        ][: max(int(req["max_towers"]), 0)]
        resp = epm.ept_mapResponse()
        resp["entry_handle"] = epm.ept_lookup_handle_t()
        resp["num_towers"] = len(hits)
        towers = []
        for r in hits:
            p = epm.twr_p_t()
            raw = tower(r.iface, self.address, r.port)
            p["tower_length"] = len(raw)
            p["tower_octet_string"] = raw
            towers.append(p)
        resp["ITowers"] = towers
        resp["status"] = 0 if hits else EPT_S_NOT_REGISTERED
        return bytes(resp.getData())


def bind_ack(bind_pdu: MSRPCHeader, local_port: int) -> bytes:
    """The bind_ack: the EPM interface with NDR accepted, any other context rejected."""
    bind = MSRPCBind(bind_pdu["pduData"])
    items = bytes(bind["ctx_items"])
    results = []
    size = len(CtxItem())
    for i in range(bind["ctx_num"]):
        item = CtxItem(items[i * size : (i + 1) * size])
        ok = (
            bytes(item["AbstractSyntax"]) == epm.MSRPC_UUID_PORTMAP
            and bytes(item["TransferSyntax"]) == NDR
        )
        res = CtxItemResult()
        # 0 acceptance; 2 provider rejection, reason 1 abstract syntax / 2 transfer syntax
        res["Result"] = 0 if ok else 2
        res["Reason"] = 0 if ok else (2 if item["AbstractSyntax"] == epm.MSRPC_UUID_PORTMAP else 1)
        res["TransferSyntax"] = NDR if ok else b"\x00" * 20
        results.append(res.getData())
    # MSRPCBindAck parses a bind_ack well but cannot build one (its length-prefixed
    # secondary address packs wrongly), so the body after the common header is packed here
    # and checked against that parser in the tests.
    secondary = str(local_port).encode("ascii") + b"\x00"
    body = struct.pack(
        "<HHLH",
        min(int(bind["max_tfrag"]), MAX_XMIT),
        min(int(bind["max_rfrag"]), MAX_XMIT),
        int(bind["assoc_group"]) or ASSOC_GROUP,
        len(secondary),
    )
    body += secondary
    body += b"\x00" * ((4 - (MSRPCBindAck._SIZE + len(secondary)) % 4) % 4)
    body += struct.pack("<BBH", len(results), 0, 0) + b"".join(results)
    ack = MSRPCHeader()
    ack["type"] = MSRPC_BINDACK
    ack["flags"] = PFC_FIRST_FRAG | PFC_LAST_FRAG
    ack["call_id"] = bind_pdu["call_id"]
    ack["pduData"] = body
    return bytes(ack.getData())


def response(call_id: int, stub: bytes) -> bytes:
    """A single-fragment response PDU carrying ``stub``."""
    r = MSRPCRespHeader()
    r["type"] = MSRPC_RESPONSE
    r["flags"] = PFC_FIRST_FRAG | PFC_LAST_FRAG
    r["call_id"] = call_id
    r["alloc_hint"] = len(stub)
    r["pduData"] = stub
    return bytes(r.getData())


def fault(call_id: int, status: int) -> bytes:
    """A fault PDU with ``status``."""
    r = MSRPCRespHeader()
    r["type"] = MSRPC_FAULT
    r["flags"] = PFC_FIRST_FRAG | PFC_LAST_FRAG
    r["call_id"] = call_id
    r["pduData"] = struct.pack("<LL", status, 0)
    return bytes(r.getData())


def answer(emap: EndpointMap, pdu: bytes, local_port: int, bound: bool) -> tuple[bytes, bool]:
    """The reply to one PDU and whether the association is now bound."""
    head = MSRPCHeader(pdu)
    if head["type"] == MSRPC_BIND:
        ack = bind_ack(head, local_port)
        return ack, bound or MSRPCBindAck(ack).getCtxItem(1)["Result"] == 0
    if head["type"] != MSRPC_REQUEST:
        return fault(head["call_id"], NCA_S_OP_RNG_ERROR), bound
    req = MSRPCRequestHeader(pdu)
    call_id = int(req["call_id"])
    if not bound:
        return fault(call_id, NCA_S_UNKNOWN_IF), bound
    handlers = {2: emap.lookup, 3: emap.map}
    handler = handlers.get(int(req["op_num"]))
    if handler is None:
        return fault(call_id, NCA_S_OP_RNG_ERROR), bound
    return response(call_id, handler(bytes(req["pduData"]))), bound


class _RpcServer:
    """The endpoint mapper plus the dynamic-port listeners, closed together."""

    def __init__(self, mapper: asyncio.Server, dynamic: list[asyncio.Server]) -> None:
        self.mapper = mapper
        self.dynamic = dynamic

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        """The endpoint mapper's listening sockets."""
        return self.mapper.sockets

    def close(self) -> None:
        """Stop every listener."""
        self.mapper.close()
        for d in self.dynamic:
            d.close()

    async def wait_closed(self) -> None:
        """Wait until every listener is closed."""
        await self.mapper.wait_closed()
        for d in self.dynamic:
            await d.wait_closed()


async def _listen_in_range(unit: Unit, first: int, end: int) -> asyncio.Server:
    """A plain listener on the first free port from ``first`` (at most PORT_TRIES tries)."""
    for port in range(first, min(first + PORT_TRIES, end + 1)):
        with contextlib.suppress(OSError):
            return await tcp.start(replace(unit, port=port))
    raise OSError(f"no free port in {first}-{min(first + PORT_TRIES, end + 1) - 1}")


async def start(unit: Unit) -> _RpcServer:
    """Listen for the endpoint mapper and on the ports of its registered interfaces."""
    low, high = dynamic_range(unit.profile.windows_version)
    ifaces, offsets = interfaces_for(tuple(unit.server.roles))
    dynamic: list[asyncio.Server] = []
    try:
        ports = []
        for off in offsets:
            srv = await _listen_in_range(unit, low + off, high)
            dynamic.append(srv)
            ports.append(int(srv.sockets[0].getsockname()[1]))
        regs = tuple(Registration(i, ports[i.group]) for i in ifaces)
        emap = EndpointMap(unit.host, regs)

        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            unit.track(writer)
            local_port = int(writer.get_extra_info("sockname")[1])
            bound = False
            try:
                while True:
                    head = await asyncio.wait_for(reader.readexactly(16), IDLE_SECONDS)
                    frag_len = int.from_bytes(head[8:10], "little")
                    if head[0] != 5 or not 16 <= frag_len <= MAX_PDU:
                        return
                    rest = await asyncio.wait_for(reader.readexactly(frag_len - 16), IDLE_SECONDS)
                    reply, bound = answer(emap, head + rest, local_port, bound)
                    writer.write(reply)
                    await writer.drain()
            except (
                TimeoutError,
                asyncio.IncompleteReadError,
                ConnectionError,
                ssl.SSLError,
            ):
                pass
            except Exception:  # impacket's parsers raise bare Exceptions on a malformed PDU
                pass  # which ends the association, as on Windows
            finally:
                unit.untrack(writer)
                writer.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(writer.wait_closed(), 2.0)

        mapper = await asyncio.start_server(on_client, unit.host, unit.port)
    except BaseException:
        for d in dynamic:
            d.close()
        raise
    return _RpcServer(mapper, dynamic)
