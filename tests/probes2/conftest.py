"""Samba as an Active Directory domain controller in a network namespace (session fixture).

Two namespaces joined by a veth pair: ``<prefix>dc`` (10.213.77.1, Samba) and
``<prefix>cl`` (10.213.77.2, where ``pathsec audit`` runs through ``ip netns exec``).
Provisioning takes about 6 s. Samba is started in the foreground by PID and stopped with
SIGTERM; the namespaces and their resolv.conf are deleted, also on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from servers.conftest import need

DC_IP = "10.213.77.1"
CLIENT_IP = "10.213.77.2"
REALM = "LAB.TEST"
DOMAIN = "lab.test"
DC_PORTS = (53, 88, 135, 389, 445, 636, 3268)


def sh(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=timeout)


@dataclass(frozen=True)
class SambaDc:
    """The running DC and how to run pathsec next to it."""

    dc_ns: str
    client_ns: str
    ip: str = DC_IP

    def audit(self, *args: str, timeout: float = 90) -> tuple[int, dict]:
        """Run ``pathsec audit ARGS -f json -q`` inside the client namespace."""
        exe = Path(sys.executable).with_name("pathsec")
        cmd = ["ip", "netns", "exec", self.client_ns, str(exe), "audit", *args, "-f", "json", "-q"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
        return proc.returncode, json.loads(proc.stdout)


def _wait_ports(ns: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"samba exited: {log.read_text(errors='replace')[-2000:]}")
        out = sh("ip", "netns", "exec", ns, "ss", "-ltnH").stdout
        if all(f"{DC_IP}:{p} " in out for p in DC_PORTS):
            return
        time.sleep(0.1)
    raise RuntimeError(f"samba ports not ready: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDc]:
    need("samba")
    need("samba-tool")
    need("winbindd")
    prefix = f"ps{os.getpid()}"
    dc, cl = f"{prefix}dc", f"{prefix}cl"
    d = tmp_path_factory.mktemp("samba")
    created: list[str] = []
    proc: subprocess.Popen[bytes] | None = None
    try:
        for ns in (dc, cl):
            sh("ip", "netns", "add", ns)
            created.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            Path(f"/etc/netns/{ns}").mkdir(parents=True, exist_ok=True)
            Path(f"/etc/netns/{ns}/resolv.conf").write_text(f"nameserver {DC_IP}\n")
        sh(
            "ip",
            "link",
            "add",
            "psdc0",
            "netns",
            dc,
            "type",
            "veth",
            "peer",
            "name",
            "pscl0",
            "netns",
            cl,
        )
        sh("ip", "-n", dc, "addr", "add", f"{DC_IP}/24", "dev", "psdc0")
        sh("ip", "-n", cl, "addr", "add", f"{CLIENT_IP}/24", "dev", "pscl0")
        sh("ip", "-n", dc, "link", "set", "psdc0", "up")
        sh("ip", "-n", cl, "link", "set", "pscl0", "up")
        target = d / "target"
        sh(
            "ip",
            "netns",
            "exec",
            dc,
            "samba-tool",
            "domain",
            "provision",
            "--use-rfc2307",
            f"--realm={REALM}",
            "--domain=LAB",
            "--server-role=dc",
            "--dns-backend=SAMBA_INTERNAL",
            "--adminpass=Passw0rd!Lab",
            "--host-name=dc1",
            f"--host-ip={DC_IP}",
            f"--targetdir={target}",
            "--option=interfaces=lo psdc0",
            "--option=bind interfaces only=yes",
            timeout=120,
        )
        conf = target / "etc" / "smb.conf"
        conf.write_text(
            "\n".join(x for x in conf.read_text().splitlines() if "dns forwarder" not in x) + "\n"
        )
        log = d / "samba.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", dc, "samba", "-i", "-s", str(conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_ports(dc, proc, log)
        yield SambaDc(dc, cl)
    finally:
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        for ns in created:  # anything of ours still inside (Samba's children) goes too
            left = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in left.stdout.split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)
