"""What the commands that talk to servers (``audit``, ``discover``) share: the connection
budget and scope options, their checks, and the progress bar.

One definition each, so both commands pace, bind and bound their connections the same way.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

import typer

from pathsec.audit.engine import DEFAULT_CONCURRENCY, DEFAULT_PER_HOST, Limits
from pathsec.audit.models import EndpointResult
from pathsec.cli.common import err_console
from pathsec.errors import InputError, InputProblem
from pathsec.probes.interface import ProbeSettings
from pathsec.probes.text import clean_text

TimeoutOpt = Annotated[
    float, typer.Option("--timeout", min=0.1, max=300, help="Seconds per connect or read.")
]
ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", min=1, max=4096, help="Connections in flight.")
]
PerHostOpt = Annotated[
    int, typer.Option("--per-host", min=1, max=256, help="Connections per host in flight.")
]
MaxRateOpt = Annotated[
    float | None,
    typer.Option("--max-rate", min=0.1, help="At most this many new connections per second."),
]
SourceAddressOpt = Annotated[
    str | None, typer.Option("--source-address", help="Bind connections to this local IP.")
]
NtlmInfoOpt = Annotated[
    bool, typer.Option("--ntlm-info", help="Send one NTLM NEGOTIATE and decode the challenge.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_PER_HOST",
    "ConcurrencyOpt",
    "MaxRateOpt",
    "NtlmInfoOpt",
    "PerHostOpt",
    "QuietOpt",
    "RichObserver",
    "SourceAddressOpt",
    "TimeoutOpt",
    "probe_config",
]


def probe_config(
    timeout: float,
    concurrency: int,
    per_host: int,
    max_rate: float | None,
    source_address: str | None,
    ntlm_info: bool,
) -> tuple[ProbeSettings, Limits]:
    """The probes' settings and the connection budget; a bad ``--source-address`` is one
    line (exit 2) before anything is sent."""
    if source_address is not None:
        try:
            ipaddress.ip_address(source_address)
        except ValueError:
            raise InputError(
                InputProblem(
                    "--source-address", None, None, f"not an IP address: {source_address!r}"
                )
            ) from None
    return (
        ProbeSettings(timeout=timeout, source_address=source_address, ntlm_info=ntlm_info),
        Limits(concurrency=concurrency, per_host=per_host, max_rate=max_rate),
    )


class RichObserver:
    """Progress bar on stderr (only used when stderr is a terminal and not ``--quiet``)."""

    def __init__(self, label: str = "auditing") -> None:
        # imported here: only a terminal shows the bar (a run into a pipe or file never does)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=err_console(),
            transient=True,
        )
        self.task: Any = None

    def run_started(self, endpoints: int) -> None:
        """Show the bar."""
        self.progress.start()
        self.task = self.progress.add_task("", total=endpoints)

    def endpoint_done(self, result: EndpointResult) -> None:
        """Advance the bar."""
        label = clean_text(f"{result.host}:{result.port} {result.status.value}", 60)
        self.progress.update(self.task, advance=1, description=label)

    def run_finished(self) -> None:
        """Remove the bar."""
        self.progress.stop()
