"""Entry point of the ``pathsec`` command: the typer app and exit-code policy.

Exit codes are :class:`pathsec.exitcodes.ExitCode`. Any exception no command expected becomes
one line and exit 3 (``PATHSEC_DEBUG=1`` prints the traceback), never exit 1, which means
findings.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Annotated, Any, NoReturn

import typer
import typer.main
from typer._click.core import Command, Context
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperCommand, TyperGroup

from pathsec import __version__
from pathsec.errors import InputError, PathsecError
from pathsec.exitcodes import ExitCode
from pathsec.gctune import paused_gc
from pathsec.quoting import terminal

# Each command's module is imported when the command runs (or prints its own help), never
# at start: `pathsec --version` and `pathsec --help` load no command module, and a command
# loads only what it uses. A registrar adds a module's commands to a Typer app, the way the
# module itself intends; the table gives each command's one-line help for `pathsec --help`
# (tests/cli/test_lazy_commands.py checks it against the command's own help).


def _onboard(app: typer.Typer) -> None:
    from pathsec.cli import onboard_cmd

    onboard_cmd.register(app)


def _discover(app: typer.Typer) -> None:
    from pathsec.cli import discover_cmd

    discover_cmd.register(app)


def _catalog(app: typer.Typer) -> None:
    from pathsec.cli import catalog_cmd

    app.add_typer(catalog_cmd.app, name="catalog")


def _plan(app: typer.Typer) -> None:
    from pathsec.cli import plan_cmd

    app.add_typer(plan_cmd.app)


def _firewall(app: typer.Typer) -> None:
    from pathsec.cli import firewall_cmd

    app.command("firewall")(firewall_cmd.firewall_command)


def _audit(app: typer.Typer) -> None:
    from pathsec.cli import audit_cmd

    app.command("audit")(audit_cmd.audit_command)


def _zones(app: typer.Typer) -> None:
    from pathsec.cli import zones_cmd

    zones_cmd.register(app)


def _report(app: typer.Typer) -> None:
    from pathsec.cli import report_cmd

    report_cmd.register(app)


def _lab(app: typer.Typer) -> None:
    from pathsec.cli import lab_cmd

    app.add_typer(lab_cmd.app, name="lab")


def _demo(app: typer.Typer) -> None:
    from pathsec.cli import demo_cmd

    app.command("demo")(demo_cmd.demo_command)


Registrar = Callable[[typer.Typer], None]

#: Commands in pipeline order (getting a deployment, catalog, plan/validate, firewall,
#: audit + merge/baseline, report/history/diff/store, lab, demo): name, registrar, help.
COMMANDS: tuple[tuple[str, Registrar, str], ...] = (
    (
        "init",
        _onboard,
        "Write an annotated starter deployment: every field explained, TODO where yours go.",
    ),
    (
        "schema",
        _onboard,
        "Print the JSON Schema of deployment files, catalogs, plan JSON or audit results.",
    ),
    (
        "examples",
        _onboard,
        "List the shipped example deployments, print one, or copy them into a folder.",
    ),
    (
        "collector",
        _onboard,
        "Print the inventory collector for the Exchange 2007 Management Shell (PowerShell 1.0).",
    ),
    ("import", _onboard, "Write a draft deployment from an inventory (see: pathsec collector)."),
    (
        "discover",
        _discover,
        "Probe the Exchange and AD ports of TARGETs; write a draft deployment with the evidence.",
    ),
    (
        "catalog",
        _catalog,
        "The reference catalog: every data path and rule, in Chinese and English.",
    ),
    (
        "plan",
        _plan,
        "Every concrete flow of a deployment: host to host, port, authentication, encryption.",
    ),
    (
        "validate",
        _plan,
        "Check a deployment against the reference's topology rules; exit 1 on an error finding.",
    ),
    (
        "firewall",
        _firewall,
        "Write least-privilege firewall rules for the planned flows of a deployment.",
    ),
    (
        "audit",
        _audit,
        "Probe mail, web, directory, Kerberos, DNS, RPC, SMB and SIP endpoints; report findings.",
    ),
    ("merge", _zones, "Merge audit results from several zones into one results JSON."),
    (
        "baseline",
        _zones,
        "Record what a known-good deployment offers per path (check drift with audit --policy).",
    ),
    (
        "report",
        _report,
        "Render an audit result as table, json, sarif, junit, markdown, csv or html.",
    ),
    ("history", _report, "List stored audit runs, newest first."),
    ("diff", _report, "Show new, fixed and changed findings and endpoints whose facts changed."),
    ("store", _report, "Import a saved results file into the history; prints the new run id."),
    (
        "lab",
        _lab,
        "An emulated Exchange 2007 organisation on loopback addresses, to audit and demo.",
    ),
    (
        "demo",
        _demo,
        "Start the emulated Exchange lab, plan and audit it, write the report, stop the lab.",
    ),
)


def load_command(name: str) -> Command:
    """The real command ``name`` (importing its module); KeyError for an unknown name."""
    registrar = {n: r for n, r, _ in COMMANDS}[name]
    sub = typer.Typer()
    registrar(sub)
    return typer.main.get_group(sub).commands[name]


class _Deferred(TyperCommand):
    """Stands in for a command whose module is not imported yet: its name and one-line help."""

    def __init__(self, name: str, help: str) -> None:
        super().__init__(name, help=help)


#: Set by :func:`entry`, the console script, whose process ends with the command: what
#: start-up made is then moved out of the collector's sight (``gc.freeze``) instead of
#: being walked once it resumes (0.01 s). Not for :func:`run` in a longer-lived process.
_freeze_startup = False


@contextlib.contextmanager
def _startup_gc() -> Iterator[None]:
    """The cyclic garbage collector paused for a block of imports (and frozen after it in
    the console script's process)."""
    with paused_gc():
        yield
        if _freeze_startup:
            gc.freeze()


class LazyGroup(TyperGroup):
    """The top-level group: lists every command of :data:`COMMANDS` with its help, and imports
    a command's module only when that command is invoked.

    Parsing the options (which imports pydantic) and importing the command's module run
    with the cyclic garbage collector paused: imports make many objects and no garbage
    cycles, and the collector's passes over them were 0.03 s of ``pathsec audit``'s start.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, _, text in COMMANDS:
            self.commands.setdefault(name, _Deferred(name, text))

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        """Parse the group's options as click does (collector paused)."""
        with _startup_gc():
            return super().make_context(info_name, args, parent, **extra)

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        """Resolve as click does, then swap a deferred command for the real one (imported
        with the collector paused)."""
        name, cmd, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(cmd, _Deferred):
            with _startup_gc():
                cmd = self.commands[name] = load_command(name)
        return name, cmd, rest


app = typer.Typer(
    name="pathsec",
    help="Plan, enforce and verify the data-path security of an Exchange 2007 organisation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
)


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
    global _freeze_startup
    _freeze_startup = True
    hard_exit(run())


def hard_exit(code: int) -> NoReturn:
    """Exit with ``code`` without tearing the interpreter down, as mypy does.

    Freeing every module and object at exit takes about 0.1 s after an audit of 200
    endpoints and more with the size of the results, for nothing: the operating system
    reclaims the memory. Output is flushed and the exit handlers run first; with other
    threads still running, the normal exit joins them instead.
    """
    if threading.active_count() > 1:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        # the reader went away, or the stream was closed: nothing more can be said
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)
