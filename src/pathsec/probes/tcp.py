"""TCP probe: open, closed (refused) or filtered (no answer), and the connect time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Literal

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
    Stage,
    Status,
)
from pathsec.probes.runtime import ConnectRecord, classify, open_socket
from pathsec.probes.text import Transcript

State = Literal["open", "closed", "filtered", "error"]


class TcpObservation(Observation):
    """Whether the port accepts connections, and how fast."""

    state: Literal["open", "closed", "filtered", "error"] = "error"
    connect_ms: float | None = None


class TcpProbe(Probe[TcpObservation]):
    """The TCP probe: one connect, no payload (also the whole audit of a bare ``tcp`` port)."""

    kind = ProbeKind.tcp
    observation = TcpObservation
    stage = Stage.connect
    speaks = (Speaks(AppProtocol.tcp),)

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """Always one connect."""
        return (Job(self.kind, endpoint),)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Connect and close at once (a bare socket: no stream, no protocol object)."""
        ep = job.endpoint
        start = time.monotonic()
        try:
            async with asyncio.timeout(settings.timeout):
                sock = await open_socket(ep, settings)
        except (OSError, TimeoutError) as exc:
            return _failed(job, exc)
        elapsed = (time.monotonic() - start) * 1000
        sock.close()
        return _open(job, elapsed)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> TcpObservation:
        """The single connect."""
        return self.fold_one(attempts)

    def summary(self, obs: TcpObservation) -> str:
        """Nothing beyond the status: no payload was exchanged."""
        return ""

    def facts(self, obs: TcpObservation) -> Facts:
        """Open, closed or filtered."""
        return {"tcp": obs.state}


def from_connect(record: ConnectRecord, attempt: Attempt) -> TcpObservation:
    """The TCP observation an application probe's own first connect gives.

    The same observation the TCP probe's separate connection would have made: ``open`` with
    the connect time, or ``closed``/``filtered``/``error`` with the connect's reason. A job
    that ended before its connect settled counts as its own status says.
    """
    tcp_job = Job(ProbeKind.tcp, attempt.job.endpoint)
    if record.ms is not None:
        a = _open(tcp_job, record.ms)
    elif isinstance(record.error, (OSError, TimeoutError)):
        a = _failed(tcp_job, record.error)
    else:
        reason = attempt.reason or "no connection"
        a = Attempt(
            tcp_job,
            attempt.status,
            reason,
            (f"*: {reason}",),
            TcpObservation(state=_state(attempt.status)),
        )
    return TcpProbe().fold(attempt.job.endpoint, (a,))


def _state(status: Status) -> State:
    if status is Status.refused:
        return "closed"
    if status is Status.timeout:
        return "filtered"
    return "open" if status is Status.ok else "error"


def _failed(job: Job, exc: BaseException) -> Attempt:
    status, reason = classify(exc)
    transcript = Transcript()
    transcript.note(reason)
    return Attempt(job, status, reason, transcript.freeze(), TcpObservation(state=_state(status)))


def _open(job: Job, elapsed_ms: float) -> Attempt:
    transcript = Transcript()
    transcript.note(f"connected in {elapsed_ms:.1f} ms")
    return Attempt(
        job,
        Status.ok,
        None,
        transcript.freeze(),
        TcpObservation(state="open", connect_ms=round(elapsed_ms, 2)),
    )
