"""Getting a deployment file: ``init``, ``examples``, ``schema``, ``collector``, ``import``."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pathsec.atomic import write_atomic
from pathsec.cli.common import err_console, out_console
from pathsec.cli.tabular import Tabular, print_table
from pathsec.errors import InputError, InputProblem
from pathsec.inventory.examples import find_example, list_examples
from pathsec.inventory.starter import MAX_SITES, StarterShape, starter_deployment

ForceOpt = Annotated[
    bool, typer.Option("--force", help="Overwrite a file that exists and differs.")
]


def _bad(option: str, message: str) -> InputError:
    return InputError(InputProblem("<command line>", None, option, message))


def _say(text: str) -> None:
    err_console().print(text, highlight=False, markup=False)


def write_output(path: Path, text: str, force: bool, option: str = "--output") -> None:
    """Write ``text`` to ``path`` atomically; refuse to replace a different file without force."""
    if path.is_dir():
        raise _bad(option, f"{path} is a folder; give a file name")
    if path.exists() and not force:
        try:
            same = path.read_text(encoding="utf-8") == text
        except (OSError, UnicodeDecodeError):
            same = False
        if not same:
            raise _bad(option, f"{path} exists; use --force to replace it")
    write_atomic(path, text)
    _say(f"wrote {path}")


def init_command(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the starter here (default: stdout)."),
    ] = None,
    sites: Annotated[
        int,
        typer.Option("--sites", min=1, max=MAX_SITES, help="Number of AD sites (HQ, Branch1 …)."),
    ] = 1,
    edge: Annotated[
        bool, typer.Option("--edge", help="An Edge Transport server in a perimeter network.")
    ] = False,
    ccr: Annotated[
        bool, typer.Option("--ccr", help="A CCR Mailbox cluster (two nodes, SCR to a branch).")
    ] = False,
    um: Annotated[
        bool, typer.Option("--um", help="Unified Messaging with an IP gateway in a voice zone.")
    ] = False,
    force: ForceOpt = False,
) -> None:
    """Write an annotated starter deployment: every field explained, TODO where yours go."""
    text = starter_deployment(StarterShape(sites=sites, edge=edge, ccr=ccr, um=um))
    if output is None:
        typer.echo(text, nl=False)
        return
    write_output(output, text, force)
    _say(f"next: edit the TODOs, then `pathsec validate {output}`")


class SchemaName(StrEnum):
    """The documents pathsec reads or writes that have a JSON Schema."""

    deployment = "deployment"
    catalog = "catalog"
    plan = "plan"
    results = "results"


def _deployment_schema() -> str:
    from pathsec.topology import deployment_json_schema

    return json.dumps(deployment_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _catalog_schema() -> str:
    from pathsec.catalog.schema import catalog_json_schema

    return json.dumps(catalog_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _plan_schema() -> str:
    from pathsec.plan.schema import plan_schema_text

    return plan_schema_text()


def _results_schema() -> str:
    from pathsec.audit.run import results_schema_text

    return results_schema_text()


#: Schema name -> (generator of the text, committed file inside the package).
SCHEMAS: dict[SchemaName, tuple[Callable[[], str], str]] = {
    SchemaName.deployment: (_deployment_schema, "topology/deployment.schema.json"),
    SchemaName.catalog: (_catalog_schema, "catalog/data/catalog.schema.json"),
    SchemaName.plan: (_plan_schema, "plan/plan.schema.json"),
    SchemaName.results: (_results_schema, "audit/results.schema.json"),
}


def schema_command(
    name: Annotated[SchemaName, typer.Argument(help="Which document's schema.")],
) -> None:
    """Print the JSON Schema of deployment files, catalogs, plan JSON or audit results."""
    generate, _ = SCHEMAS[name]
    typer.echo(generate(), nl=False)


def examples_command(
    name: Annotated[
        str | None, typer.Argument(help="An example's name (omit to list them).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Copy into this folder (all, or NAME) as NAME.yaml."),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """List the shipped example deployments, print one, or copy them into a folder."""
    examples = list_examples()
    if name is not None:
        found = find_example(name)
        if found is None:
            known = ", ".join(e.name for e in examples)
            raise _bad("NAME", f"no example {name!r} (known: {known})")
        examples = [found]
    if output is None and name is None:
        table = Tabular(["name", "what it shows"], [[e.name, e.summary] for e in examples])
        print_table(table, out_console())
        _say("pathsec examples NAME prints one; -o DIR copies them (e.g. -o examples)")
        return
    if output is None:
        typer.echo(examples[0].text, nl=False)
        return
    if output.exists() and not output.is_dir():
        raise _bad("--output", f"{output} is a file; give a folder")
    for e in examples:
        write_output(output / e.file_name, e.text, force)


def collector_command(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the script here (default: stdout)."),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Print the inventory collector for the Exchange 2007 Management Shell (PowerShell 1.0)."""
    from pathsec.inventory import collector_script

    text = collector_script()
    if output is None:
        typer.echo(text, nl=False)
        return
    write_output(output, text, force)


import_app = typer.Typer(
    help="Write a draft deployment from an inventory (see: pathsec collector).",
    no_args_is_help=True,
)


@import_app.command("exchange")
def import_exchange_command(
    folder: Annotated[Path, typer.Argument(help="Folder written by Collect-PathsecInventory.ps1.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the draft here (default: stdout)."),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Read the collector's CSV files and write a draft deployment (TODO notes inside)."""
    from pathsec.inventory import import_exchange

    text, counts = import_exchange(folder)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_output(output, text, force)
    _say("imported: " + ", ".join(f"{what.replace('_', ' ')} {n}" for what, n in counts.items()))
    if output is not None:
        _say(f"next: review the TODOs, then `pathsec validate {output}`")


def register(app: typer.Typer) -> None:
    """Add ``init``, ``schema``, ``examples``, ``collector`` and ``import`` to the CLI."""
    app.command("init")(init_command)
    app.command("schema")(schema_command)
    app.command("examples")(examples_command)
    app.command("collector")(collector_command)
    app.add_typer(import_app, name="import")
