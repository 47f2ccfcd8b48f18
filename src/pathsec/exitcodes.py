"""The exit codes of every ``pathsec`` command, in one table.

0 clean; 1 findings at or above ``--fail-on`` (or an error finding of ``validate``); 2 bad
input or usage; 3 the run could not complete (including an internal error); 128 + N when
stopped by signal N (130 Ctrl-C, 143 SIGTERM).
"""

from __future__ import annotations

import signal
from enum import IntEnum


class ExitCode(IntEnum):
    """What a ``pathsec`` process tells its caller."""

    ok = 0
    findings = 1
    bad_input = 2
    failed = 3
    interrupted = 128 + signal.SIGINT
    terminated = 128 + signal.SIGTERM

    @classmethod
    def for_signal(cls, signum: int) -> int:
        """``128 + signum``, the shell's convention for a process stopped by a signal."""
        return 128 + signum
