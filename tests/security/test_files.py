"""Files and paths: what ``-o`` may replace, the permission policy, input size limits, and
an error path no slower than the success path."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pathsec.atomic import write_atomic
from pathsec.cli.main import run
from pathsec.errors import InputError
from pathsec.jsonfile import MAX_JSON_BYTES, json_line_of
from pathsec.yamlfile import MAX_YAML_BYTES
from report.sample import sample_result

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "examples" / "small.yaml"
PATHSEC = str(Path(sys.executable).parent / "pathsec")


def one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], pattern: str) -> None:
    code = run(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and pattern in err, err


# --- what -o may replace -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["plan", "report", "firewall"])
def test_output_onto_a_directory_is_refused(command: str, tmp_path: Path, capsys) -> None:
    target = tmp_path / "out"
    if command == "firewall":  # -o is a folder; a file it writes is a folder here
        (target / "firewall-matrix.csv").mkdir(parents=True)
        argv = ["firewall", str(SMALL), "-t", "csv", "-o", str(target)]
    else:
        target.mkdir()
        (target / "keep").write_text("x")
        argv = _argv(command, tmp_path, target)
    one_line_exit_2(capsys, argv, "is a directory")
    assert target.is_dir() and sorted(p.name for p in target.iterdir()) in (
        ["keep"],
        ["firewall-matrix.csv"],
    )


def _argv(command: str, tmp_path: Path, target: Path) -> list[str]:
    if command == "plan":
        return ["plan", str(SMALL), "-o", str(target)]
    results = tmp_path / "r.json"
    results.write_text(sample_result().model_dump_json(), "utf-8")
    return ["report", str(results), "-f", "csv", "-o", str(target)]


def test_output_onto_a_fifo_or_socket_is_refused(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    one_line_exit_2(capsys, ["plan", str(SMALL), "-o", str(fifo)], "is a FIFO")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    sock_path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        one_line_exit_2(capsys, ["plan", str(SMALL), "-o", str(sock_path)], "is a socket")
        assert stat.S_ISSOCK(sock_path.lstat().st_mode)


@pytest.mark.root
def test_output_onto_a_device_is_refused_and_the_node_stays(tmp_path: Path, capsys) -> None:
    if os.geteuid() != 0:
        pytest.skip("mknod needs root")
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
    one_line_exit_2(capsys, ["plan", str(SMALL), "-o", str(node)], "is a device")
    assert stat.S_ISCHR(node.lstat().st_mode)
    out = tmp_path / "fw"
    out.mkdir()
    os.mknod(out / "firewall-fw-outer.nft", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    one_line_exit_2(
        capsys, ["firewall", str(SMALL), "-t", "nftables", "-o", str(out)], "is a device"
    )
    assert sorted(p.name for p in out.iterdir()) == ["firewall-fw-outer.nft"]  # nothing written


def test_symlinks_are_not_written_through(tmp_path: Path, capsys) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "out.txt"
    link.symlink_to(victim)
    one_line_exit_2(capsys, ["plan", str(SMALL), "-o", str(link)], "is a symbolic link")
    assert link.is_symlink() and victim.read_text() == "precious"
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "nowhere" / "x")
    one_line_exit_2(capsys, ["plan", str(SMALL), "-o", str(dangling)], "is a symbolic link")
    assert not (tmp_path / "nowhere").exists()


def test_unwritable_place_is_one_line(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    one_line_exit_2(
        capsys, ["plan", str(SMALL), "-o", str(blocker / "sub" / "p.txt")], "Not a directory"
    )


# --- permissions -------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_written_file_is_0600_and_new_folders_0700(tmp_path: Path, capsys) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "new" / "fw"
        assert run(["firewall", str(SMALL), "-t", "aerleon", "-o", str(out)]) == 0
        assert run(["plan", str(SMALL), "-o", str(tmp_path / "p" / "plan.txt")]) == 0
        existing = tmp_path / "existing.txt"
        existing.write_text("old")
        existing.chmod(0o644)
        write_atomic(existing, "new")
        shared = tmp_path / "shared"
        shared.mkdir()
        shared.chmod(0o755)
        write_atomic(shared / "f.txt", "x")
    finally:
        os.umask(old)
    capsys.readouterr()
    files = [p for p in (tmp_path / "new").rglob("*") if p.is_file()]
    folders = [p for p in (tmp_path / "new").rglob("*") if p.is_dir()]
    # aerleon: a policy per network firewall, the two definition files, a .flows side file
    # per firewall (rules with more flows than a comment lists)
    assert len(files) == 6 and len(folders) >= 5
    assert {_mode(p) for p in files} == {0o600}
    assert {_mode(p) for p in [tmp_path / "new", *folders, tmp_path / "p"]} == {0o700}
    assert _mode(tmp_path / "p" / "plan.txt") == 0o600
    assert _mode(existing) == 0o600 and existing.read_text() == "new"
    assert _mode(tmp_path / "shared") == 0o755  # an existing folder keeps its mode
    assert _mode(tmp_path / "shared" / "f.txt") == 0o600


@pytest.mark.parametrize("how", ["default location", "explicit URL"])
def test_history_database_is_private(how: str, tmp_path: Path, monkeypatch, capsys) -> None:
    from pathsec.store import db as store_db

    store_db._engine.cache_clear()
    if how == "default location":
        monkeypatch.delenv("PATHSEC_DB", raising=False)
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
        folder = tmp_path / "data" / "pathsec"
    else:
        folder = tmp_path / "db"
        monkeypatch.setenv("PATHSEC_DB", f"sqlite:///{folder / 'h.sqlite3'}")
    results = tmp_path / "r.json"
    results.write_text(sample_result().model_dump_json(), "utf-8")
    old = os.umask(0o022)
    try:
        assert run(["store", str(results)]) == 0
    finally:
        os.umask(old)
        store_db._engine.cache_clear()
    capsys.readouterr()
    dbs = list(folder.glob("*.sqlite3"))
    assert len(dbs) == 1 and _mode(dbs[0]) == 0o600 and dbs[0].stat().st_size > 0
    assert _mode(folder) == 0o700
    for extra in folder.iterdir():  # journals, if any are left, take the database's mode
        assert _mode(extra) == 0o600


# --- input size limits -------------------------------------------------------------------


def test_inputs_have_a_size_limit(tmp_path: Path, capsys) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(MAX_YAML_BYTES + 1)  # sparse: no disk used
    one_line_exit_2(capsys, ["validate", str(big)], "file too large (over 16,777,216 bytes)")
    big_json = tmp_path / "big.json"
    with open(big_json, "wb") as fh:
        fh.truncate(MAX_JSON_BYTES + 1)
    one_line_exit_2(capsys, ["report", str(big_json)], "file too large")
    targets = tmp_path / "t.txt"
    with open(targets, "wb") as fh:
        fh.truncate(MAX_YAML_BYTES + 1)
    one_line_exit_2(
        capsys, ["audit", "--targets-file", str(targets), "--no-store"], "file too large"
    )


def test_a_pipe_is_read_with_the_same_bound(tmp_path: Path) -> None:
    from pathsec.yamlfile import read_text_file

    r, w = os.pipe()
    os.write(w, b"a: 1\n" * 10)
    os.close(w)
    assert read_text_file(f"/dev/fd/{r}", 100) == "a: 1\n" * 10
    os.close(r)
    r, w = os.pipe()
    os.write(w, b"x" * 200)
    os.close(w)
    with pytest.raises(InputError, match="too large"):
        read_text_file(f"/dev/fd/{r}", 100)
    os.close(r)


# --- the error path is no slower than the success path -----------------------------------


def _big_results(path: Path, target_bytes: int = 7_000_000) -> int:
    """A results document of about ``target_bytes`` (the sample's endpoints repeated)."""
    doc = json.loads(sample_result().model_dump_json())
    eps, fs = doc["endpoints"], doc["findings"]
    one = len(json.dumps({"e": eps, "f": fs}, indent=2))
    n = max(1, target_bytes // one)
    doc["endpoints"] = eps * n
    doc["findings"] = fs * n
    text = json.dumps(doc, indent=2)
    path.write_text(text, "utf-8")
    return len(doc["endpoints"])


def _timed(*argv: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    res = subprocess.run([PATHSEC, *argv], capture_output=True, text=True, timeout=120)
    return time.perf_counter() - t0, res


def test_seven_megabyte_results_file_with_one_bad_field(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    count = _big_results(good)
    assert 6_500_000 < good.stat().st_size < 8_000_000
    doc = json.loads(good.read_text("utf-8"))
    doc["endpoints"][count - 3]["port"] = "twenty-five"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc, indent=2), "utf-8")
    t_ok, ok = _timed("report", str(good), "-f", "csv", "-o", str(tmp_path / "ok.csv"))
    t_bad, res = _timed("report", str(bad), "-f", "csv", "-o", str(tmp_path / "bad.csv"))
    assert ok.returncode == 0, ok.stderr
    assert res.returncode == 2 and len(res.stderr.splitlines()) == 1
    line = (
        json.dumps(doc, indent=2)[: json.dumps(doc, indent=2).index('"twenty-five"')].count("\n")
        + 1
    )
    assert f"bad.json:{line}: endpoints[{count - 3}].port: " in res.stderr
    assert t_bad < 3.0, f"error path took {t_bad:.2f} s (success path {t_ok:.2f} s)"
    assert t_bad < t_ok + 1.0, f"error path {t_bad:.2f} s vs success path {t_ok:.2f} s"
    # the line finder itself: a walk down one path, not a parse of the whole text
    text = bad.read_text("utf-8")
    t0 = time.perf_counter()
    assert json_line_of(text, ("endpoints", count - 3, "port")) == line
    assert time.perf_counter() - t0 < 0.5
