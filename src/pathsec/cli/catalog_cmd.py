"""``pathsec catalog``: list, filter and show the reference's data paths and rules."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from pathsec.catalog import (
    Auth,
    Catalog,
    DataPath,
    PathFilter,
    Role,
    Rule,
    Section,
    load_catalog,
    select,
)
from pathsec.catalog.models import ROLE_DESCRIPTIONS, Basis
from pathsec.catalog.schema import catalog_json_schema
from pathsec.cli.common import Lang, OutputFormat, emit, err_console
from pathsec.cli.tabular import Tabular
from pathsec.errors import InputError, InputProblem
from pathsec.quoting import json_text

app = typer.Typer(
    help="The reference catalog: every data path and rule, in Chinese and English.",
    no_args_is_help=False,
)


class EncryptionOpt(StrEnum):
    """Encryption level filter."""

    none = "none"
    optional = "optional"
    default = "default"


CatalogOpt = Annotated[
    Path | None,
    typer.Option(
        "--catalog", help="Use this catalog YAML (same schema) instead of the built-in one."
    ),
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of names and cells.")]

HEADERS = {
    Lang.en: [
        "id",
        "data path",
        "source → destination",
        "ports",
        "default auth",
        "supported auth",
        "encryption",
        "by default",
    ],
    Lang.zh: [
        "id",
        "数据路径",
        "源 → 目标",
        "所需端口",
        "默认身份验证",
        "支持的身份验证",
        "是否支持加密?",
        "默认是否加密?",
    ],
}


def _yes_no(value: bool | str, lang: Lang) -> str:
    if value == "conditional":
        return "有条件" if lang is Lang.zh else "conditional"
    if lang is Lang.zh:
        return "是" if value else "否"
    return "yes" if value else "no"


def _mark(kind: str) -> str:
    marks = {"source": "", "english_original": " †", "exchange_2010_edition": " §"}
    return marks.get(kind, " ◇" if kind == "operational" else " ‡")


def _role(role: Role, lang: Lang) -> str:
    en, zh = ROLE_DESCRIPTIONS[role]
    return zh if lang is Lang.zh else en


def path_row(p: DataPath, lang: Lang) -> list[str]:
    """One table row for a path; † marks values from the English original, ‡ inferred ones."""
    enc = p.encryption
    if lang is Lang.zh:
        name, ports = p.name.zh, p.ports_raw
        dauth, sauth = p.default_auth_raw, p.supported_auth_raw
        supported = enc.supported_raw or _yes_no(enc.supported, lang)
        by_default = enc.by_default_raw or _yes_no(enc.by_default, lang)
    else:
        name = p.name.en
        ports = ", ".join(pt.display() for pt in p.ports)
        dauth = ", ".join(a.value for a in p.default_auth)
        sauth = ", ".join(a.value for a in p.supported_auth)
        mech = ", ".join(m.value for m in enc.mechanisms)
        supported = _yes_no(enc.supported, lang) + (f" ({mech})" if mech else "")
        by_default = _yes_no(enc.by_default, lang)
    supported += _mark(enc.supported_basis.kind)
    by_default += _mark(enc.by_default_basis.kind)
    roles = f"{_role(p.source_role, lang)} → {_role(p.destination_role, lang)}"
    return [p.id, name, roles, ports, dauth, sauth, supported, by_default]


def _legend(lang: Lang) -> str:
    if lang is Lang.zh:
        return (
            "† 英文原版 (TechNet bb331973) 的值;§ Exchange 2010 版的同一行;"
            "‡ 推断的值;◇ 参考之外的运维数据路径 (见 pathsec catalog show ID)"
        )
    return (
        "† from the English original (TechNet bb331973); § from the Exchange 2010 edition, same "
        "row; ‡ inferred; ◇ operational, beyond the reference (see pathsec catalog show ID)"
    )


def _rules_for(catalog: Catalog, paths: list[DataPath]) -> list[Rule]:
    ids: set[str] = set()
    for p in paths:
        ids |= {r.id for r in catalog.rules_for(p)}
    return [r for r in catalog.rules if r.id in ids]


def _dump(obj: Any) -> Any:
    return obj.model_dump(mode="json")


@app.callback(invoke_without_command=True)
def catalog_list(
    ctx: typer.Context,
    section: Annotated[Section | None, typer.Option(help="Only this table.")] = None,
    role: Annotated[Role | None, typer.Option(help="Paths with this role at either end.")] = None,
    port: Annotated[int | None, typer.Option(help="Paths using this port number.")] = None,
    auth: Annotated[Auth | None, typer.Option(help="Paths offering this authentication.")] = None,
    encryption: Annotated[
        EncryptionOpt | None,
        typer.Option(
            help="none: not supported; optional: supported, off by default; default: on by default."
        ),
    ] = None,
    search: Annotated[
        str | None, typer.Option(help="Text in any language, case-insensitive.")
    ] = None,
    lang: LangOpt = Lang.en,
    fmt: FormatOpt = OutputFormat.table,
    catalog_file: CatalogOpt = None,
) -> None:
    """List the data paths of the reference, filtered."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = catalog_file
        return
    if port is not None and not 1 <= port <= 65535:
        raise InputError(
            InputProblem("<command line>", None, "--port", "must be between 1 and 65535")
        )
    catalog = load_catalog(catalog_file)
    flt = PathFilter(section, role, port, auth, encryption.value if encryption else None, search)
    paths = select(catalog, flt)
    if fmt is OutputFormat.json:
        rules = catalog.rules if flt == PathFilter() else _rules_for(catalog, paths)
        emit(json_text({"paths": [_dump(p) for p in paths], "rules": [_dump(r) for r in rules]}))
        return
    title = "数据路径" if lang is Lang.zh else "Data paths"
    table = Tabular(HEADERS[lang], [path_row(p, lang) for p in paths], f"{title} ({len(paths)})")
    emit(table, fmt)
    if fmt is OutputFormat.table:
        err_console().print(_legend(lang), highlight=False, markup=False)


@app.command("show")
def catalog_show(
    path_id: Annotated[str, typer.Argument(help="Path id, e.g. client_access.owa")],
    lang: LangOpt = Lang.en,
    fmt: FormatOpt = OutputFormat.table,
    catalog_file: CatalogOpt = None,
) -> None:
    """Show one data path with every value's basis and the rules that apply to it."""
    catalog = load_catalog(catalog_file)
    try:
        p = catalog.path(path_id)
    except KeyError:
        known = (
            ", ".join(x.id for x in catalog.paths if x.section.value in path_id)
            or "pathsec catalog"
        )
        raise InputError(
            InputProblem(
                "<command line>", None, "ID", f"unknown path id {path_id!r} (see: {known})"
            )
        ) from None
    rules = catalog.rules_for(p)
    if fmt is OutputFormat.json:
        emit(json_text({"path": _dump(p), "rules": [_dump(r) for r in rules]}))
        return
    headers = HEADERS[lang]
    rows = [[h, v] for h, v in zip(headers, path_row(p, lang), strict=True)]
    enc = p.encryption
    zh = lang is Lang.zh
    rows.append(["依据 (加密)" if zh else "basis (supported)", _basis(enc.supported_basis)])
    rows.append(["依据 (默认)" if zh else "basis (by default)", _basis(enc.by_default_basis)])
    rows.append(["范围" if zh else "scope", p.scope.value])
    if p.destination_basis is not None:
        rows.append(["依据 (目标)" if zh else "basis (destination)", _basis(p.destination_basis)])
    if p.basis is not None:
        rows.append(["依据 (数据路径)" if zh else "basis (path)", _basis(p.basis)])
    for pt in p.ports:
        if pt.protocol_basis is not None:
            rows.append(
                [
                    f"{pt.display()}: " + ("依据 (协议)" if zh else "basis (protocol)"),
                    _basis(pt.protocol_basis),
                ]
            )
        if pt.direction is not None:
            d = pt.direction
            rows.append(
                [
                    f"{pt.display()}: " + ("方向" if zh else "direction"),
                    f"{d.direction.value} → {d.towards.value} ({_basis(d.basis)}) 「{d.quote_zh}」",
                ]
            )
    for c in (*p.conditions, *enc.conditions):
        rows.append(["条件" if zh else "condition", (c.zh if zh and c.zh else c.en)])
    for n in p.notes:
        rows.append(["注意" if zh else "note", (n.zh if zh and n.zh else n.en)])
    for r in rules:
        rows.append([f"rule {r.id} ({r.kind.value})", r.quote_zh if zh else r.statement_en])
    emit(Tabular(["field" if not zh else "字段", "value" if not zh else "值"], rows, p.id), fmt)


def _basis(b: Basis) -> str:
    return b.kind.value + (f": {b.reason}" if b.reason else "")


@app.command("rules")
def catalog_rules(
    lang: LangOpt = Lang.en,
    fmt: FormatOpt = OutputFormat.table,
    catalog_file: CatalogOpt = None,
) -> None:
    """List the rules of the reference's notes and what each becomes."""
    catalog = load_catalog(catalog_file)
    if fmt is OutputFormat.json:
        emit(json_text({"rules": [_dump(r) for r in catalog.rules]}))
        return
    zh = lang is Lang.zh
    headers = [
        "id",
        "类型" if zh else "kind",
        "级别" if zh else "severity",
        "规则" if zh else "rule",
        "数据路径" if zh else "paths",
    ]
    rows = [
        [
            r.id,
            r.kind.value,
            r.severity or "",
            r.quote_zh if zh else r.statement_en,
            ", ".join(r.paths),
        ]
        for r in catalog.rules
    ]
    emit(Tabular(headers, rows, ("规则" if zh else "Rules") + f" ({len(rows)})"), fmt)


@app.command("schema")
def catalog_schema() -> None:
    """Print the JSON Schema of catalog files."""
    emit(json_text(catalog_json_schema()))
