"""``pathsec audit``: probe endpoints and report findings against a profile.

Options in, library calls (:mod:`pathsec.audit`), one report writer out; nothing else.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pathsec.atomic import write_atomic
from pathsec.audit.assemble import assemble
from pathsec.audit.models import AuditResult, FindingSeverity
from pathsec.audit.profiles import load_profile
from pathsec.audit.run import audit_or_stop, result_json_pieces, worst
from pathsec.cli.common import Lang, emit, err_console
from pathsec.cli.probing import (
    DEFAULT_CONCURRENCY,
    DEFAULT_PER_HOST,
    ConcurrencyOpt,
    MaxRateOpt,
    NtlmInfoOpt,
    PerHostOpt,
    QuietOpt,
    RichObserver,
    SourceAddressOpt,
    TimeoutOpt,
    probe_config,
)
from pathsec.cli.tabular import Tabular
from pathsec.errors import InputError, InputProblem, PathsecError
from pathsec.exitcodes import ExitCode
from pathsec.ident import DomainName, check_option
from pathsec.quoting import terminal
from pathsec.report import ReportFormat, ReportInput, render


class TlsDepth(StrEnum):
    """How deep the TLS audit goes (``--tls``)."""

    full = "full"
    quick = "quick"


def _store(result: AuditResult, db: str | None) -> None:
    """Keep the run in the history (``pathsec history``); a store failure is a warning only."""
    from pathsec.store import save_run

    try:
        run_id = save_run(result, db)
    except PathsecError as exc:
        err_console().print(
            f"pathsec: warning: run not stored in the history: {terminal(exc)}", markup=False
        )
        return
    err_console().print(f"stored as run {run_id} (pathsec history, pathsec diff)", markup=False)


def _dry_run(path: Path, from_zone: str | None, fmt: ReportFormat, output: Path | None) -> None:
    """Print what the audit would do, send nothing."""
    from pathsec.audit.deployment import load_plan, plan_dry_run

    run = plan_dry_run(load_plan(path), from_zone)
    text = run.model_dump_json(indent=2) + "\n"
    if output is not None:
        write_atomic(output, text)
    if fmt is ReportFormat.json:
        emit(text)
        return
    if fmt is not ReportFormat.table:
        raise InputError(InputProblem("--format", None, None, "--dry-run prints table or json"))
    emit(
        Tabular(
            ["path", "endpoint", "protocol", "probe", "from zone", "expect"],
            [
                [
                    c.path_id or "",
                    f"{c.destination} {c.host}:{c.port}",
                    c.protocol.value,
                    c.probe,
                    c.from_zone or "",
                    c.expect,
                ]
                for c in run.checks
            ],
            title=f"Checks ({len(run.checks)})",
        )
    )
    emit(
        Tabular(
            ["path", "not observable because", "how to verify"],
            [[n.path_id, n.reason, n.how_to_verify] for n in run.not_observable],
            title=f"Not observable from the network ({len(run.not_observable)})",
        )
    )


def audit_command(
    deployment: Annotated[
        Path | None,
        typer.Argument(help="Deployment YAML or plan JSON: audit every planned flow."),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option("--target", "-t", help="HOST\\[:PORT]\\[/PROTO]; repeatable."),
    ] = None,
    targets_file: Annotated[
        Path | None, typer.Option("--targets-file", help="File with one target per line.")
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", help="reference, hardened, or a profile YAML file.")
    ] = "reference",
    fail_on: Annotated[
        FindingSeverity,
        typer.Option("--fail-on", help="Exit 1 when a finding is at least this severe."),
    ] = FindingSeverity.medium,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")] = (
        ReportFormat.table
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the result here (atomically).")
    ] = None,
    timeout: TimeoutOpt = 5.0,
    concurrency: ConcurrencyOpt = DEFAULT_CONCURRENCY,
    per_host: PerHostOpt = DEFAULT_PER_HOST,
    max_rate: MaxRateOpt = None,
    source_address: SourceAddressOpt = None,
    ntlm_info: NtlmInfoOpt = False,
    quiet: QuietOpt = False,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of finding titles.")] = Lang.en,
    from_zone: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Audit a deployment from this zone: planned flows must work, the rest be closed.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Send nothing; print the checks and what is not observable from the network.",
        ),
    ] = False,
    ad_domain: Annotated[
        str | None, typer.Option("--ad-domain", help="AD domain for DNS and Kerberos checks.")
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Baseline policy (pathsec baseline): report drift from it."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="History database URL (default: $PATHSEC_DB or SQLite)."),
    ] = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Do not keep this run in the history.")
    ] = False,
    tls: Annotated[
        TlsDepth,
        typer.Option(
            "--tls",
            help="full: also cipher suites, key exchange and chain; quick: versions and "
            "certificate only.",
        ),
    ] = TlsDepth.full,
    ca_file: Annotated[
        Path | None,
        typer.Option("--ca-file", help="PEM roots trusted for chain checks, beside the system's."),
    ] = None,
    path_id: Annotated[
        str | None,
        typer.Option(
            "--path",
            help="Grade -t/--targets-file targets against this catalog path (its "
            "authentication rows then apply whatever the server is).",
        ),
    ] = None,
) -> None:
    """Probe mail, web, directory, Kerberos, DNS, RPC, SMB and SIP endpoints; report findings."""
    if (from_zone is not None or dry_run) and deployment is None:
        raise InputError(
            InputProblem("pathsec audit", None, None, "--from and --dry-run need a deployment")
        )
    if dry_run:
        assert deployment is not None
        _dry_run(deployment, from_zone, fmt, output)
        return
    prof = load_profile(profile)
    if policy is not None:  # read it before probing: a bad file must not cost a whole audit
        from pathsec.audit.baseline import load_policy

        baseline = load_policy(policy)
    settings, limits = probe_config(
        timeout, concurrency, per_host, max_rate, source_address, ntlm_info
    )
    if ca_file is not None and not ca_file.is_file():
        raise InputError(InputProblem(str(ca_file), None, "--ca-file", "no such file"))
    settings = dataclasses.replace(
        settings,
        tls_depth=tls.value,
        ca_file=str(ca_file) if ca_file is not None else None,
    )
    if ad_domain is not None:
        ad_domain = check_option(DomainName, ad_domain, "--ad-domain")
    work = assemble(target or [], targets_file, deployment, from_zone, ad_domain, path_id=path_id)
    observer = RichObserver() if (not quiet and sys.stderr.isatty()) else None
    result, stopped = audit_or_stop(work.targets, prof, settings, limits, observer)
    if stopped is not None and observer is not None:
        observer.run_finished()  # interrupted: the engine did not take the progress bar down
    if policy is not None:
        from pathsec.audit.baseline import with_drift

        result = with_drift(result, baseline)
    if output is not None:
        write_atomic(output, result_json_pieces(result))
    if fmt is ReportFormat.json:
        sys.stdout.writelines(result_json_pieces(result))
    else:
        report = ReportInput(result=result, plan=work.plan, lang=lang.value, fail_on=fail_on)
        emit(render(fmt, report))
    if not no_store:
        _store(result, db)
    if stopped is not None:  # Ctrl-C or SIGTERM: what finished is written, marked incomplete
        err_console().print(
            f"pathsec: interrupted by {signal.Signals(stopped).name}: {len(result.endpoints)} of "
            f"{len(work.targets)} endpoints finished; the result says complete: false",
            markup=False,
        )
        raise typer.Exit(ExitCode.for_signal(stopped))
    if not result.complete:
        raise typer.Exit(ExitCode.failed)
    top = worst(result)
    if top is not None and top.rank >= fail_on.rank:
        raise typer.Exit(ExitCode.findings)
