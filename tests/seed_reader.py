"""Read the reference's four tables straight from the seed text (the ground truth).

Independent of the catalog on purpose: the catalog tests compare the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SECTIONS = {
    "传输服务器的数据路径": "transport",
    "邮箱服务器的数据路径": "mailbox",
    "客户端访问服务器的数据路径": "client_access",
    "统一消息服务器的数据路径": "unified_messaging",
}
PORT_CELL = re.compile(r"^(\d+\s*/\s*TCP|\d+/|随机端口|本地消息块|RPC。)")
NOTE_MARK = "note注意:"


def normalise(text: str) -> str:
    """Collapse every run of whitespace (NBSP included) to one space and strip."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


@dataclass
class SeedRow:
    section: str
    index: int
    name: str
    note: str | None
    ports: str
    cells: list[str] = field(default_factory=list)


def seed_path() -> Path:
    here = Path(__file__).resolve()
    for base in [here.parent, *here.parents]:
        cand = base / "shared" / "seed" / "000_4389fe85ce3a6816.txt"
        if cand.exists():
            return cand
        cand = base.parent / "shared" / "seed" / "000_4389fe85ce3a6816.txt"
        if cand.exists():
            return cand
    raise FileNotFoundError("shared/seed/000_4389fe85ce3a6816.txt not found beside the repository")


def seed_text() -> str:
    return seed_path().read_text(encoding="utf-8")


def read_rows(text: str | None = None) -> list[SeedRow]:
    """Return the 52 rows of the four tables, in source order."""
    lines = [normalise(line) for line in (text or seed_text()).splitlines()]
    lines = [line for line in lines if line]
    rows: list[SeedRow] = []
    i = 0
    while i < len(lines):
        section = SECTIONS.get(lines[i])
        if section is None:
            i += 1
            continue
        # header line follows the caption
        start = i + 2
        end = start
        while not (lines[end].startswith("有关") and lines[end].endswith("的注释")):
            end += 1
        body = lines[start:end]
        port_idx = [k for k, line in enumerate(body) if PORT_CELL.match(line)]
        starts: list[tuple[int, str, str | None]] = []
        for k in port_idx:
            if k >= 3 and body[k - 2] == NOTE_MARK:
                starts.append((k - 3, body[k - 3], body[k - 1]))
            else:
                starts.append((k - 1, body[k - 1], None))
        for n, k in enumerate(port_idx):
            _name_at, name, note = starts[n]
            stop = starts[n + 1][0] if n + 1 < len(starts) else len(body)
            rows.append(SeedRow(section, n + 1, name, note, body[k], body[k + 1 : stop]))
        i = end
    return rows


def extract_rules_text(text: str | None = None) -> str:
    """The whole seed, whitespace-normalised, for checking rule quotes."""
    return normalise(text or seed_text())
