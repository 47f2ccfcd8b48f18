"""Start-up: `pathsec --version` and `--help` import no command module and no heavy library;
each command imports its own module when it runs, and `--help` still lists them all."""

from __future__ import annotations

import ast
import gc
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from pathsec.cli.main import COMMANDS, load_command, run

#: Libraries that must not load for `pathsec --version` (import names: dnspython is `dns`,
#: pyspnego is `spnego`).
HEAVY = (
    "ldap3",
    "impacket",
    "dns",
    "spnego",
    "httpx",
    "sqlalchemy",
    "jinja2",
    "aerleon",
    "cryptography",
)


def _loaded_after(argv: list[str], watch: tuple[str, ...]) -> tuple[int, list[str]]:
    """Run the console script's entry point in a fresh interpreter with ``argv``; its exit
    code and which of ``watch`` (and which pathsec command modules) are then in sys.modules."""
    code = (
        "import sys\n"
        "from pathsec.cli.main import run\n"
        f"rc = int(run({argv!r}))\n"
        f"names = [m for m in {watch!r} if m in sys.modules]\n"
        "names += sorted(m for m in sys.modules if m.startswith('pathsec.cli.') and m.endswith('_cmd'))\n"
        "print(repr((rc, names)), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    rc, names = ast.literal_eval(proc.stderr.strip().splitlines()[-1])
    return rc, names


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_load_no_command_and_no_heavy_library(argv: list[str]) -> None:
    rc, loaded = _loaded_after(argv, HEAVY)
    assert rc == 0
    assert loaded == []


def test_the_check_sees_what_a_command_loads() -> None:
    # The same subprocess check reports a command's module and what it pulls in.
    rc, loaded = _loaded_after(["catalog", "show", "transport.hub_to_hub"], (*HEAVY, "yaml"))
    assert rc == 0
    assert loaded == ["yaml", "pathsec.cli.catalog_cmd"]


@pytest.mark.parametrize(
    ("argv", "module", "absent"),
    [
        (["plan", "--help"], "pathsec.cli.plan_cmd", HEAVY),
        (["catalog", "--help"], "pathsec.cli.catalog_cmd", HEAVY),
        # The audit needs cryptography (certificates); the HTML writer, the store's
        # SQLAlchemy and the protocol libraries load only when used.
        (["audit", "--help"], "pathsec.cli.audit_cmd", tuple(set(HEAVY) - {"cryptography"})),
        (["history", "--help"], "pathsec.cli.report_cmd", ("jinja2", "sqlalchemy", "ldap3")),
    ],
)
def test_each_command_loads_only_its_module(
    argv: list[str], module: str, absent: tuple[str, ...]
) -> None:
    rc, loaded = _loaded_after(argv, absent)
    assert rc == 0
    assert loaded == [module]


def test_an_audit_of_targets_loads_no_plan_and_no_library_it_does_not_use(
    tmp_path: Path,
) -> None:
    # A whole audit of an ad-hoc target (a closed loopback port) with the terminal table
    # and a results file: no plan or topology models (the report reads a plan only when
    # given one), no progress bar without a terminal, none of the other commands' libraries.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the socket is
    argv = ["audit", "-t", f"127.0.0.1:{port}/smtp", "--no-store", "--timeout", "5"]
    argv += ["-o", str(tmp_path / "r.json")]
    absent = (*HEAVY, "pathsec.plan", "pathsec.topology", "rich.progress")
    rc, loaded = _loaded_after(argv, tuple(m for m in absent if m != "cryptography"))
    assert rc == 1  # the closed port is a finding
    assert loaded == ["pathsec.cli.audit_cmd"]
    assert json.loads((tmp_path / "r.json").read_text())["endpoints"][0]["status"] == "refused"


def test_the_table_names_every_command_with_its_own_help() -> None:
    names = [name for name, _, _ in COMMANDS]
    assert len(names) == len(set(names))
    for name, registrar, text in COMMANDS:
        cmd = load_command(name)
        own = (cmd.short_help or cmd.help or "").strip().split("\n\n")[0]
        assert " ".join(own.split()) == text, name
        # A module registers nothing the table does not list.
        sub = typer.Typer()
        registrar(sub)
        assert set(typer.main.get_group(sub).commands) <= set(names), name


def test_help_lists_every_command_in_pipeline_order(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    names = [name for name, _, _ in COMMANDS]
    rows = [line.split()[1] for line in out.splitlines() if line.startswith("│ ")]
    assert [r for r in rows if r in names] == names
    for _, _, text in COMMANDS:
        assert text in out


def test_commands_still_run_and_a_typo_is_still_suggested(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["catalog", "show", "transport.hub_to_hub"]) == 0
    assert "transport.hub_to_hub" in capsys.readouterr().out
    assert run(["valdate", "x.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Did you mean 'validate'?" in err
    assert run(["audit", "--help"]) == 0
    assert "--targets-file" in capsys.readouterr().out


def test_start_up_objects_are_frozen_only_in_the_console_script() -> None:
    # The console script's process ends with its command: what parsing and importing made
    # is frozen out of the collector's passes. run() in a longer-lived process freezes
    # nothing (frozen garbage would never be freed there).
    before = gc.get_freeze_count()
    assert run(["catalog", "show", "transport.hub_to_hub"]) == 0
    assert gc.get_freeze_count() == before
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count(), file=sys.stderr))\n"
        "from pathsec.cli.main import entry\n"
        "entry()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "catalog", "show", "transport.hub_to_hub"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0
    assert int(proc.stderr.split()[-1]) > 10_000


def test_exit_flushes_output_and_runs_exit_handlers() -> None:
    # entry() ends the process without tearing the interpreter down: what was written
    # still arrives in full, exit handlers still run, the exit code is kept.
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('handler ran', file=sys.stderr))\n"
        "from pathsec.cli.main import entry\n"
        "entry()\n"
    )
    big = subprocess.run(
        [sys.executable, "-c", code, "catalog", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert big.returncode == 0
    assert len(json.loads(big.stdout)["paths"]) == 52
    assert big.stderr.strip().endswith("handler ran")
    bad = subprocess.run(
        [sys.executable, "-c", code, "valdate"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 2 and "handler ran" in bad.stderr
