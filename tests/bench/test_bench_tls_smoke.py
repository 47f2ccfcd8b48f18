"""Smoke run of bench/bench_tls.py on three configurations of the matrix, without testssl.sh.

It proves the harness keeps working (servers start and stop, pathsec and sslscan run, the
table and totals are printed) and that pathsec flagged what the three servers have. It
asserts no timings: the figures depend on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from servers.conftest import need

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_tls.py"


@pytest.mark.root
@pytest.mark.server
def test_bench_tls_smoke() -> None:
    for tool in ("nginx", "gnutls-serv", "openssl"):
        need(tool)
    args = [
        "--no-testssl",
        "--repeat",
        "1",
        "--only",
        "nginx-modern,nginx-dhe1024,gnutls-windows2003",
    ]
    if shutil.which("sslscan") is None:
        args.append("--no-sslscan")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "| configuration | server | present weaknesses | pathsec |" in out
    assert "present weaknesses: 7 in 3 configurations (1 clean controls)" in out
    assert "flagged: pathsec 7," in out  # DHE-1024; TLS 1.0 only, RC4, 3DES, RSA, CBC
    assert "pathsec flags on clean controls: 0" in out
