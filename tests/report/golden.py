"""Golden-file comparison; ``PATHSEC_UPDATE_GOLDEN=1 python -m pytest tests/report`` rewrites them."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "report"


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with the golden file ``name`` (or rewrite it when asked)."""
    path = GOLDEN / name
    if os.environ.get("PATHSEC_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), (
        f"missing golden file {path}; run PATHSEC_UPDATE_GOLDEN=1 python -m pytest tests/report"
    )
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{name} differs from its golden file; if the change is intended, run "
        "PATHSEC_UPDATE_GOLDEN=1 python -m pytest tests/report and review the diff"
    )
