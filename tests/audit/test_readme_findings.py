"""The README's finding tables are generated from the checks, their texts and the profiles.

After a change to a check, its texts or a built-in profile, regenerate them with
``PATHSEC_UPDATE_GOLDEN=1 python -m pytest tests/audit/test_readme_findings.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pathsec.audit.checks.registry import AREAS, CHECKS
from pathsec.audit.checks.texts import texts_of
from pathsec.audit.profiles import load_profile

README = Path(__file__).resolve().parents[2] / "README.md"
#: Which README table lists the checks of which area modules; every other area goes last.
BLOCKS = {"mail": ("tcp", "tls", "ciphers", "mail", "ntlm"), "network": ()}
_BLOCK = re.compile(r"(<!-- findings:(\w+) [^>]*-->\n)(.*?)(<!-- /findings:\2 -->)", re.S)


def _area(module: object) -> str:
    return str(getattr(module, "__name__", "")).rsplit(".", 1)[-1]


def _ids(block: str) -> list[str]:
    named = {a for names in BLOCKS.values() for a in names}
    areas = [
        m
        for m in AREAS
        if _area(m) in BLOCKS[block] or (not BLOCKS[block] and _area(m) not in named)
    ]
    return [c.id for m in areas for c in m.CHECKS]


def table(block: str) -> str:
    """The generated table of one README block."""
    reference, hardened = load_profile("reference"), load_profile("hardened")
    rows = ["| id | finding | reference | hardened |", "|---|---|---|---|"]
    for cid in _ids(block):
        title = texts_of(cid).title.en.replace("|", "\\|")
        ref = reference.checks.get(cid)
        hard = hardened.checks.get(cid)
        rows.append(
            f"| {cid} | {title} | {ref.value if ref else '–'} | {hard.value if hard else '–'} |"
        )
    return "\n".join(rows) + "\n"


def test_readme_finding_tables_are_generated_from_the_data() -> None:
    text = README.read_text(encoding="utf-8")
    found = {m.group(2): m.group(3) for m in _BLOCK.finditer(text)}
    assert set(found) == set(BLOCKS), "README lacks a <!-- findings:NAME --> block"
    if os.environ.get("PATHSEC_UPDATE_GOLDEN"):
        new = _BLOCK.sub(lambda m: m.group(1) + table(m.group(2)) + m.group(4), text)
        README.write_text(new, encoding="utf-8")
        return
    for block, body in found.items():
        assert body == table(block), (
            f"README table {block!r} differs from the checks; regenerate with "
            "PATHSEC_UPDATE_GOLDEN=1 python -m pytest tests/audit/test_readme_findings.py"
        )


def test_every_check_is_in_one_table() -> None:
    listed = [cid for block in BLOCKS for cid in _ids(block)]
    assert sorted(listed) == sorted(CHECKS)
