"""Entry point of the ``pathsec`` command: the typer app and exit-code policy.

Exit codes are :class:`pathsec.exitcodes.ExitCode`. Any exception no command expected becomes
one line and exit 3 (``PATHSEC_DEBUG=1`` prints the traceback), never exit 1, which means
findings.
"""

from __future__ import annotations

import os
import sys
import traceback
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
    onboard_cmd,
    plan_cmd,
    report_cmd,
    zones_cmd,
)
from pathsec.errors import InputError, PathsecError
from pathsec.exitcodes import ExitCode
from pathsec.quoting import terminal

app = typer.Typer(
    name="pathsec",
    help="Plan, enforce and verify the data-path security of an Exchange 2007 organisation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Commands in pipeline order: init/schema/examples (getting a deployment), catalog,
# plan/validate, firewall, audit (+ merge, baseline), report/history/diff/store, lab, demo.
onboard_cmd.register(app)
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
        return rc if isinstance(rc, int) else ExitCode.ok
    except InputError as exc:
        print(f"pathsec: error: {terminal(exc)}", file=sys.stderr)
        return ExitCode.bad_input
    except PathsecError as exc:
        print(f"pathsec: failed: {terminal(exc)}", file=sys.stderr)
        return ExitCode.failed
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        print("pathsec: aborted", file=sys.stderr)
        return ExitCode.interrupted
    except KeyboardInterrupt:
        print("pathsec: interrupted", file=sys.stderr)
        return ExitCode.interrupted
    except BrokenPipeError:
        return ExitCode.ok
    except ClickException as exc:
        # Usage errors (unknown option, bad choice): one line, exit 2.
        if isinstance(exc, NoArgsIsHelpError):
            exc.show(file=sys.stderr)
            return ExitCode.bad_input
        print(f"pathsec: error: {terminal(exc.format_message())}", file=sys.stderr)
        return ExitCode.bad_input
    except Exception as exc:
        return internal_error(exc)
    return ExitCode.ok


def internal_error(exc: BaseException) -> int:
    """Report an exception no command expected: one line (or the traceback with
    ``PATHSEC_DEBUG=1``) and :attr:`ExitCode.failed`."""
    if os.environ.get("PATHSEC_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    detail = terminal(" ".join(str(exc).split()), 300)
    what = type(exc).__name__ + (f": {detail}" if detail else "")
    print(
        f"pathsec: internal error: {what}; set PATHSEC_DEBUG=1 for the traceback",
        file=sys.stderr,
    )
    return ExitCode.failed


def entry() -> None:
    """Console-script entry point."""
    sys.exit(run())
