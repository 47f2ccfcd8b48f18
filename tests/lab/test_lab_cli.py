"""``pathsec lab up`` / ``lab down`` as subprocesses: files, ports, and no process left."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pytest
import yaml

from pathsec.cli.main import run
from pathsec.lab.core import Lab, LabError, high_port
from pathsec.lab.daemon import alive
from pathsec.topology.loader import load_deployment

CLI = [sys.executable, "-c", "from pathsec.cli.main import entry; entry()"]
# A random 127.x.y.0/24 per run, so that concurrent runs (CI and local) never share ports.
_NET = f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"
ADDRESSES = {
    "EX2007": f"{_NET}.10",
    "DC01": f"{_NET}.11",
    "UM01": f"{_NET}.12",
    "EDGE01": f"{_NET}.130",
}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, check=False)


def _profile(tmp_path: Path) -> Path:
    text = (resources.files("pathsec.lab") / "profiles" / "misconfigured.yaml").read_text()
    doc = yaml.safe_load(text)
    for s in doc["servers"]:
        s["address"] = ADDRESSES[s["name"]]
    path = tmp_path / "lab-profile.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_high_port_mapping() -> None:
    assert [high_port(p) for p in (25, 443, 5061, 50389, 50636)] == [
        20025,
        20443,
        25061,
        30389,
        30636,
    ]


def test_up_then_down_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    up = _run("lab", "up", "--profile", str(_profile(tmp_path)), "--state-dir", str(state))
    pid = int((state / "lab.pid").read_text()) if (state / "lab.pid").exists() else None
    try:
        assert up.returncode == 0, up.stderr
        assert pid is not None and alive(pid)
        assert f"{ADDRESSES['EX2007']}:20025" in up.stdout
        assert f"{ADDRESSES['EDGE01']}:23389" in up.stdout
        doc = json.loads((state / "lab-endpoints.json").read_text())
        assert doc["port_mode"] == "high"
        assert [d["id"] for d in doc["deviations"]][:2] == ["LAB-MIS-001", "LAB-MIS-002"]
        for e in doc["endpoints"]:
            assert e["port"] == high_port(e["real_port"])
            with socket.create_connection((e["address"], e["port"]), timeout=5):
                pass
        dep = load_deployment(state / "deployment.yaml")
        assert sorted(a for s in dep.servers for a in s.addresses) == sorted(ADDRESSES.values())
        assert (state / "certs" / "EX2007.pem").is_file()

        # In-process from here on where no process is started: the CLI import costs seconds.
        assert (
            run(["lab", "up", "--profile", str(_profile(tmp_path)), "--state-dir", str(state)]) == 3
        )
        assert "already runs" in capsys.readouterr().err

        down = _run("lab", "down", "--state-dir", str(state))
        assert down.returncode == 0, down.stderr
        assert f"stopped pid {pid}" in down.stderr
        assert not alive(pid)
        assert not (state / "lab.pid").exists()
        assert not (state / "lab-endpoints.json").exists()
        with (
            contextlib.suppress(OSError),
            socket.create_connection((ADDRESSES["EX2007"], 20025), timeout=1),
        ):
            raise AssertionError("port 20025 still accepts connections")
        assert run(["lab", "down", "--state-dir", str(state)]) == 0
        assert "no lab was running" in capsys.readouterr().err
    finally:
        if pid is not None and alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_bad_profile_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["lab", "up", "--profile", "nonesuch", "--state-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "pathsec: error: --profile: 'nonesuch': not default, hardened, misconfigured, windows2003 nor a file"
    ]
    assert not (tmp_path / "lab.pid").exists()


def test_foreground_stops_on_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "fg"
    proc = subprocess.Popen(
        [
            *CLI,
            "lab",
            "up",
            "--foreground",
            "--profile",
            str(_profile(tmp_path)),
            "--state-dir",
            str(state),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while (
            not (state / "lab.pid").exists() and proc.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert (state / "lab.pid").read_text().strip() == str(proc.pid)
        with socket.create_connection((ADDRESSES["UM01"], 25060), timeout=5):
            pass
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert not (state / "lab.pid").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_addresses_must_be_loopback() -> None:
    with pytest.raises(LabError, match="not an IPv4 loopback"):
        Lab("default", addresses={"EX2007": "10.0.0.1"})
    with pytest.raises(LabError, match="unknown servers"):
        Lab("default", addresses={"NOPE": "127.0.0.9"})
