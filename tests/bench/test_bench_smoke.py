"""Smoke run of bench/bench_audit.py: 50 STARTTLS endpoints on loopback, no nmap.

It proves the harness keeps working (servers start and stop, pathsec and the minimal
client run, the table is printed) and that pathsec saw every endpoint with STARTTLS and a
certificate. It asserts no timings: the figures depend on the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_audit.py"
COLUMNS = [
    "endpoints",
    "tool",
    "seconds",
    "endpoints/s",
    "handshakes/s",
    "vs nmap cmd+cert",
    "vs nmap +enum",
    "% of ceiling",
    "peak RSS MB",
]


@pytest.mark.root
def test_bench_smoke_50_endpoints() -> None:
    if os.geteuid() != 0:  # the endpoints listen on ports 25 and 587
        if os.environ.get("CI") == "true":
            pytest.fail("the bench smoke run needs root in CI (ports 25 and 587)")
        pytest.skip("the bench binds ports 25 and 587: needs root")
    net = 200 + os.getpid() % 50  # 127.<net>.0.0/16: apart from other tests' addresses
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--sizes",
            "50",
            "--no-nmap",
            "--repeat",
            "1",
            "--ceiling-handshakes",
            "100",
            "--net",
            str(net),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "[50] pathsec: 0 failed" in out, out
    assert "50/50 endpoints with STARTTLS + certificate" in out, out
    table = [line for line in out.splitlines() if line.startswith("|")]
    header = [c.strip() for c in table[0].strip("|").split("|")]
    assert header == COLUMNS
    rows = {
        cells[1]: cells
        for cells in ([c.strip() for c in line.strip("|").split("|")] for line in table[2:])
    }
    assert set(rows) == {"pathsec", "ceiling"}
    assert rows["pathsec"][0] == "50"
    # Every figure is a number (the ratios to nmap are "-" without nmap).
    for cell in (rows["pathsec"][2], rows["pathsec"][3], rows["pathsec"][4]):
        float(cell.replace(",", ""))
    assert rows["pathsec"][5] == rows["pathsec"][6] == "-"
    assert rows["pathsec"][7].endswith("%") and float(rows["pathsec"][8]) > 0
