"""Deadlines for the steps of a probe's connection: cheaper than ``asyncio.timeout``.

A probe connection takes some ten timed steps (banner, replies, handshake), each bounded in
time; these classes give each step ``asyncio.timeout``'s semantics at a fraction of its
cost (bench/RESULTS.md): when a step's time is up its task is cancelled and the block
raises :class:`TimeoutError`; a cancellation from elsewhere passes through.
"""

from __future__ import annotations

import asyncio
from typing import Any


class Deadline:
    """``async with asyncio.timeout(seconds)`` for one step of one connection, made cheap.

    Hand-written because ``asyncio.timeout`` looks the running loop and the current task up
    on every use (on Python 3.11 each lookup is a ``getpid`` system call) and a connection
    takes some ten timed steps; the loop and task of a connection do not change. Same
    semantics: when the time is up the task is cancelled and the block raises
    :class:`TimeoutError`; a cancellation from elsewhere passes through.
    """

    __slots__ = ("_cancelling", "_fired", "_handle", "_loop", "_seconds", "_task")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], seconds: float
    ) -> None:
        self._loop = loop
        self._task = task
        self._seconds = seconds
        self._fired = False
        self._cancelling = 0
        self._handle: asyncio.TimerHandle | None = None

    def _fire(self) -> None:
        self._fired = True
        self._task.cancel()

    async def __aenter__(self) -> None:
        self._cancelling = self._task.cancelling()
        self._handle = self._loop.call_later(self._seconds, self._fire)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._fired:
            outstanding = self._task.uncancel()  # take our own cancellation back
            if outstanding <= self._cancelling and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc


class StepTimer:
    """The deadlines of one connection's steps on one timer, re-armed lazily.

    A connection takes some ten timed steps, each done in well under its timeout. Arming
    and cancelling a timer per step (:class:`Deadline`) costs more than the step's own
    bookkeeping; here a step only notes when it expires, and the one timer, when it goes
    off early, moves itself to the current step's expiry. Same semantics as
    :class:`Deadline` for each step: when its time is up the task is cancelled and the
    block raises :class:`TimeoutError`. A step begun inside another (nested) gets a
    :class:`Deadline` of its own.
    """

    __slots__ = ("_active", "_cancelling", "_expires", "_fired", "_handle", "_loop", "_task")

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        self._loop = loop
        self._task = task
        self._handle: asyncio.TimerHandle | None = None
        self._expires = 0.0
        self._active = False
        self._fired = False
        self._cancelling = 0

    @property
    def active(self) -> bool:
        """True while a step runs."""
        return self._active

    @property
    def armed(self) -> bool:
        """True while the timer is set."""
        return self._handle is not None

    def step(self, seconds: float) -> StepTimer:
        """Set the next step's time (enter it with ``async with``)."""
        self._expires = expires = self._loop.time() + seconds
        handle = self._handle
        if handle is not None and handle.when() > expires:  # a shorter step than before
            handle.cancel()
            self._handle = None
        if self._handle is None:
            self._handle = self._loop.call_at(expires, self._fire)
        return self

    def _fire(self) -> None:
        self._handle = None
        if not self._active:
            return  # between steps: the next step arms the timer again
        if self._loop.time() < self._expires:
            self._handle = self._loop.call_at(self._expires, self._fire)
            return
        self._fired = True
        self._task.cancel()

    def stop(self) -> None:
        """The connection is done: drop the timer."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    async def __aenter__(self) -> None:
        self._cancelling = self._task.cancelling()
        self._active = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        self._active = False
        if self._fired:
            self._fired = False
            outstanding = self._task.uncancel()  # take our own cancellation back
            if outstanding <= self._cancelling and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc
