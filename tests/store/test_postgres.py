"""History on a real PostgreSQL server (Debian package), started in a temporary directory."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pathsec.cli.main import run
from pathsec.store import list_runs, load_run, save_run
from report.sample import sample_result

pytestmark = pytest.mark.server


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def postgres() -> Iterator[str]:
    bindir = _bin_dir()
    runuser = shutil.which("runuser")
    if bindir is None or runuser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL (apt-get install postgresql) is required in CI")
        pytest.skip("PostgreSQL is not installed")
    if os.geteuid() != 0:
        pytest.skip("needs root to run the server as the postgres user")
    # pytest's tmp_path sits under a root-only directory: the server gets its own.
    base = Path(tempfile.mkdtemp(prefix="pathsec-pg-"))
    data = base / "data"
    shutil.chown(base, "postgres", "postgres")
    port = _free_port()

    def as_postgres(*cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [runuser, "-u", "postgres", "--", *cmd],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    init = as_postgres(
        str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"
    )
    assert init.returncode == 0, init.stderr
    opts = f"-k {base} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = as_postgres(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        opts,
        "-l",
        str(base / "log"),
        "-w",
        "-t",
        "30",
        "start",
    )
    try:
        assert start.returncode == 0, start.stderr + (base / "log").read_text(errors="replace")
        deadline = time.monotonic() + 20
        while (
            as_postgres(str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)).returncode
            != 0
        ):
            assert time.monotonic() < deadline, "PostgreSQL did not become ready"
            time.sleep(0.2)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(
            str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop"
        )
        pid_file = data / "postmaster.pid"
        if pid_file.exists():  # pg_ctl could not stop it: end it by its PID
            pid = int(pid_file.read_text().split()[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        shutil.rmtree(base, ignore_errors=True)


def test_store_and_read_runs_on_postgresql(
    postgres: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = save_run(sample_result(), postgres)
    results = tmp_path / "r.json"
    results.write_text(sample_result().model_copy(update={"profile": "hardened"}).model_dump_json())
    assert run(["store", str(results), "--db", postgres, "--label", "second vantage"]) == 0
    second = int(capsys.readouterr().out)
    assert second > first
    assert load_run(first, postgres) == sample_result()
    runs = list_runs(postgres)
    assert [(r.id, r.profile, r.label) for r in runs] == [
        (second, "hardened", "second vantage"),
        (first, "reference", None),
    ]
    assert runs[1].by_severity["medium"] == 2
    assert run(["history", "--db", postgres, "--format", "json"]) == 0
    assert [h["id"] for h in json.loads(capsys.readouterr().out)] == [second, first]
    assert run(["diff", str(first), str(second), "--db", postgres, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["changed_endpoints"] == []
