"""TCP probe: open, closed (refused) or filtered (no answer), and the connect time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Literal

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
        """Connect and close at once."""
        ep = job.endpoint
        transcript = Transcript()
        local = (settings.source_address, 0) if settings.source_address else None
        start = time.monotonic()
        try:
            async with asyncio.timeout(settings.timeout):
                _, writer = await asyncio.open_connection(ep.host, ep.port, local_addr=local)
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
        writer.close()
        try:
            async with asyncio.timeout(1.0):
                await writer.wait_closed()
        except (OSError, TimeoutError):
            pass
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
