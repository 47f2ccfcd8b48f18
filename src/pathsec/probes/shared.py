"""Work shared by every endpoint of one audit run that reaches the same server port.

A deployment plans one endpoint per flow, so one HTTPS port serves a dozen paths; what is a
property of the server port alone (its cipher suites, its chain) is learnt once. The engine
opens :func:`shared_work` around a run; a probe claims a key while planning
(:func:`claim`): the first claimer runs the work and publishes the result, the others wait
for it without holding a connection slot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from pathsec.probes.interface import Status

_WORK: ContextVar[dict[Hashable, asyncio.Future[Any]] | None] = ContextVar(
    "pathsec_shared_work", default=None
)


@contextlib.contextmanager
def shared_work() -> Iterator[None]:
    """Share work between the endpoints of the run started in this context."""
    token = _WORK.set({})
    try:
        yield
    finally:
        _WORK.reset(token)


def claim(key: Hashable) -> tuple[bool, asyncio.Future[Any] | None]:
    """(True, future) for the first claimer of ``key``, who must resolve the future;
    (False, future) for later claimers, who await it; (True, None) outside a shared run."""
    work = _WORK.get()
    if work is None:
        return True, None
    fut = work.get(key)
    if fut is not None:
        return False, fut
    fut = asyncio.get_running_loop().create_future()
    work[key] = fut
    return True, fut


@dataclass(frozen=True, slots=True)
class Published:
    """What the first claimer publishes for the endpoints waiting on a key: kept until the
    run ends, so no more than they take (not the job, its endpoint and connection hooks)."""

    label: str
    status: Status
    reason: str | None
    value: BaseModel | None
