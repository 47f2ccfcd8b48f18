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
    from pathsec.audit.baseline import make_policy, policy_yaml
    from pathsec.audit.profiles import load_profile
    from pathsec.audit.run import audit
    from pathsec.audit.targets import parse_target
    from pathsec.cli.audit_cmd import _deployment_targets
    from pathsec.errors import InputError, InputProblem
    from pathsec.ident import DomainName, ShortText, check_option
    from pathsec.probes.base import ProbeSettings

    if ad_domain is not None:
        ad_domain = check_option(DomainName, ad_domain, "--ad-domain")
    description = check_option(ShortText, description, "--description")
    targets = [parse_target(t) for t in target or []]
    if deployment is not None:
        targets += _deployment_targets(deployment, from_zone, ad_domain)[0]
    elif ad_domain is not None:
        targets = [t.model_copy(update={"domain": ad_domain}) for t in targets]
    if not targets:
        raise InputError(InputProblem("pathsec baseline", None, None, "give a deployment or -t"))
    result = audit(targets, load_profile("reference"), ProbeSettings(timeout=timeout))
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
