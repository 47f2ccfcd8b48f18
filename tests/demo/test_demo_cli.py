"""``pathsec demo`` as a subprocess: three files, a valid results document, nothing left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import jsonschema
import pytest
import yaml

from pathsec.cli.main import run

ROOT = Path(__file__).resolve().parents[2]
RESULTS_SCHEMA = ROOT / "src/pathsec/audit/results.schema.json"
CLI = [sys.executable, "-c", "from pathsec.cli.main import entry; entry()"]
LAB_NET = "127.0.10."  # the built-in profiles' addresses


def _loopback_listeners() -> set[tuple[str, str, int]]:
    """(proto, address, port) of every TCP LISTEN / bound UDP socket on the lab's addresses.

    Other labs (tests running alongside) may listen on the same addresses, on other ports.
    """
    out: set[tuple[str, str, int]] = set()
    for proto, state in (("tcp", "0A"), ("udp", "07")):
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            fields = line.split()
            addr_hex, port_hex = fields[1].split(":")
            if fields[3] != state:
                continue
            octets = bytes.fromhex(addr_hex)[::-1]
            addr = ".".join(str(b) for b in octets)
            if addr.startswith(LAB_NET):
                out.add((proto, addr, int(port_hex, 16)))
    return out


def _processes_with(marker: str) -> list[int]:
    """PIDs whose environment carries ``marker`` (the demo and anything it started)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            env = (d / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in env:
            pids.append(int(d.name))
    return pids


def test_demo_writes_three_files_and_leaves_nothing_running(tmp_path: Path) -> None:
    out = tmp_path / "out"
    marker = f"PATHSEC_DEMO_TEST={uuid.uuid4().hex}"
    before = _loopback_listeners()
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1]}
    proc = subprocess.run(
        [*CLI, "demo", "--output-dir", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert _processes_with(marker) == []
    # Every port the demo's lab listened on (its deployment's listen_ports) is free again.
    dep = yaml.safe_load((out / "deployment.yaml").read_text(encoding="utf-8"))
    used = {
        (s["addresses"][0], port) for s in dep["servers"] for port in s["listen_ports"].values()
    }
    assert len(used) > 10
    still = {(a, p) for _, a, p in _loopback_listeners() - before}
    assert not used & still

    assert sorted(p.name for p in out.iterdir()) == [
        "deployment.yaml",
        "report.html",
        "results.json",
    ]
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8")))
    ids = {f["id"] for f in doc["findings"]}
    assert {"PS-HTTP-001", "PS-TLS-006", "PS-POP3-001", "PS-IMAP-001"} <= ids
    html = (out / "report.html").read_text(encoding="utf-8")
    for fid in ids:
        assert fid in html
    assert "EX2007" in html  # drawn from the plan
    # The terminal summary: counts, top findings, where the files are, the time.
    assert "findings:" in proc.stdout and "high" in proc.stdout
    assert "PS-HTTP-001" in proc.stdout
    assert str(out / "report.html") in proc.stdout
    assert "the lab is stopped" in proc.stdout


def test_demo_other_profile_into_the_default_output_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["demo", "--profile", "hardened"]) == 0
    doc = json.loads((tmp_path / "pathsec-demo" / "results.json").read_text(encoding="utf-8"))
    assert "PS-HTTP-001" not in {f["id"] for f in doc["findings"]}


def test_demo_bad_profile_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*CLI, "demo", "--profile", "nonsense", "--output-dir", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "--profile" in proc.stderr and "misconfigured" in proc.stderr
    assert not (tmp_path / "o").exists()
