"""UDP probe where the reference names UDP: CLDAP 389 and bare ports (cluster heartbeat 3343).

UDP has no handshake: a protocol-correct request (CLDAP: an anonymous rootDSE search) that
gets an answer proves the port open; an ICMP port-unreachable makes it ``closed``; silence
is ``open|filtered`` (a firewall drop and a service that ignores the datagram look alike).
Kerberos and DNS over UDP are probed by their own modules with :func:`udp_exchange`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pathsec.probes.interface import (
    AppProtocol,
    Attempt,
    Endpoint,
    Facts,
    Job,
    Observation,
    Prior,
    Probe,
    ProbeKind,
    ProbeSettings,
    Speaks,
)
from pathsec.probes.runtime import guarded
from pathsec.probes.text import Transcript

MAX_DATAGRAM = 65535
UdpState = Literal["open", "closed", "open|filtered"]


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: object) -> None:
        if not self.reply.done():
            self.reply.set_result(data[:MAX_DATAGRAM])

    def error_received(self, exc: Exception) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)


async def udp_exchange(
    endpoint: Endpoint, payload: bytes, settings: ProbeSettings, transcript: Transcript
) -> bytes | None:
    """Send one datagram; the first reply, or None on silence. ICMP unreachable raises
    :class:`ConnectionRefusedError`."""
    loop = asyncio.get_running_loop()
    local = (settings.source_address, 0) if settings.source_address else None
    transport, proto = await loop.create_datagram_endpoint(
        _Receiver, remote_addr=(endpoint.host, endpoint.port), local_addr=local
    )
    try:
        transcript.add("C", f"datagram of {len(payload)} bytes")
        transport.sendto(payload)
        try:
            async with asyncio.timeout(settings.timeout):
                data = await proto.reply
        except TimeoutError:
            transcript.note("no reply within the timeout")
            return None
        transcript.add("S", f"datagram of {len(data)} bytes")
        return data
    finally:
        transport.close()


def _ber_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _ber_len(len(body)) + body


def cldap_rootdse_request(message_id: int = 1) -> bytes:
    """An LDAP searchRequest for the rootDSE (base '', present objectClass, attribute
    dnsHostName), as CLDAP sends it over UDP."""
    attrs = _tlv(0x30, _tlv(0x04, b"dnsHostName") + _tlv(0x04, b"supportedCapabilities"))
    search = _tlv(
        0x63,
        _tlv(0x04, b"")  # baseObject
        + _tlv(0x0A, b"\x00")  # scope base
        + _tlv(0x0A, b"\x00")  # neverDerefAliases
        + _tlv(0x02, b"\x00")  # sizeLimit
        + _tlv(0x02, b"\x00")  # timeLimit
        + _tlv(0x01, b"\x00")  # typesOnly false
        + _tlv(0x87, b"objectClass")  # present filter
        + attrs,
    )
    return _tlv(0x30, _tlv(0x02, bytes([message_id])) + search)


def looks_like_ldap(data: bytes) -> bool:
    """True when a datagram starts like an LDAPMessage (SEQUENCE, INTEGER message id)."""
    if len(data) < 5 or data[0] != 0x30:
        return False
    i = 2 + (data[1] & 0x7F if data[1] & 0x80 else 0)
    return i < len(data) and data[i] == 0x02


class UdpObservation(Observation):
    """The state of a UDP port and the size of the reply, if any."""

    state: UdpState = "open|filtered"
    request: str = "empty datagram"
    reply_bytes: int | None = None
    protocol_reply: bool = False


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    obs: UdpObservation


class UdpProbe(Probe[UdpObservation]):
    """The UDP probe: one datagram (CLDAP search on ``cldap`` endpoints)."""

    kind = ProbeKind.udp
    observation = UdpObservation
    speaks = (
        Speaks(AppProtocol.cldap, (389,), transport="udp"),
        Speaks(AppProtocol.udp, transport="udp"),
    )

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """Always one job."""
        return (Job(self.kind, endpoint),)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Send the request and classify the outcome."""
        cldap = job.endpoint.protocol is AppProtocol.cldap

        async def body(transcript: Transcript) -> BaseModel:
            payload = cldap_rootdse_request() if cldap else b"\x00"
            request = "CLDAP rootDSE search" if cldap else "one-byte datagram"
            try:
                data = await udp_exchange(job.endpoint, payload, settings, transcript)
            except ConnectionRefusedError:
                transcript.note("ICMP port unreachable")
                return _Value(obs=UdpObservation(state="closed", request=request))
            if data is None:
                return _Value(obs=UdpObservation(state="open|filtered", request=request))
            return _Value(
                obs=UdpObservation(
                    state="open",
                    request=request,
                    reply_bytes=len(data),
                    protocol_reply=looks_like_ldap(data) if cldap else True,
                )
            )

        return await guarded(job, body, settings)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> UdpObservation:
        """The single attempt's observation."""
        a = attempts[0]
        base = a.value.obs if isinstance(a.value, _Value) else UdpObservation()
        return base.model_copy(
            update={"status": a.status, "reason": a.reason, "transcript": a.transcript}
        )

    def summary(self, obs: UdpObservation) -> str:
        """The port's state."""
        return f"UDP {obs.state}"

    def facts(self, obs: UdpObservation) -> Facts:
        """The port's state."""
        return {"udp": obs.state}
