"""Entry point of the ``pathsec`` command: the typer app and exit-code policy.

Exit codes: 0 success / no finding at or above ``--fail-on``; 1 findings; 2 bad input or
usage; 3 the run could not complete.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from pathsec import __version__
from pathsec.cli import (
    audit_cmd,
    catalog_cmd,
    demo_cmd,
    firewall_cmd,
    lab_cmd,
    plan_cmd,
    report_cmd,
    zones_cmd,
)
from pathsec.errors import InputError, PathsecError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_FAILED = 3

app = typer.Typer(
    name="pathsec",
    help="Plan, enforce and verify the data-path security of an Exchange 2007 organisation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Commands in pipeline order: catalog, plan/validate, firewall, audit (+ merge, baseline),
# report/history/diff/store, lab, demo.
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(plan_cmd.app)
app.command("firewall")(firewall_cmd.firewall_command)
app.command("audit")(audit_cmd.audit_command)
zones_cmd.register(app)
report_cmd.register(app)
app.add_typer(lab_cmd.app, name="lab")
app.command("demo")(demo_cmd.demo_command)


def _version(value: bool) -> None:
    if value:
        print(f"pathsec {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """pathsec: the Exchange data-path security reference, executable."""


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; bad input is one line on stderr, exit 2."""
    try:
        # standalone_mode=False returns typer.Exit codes instead of raising them.
        rc = app(args=argv, standalone_mode=False)
        return rc if isinstance(rc, int) else EXIT_OK
    except InputError as exc:
        print(f"pathsec: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except PathsecError as exc:
        print(f"pathsec: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        print("pathsec: aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("pathsec: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except ClickException as exc:
        # Usage errors (unknown option, bad choice): one line, exit 2.
        if isinstance(exc, NoArgsIsHelpError):
            exc.show(file=sys.stderr)
            return EXIT_INPUT
        print(f"pathsec: error: {exc.format_message()}", file=sys.stderr)
        return EXIT_INPUT
    return EXIT_OK


def entry() -> None:
    """Console-script entry point."""
    sys.exit(run())
