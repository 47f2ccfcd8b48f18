"""``pathsec firewall``: least-privilege firewall rules from a deployment's plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, get_args

import typer

from pathsec.atomic import check_outputs, write_atomic
from pathsec.catalog import load_catalog
from pathsec.cli.common import err_console
from pathsec.cli.tabular import Tabular, print_table
from pathsec.errors import InputError, InputProblem
from pathsec.exitcodes import ExitCode
from pathsec.firewall import GeneratorOptions, RenderedFile, Rendering, Selection, Target, render
from pathsec.firewall.aerleon_targets import parse_targets
from pathsec.firewall.interface import L4, HostFormat
from pathsec.firewall.summary import (
    SUMMARY_HEADERS,
    refusal_lines,
    summary_json,
    summary_rows,
)
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


def print_summary(rendering: Rendering, target: Target) -> None:
    """The summary table (and the refused flows) on stderr."""
    console = err_console()
    if rendering.points:
        title = f"pathsec firewall --target {target}: flows -> rules per enforcement point"
        rows = [[terminal(c) for c in row] for row in summary_rows(rendering)]
        print_table(Tabular(SUMMARY_HEADERS, rows, title), console)
    for line in refusal_lines(rendering):
        console.print(f"refused: {terminal(line)}", markup=False, highlight=False)
    if rendering.skipped:
        console.print(
            f"hosts left to their own OS format (--host-format any to include them): "
            f"{terminal(', '.join(rendering.skipped))}",
            markup=False,
            highlight=False,
        )


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
    host_format: Annotated[
        str,
        typer.Option(
            "--host-format",
            help="own: host rules only in the host's own OS family (Windows servers: "
            "--target windows); any: in this target's format too.",
        ),
    ] = "own",
    aerleon_targets: Annotated[
        list[str] | None,
        typer.Option(
            "--aerleon-targets",
            help="aerleon platforms (comma-separated: juniper,cisco,ciscoasa,paloalto,"
            "packetfilter,srx,nftables,...): put in the policy headers and render through "
            "aerleon into aerleon/out/.",
        ),
    ] = None,
    summary_json_file: Annotated[
        Path | None,
        typer.Option(
            "--summary-json",
            help="Write the summary (flows -> rules, refused flows per enforcement point) "
            "as JSON to this file ('-': stdout, with --output).",
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
) -> int:
    """Write least-privilege firewall rules for the planned flows of a deployment.

    Prints a summary per enforcement point on stderr; exits 3 when a target had to refuse
    flows (the files are written without them and list them).
    """
    if firewall is not None and host is not None:
        raise InputError(
            InputProblem(
                "<command line>", None, "--firewall", "give --firewall or --host, not both"
            )
        )
    if host_format not in ("own", "any"):
        raise InputError(
            InputProblem("<command line>", None, "--host-format", f"{host_format!r}: own|any")
        )
    if str(summary_json_file) == "-" and output is None:
        raise InputError(
            InputProblem(
                "<command line>",
                None,
                "--summary-json",
                "'-' writes the summary to stdout, which carries the files: add --output DIR",
            )
        )
    fmt: HostFormat = "any" if host_format == "any" else "own"
    targets = parse_targets(aerleon_targets or [])
    if targets and target is not Target.aerleon:
        raise InputError(
            InputProblem("<command line>", None, "--aerleon-targets", "needs --target aerleon")
        )
    plan = load_plan(file, catalog, with_operational)
    options = GeneratorOptions(
        catalog=load_catalog(catalog),
        protocols=parse_protocols(protocol or []),
        host_format=fmt,
        aerleon_targets=targets,
    )
    rendering = render(plan, target, Selection(firewall=firewall, host=host), options)
    write_files(rendering.files, output)
    print_summary(rendering, target)
    if summary_json_file is not None:
        text = summary_json(rendering, target.value)
        if str(summary_json_file) == "-":
            typer.echo(text, nl=False)
        else:
            written = write_atomic(summary_json_file, text)
            err_console().print(f"wrote {terminal(written)}", markup=False, highlight=False)
    refused = sum(len(p.refused) for p in rendering.points)
    if refused:
        err_console().print(
            f"pathsec: {refused} flows refused by --target {target}: the files leave them "
            "closed (listed above and in each file's header)",
            markup=False,
        )
        return ExitCode.failed
    return ExitCode.ok
