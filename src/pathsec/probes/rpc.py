"""RPC probe (135): an endpoint-mapper lookup without credentials, and the dynamic ports seen.

One connection to the endpoint mapper, an anonymous bind to its interface and ``ept_lookup``
(what ``rpcdump`` does). The TCP ports it hands out (``ncacn_ip_tcp`` towers) are the
dynamic RPC ports in use; the audit compares them with the configured range (KB 154596).
impacket is synchronous, so the job runs in a thread of the run's pool
(:mod:`pathsec.probes.blocking`) with socket timeouts.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from pathsec.probes.blocking import run_blocking
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
    ProtocolError,
    Speaks,
    Status,
)
from pathsec.probes.runtime import guarded
from pathsec.probes.text import Transcript, clean_text

MAX_ENTRIES = 2000
_TCP_BINDING = re.compile(r"^ncacn_ip_tcp:[^\[]*\[(\d{1,5})\]$")


class RpcObservation(Observation):
    """What the endpoint mapper disclosed."""

    entries: int = 0
    enumerated: bool = Field(
        default=True, description="False: the mapper refused ept_lookup; interfaces were mapped."
    )
    tcp_ports: tuple[int, ...] = ()
    bindings: tuple[str, ...] = ()
    truncated: bool = False


def tcp_ports(bindings: Sequence[str]) -> tuple[int, ...]:
    """The TCP ports in ``ncacn_ip_tcp:HOST[PORT]`` string bindings, sorted, unique."""
    ports = set()
    for b in bindings:
        m = _TCP_BINDING.match(b)
        if m and 1 <= int(m.group(1)) <= 65535:  # the peer's text: drop impossible ports
            ports.add(int(m.group(1)))
    return tuple(sorted(ports))


#: Interfaces asked for one by one (``ept_map``) when the mapper refuses to enumerate:
#: netlogon, lsarpc, samr, drsuapi.
MAP_INTERFACES = (
    ("12345678-1234-abcd-ef00-01234567cffb", "1.0"),
    ("12345778-1234-abcd-ef00-0123456789ab", "0.0"),
    ("12345778-1234-abcd-ef00-0123456789ac", "1.0"),
    ("e3514235-4b06-11d1-ab04-00c04fc2dcd2", "4.0"),
)


class _BoundOnce:
    """The DCE/RPC connection after its one bind: impacket's helpers bind again, which a
    server rejects on the same connection, so later binds are no-ops."""

    def __init__(self, dce: Any) -> None:
        self._dce = dce

    def bind(self, *args: object, **kwargs: object) -> None:
        """Already bound."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dce, name)


def _load_impacket() -> None:
    """Import impacket's DCE/RPC modules (~0.1 s) on first use, not when pathsec starts."""
    import impacket.dcerpc.v5.epm
    import impacket.dcerpc.v5.rpcrt
    import impacket.dcerpc.v5.transport
    import impacket.uuid  # noqa: F401


def _lookup(ep: Endpoint, settings: ProbeSettings) -> RpcObservation:
    from impacket.dcerpc.v5 import epm, transport
    from impacket.dcerpc.v5.rpcrt import DCERPCException
    from impacket.uuid import uuidtup_to_bin

    trans = transport.DCERPCTransportFactory(f"ncacn_ip_tcp:{ep.host}[{ep.port}]")
    trans.set_connect_timeout(settings.timeout)
    dce = trans.get_dce_rpc()
    bindings: list[str] = []
    entries: list[Any] = []
    enumerated = True
    try:
        dce.connect()
        dce.bind(epm.MSRPC_UUID_PORTMAP)
        once = _BoundOnce(dce)
        try:
            entries = list(epm.hept_lookup(None, dce=once))
        except DCERPCException as exc:
            if "ept_s_not_registered" not in str(exc):
                raise
            enumerated = False  # e.g. Samba: no enumeration, ask per interface
            for uuid, ver in MAP_INTERFACES:
                try:
                    got = epm.hept_map(
                        ep.host, uuidtup_to_bin((uuid, ver)), protocol="ncacn_ip_tcp", dce=once
                    )
                except DCERPCException:
                    continue
                if got:
                    bindings.append(str(got))
    except (OSError, TimeoutError):
        raise
    except Exception as exc:  # impacket raises DCERPCException and bare Exceptions
        text = str(exc)
        if "refused" in text.lower():
            raise ConnectionRefusedError("connection refused") from None
        if "timed out" in text.lower():
            raise TimeoutError(text) from None
        raise ProtocolError(
            clean_text(f"endpoint mapper: {text or type(exc).__name__}", 200)
        ) from None
    finally:
        # closing a half-open impacket transport may raise anything
        with contextlib.suppress(Exception):
            dce.disconnect()
    for entry in entries[:MAX_ENTRIES]:
        try:
            bindings.append(str(epm.PrintStringBinding(entry["tower"]["Floors"])))
        except Exception:  # an unusual tower: skip it, keep the rest
            continue
    return RpcObservation(
        entries=len(entries) if enumerated else len(bindings),
        enumerated=enumerated,
        tcp_ports=tcp_ports(bindings),
        bindings=tuple(clean_text(b, 120) for b in dict.fromkeys(bindings))[:200],
        truncated=len(entries) > MAX_ENTRIES,
    )


class RpcProbe(Probe[RpcObservation]):
    """The RPC probe: one endpoint-mapper lookup."""

    kind = ProbeKind.rpc
    observation = RpcObservation
    speaks = (Speaks(AppProtocol.rpc, (135,)),)

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """Always one job."""
        return (Job(self.kind, endpoint),)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Look up every registered endpoint."""
        _load_impacket()  # here, not first in the worker threads

        async def body(transcript: Transcript) -> BaseModel:
            transcript.add("C", "bind epmapper; ept_lookup (no credentials)")
            obs = await run_blocking(lambda: _lookup(job.endpoint, settings), settings.timeout * 3)
            transcript.add(
                "S", f"{obs.entries} endpoints; TCP ports {', '.join(map(str, obs.tcp_ports[:20]))}"
            )
            return obs

        return await guarded(job, body, settings)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> RpcObservation:
        """The single attempt's observation."""
        return self.fold_one(attempts)

    def summary(self, obs: RpcObservation) -> str:
        """How many endpoints the mapper listed, and their TCP ports."""
        if obs.status is not Status.ok:
            return ""
        return f"{obs.entries} endpoints, TCP {' '.join(map(str, obs.tcp_ports[:8]))}"

    def facts(self, obs: RpcObservation) -> Facts:
        """Whether the lookup worked (the ports change by design)."""
        return {"rpc.lookup": obs.status.value}
