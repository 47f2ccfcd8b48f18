"""The audit engine: run the probes against many endpoints under a connection budget.

Two semaphores bound the connections: a global one and one per host. Endpoints run
concurrently in an :class:`asyncio.TaskGroup`; within an endpoint the probes run in stages
(``tcp``; the application probe; ``tls`` and ``ntlm``) because later stages plan from what
earlier ones saw. An application probe whose first act is a TCP connect (``reports_connect``)
replaces the ``tcp`` stage: its own connect tells open, closed or filtered and the connect
time, one connection less per endpoint. The engine never prints: it reports to an
:class:`AuditObserver`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pathsec.audit.models import EndpointResult, Target
from pathsec.audit.observations import ObservationsBase, observations
from pathsec.compaction import compact
from pathsec.errors import InputError, InputProblem
from pathsec.probes import registry
from pathsec.probes.blocking import sync_pool
from pathsec.probes.interface import (
    Attempt,
    Job,
    Observation,
    Prior,
    ProbeKind,
    ProbeSettings,
    Status,
)
from pathsec.probes.runtime import ConnectRecord, record_connect
from pathsec.probes.shared import shared_work
from pathsec.probes.tcp import TcpObservation, from_connect
from pathsec.probes.text import clean_text

#: Tuned with bench/bench_audit.py (RESULTS.md): 256 connections keep a loopback audit
#: CPU-bound (512 was no faster) and need less memory.
DEFAULT_CONCURRENCY = 256
DEFAULT_PER_HOST = 8
#: No job (one connection) may take longer than this many ``--timeout`` periods in all: a
#: server that trickles one line just inside every read timeout is cut off here.
JOB_TIMEOUT_FACTOR = 8


class AuditObserver(Protocol):
    """Receives progress; the CLI renders it, tests record it."""

    def run_started(self, endpoints: int) -> None:
        """The run starts with this many endpoints."""

    def endpoint_done(self, result: EndpointResult) -> None:
        """One endpoint is finished."""

    def run_finished(self) -> None:
        """All endpoints are finished."""


class NullObserver:
    """An observer that ignores everything."""

    def run_started(self, endpoints: int) -> None:
        """Ignore."""

    def endpoint_done(self, result: EndpointResult) -> None:
        """Ignore."""

    def run_finished(self) -> None:
        """Ignore."""


@dataclass(frozen=True)
class Limits:
    """The connection budget."""

    concurrency: int = DEFAULT_CONCURRENCY
    per_host: int = DEFAULT_PER_HOST
    max_rate: float | None = None  # new connections per second (None: unpaced)


def stages(target: Target) -> tuple[tuple[ProbeKind, ...], ...]:
    """The probe stages for a target's protocol (:func:`pathsec.probes.registry.stages`)."""
    return registry.stages(target.protocol)


class Engine:
    """Runs probes with a global and a per-host connection limit.

    ``skip`` leaves follow-up probes out (``pathsec discover`` reads what the application
    probes saw and needs no TLS version table); the application probe always runs.
    """

    def __init__(
        self,
        settings: ProbeSettings,
        limits: Limits,
        observer: AuditObserver,
        skip: frozenset[ProbeKind] = frozenset(),
    ) -> None:
        if limits.concurrency < 1 or limits.per_host < 1:
            raise ValueError("connection limits must be at least 1")
        follow_ups = {k for layer in registry.FOLLOW_UPS for k in layer}
        if not skip <= follow_ups:
            raise ValueError(f"only follow-up probes can be skipped: {sorted(skip - follow_ups)}")
        self.skip = skip
        self.settings = settings
        self.limits = limits
        self.observer = observer
        self._global = asyncio.Semaphore(limits.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self.max_in_flight = 0
        self._in_flight = 0
        self.done: dict[int, EndpointResult] = {}  # finished endpoints by target index
        self._next_start = 0.0

    async def _pace(self) -> None:
        """Wait for the next connection slot of ``max_rate`` (a token bucket of one token)."""
        rate = self.limits.max_rate
        if not rate:
            return
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next_start)
        self._next_start = slot + 1.0 / rate
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _run_job(self, job: Job) -> tuple[Attempt, ConnectRecord]:
        """Run one job and record its first connect (in the calling task's context)."""
        record = record_connect()  # this job's connects only: the caller runs one at a time
        return await self._attempt(job), record

    async def _run_stage(self, jobs: Sequence[Job]) -> list[tuple[Attempt, ConnectRecord]]:
        """Run a stage's jobs concurrently; results in the order of ``jobs``.

        The first job runs in the endpoint's own task and every other in a task of its own
        (a task per extra connection, none for jobs that open no connection).
        """
        online = [i for i, j in enumerate(jobs) if j.needs_connection]
        results: list[tuple[Attempt, ConnectRecord] | None] = [None] * len(jobs)
        for i, job in enumerate(jobs):
            if not job.needs_connection:
                results[i] = await self._run_job(job)
        if len(online) == 1:
            results[online[0]] = await self._run_job(jobs[online[0]])
        elif online:
            async with asyncio.TaskGroup() as tg:
                tasks = [(i, tg.create_task(self._run_job(jobs[i]))) for i in online[1:]]
                results[online[0]] = await self._run_job(jobs[online[0]])
            for i, task in tasks:
                results[i] = task.result()
        return [r for r in results if r is not None]

    async def _attempt(self, job: Job) -> Attempt:
        """Run one job under the connection budget (none for a job that opens no connection)."""
        if not job.needs_connection:  # answered from what earlier stages saw: no I/O, no timer
            return await self._guarded(job, timed=False)
        host_sem = self._hosts.setdefault(
            job.endpoint.host, asyncio.Semaphore(self.limits.per_host)
        )
        async with self._global, host_sem:
            await self._pace()
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            try:
                return await self._guarded(job)
            finally:
                self._in_flight -= 1

    async def _guarded(self, job: Job, timed: bool = True) -> Attempt:
        """The probe's run within the job budget; a probe bug becomes this job's error."""
        budget = self.settings.timeout * JOB_TIMEOUT_FACTOR
        try:
            async with asyncio.timeout(budget) if timed else contextlib.nullcontext():
                return await registry.probe(job.probe).run(job, self.settings)
        except TimeoutError:
            reason = f"the dialogue took longer than {budget:g} s in all"
            return Attempt(job, Status.timeout, reason, (f"*: {reason}",), None, budget)
        except Exception as exc:  # a probe bug on odd input: this endpoint's error, not a crash
            reason = clean_text(f"{job.probe.value} probe failed: {type(exc).__name__}: {exc}")
            return Attempt(job, Status.error, reason, (f"*: {reason}",))

    async def audit_one(self, target: Target) -> EndpointResult:
        """Probe one endpoint through all stages; every failure ends up in the result.

        Network and peer trouble is the probes' to classify; anything else — a probe's
        ``plan`` or ``fold`` raising, an observation that does not validate — makes this
        endpoint's result ``status: error`` with the reason, and the run goes on.
        """
        seen: dict[ProbeKind, Observation] = {}
        try:
            await self._stages(target, seen)
            return _result(target, seen)
        except Exception as exc:  # a pathsec bug on odd input: this endpoint's error only
            return _failed(target, seen, exc)

    async def _stages(self, target: Target, seen: dict[ProbeKind, Observation]) -> None:
        """Run the stages of one endpoint, recording each probe's observation in ``seen``."""
        endpoint = target.endpoint()
        app = registry.app_probe(target.protocol)
        for stage in stages(target):
            if self.skip:
                stage = tuple(k for k in stage if k not in self.skip)
            prior = Prior(app, dict(seen))
            planned: list[tuple[ProbeKind, Sequence[Job]]] = [
                (kind, registry.probe(kind).plan(endpoint, self.settings, prior)) for kind in stage
            ]
            outcomes = iter(await self._run_stage([j for _, jobs in planned for j in jobs]))
            for kind, jobs in planned:
                if not jobs:
                    continue
                done = [next(outcomes) for _ in jobs]
                probe = registry.probe(kind)
                seen[kind] = probe.fold(endpoint, [a for a, _ in done])
                if ProbeKind.tcp not in stage and probe.reports_connect:
                    first, record = done[0]
                    seen[ProbeKind.tcp] = tcp_seen = from_connect(record, first)
                    if tcp_seen.state != "open":  # as if the tcp stage had stopped here
                        del seen[kind]
            tcp = seen.get(ProbeKind.tcp)
            if isinstance(tcp, TcpObservation) and tcp.state != "open":
                break

    async def run(self, targets: Sequence[Target]) -> list[EndpointResult]:
        """Audit every target concurrently; results keep the order of ``targets``."""
        self.observer.run_started(len(targets))
        results: list[EndpointResult | None] = [None] * len(targets)

        # Endpoints are admitted as others finish (as many as the connection budget; an
        # endpoint's later stages open several connections at once, so the slots stay
        # busy): memory stays flat however many targets there are, instead of one waiting
        # task per target, and few jobs queue on the global limit.
        admit = asyncio.Semaphore(self.limits.concurrency)

        async def one(i: int, target: Target) -> None:
            try:
                res = await self.audit_one(target)
            finally:
                admit.release()
            results[i] = res
            self.done[i] = res
            self.observer.endpoint_done(res)

        # Synchronous clients (ldap3, impacket) get a thread for every connection slot, so
        # none waits for a thread with its timeout running (probes.blocking).
        # Work that belongs to a server port (cipher suites, chain) is done once per run.
        with sync_pool(self.limits.concurrency), shared_work():
            async with asyncio.TaskGroup() as tg:
                for i, target in enumerate(targets):
                    await admit.acquire()
                    tg.create_task(one(i, target))
        self.observer.run_finished()
        return [r for r in results if r is not None]


def _result(target: Target, seen: Mapping[ProbeKind, Observation]) -> EndpointResult:
    obs = observations(dict(seen))
    status, reason = Status.ok, None
    tcp = seen.get(ProbeKind.tcp)
    if tcp is not None and tcp.status is not Status.ok:
        status, reason = tcp.status, tcp.reason
    else:
        probe = registry.app_probe(target.protocol)
        app = seen.get(probe.kind) if probe is not None else None
        if app is not None and app.status is not Status.ok:
            status, reason = app.status, app.reason
    return _endpoint_result(target, obs, status, reason)


def _failed(
    target: Target, seen: Mapping[ProbeKind, Observation], exc: Exception
) -> EndpointResult:
    """The result of an endpoint whose audit hit a pathsec bug: what validates is kept."""
    reason = clean_text(f"pathsec internal error: {type(exc).__name__}: {exc}")
    kept: dict[ProbeKind, Observation] = {}
    for kind, value in seen.items():
        try:
            observations({**kept, kind: value})
        except Exception:  # this one does not validate: leave it out
            continue
        kept[kind] = value
    return _endpoint_result(target, observations(kept), Status.error, reason)


def _endpoint_result(
    target: Target, obs: ObservationsBase, status: Status, reason: str | None
) -> EndpointResult:
    result = EndpointResult(
        host=target.host,
        port=target.port,
        protocol=target.protocol,
        path_id=target.path_id,
        flow_id=target.flow_id,
        expect=target.expect,
        from_zone=target.from_zone,
        status=status,
        reason=reason,
        observations=obs,
    )
    compact(result)
    return result


#: ``PATHSEC_EVENT_LOOP``: the audit's event loop, ``uvloop`` (the default) or ``asyncio``.
ENV_EVENT_LOOP = "PATHSEC_EVENT_LOOP"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop (a dependency on Linux and macOS), else None: asyncio's own.

    uvloop spends measurably less CPU per connection (bench/RESULTS.md);
    ``PATHSEC_EVENT_LOOP=asyncio`` selects asyncio's loop, and where uvloop is not
    installed (Windows) asyncio's loop is used. Any other value is an input error.
    """
    choice = os.environ.get(ENV_EVENT_LOOP, "").strip().lower() or "uvloop"
    if choice not in ("uvloop", "asyncio"):
        raise InputError(
            InputProblem(ENV_EVENT_LOOP, None, None, f"{choice!r}: expected uvloop or asyncio")
        )
    if choice == "asyncio":
        return None
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def run_audit(
    targets: Sequence[Target],
    settings: ProbeSettings | None = None,
    limits: Limits | None = None,
    observer: AuditObserver | None = None,
) -> list[EndpointResult]:
    """Audit ``targets`` and return one result per target, in order."""
    engine = Engine(settings or ProbeSettings(), limits or Limits(), observer or NullObserver())
    return await engine.run(targets)
