"""Run the lab in a detached process (``pathsec lab up``) and stop it (``pathsec lab down``).

The state directory holds ``lab.pid``, ``lab.log``, ``lab-endpoints.json``,
``deployment.yaml`` and ``certs/``. ``python -m pathsec.lab.daemon`` is the detached
process; :func:`spawn` starts it and waits until every port accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import platformdirs

from pathsec.atomic import make_private_dirs, open_private, write_atomic
from pathsec.errors import PathsecError
from pathsec.exitcodes import ExitCode
from pathsec.lab.core import DEPLOYMENT_FILE, ENDPOINTS_FILE, Lab, LabError, PortMode

PID_FILE = "lab.pid"
LOG_FILE = "lab.log"
#: Seconds ``lab up`` waits for every port, and ``lab down`` for the process to end.
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
_MARK = "pathsec.lab.daemon"


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/pathsec/lab`` (platformdirs' user state directory)."""
    return platformdirs.user_state_path("pathsec") / "lab"


def read_pid(state_dir: Path) -> int | None:
    """The PID recorded in the state directory, if any."""
    try:
        text = (state_dir / PID_FILE).read_text(encoding="ascii").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def is_lab_process(pid: int) -> bool:
    """Whether ``pid`` is a lab daemon (so ``down`` never signals an unrelated process)."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return alive(pid)
    return _MARK.encode() in cmd


async def _serve(lab: Lab, state_dir: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await lab.start()
    try:
        lab.write_files(state_dir)
        write_atomic(state_dir / PID_FILE, f"{os.getpid()}\n")
        await stop.wait()
    finally:
        await lab.stop()
        for name in (PID_FILE, ENDPOINTS_FILE):
            with contextlib.suppress(OSError):
                (state_dir / name).unlink()


def run_foreground(profile: str, state_dir: Path, ports: PortMode) -> None:
    """Run the lab in this process until SIGTERM or SIGINT."""
    make_private_dirs(state_dir)
    lab = Lab(profile, state_dir=state_dir, ports=ports)
    asyncio.run(_serve(lab, state_dir))


def _endpoints(state_dir: Path) -> list[dict[str, object]] | None:
    try:
        doc = json.loads((state_dir / ENDPOINTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ends = doc.get("endpoints")
    return ends if isinstance(ends, list) else None


def _accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1.0):
            return True
    except OSError:
        return False


def spawn(profile: str, state_dir: Path, ports: PortMode) -> int:
    """Start the detached lab process; return its PID once every port accepts connections."""
    make_private_dirs(state_dir)
    old = read_pid(state_dir)
    if old is not None and alive(old) and is_lab_process(old):
        raise LabError(f"a lab already runs from {state_dir} (pid {old}); run `pathsec lab down`")
    for name in (PID_FILE, ENDPOINTS_FILE):
        with contextlib.suppress(OSError):
            (state_dir / name).unlink()
    cmd = [
        sys.executable,
        "-m",
        _MARK,
        "--profile",
        profile,
        "--state-dir",
        str(state_dir),
        "--ports",
        ports.value,
    ]
    with open_private(state_dir / LOG_FILE) as log:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (state_dir / LOG_FILE).read_text(errors="replace").strip().splitlines()[-1:]
            raise LabError(f"the lab exited at start: {tail[0] if tail else 'no output'}")
        ends = _endpoints(state_dir)
        if (
            read_pid(state_dir) == proc.pid
            and ends is not None
            and all(_accepts(str(e["address"]), int(str(e["port"]))) for e in ends)
        ):
            return proc.pid
        time.sleep(0.05)
    _terminate(proc.pid)
    log_path = state_dir / LOG_FILE
    raise LabError(f"the lab did not start within {START_TIMEOUT:.0f} s; see {log_path}")


def _terminate(pid: int) -> bool:
    """SIGTERM, wait, SIGKILL; True when the process is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    return not alive(pid)


def stop(state_dir: Path) -> int | None:
    """Stop the lab of ``state_dir``; return its PID, or None when none was running."""
    pid = read_pid(state_dir)
    stopped: int | None = None
    if pid is not None and alive(pid) and is_lab_process(pid):
        if not _terminate(pid):
            raise LabError(f"lab process {pid} did not stop")
        stopped = pid
    for name in (PID_FILE, ENDPOINTS_FILE, DEPLOYMENT_FILE):
        with contextlib.suppress(OSError):
            (state_dir / name).unlink()
    return stopped


def main(argv: list[str] | None = None) -> int:
    """Entry point of the detached process."""
    ap = argparse.ArgumentParser(prog=_MARK)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--state-dir", type=Path, default=default_state_dir())
    ap.add_argument("--ports", choices=[m.value for m in PortMode], default=PortMode.high.value)
    args = ap.parse_args(argv)
    try:
        run_foreground(args.profile, args.state_dir, PortMode(args.ports))
    except PathsecError as exc:
        print(f"pathsec lab: {exc}", file=sys.stderr)
        return ExitCode.failed
    return ExitCode.ok


if __name__ == "__main__":
    sys.exit(main())
