"""``pathsec lab up|down``: an emulated Exchange 2007 organisation on loopback."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from pathsec.cli.common import err_console
from pathsec.errors import InputError, InputProblem
from pathsec.lab import daemon
from pathsec.lab.core import DEPLOYMENT_FILE, ENDPOINTS_FILE, PortMode
from pathsec.lab.profiles import load_profile

app = typer.Typer(
    help="An emulated Exchange 2007 organisation on loopback addresses, to audit and demo.",
    no_args_is_help=True,
)

StateDir = Annotated[
    Path | None,
    typer.Option("--state-dir", help="Where the lab keeps its PID, certificates and files."),
]


def _print_endpoints(state_dir: Path) -> None:
    doc = json.loads((state_dir / ENDPOINTS_FILE).read_text(encoding="utf-8"))
    typer.echo(f"{'server':8} {'service':13} {'address:port':22} {'real':>5}  tls")
    for e in doc["endpoints"]:
        where = f"{e['address']}:{e['port']}"
        typer.echo(f"{e['server']:8} {e['service']:13} {where:22} {e['real_port']:>5}  {e['tls']}")
    typer.echo(f"deployment: {state_dir / DEPLOYMENT_FILE}")
    typer.echo(f"endpoints:  {state_dir / ENDPOINTS_FILE}")


@app.command("up")
def up(
    profile: Annotated[
        str,
        typer.Option(
            "--profile", help="default, hardened, misconfigured, windows2003, or a YAML file."
        ),
    ] = "default",
    state_dir: StateDir = None,
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Run in this process until Ctrl-C.")
    ] = False,
    real_ports: Annotated[
        bool,
        typer.Option("--real-ports", help="Bind the real ports (root only); default: port+20000."),
    ] = False,
) -> None:
    """Start the lab (in the background unless --foreground) and print where it listens."""
    load_profile(profile)  # bad profile: one line, exit 2, before anything starts
    if real_ports and os.geteuid() != 0:
        raise InputError(InputProblem("--real-ports", None, None, "needs root"))
    ports = PortMode.real if real_ports else PortMode.high
    where = state_dir or daemon.default_state_dir()
    if foreground:
        err_console().print(f"lab: profile {profile}, state in {where}; Ctrl-C stops it")
        daemon.run_foreground(profile, where, ports)
        return
    pid = daemon.spawn(profile, where, ports)
    err_console().print(f"lab up: profile {profile}, pid {pid}; `pathsec lab down` stops it")
    _print_endpoints(where)


@app.command("down")
def down(state_dir: StateDir = None) -> None:
    """Stop the lab started from the state directory and remove its run files."""
    where = state_dir or daemon.default_state_dir()
    pid = daemon.stop(where)
    if pid is None:
        err_console().print(f"lab down: no lab was running from {where}")
    else:
        err_console().print(f"lab down: stopped pid {pid}")
