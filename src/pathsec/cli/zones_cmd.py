"""``pathsec merge`` (results of several vantage points) and ``pathsec baseline``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from pathsec.atomic import write_atomic
from pathsec.cli.common import emit
from pathsec.exitcodes import ExitCode


def merge_command(
    results: Annotated[
        list[Path], typer.Argument(help="Results JSON files (pathsec audit --format json).")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the merged result here.")
    ] = None,
) -> None:
    """Merge audit results from several zones into one results JSON."""
    from pathsec.audit.merge import merge_results, read_result
    from pathsec.audit.run import result_json

    text = result_json(merge_results([read_result(p) for p in results]))
    if output is not None:
        write_atomic(output, text)
    else:
        emit(text)


def baseline_command(
    deployment: Annotated[
        Path | None, typer.Argument(help="Deployment YAML (or plan JSON) to baseline.")
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option("--target", "-t", help="HOST\\[:PORT]\\[/PROTO]; repeatable."),
    ] = None,
    targets_file: Annotated[
        Path | None, typer.Option("--targets-file", help="File with one target per line.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Policy YAML to write (default: stdout).")
    ] = None,
    from_zone: Annotated[
        str | None, typer.Option("--from", help="The zone this baseline is taken from.")
    ] = None,
    ad_domain: Annotated[
        str | None, typer.Option("--ad-domain", help="AD domain for DNS and Kerberos checks.")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, max=300, help="Seconds per connect or read.")
    ] = 5.0,
    description: Annotated[str, typer.Option("--description", help="Note kept in the file.")] = "",
) -> None:
    """Record what a known-good deployment offers per path (check drift with audit --policy)."""
    from pathsec.audit.assemble import assemble
    from pathsec.audit.baseline import make_policy, policy_yaml
    from pathsec.audit.profiles import load_profile
    from pathsec.audit.run import audit
    from pathsec.ident import DomainName, ShortText, check_option
    from pathsec.probes.interface import ProbeSettings

    if ad_domain is not None:
        ad_domain = check_option(DomainName, ad_domain, "--ad-domain")
    description = check_option(ShortText, description, "--description")
    work = assemble(
        target or [], targets_file, deployment, from_zone, ad_domain, "pathsec baseline"
    )
    result = audit(work.targets, load_profile("reference"), ProbeSettings(timeout=timeout))
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    text = policy_yaml(make_policy(result, created, description))
    if output is not None:
        write_atomic(output, text)
    else:
        emit(text)
    if not result.complete:
        raise typer.Exit(ExitCode.failed)


def register(app: typer.Typer) -> None:
    """Add ``merge`` and ``baseline`` to the CLI."""
    app.command("merge")(merge_command)
    app.command("baseline")(baseline_command)
