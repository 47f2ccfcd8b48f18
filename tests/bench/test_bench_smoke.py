"""Smoke run of bench/bench_audit.py: 50 STARTTLS endpoints on loopback, no nmap.

It proves the harness keeps working (servers start and stop; ``pathsec audit`` runs as a
whole process with and without the store, the library audit and the minimal client run;
the table is printed) and that pathsec saw every endpoint with STARTTLS and a certificate,
the same through the CLI as through the library. It asserts no timings: the figures depend
on the machine.
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
    "in-process s",
    "endpoints/s",
    "vs nmap cmd+cert",
    "vs nmap +enum",
    "handshakes/s",
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
    assert "[50] pathsec: 0 failed; 50/50 endpoints with STARTTLS + certificate" in out, out
    assert f"[50] {'pathsec --tls quick' if '--tls quick' in out else 'pathsec'}: 0 failed" in out
    assert "[50] pathsec --no-store: 0 failed; 50/50 endpoints" in out, out
    assert "[50] pathsec library: 0 failed" in out, out
    assert "[50] pathsec vs pathsec (library): same" in out, out
    assert "[50] history store: " in out, out
    table = [line for line in out.splitlines() if line.startswith("|")]
    header = [c.strip() for c in table[0].strip("|").split("|")]
    assert header == COLUMNS
    rows = {
        cells[1]: cells
        for cells in ([c.strip() for c in line.strip("|").split("|")] for line in table[2:])
    }
    # With the cipher enumeration (--tls) the bench also runs `--tls quick`.
    assert set(rows) - {"pathsec --tls quick"} == {"pathsec", "pathsec --no-store", "ceiling"}
    quick = "pathsec --tls quick" if "pathsec --tls quick" in rows else "pathsec"
    ps = dict(zip(COLUMNS, rows[quick], strict=True))
    assert ps["endpoints"] == "50"
    # Every figure is a number (the ratios to nmap are "-" without nmap); the whole process
    # takes longer than the audit inside it.
    for col in ("seconds", "in-process s", "endpoints/s", "handshakes/s", "peak RSS MB"):
        float(ps[col].replace(",", ""))
    assert float(ps["seconds"]) > float(ps["in-process s"])
    assert ps["vs nmap cmd+cert"] == ps["vs nmap +enum"] == "-"
    assert ps["% of ceiling"].endswith("%")
    assert rows["pathsec --no-store"][3] == "-"  # no library run for that row
