"""JSON text that is safe to print (kept for importers; see :mod:`pathsec.quoting`)."""

from __future__ import annotations

from pathsec.quoting import escape_json_controls as escape_controls

__all__ = ["escape_controls"]
