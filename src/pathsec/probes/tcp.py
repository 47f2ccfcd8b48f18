"""TCP probe: open, closed (refused) or filtered (no answer), and the connect time."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pathsec.probes.base import (
    Attempt,
    Endpoint,
    Job,
    Observation,
    ProbeKind,
    ProbeSettings,
    Status,
    Transcript,
    classify,
    is_ip,
)


class TcpObservation(Observation):
    """Whether the port accepts connections, and how fast."""

    state: Literal["open", "closed", "filtered", "error"] = "error"
    connect_ms: float | None = None


class TcpProbe:
    """The TCP probe: one connect, no payload."""

    kind = ProbeKind.tcp

    def plan(
        self, endpoint: Endpoint, settings: ProbeSettings, prior: Mapping[ProbeKind, Observation]
    ) -> Sequence[Job]:
        """Always one connect."""
        return (Job(self.kind, endpoint),)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Connect and close at once (a bare socket: no stream, no protocol object)."""
        ep = job.endpoint
        transcript = Transcript()
        start = time.monotonic()
        try:
            async with asyncio.timeout(settings.timeout):
                sock = await _connect(ep, settings)
        except (OSError, TimeoutError) as exc:
            status, reason = classify(exc)
            transcript.note(reason)
            state: Literal["open", "closed", "filtered", "error"] = (
                "closed"
                if status is Status.refused
                else "filtered"
                if status is Status.timeout
                else "error"
            )
            return Attempt(job, status, reason, transcript.freeze(), TcpObservation(state=state))
        elapsed = (time.monotonic() - start) * 1000
        sock.close()
        transcript.note(f"connected in {elapsed:.1f} ms")
        return Attempt(
            job,
            Status.ok,
            None,
            transcript.freeze(),
            TcpObservation(state="open", connect_ms=round(elapsed, 2)),
        )

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> TcpObservation:
        """The single connect."""
        a = attempts[0]
        base = a.value if isinstance(a.value, TcpObservation) else TcpObservation()
        return base.model_copy(
            update={"status": a.status, "reason": a.reason, "transcript": a.transcript}
        )


async def _connect(ep: Endpoint, settings: ProbeSettings) -> socket.socket:
    """A connected non-blocking socket to ``ep`` (names resolved off the event loop)."""
    loop = asyncio.get_running_loop()
    if is_ip(ep.host):
        ip_family = socket.AF_INET6 if ":" in ep.host else socket.AF_INET
        addresses: list[tuple[int, tuple[Any, ...]]] = [(ip_family, (ep.host, ep.port))]
    else:
        infos = await loop.getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM)
        addresses = [(info[0], info[4]) for info in infos]
    error: OSError = OSError(f"no address for {ep.host}")
    for family, address in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            if settings.source_address:
                sock.bind((settings.source_address, 0))
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise error
