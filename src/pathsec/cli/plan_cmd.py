"""``pathsec plan FILE`` and ``pathsec validate FILE``: the flows and findings of a deployment."""

from __future__ import annotations

import io
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pathsec.atomic import write_atomic
from pathsec.catalog import load_catalog
from pathsec.cli.common import Lang, OutputFormat, err_console
from pathsec.cli.tabular import Tabular, print_table, to_csv, to_markdown
from pathsec.errors import InputError, InputProblem
from pathsec.exitcodes import ExitCode
from pathsec.plan import build_plan
from pathsec.plan.models import Flow, Plan, PlanFinding, Severity
from pathsec.quoting import json_text, terminal
from pathsec.topology import load_deployment

app = typer.Typer()

FileArg = Annotated[
    Path,
    typer.Argument(help="Deployment YAML file (start one: pathsec init).", show_default=False),
]
CatalogOpt = Annotated[
    Path | None,
    typer.Option("--catalog", help="Use this catalog YAML instead of the built-in one."),
]
LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of headers and messages.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (atomically).")
]


class PlanFormat(StrEnum):
    """Output formats of ``pathsec plan``: the tabular ones and the HTML plan report."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"


FLOW_HEADERS = {
    Lang.en: [
        "path",
        "source",
        "destination",
        "port",
        "default auth",
        "encryption",
        "crosses",
        "basis",
    ],
    Lang.zh: ["数据路径", "源", "目标", "端口", "默认身份验证", "默认加密", "经过的防火墙", "依据"],
}
#: Extra machine-readable columns of ``--format csv``.
CSV_EXTRA = {
    Lang.en: ["basis note", "deviation"],
    Lang.zh: ["依据说明", "偏离"],
}
WithOperationalOpt = Annotated[
    bool,
    typer.Option(
        "--with-operational",
        help="Also plan flows beyond the reference that administrators need (labelled "
        "'operational', with their KB/TechNet reference); as 'operational_flows: true'.",
    ),
]
_BASIS_ZH = {"reference": "参考", "inferred": "推断", "operational": "运维"}
FINDING_HEADERS = {
    Lang.en: ["id", "severity", "message", "rule", "objects"],
    Lang.zh: ["id", "严重性", "说明", "规则", "对象"],
}


def port_text(f: Flow) -> str:
    """``tcp/135``, ``tcp/6000-6999``, ``any/1025-65535`` or ``local``."""
    proto = f.protocol or "any"
    if f.port is not None:
        text = f"{proto}/{f.port}"
    elif f.port_range is not None:
        text = f"{proto}/{f.port_range}"
    else:
        text = "local"
    return f"{text} ({f.label})" if f.label else text


def _enc(f: Flow, lang: Lang) -> str:
    by = f.encryption.by_default
    if lang is Lang.zh:
        word = {True: "是", False: "否"}.get(by, "有条件") if isinstance(by, bool) else "有条件"
    else:
        word = ("yes" if by else "no") if isinstance(by, bool) else "conditional"
    mech = ", ".join(f.encryption.mechanisms)
    return f"{word} ({mech})" if mech else word


def flow_row(f: Flow, lang: Lang) -> list[str]:
    """One table row for a flow."""
    local = " [本机]" if lang is Lang.zh else " [local]"
    return [
        f.path_id,
        f"{f.source} ({f.source_zone})",
        f"{f.destination} ({f.destination_zone})" + (local if f.local else ""),
        port_text(f),
        ", ".join(f.default_auth),
        _enc(f, lang),
        " → ".join(f.crosses) or "-",
        _BASIS_ZH.get(f.basis.value, f.basis.value) if lang is Lang.zh else f.basis.value,
    ]


def _deviation_row(f: Flow, lang: Lang) -> list[str]:
    row = flow_row(f, lang)
    row[-1] = f.deviation or ""
    return row


def finding_row(f: PlanFinding, lang: Lang) -> list[str]:
    """One table row for a finding."""
    msg = f.message_zh if lang is Lang.zh else f.message
    return [f.id, f.severity.value, msg, f.rule or "-", ", ".join(f.objects)]


def _bad_option(option: str, message: str) -> InputError:
    return InputError(InputProblem("<command line>", None, option, message))


def select_flows(
    plan: Plan, src: str | None, dst: str | None, path_id: str | None, *, strict: bool = True
) -> tuple[Flow, ...]:
    """Flows matching ``--from``/``--to`` (host or zone name) and ``--path``."""
    names = {h.name for h in plan.hosts} | {z.name for z in plan.zones}
    for opt, value in (("--from", src), ("--to", dst)):
        if strict and value is not None and value not in names:
            raise _bad_option(opt, f"{value!r} is neither a host nor a zone of the deployment")
    known = {f.path_id for f in (*plan.flows, *plan.removed_flows)}
    if strict and path_id is not None and path_id not in known:
        raise _bad_option("--path", f"no flow of path {path_id!r} (see: pathsec catalog)")
    return tuple(
        f
        for f in plan.flows
        if (src is None or src in (f.source, f.source_zone))
        and (dst is None or dst in (f.destination, f.destination_zone))
        and (path_id is None or f.path_id == path_id)
    )


def _load(file: Path, catalog_file: Path | None, with_operational: bool = False) -> Plan:
    return build_plan(
        load_catalog(catalog_file),
        load_deployment(file),
        str(file),
        with_operational=with_operational,
    )


def _rich_text(tables: list[Tabular]) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=200, highlight=False, color_system=None)
    for t in tables:
        print_table(t, console)
    return buf.getvalue()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        write_atomic(output, text)
        err_console().print(f"wrote {terminal(output)}", highlight=False, markup=False)


def _findings_table(plan: Plan, lang: Lang) -> Tabular:
    title = "发现" if lang is Lang.zh else "Findings"
    rows = [finding_row(f, lang) for f in plan.findings]
    return Tabular(FINDING_HEADERS[lang], rows, f"{title} ({len(rows)})")


@app.command("plan")
def plan_command(
    file: FileArg,
    fmt: Annotated[
        PlanFormat,
        typer.Option("--format", "-f", help="Output format (html: the plan report, one page)."),
    ] = PlanFormat.table,
    lang: LangOpt = Lang.en,
    src: Annotated[
        str | None, typer.Option("--from", help="Only flows from this host or zone.")
    ] = None,
    dst: Annotated[
        str | None, typer.Option("--to", help="Only flows to this host or zone.")
    ] = None,
    path_id: Annotated[
        str | None, typer.Option("--path", help="Only flows of this catalog path id.")
    ] = None,
    catalog_file: CatalogOpt = None,
    output: OutputOpt = None,
    with_operational: WithOperationalOpt = False,
) -> None:
    """Every concrete flow of a deployment: host to host, port, authentication, encryption.

    Flows the deployment's exceptions remove are listed apart, each with its deviation.
    """
    plan = _load(file, catalog_file, with_operational)
    flows = select_flows(plan, src, dst, path_id)
    removed = select_flows(
        plan.model_copy(update={"flows": plan.removed_flows}), src, dst, None, strict=False
    )
    removed = tuple(f for f in removed if path_id is None or f.path_id == path_id)
    title = ("流" if lang is Lang.zh else "Flows") + f" ({len(flows)})"
    table = Tabular(FLOW_HEADERS[lang], [flow_row(f, lang) for f in flows], title)
    tables = [table]
    if removed:
        gone = (
            "例外移除的流 (偏离参考)" if lang is Lang.zh else "Removed by exceptions (deviations)"
        )
        headers = [*FLOW_HEADERS[lang][:-1], "偏离" if lang is Lang.zh else "deviation"]
        rows = [_deviation_row(f, lang) for f in removed]
        tables.append(Tabular(headers, rows, f"{gone} ({len(removed)})"))
    if fmt is PlanFormat.json:
        data = plan.model_copy(update={"flows": flows, "removed_flows": removed}).model_dump(
            mode="json"
        )
        text = json_text(data) + "\n"
    elif fmt is PlanFormat.html:
        from pathsec.report.plan_html import render_plan_html

        text = render_plan_html(
            plan.model_copy(update={"flows": flows, "removed_flows": removed}), lang.value
        )
    elif fmt is PlanFormat.csv:
        text = to_csv(
            Tabular(
                ["id", *FLOW_HEADERS[lang], *CSV_EXTRA[lang]],
                [
                    [f.id, *flow_row(f, lang), f.basis_note or "", f.deviation or ""]
                    for f in (*flows, *removed)
                ],
            )
        )
    elif fmt is PlanFormat.markdown:
        text = "\n".join(to_markdown(t) for t in (*tables, _findings_table(plan, lang)))
    else:
        text = _rich_text(tables)
        if plan.findings:
            print_table(_findings_table(plan, lang), err_console())
    _write(text, output)


@app.command("validate")
def validate_command(
    file: FileArg,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format (json, table, …).")
    ] = OutputFormat.table,
    lang: LangOpt = Lang.en,
    catalog_file: CatalogOpt = None,
    output: OutputOpt = None,
    with_operational: WithOperationalOpt = False,
) -> None:
    """Check a deployment against the reference's topology rules; exit 1 on an error finding."""
    plan = _load(file, catalog_file, with_operational)
    errors = sum(1 for f in plan.findings if f.severity is Severity.error)
    warnings = sum(1 for f in plan.findings if f.severity is Severity.warning)
    table = _findings_table(plan, lang)
    if fmt is OutputFormat.json:
        data = {
            "deployment": plan.deployment,
            "source_file": plan.source_file,
            "errors": errors,
            "warnings": warnings,
            "findings": [f.model_dump(mode="json") for f in plan.findings],
        }
        text = json_text(data) + "\n"
    elif fmt is OutputFormat.csv:
        text = to_csv(table)
    elif fmt is OutputFormat.markdown:
        text = to_markdown(table)
    else:
        text = _rich_text([table])
    _write(text, output)
    if lang is Lang.zh:
        summary = f"{terminal(file)}: {errors} 个错误, {warnings} 个警告"
    else:
        summary = f"{terminal(file)}: {errors} error(s), {warnings} warning(s)"
    err_console().print(summary, highlight=False, markup=False)
    if errors:
        raise typer.Exit(ExitCode.findings)
