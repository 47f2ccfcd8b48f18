"""Text hygiene for what servers say: control characters escaped, lines cut, transcripts bounded.

Server text is untrusted: it reaches terminals, reports and the history, so it is made inert
here once, where it enters pathsec.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import ClassVar

from pathsec.quoting import terminal

#: Lines a transcript keeps, and the characters of each line.
TRANSCRIPT_LINES = 60
TRANSCRIPT_LINE_CHARS = 240


def clean_text(text: str, limit: int = TRANSCRIPT_LINE_CHARS) -> str:
    """Server text that cannot drive a terminal (:func:`pathsec.quoting.terminal`), cut."""
    return terminal(text, limit)


def decode_line(raw: bytes) -> str:
    """Decode one protocol line (latin-1 never fails) without its line ending."""
    return raw.rstrip(b"\r\n").decode("latin-1")


@dataclass
class Transcript:
    """A trimmed record of what was said: ``C:`` client lines, ``S:`` server lines."""

    lines: list[str] = field(default_factory=list)
    dropped: int = 0
    #: False when :meth:`add` keeps no server lines (readers then do not offer them).
    keeps_lines: ClassVar[bool] = True

    def add(self, who: str, text: str) -> None:
        """Record one line (control characters escaped, long lines cut)."""
        if len(self.lines) >= TRANSCRIPT_LINES:
            self.dropped += 1
            return
        # Interned: the same lines recur on every endpoint of a fleet (EHLO keywords,
        # replies), so 10,000 transcripts share them instead of holding copies.
        self.lines.append(sys.intern(f"{who}: {clean_text(text)}"))

    def note(self, text: str) -> None:
        """Record an event that is not a protocol line (TLS handshake, close)."""
        self.add("*", text)

    def freeze(self) -> tuple[str, ...]:
        """The transcript as a tuple, with a marker when lines were dropped."""
        if self.dropped:
            return (*self.lines, f"*: … {self.dropped} more lines not kept")
        return tuple(self.lines)


class NullTranscript(Transcript):
    """A transcript that keeps nothing: for connections whose dialogue is thrown away (the
    cipher enumeration's rounds), so their lines are not cleaned and interned for nothing."""

    keeps_lines: ClassVar[bool] = False

    def add(self, who: str, text: str) -> None:
        """Keep nothing."""
