"""The lab on its real ports (``pathsec lab up --real-ports``) inside a network namespace.

The namespace is the test's own (named with the process id), so the lab's 127.0.10.x
listeners on 25, 53, 88, 389 … collide with nothing on this host and no other test run;
``pathsec`` commands run inside it with :meth:`NetLab.run`. On exit the lab is stopped by
its PID (SIGTERM, then SIGKILL after a bounded wait) and the namespace deleted.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pathsec.lab.daemon import alive, read_pid

PATHSEC = str(Path(sys.executable).with_name("pathsec"))
STOP_WAIT = 10.0


def can_run() -> str | None:
    """Why the namespace lab cannot run here (None: it can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, ports below 1024)"
    if shutil.which("ip") is None:
        return "needs iproute2's ip"
    return None


@dataclass(frozen=True)
class NetLab:
    """A running lab on real ports in namespace ``ns``."""

    ns: str
    state_dir: Path
    pid: int

    def run(
        self, *args: str, timeout: float = 300, prefix: tuple[str, ...] = ()
    ) -> subprocess.CompletedProcess[str]:
        """``pathsec ARGS`` inside the namespace (after ``prefix``, e.g. a timer); stdout and
        stderr captured."""
        return subprocess.run(
            ["ip", "netns", "exec", self.ns, *prefix, PATHSEC, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


def stop_by_pid(pid: int) -> None:
    """SIGTERM the lab, wait (bounded), SIGKILL if it is still there."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_WAIT
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


@contextmanager
def lab_in_namespace(profile: str, work: Path, tag: str = "") -> Iterator[NetLab]:
    """Start lab ``profile`` on its real ports in a fresh namespace; stop it afterwards."""
    ns = f"psdisc{os.getpid()}{tag}"
    state = work / f"lab-{profile}"
    _ip("netns", "add", ns)
    pid: int | None = None
    try:
        _ip("netns", "exec", ns, "ip", "link", "set", "lo", "up")
        command = ["ip", "netns", "exec", ns, PATHSEC, "lab", "up", "--real-ports"]
        command += ["--profile", profile, "--state-dir", str(state)]
        up = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=60,
        )
        pid = read_pid(state)
        if up.returncode != 0 or pid is None:
            raise RuntimeError(f"lab up failed ({up.returncode}): {up.stderr[-2000:]}")
        yield NetLab(ns, state, pid)
    finally:
        if pid is not None:
            stop_by_pid(pid)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
