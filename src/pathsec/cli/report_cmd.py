"""``pathsec report``, ``history``, ``diff`` and ``store``: render, keep and compare runs."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pathsec.atomic import write_atomic
from pathsec.audit.models import AuditResult, FindingSeverity
from pathsec.cli.common import Lang, emit, err_console
from pathsec.cli.tabular import Tabular
from pathsec.errors import InputError, InputProblem
from pathsec.ident import ShortText, check_option
from pathsec.quoting import escape_json_controls, json_text, terminal
from pathsec.report import ReportFormat, ReportInput, writer_for
from pathsec.report.load import load_plan, load_result
from pathsec.report.table_writer import TableWriter

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="History database URL (SQLAlchemy), e.g. postgresql+psycopg://user@host/db. "
        "Default: $PATHSEC_DB, else SQLite in the user data directory.",
    ),
]


class DiffFormat(StrEnum):
    """Output formats of ``pathsec diff`` and ``pathsec history``."""

    table = "table"
    json = "json"


def _run_or_file(ref: str, db: str | None) -> tuple[AuditResult, str]:
    """A results file, or a stored run by id when ``ref`` is a number and not a file."""
    if ref.isdigit() and not Path(ref).exists():
        from pathsec.store import load_run

        return load_run(int(ref), db), f"run {ref}"
    if not Path(ref).exists():
        raise InputError(
            InputProblem(ref, None, None, "no such file (nor a run id; pathsec history lists runs)")
        )
    return load_result(ref), ref


def report_command(
    results: Annotated[
        str, typer.Argument(help="Results JSON file (pathsec audit --format json) or a run id.")
    ],
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")] = (
        ReportFormat.table
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (atomically).")
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="Plan JSON (or deployment file) for flows, zones and roles."),
    ] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language (HTML: initial).")] = Lang.en,
    fail_on: Annotated[
        FindingSeverity,
        typer.Option("--fail-on", help="Findings from this severity fail a check (JUnit, status)."),
    ] = FindingSeverity.low,
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    db: DbOption = None,
) -> None:
    """Render an audit result as table, json, sarif, junit, markdown, csv or html."""
    if title is not None:
        title = check_option(ShortText, title, "--title")
    result, _ = _run_or_file(results, db)
    the_plan = load_plan(plan) if plan is not None else None
    report = ReportInput(result, the_plan, lang.value, fail_on, title)
    if fmt is ReportFormat.table and output is None and sys.stdout.isatty():
        text = TableWriter(width=err_console().width, color=True).render(report)
    else:
        text = writer_for(fmt).render(report)
    if output is not None:
        write_atomic(output, text)
        err_console().print(f"wrote {terminal(output)}", markup=False, highlight=False)
    else:
        emit(text)


def history_command(
    db: DbOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Number of runs.")] = 50,
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f")] = DiffFormat.table,
) -> None:
    """List stored audit runs, newest first."""
    from pathsec.store import list_runs

    runs = list_runs(db, limit)
    if fmt is DiffFormat.json:
        emit(json_text([r.__dict__ for r in runs]))
        return
    sev = [s.value for s in FindingSeverity]
    emit(
        Tabular(
            headers=["run", "stored", "started", "profile", "complete", "endpoints", *sev, "label"],
            rows=[
                [
                    str(r.id),
                    r.stored_at,
                    r.started,
                    r.profile,
                    "yes" if r.complete else "no",
                    str(r.endpoints),
                    *(str(r.by_severity.get(s, 0)) for s in sev),
                    r.label or "",
                ]
                for r in runs
            ],
            title="pathsec history",
        ),
    )


def diff_command(
    run_a: Annotated[str, typer.Argument(help="Older run: id or results JSON file.")],
    run_b: Annotated[str, typer.Argument(help="Newer run: id or results JSON file.")],
    db: DbOption = None,
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f")] = DiffFormat.table,
) -> None:
    """Show new, fixed and changed findings and endpoints whose facts changed."""
    from pathsec.store import diff_results, diff_rows

    a, name_a = _run_or_file(run_a, db)
    b, name_b = _run_or_file(run_b, db)
    d = diff_results(a, b, name_a, name_b)
    if fmt is DiffFormat.json:
        emit(escape_json_controls(d.model_dump_json(indent=2)))
        return
    if d.empty:
        err_console().print(
            f"no change from {terminal(name_a)} to {terminal(name_b)}", markup=False
        )
        return
    emit(
        Tabular(
            headers=["change", "what", "endpoint", "detail"],
            rows=[list(r) for r in diff_rows(d)],
            title=f"{name_a} -> {name_b}",
        )
    )


def store_command(
    results: Annotated[Path, typer.Argument(help="Results JSON file to import.")],
    db: DbOption = None,
    label: Annotated[
        str | None, typer.Option("--label", help="Free text, e.g. the vantage point.")
    ] = None,
) -> None:
    """Import a saved results file into the history; prints the new run id."""
    from pathsec.store import save_run

    if label is not None:
        label = check_option(ShortText, label, "--label")
    run_id = save_run(load_result(results), db, label)
    emit(str(run_id))


def register(app: typer.Typer) -> None:
    """Add ``report``, ``history``, ``diff`` and ``store`` to the pathsec app."""
    app.command("report")(report_command)
    app.command("history")(history_command)
    app.command("diff")(diff_command)
    app.command("store")(store_command)
