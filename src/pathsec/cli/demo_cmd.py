"""``pathsec demo``: start the lab, plan it, audit it, report, stop it: one command."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from pathsec.audit.models import Finding, FindingSeverity
from pathsec.cli.common import emit
from pathsec.cli.tabular import Tabular
from pathsec.demo import DemoOutcome, run_demo
from pathsec.errors import InputError, InputProblem
from pathsec.lab.profiles import BUILTIN_PROFILES
from pathsec.probes.text import clean_text

#: Findings shown in the terminal; the report has them all.
TOP = 10


def _summary(out: DemoOutcome) -> None:
    res = out.result
    counts = Counter(f.severity for f in res.findings)
    by_sev = ", ".join(
        f"{counts[s]} {s.value}"
        for s in sorted(FindingSeverity, key=lambda s: -s.rank)
        if counts[s]
    )
    emit(
        f"pathsec demo: lab profile {out.lab_profile!r}, audit profile {out.audit_profile!r}\n"
        f"  {len(out.plan.flows)} planned flows -> {out.targets} checks on "
        f"{len({(e.host, e.port) for e in res.endpoints})} endpoints\n"
        f"  {len(res.findings)} findings: {by_sev or 'none'}"
    )
    # One row per finding id and endpoint (a finding repeats for every path served there),
    # most severe first as the audit sorts them.
    grouped: dict[tuple[str, str, int], list[Finding]] = {}
    for f in res.findings:
        grouped.setdefault((f.id, f.host, f.port), []).append(f)
    rows = [
        [
            fs[0].id,
            fs[0].severity.value,
            clean_text(f"{fs[0].host}:{fs[0].port}/{fs[0].protocol.value}"),
            fs[0].title.en + (f" ({len(fs)} paths)" if len(fs) > 1 else ""),
        ]
        for fs in list(grouped.values())[:TOP]
    ]
    if rows:
        more = len(grouped) - len(rows)
        emit(
            Tabular(
                ["id", "severity", "endpoint", "finding"],
                rows,
                title="Top findings" + (f" ({more} more in the report)" if more > 0 else ""),
            ),
        )
    emit(
        f"wrote {out.report}\n"
        f"      {out.results}\n"
        f"      {out.deployment}\n"
        f"lab started in {out.seconds_lab:.1f} s, audit {out.seconds_audit:.1f} s, "
        f"total {out.seconds_total:.1f} s; the lab is stopped.\n"
        f"open the report: xdg-open {out.report}"
    )


def demo_command(
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Where report.html, results.json go.")
    ] = Path("pathsec-demo"),
    profile: Annotated[
        str,
        typer.Option(
            "--profile", help="Lab profile: default, hardened, misconfigured or windows2003."
        ),
    ] = "misconfigured",
    audit_profile: Annotated[
        str, typer.Option("--audit-profile", help="Audit profile: reference, hardened or a file.")
    ] = "reference",
) -> None:
    """Start the emulated Exchange lab, plan and audit it, write the report, stop the lab.

    Exit 0 when the demo ran (its findings are the point), 3 when it could not complete.
    """
    if profile not in BUILTIN_PROFILES:
        known = ", ".join(BUILTIN_PROFILES)
        raise InputError(InputProblem("--profile", None, None, f"{profile!r}: not one of {known}"))
    if output_dir.exists() and not output_dir.is_dir():
        raise InputError(InputProblem("--output-dir", None, None, f"{output_dir}: not a folder"))
    _summary(run_demo(output_dir, profile, audit_profile))
