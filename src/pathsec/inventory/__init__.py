"""Ways to get a deployment file: a starter, the shipped examples, Exchange's own inventory.

Public API: :func:`starter_deployment`, :func:`list_examples`, :func:`collector_script`,
:func:`import_exchange`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from pathsec.inventory.examples import list_examples
from pathsec.inventory.starter import StarterShape, starter_deployment

COLLECTOR_FILE = "Collect-PathsecInventory.ps1"


def collector_script() -> str:
    """The PowerShell 1.0 collector that writes the folder ``import_exchange`` reads."""
    return (files("pathsec.inventory") / "collector" / COLLECTOR_FILE).read_text(encoding="ascii")


def import_exchange(folder: str | Path) -> tuple[str, dict[str, int]]:
    """The draft deployment YAML of a collector folder, and counts of what it holds."""
    from pathsec.inventory.draft import DraftSource, render_draft
    from pathsec.inventory.exchange import build_draft
    from pathsec.inventory.exports import Inventory

    inv = Inventory(Path(folder))
    draft = build_draft(inv)
    a = inv.about
    intro = (
        f"Draft deployment written by `pathsec import exchange` from {folder}",
        f"(collector {a.version or '?'}, PowerShell {a.powershell or '?'}, "
        f"collected {a.collected or '?'}).",
        "It is a draft: review every TODO below (zone kinds and CIDRs, firewalls, client",
        "populations), then run `pathsec validate` and `pathsec plan` on it.",
    )
    return render_draft(draft, DraftSource(intro)), draft.summary


__all__ = [
    "StarterShape",
    "collector_script",
    "import_exchange",
    "list_examples",
    "starter_deployment",
]
