"""Synchronous client libraries (ldap3, impacket SMB and DCE/RPC) on a dedicated thread pool.

They block, so their jobs run in threads. asyncio's default pool has min(32, CPUs + 4)
threads (six on a two-core machine) and is shared with name resolution: with many slow
directory servers the jobs queued there, and the timeout around each ran out before it was
even dialled. Instead the engine gives each run a pool sized to its connection budget
(:func:`sync_pool`; every running job holds a connection slot, so a job never waits for a
thread), and :func:`run_blocking` starts a job's time limit when its thread starts. Inside
the thread the library's own socket timeouts bound each connect and read.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

#: Threads of the pool used outside an engine run (a probe run on its own, in tests).
FALLBACK_WORKERS = 16

_POOL: ContextVar[ThreadPoolExecutor | None] = ContextVar("pathsec_sync_pool", default=None)
_fallback: ThreadPoolExecutor | None = None
_fallback_lock = threading.Lock()


@contextlib.contextmanager
def sync_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A pool of up to ``workers`` threads for the blocking jobs started in this context.

    Threads start as jobs need them. On exit the pool is shut down without waiting: a
    thread still inside a library call ends at that call's socket timeout.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="pathsec-sync")
    token = _POOL.set(pool)
    try:
        yield pool
    finally:
        _POOL.reset(token)
        pool.shutdown(wait=False, cancel_futures=True)


def _pool() -> ThreadPoolExecutor:
    pool = _POOL.get()
    if pool is not None:
        return pool
    global _fallback
    with _fallback_lock:
        if _fallback is None:
            _fallback = ThreadPoolExecutor(FALLBACK_WORKERS, thread_name_prefix="pathsec-sync")
        return _fallback


async def run_blocking(fn: Callable[[], T], limit: float) -> T:
    """Run ``fn`` in a thread of the run's pool; at most ``limit`` seconds once it started.

    Time spent waiting for a thread does not count against ``limit`` (with the engine's
    pool there is none). Past ``limit`` the job is abandoned with :class:`TimeoutError`.
    """
    loop = asyncio.get_running_loop()
    started: asyncio.Future[None] = loop.create_future()

    def mark() -> None:
        if not started.done():
            started.set_result(None)

    def work() -> T:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(mark)
        return fn()

    future = loop.run_in_executor(_pool(), work)
    try:
        await asyncio.wait((future, started), return_when=asyncio.FIRST_COMPLETED)
        async with asyncio.timeout(limit):
            return await future
    finally:
        future.cancel()  # not started yet: never starts; running: abandoned
        started.cancel()
