"""``pathsec firewall``: least-privilege firewall rules from a deployment's plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, get_args

import typer

from pathsec.atomic import check_outputs, write_atomic
from pathsec.catalog import load_catalog
from pathsec.cli.common import err_console
from pathsec.errors import InputError, InputProblem
from pathsec.firewall import GeneratorOptions, RenderedFile, Selection, Target, generate
from pathsec.firewall.interface import L4
from pathsec.plan.load import load_plan as load_any_plan
from pathsec.plan.models import Plan
from pathsec.quoting import terminal

_PROTOCOL_CHOICES: dict[str, tuple[L4, ...]] = {
    "tcp": ("tcp",),
    "udp": ("udp",),
    "both": get_args(L4),
}


def load_plan(file: Path, catalog: Path | None = None, with_operational: bool = False) -> Plan:
    """A plan from a deployment YAML (planned now) or from a plan JSON file."""
    return load_any_plan(file, catalog, with_operational=with_operational)


def parse_protocols(values: list[str]) -> dict[str, tuple[L4, ...]]:
    """``PATH_OR_FLOW_ID=tcp|udp|both`` options as a mapping."""
    out: dict[str, tuple[L4, ...]] = {}
    for value in values:
        key, sep, proto = value.rpartition("=")
        if not sep or not key or proto not in _PROTOCOL_CHOICES:
            raise InputError(
                InputProblem(
                    "<command line>", None, "--protocol", f"{value!r}: use PATH_ID=tcp|udp|both"
                )
            )
        out[key] = _PROTOCOL_CHOICES[proto]
    return out


def write_files(files: tuple[RenderedFile, ...], output: Path | None) -> None:
    """Write ``files`` atomically under ``output``, or print them to stdout.

    Every target is checked before the first is written (a folder, device, FIFO, socket
    or link in the way replaces nothing); each file is written in its encoding, 0600.
    """
    if not files:
        err_console().print("pathsec: nothing to write: the selection has no enforcement point")
        return
    if output is not None:
        check_outputs(output / f.name for f in files)
        for f in files:
            target = write_atomic(output / f.name, f.data())
            err_console().print(f"wrote {terminal(target)}", markup=False, highlight=False)
        return
    for f in files:
        if len(files) > 1:
            typer.echo(f"# ==> {f.name} <==")
        typer.echo(f.content, nl=not f.content.endswith("\n"))


def firewall_command(
    file: Annotated[Path, typer.Argument(help="Deployment YAML (or a plan JSON).")],
    target: Annotated[Target, typer.Option("--target", "-t", help="Rule format.")],
    firewall: Annotated[
        str | None, typer.Option("--firewall", help="Only this network firewall.")
    ] = None,
    host: Annotated[str | None, typer.Option("--host", help="Only this host's firewall.")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write files into this directory (atomically)."),
    ] = None,
    protocol: Annotated[
        list[str] | None,
        typer.Option(
            "--protocol",
            help="PATH_OR_FLOW_ID=tcp|udp|both for flows the reference gives no protocol.",
        ),
    ] = None,
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="Catalog YAML instead of the built-in one.")
    ] = None,
    with_operational: Annotated[
        bool,
        typer.Option(
            "--with-operational",
            help="Also open the operational flows beyond the reference (see pathsec plan).",
        ),
    ] = False,
) -> None:
    """Write least-privilege firewall rules for the planned flows of a deployment."""
    if firewall is not None and host is not None:
        raise InputError(
            InputProblem(
                "<command line>", None, "--firewall", "give --firewall or --host, not both"
            )
        )
    plan = load_plan(file, catalog, with_operational)
    options = GeneratorOptions(
        catalog=load_catalog(catalog), protocols=parse_protocols(protocol or [])
    )
    files = generate(plan, target, Selection(firewall=firewall, host=host), options)
    write_files(files, output)
