"""Interruption and durability: Ctrl-C and SIGTERM keep what finished; SIGKILL never half-writes.

``pathsec audit`` runs as a subprocess against scripted servers: two answer at once, two
never speak (with a long ``--timeout`` they would hold the run for 30 s). Once the fast
ones are done the test signals the process and checks the ``--output`` file.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from hostile.server import HostileServer, Peer, serving
from pathsec.audit.models import AuditResult, EndpointResult, Observations

CLI = [sys.executable, "-c", "from pathsec.cli.main import entry; entry()"]


async def fast_smtp(p: Peer) -> None:
    await p.send(b"220 fast.example ESMTP\r\n")
    for _ in range(5):
        line = await p.line()
        if line is None:
            return
        if line.upper().startswith("EHLO"):
            await p.send(b"250-fast.example\r\n250 8BITMIME\r\n")
        elif line.upper() == "QUIT":
            await p.send(b"221 bye\r\n")
            return
        else:
            await p.send(b"500 no\r\n")


async def silent(p: Peer) -> None:
    await p.reader.read(1)


@contextmanager
def four_servers() -> Iterator[tuple[list[HostileServer], list[HostileServer]]]:
    with ExitStack() as stack:
        fast = [stack.enter_context(serving(fast_smtp)) for _ in range(2)]
        slow = [stack.enter_context(serving(silent)) for _ in range(2)]
        yield fast, slow


def _targets(servers: list[HostileServer]) -> list[str]:
    return [a for s in servers for a in ("-t", f"127.0.0.1:{s.port}/smtp")]


def _wait_for(cond, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_writes_finished_endpoints_marked_incomplete(
    sig: signal.Signals, code: int, tmp_path: Path
) -> None:
    out = tmp_path / "audit.json"
    with four_servers() as (fast, slow):
        argv = [*CLI, "audit", *_targets(fast + slow), "--timeout", "30", "-q", "-o", str(out)]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for(lambda: all("QUIT" in s.received for s in fast), 20)
            _wait_for(lambda: all(s.connections for s in slow), 5)
            time.sleep(0.3)  # the fast endpoints' results are folded
            proc.send_signal(sig)
            stdout, stderr = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == code, stderr
    assert f"interrupted by {sig.name}" in stderr and "Traceback" not in stderr
    assert "2 of 4 endpoints finished" in stderr
    doc = json.loads(out.read_text())
    assert doc["complete"] is False
    ports = {e["port"] for e in doc["endpoints"]}
    assert ports == {s.port for s in fast}
    assert all(e["status"] == "ok" for e in doc["endpoints"])
    assert "fast.example" in stdout  # the table of what finished is still printed


def test_interrupted_before_anything_finished_is_still_valid(tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    with serving(silent) as srv:
        argv = [*CLI, "audit", "-t", f"127.0.0.1:{srv.port}/smtp", "--timeout", "30", "-q"]
        proc = subprocess.Popen([*argv, "-o", str(out)], stderr=subprocess.PIPE, text=True)
        try:
            _wait_for(lambda: srv.connections > 0, 20)
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 143, stderr
    doc = AuditResult.model_validate_json(out.read_text())
    assert doc.complete is False and doc.endpoints == ()


def test_sigkill_never_leaves_a_half_written_output(tmp_path: Path) -> None:
    """SIGKILL at random moments: the file is the old whole document or the new whole one."""
    out = tmp_path / "audit.json"
    old = '{"previous": "run"}\n'
    out.write_text(old)
    rng = random.Random(1234)
    outcomes = {"old": 0, "new": 0}
    with ExitStack() as stack:
        servers = [stack.enter_context(serving(fast_smtp)) for _ in range(6)]
        argv = [*CLI, "audit", *_targets(servers), "--timeout", "2", "-q", "-o", str(out)]
        start = time.monotonic()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=False, timeout=60)
        whole = time.monotonic() - start  # kill anywhere from start-up to the last write
        out.write_text(old)
        for _ in range(5):
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.1, whole * 1.1))
            proc.kill()
            proc.wait()
            text = out.read_text()
            if text == old:
                outcomes["old"] += 1
            else:
                doc = AuditResult.model_validate_json(text)  # whole, or this raises
                assert len(doc.endpoints) == 6
                outcomes["new"] += 1
                out.write_text(old)
    assert sum(outcomes.values()) == 5


def _big_result(n: int) -> AuditResult:
    ep = EndpointResult(
        host="127.0.0.1",
        port=25,
        protocol="smtp",  # type: ignore[arg-type]
        path_id=None,
        status="ok",  # type: ignore[arg-type]
        observations=Observations(),
    )
    return AuditResult(
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:00:01+00:00",
        complete=True,
        profile="reference",
        endpoints=tuple(ep.model_copy(update={"port": 1 + i}) for i in range(n)),
        findings=(),
    )


def test_sigkill_during_store_leaves_whole_runs_only(tmp_path: Path) -> None:
    """``pathsec store`` killed at random: every run in the history has all its endpoints."""
    results = tmp_path / "r.json"
    results.write_text(_big_result(3000).model_dump_json())
    db = tmp_path / "h.sqlite3"
    rng = random.Random(99)
    env = {**os.environ, "PATHSEC_DB": f"sqlite:///{db}"}
    start = time.monotonic()
    subprocess.run([*CLI, "store", str(results)], env=env, check=True, capture_output=True)
    whole = time.monotonic() - start
    for _ in range(4):
        proc = subprocess.Popen(
            [*CLI, "store", str(results)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.1, whole))
        proc.kill()
        proc.wait()
    con = sqlite3.connect(db)
    try:
        runs = con.execute("select id, endpoint_count from pathsec_runs").fetchall()
        assert runs, "the first, uninterrupted run is stored"
        for run_id, count in runs:
            (n,) = con.execute(
                "select count(*) from pathsec_endpoints where run_id = ?", (run_id,)
            ).fetchone()
            assert n == count == 3000
        (orphans,) = con.execute(
            "select count(*) from pathsec_endpoints where run_id not in (select id from pathsec_runs)"
        ).fetchone()
        assert orphans == 0
    finally:
        con.close()
