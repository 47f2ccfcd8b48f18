"""The bench's lower bounds (``floors`` in bench/bench_audit.py), from given run figures.

The figures are a recorded run's (bench/last-run.txt); the function must say a target is
out of reach exactly when the servers' share alone exceeds it, and give the client's CPU
budget otherwise. No servers, no timing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_audit.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_audit_bounds", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _run(bench: ModuleType, seconds: float, cpu: float = 0.0, servers: float = 0.0) -> object:
    run = bench.Run("t", 200, seconds, cpu=cpu)
    run.server_cpu = servers
    return run


def test_bounds_and_verdicts_at_200(bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    clis = {
        "pathsec": [_run(bench, 1.41, 1.06, 1.18)] * 5,
        "pathsec --tls quick": [_run(bench, 0.65, 0.58, 0.28)] * 5,
        "pathsec --no-store": [_run(bench, 1.37, 1.03, 1.21)] * 5,
    }
    nmap = [_run(bench, s) for s in (0.65, 1.77, 0.65, 0.63, 0.63)]
    enum = [_run(bench, s) for s in (5.92, 6.27, 6.12)]
    default, quick = bench.floors(200, clis, nmap, enum)  # --no-store has no line
    assert "servers' work alone 0.59 s, with pathsec's CPU 1.12 s" in default
    assert "1.5x nmap cmd+cert (median 0.65 s) needs <= 0.43 s: out of reach" in default
    assert "10x nmap+enum (median 6.12 s) needs <= 0.61 s: leaves pathsec 0.04 s" in default
    assert "servers' work alone 0.14 s, with pathsec's CPU 0.58 s" in quick
    assert "needs <= 0.43 s: leaves pathsec 0.43 s of CPU (it used 0.58 s)" in quick
    assert "fastest" not in default  # nmap's fastest run is within 80% of its median


def test_a_bimodal_nmap_gets_its_fastest_run_too(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    clis = {"pathsec --tls quick": [_run(bench, 0.66, 0.59, 0.30)] * 5}
    nmap = [_run(bench, s) for s in (0.69, 1.83, 0.66, 1.75, 1.78)]
    (line,) = bench.floors(200, clis, nmap, [])
    assert "(median 1.75 s) needs <= 1.17 s" in line
    assert "(fastest 0.66 s) needs <= 0.44 s: leaves pathsec 0.44 s" in line
    assert "nmap+enum" not in line  # no enum runs: no such target


def test_the_1000_target_only_at_1000(bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    clis = {"pathsec": [_run(bench, 6.24, 4.75, 6.24)] * 5}
    (line,) = bench.floors(1000, clis, [_run(bench, 3.68)] * 5, [_run(bench, 34.93)] * 3)
    assert "servers' work alone 3.12 s" in line
    assert "2x nmap cmd+cert (median 3.68 s) needs <= 1.84 s: out of reach" in line
    assert "1.5x" not in line and "10x" not in line
