"""``pathsec discover``: find Exchange and AD servers on the network, write a draft deployment.

Options in (the audit's connection budget and scope options, :mod:`pathsec.cli.probing`),
library calls (:mod:`pathsec.discover`), the draft and its evidence file out; what was left
out goes to stderr.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from pathsec.cli.common import err_console
from pathsec.cli.onboard_cmd import ForceOpt, write_output
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
from pathsec.discover.scope import DEFAULT_MAX_HOSTS, DISCOVERY_PORTS, MAX_HOSTS_LIMIT
from pathsec.errors import InputError, InputProblem
from pathsec.exitcodes import ExitCode
from pathsec.probes.text import clean_text

#: Silent ranges listed on stderr before "and N more".
SHOW_RANGES = 12


def _say(text: str) -> None:
    err_console().print(clean_text(text, 400), highlight=False, markup=False, soft_wrap=True)


def evidence_path(output: Path) -> Path:
    """``draft.yaml`` -> ``draft.evidence.json`` beside it."""
    return output.with_name(output.stem + ".evidence.json")


def _check_output(path: Path | None, force: bool, option: str) -> None:
    """Refuse before probing, not after: a folder, or a file to replace without --force."""
    if path is None:
        return
    if path.is_dir():
        raise InputError(InputProblem("<command line>", None, option, f"{path} is a folder"))
    if path.exists() and not force:
        raise InputError(
            InputProblem("<command line>", None, option, f"{path} exists; use --force to replace")
        )


def discover_command(
    targets: Annotated[
        list[str],
        typer.Argument(help="Addresses and CIDRs, e.g. 10.1.0.0/24 10.2.0.5 2001:db8::/120."),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the draft here (default: stdout)."),
    ] = None,
    evidence: Annotated[
        Path | None,
        typer.Option("--evidence", help="Evidence JSON (default with -o: NAME.evidence.json)."),
    ] = None,
    max_hosts: Annotated[
        int,
        typer.Option(
            "--max-hosts", min=1, max=MAX_HOSTS_LIMIT, help="Refuse more addresses than this."
        ),
    ] = DEFAULT_MAX_HOSTS,
    timeout: TimeoutOpt = 5.0,
    concurrency: ConcurrencyOpt = DEFAULT_CONCURRENCY,
    per_host: PerHostOpt = DEFAULT_PER_HOST,
    max_rate: MaxRateOpt = None,
    source_address: SourceAddressOpt = None,
    ntlm_info: NtlmInfoOpt = False,
    quiet: QuietOpt = False,
    force: ForceOpt = False,
) -> None:
    """Probe the Exchange and AD ports of TARGETs; write a draft deployment with the evidence."""
    from pathsec.discover import discover, parse_scope, report_json

    scope = parse_scope(targets, max_hosts)
    settings, limits = probe_config(
        timeout, concurrency, per_host, max_rate, source_address, ntlm_info
    )
    evidence = evidence or (evidence_path(output) if output is not None else None)
    _check_output(output, force, "--output")
    _check_output(evidence, force, "--evidence")
    observer = RichObserver("discovering") if (not quiet and sys.stderr.isatty()) else None
    _say(
        f"discover: {len(scope.addresses):,} addresses x {len(DISCOVERY_PORTS)} ports "
        f"({len(scope.addresses) * len(DISCOVERY_PORTS):,} endpoints)"
    )
    found = discover(scope, settings, limits, observer)
    report = found.report
    if found.stopped is not None:
        _say(
            f"pathsec: interrupted by {signal.Signals(found.stopped).name}: nothing written "
            "(a draft needs every address probed)"
        )
        raise typer.Exit(ExitCode.for_signal(found.stopped))
    for v in report.servers:
        roles = ", ".join(f"{r.role.value} ({r.certainty.value})" for r in v.roles)
        _say(f"  {v.address} {v.name.value}: {roles}")
    if report.left_out:
        _say(f"left out: {len(report.left_out)} addresses with open ports but no server:")
        for x in report.left_out:
            _say(f"  {x.address}: {x.reason}; open {' '.join(x.open_ports)}")
    if report.silent:
        more = len(report.silent) - SHOW_RANGES
        shown = ", ".join(report.silent[:SHOW_RANGES]) + (f" and {more} more" if more > 0 else "")
        _say(f"left out, no port answered: {shown}")
    _say(
        f"found {len(report.servers)} servers in {report.addresses:,} addresses "
        f"({report.endpoints:,} endpoints, {report.seconds:.1f} s)"
    )
    if evidence is not None:
        write_output(evidence, report_json(report), True, "--evidence")
    if found.text is None:
        _say("pathsec: no draft written: no Exchange or Active Directory server answered")
        raise typer.Exit(ExitCode.failed)
    if output is None:
        typer.echo(found.text, nl=False)
    else:
        write_output(output, found.text, True)
    _say(f"the draft validates with {found.errors} errors and {found.warnings} warnings")
    if output is not None:
        _say(f"next: review the TODOs, then `pathsec validate {output}`")


def register(app: typer.Typer) -> None:
    """Add ``discover`` to the CLI."""
    app.command("discover")(discover_command)
