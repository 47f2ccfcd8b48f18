"""The example deployments shipped inside the package (``pathsec examples``).

They live in ``src/pathsec/examples/`` (package data, so a wheel has them); the repository's
``examples/`` is a symbolic link to that folder, so there is one copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable


@dataclass(frozen=True)
class Example:
    """One shipped example deployment."""

    name: str
    file_name: str
    summary: str
    text: str


def _summary(text: str) -> str:
    """The first comment sentence of a file, for a listing."""
    words: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        words.append(line.lstrip("#").strip())
    joined = " ".join(w for w in words if w)
    dot = joined.find(". ")
    return joined if dot < 0 else joined[: dot + 1]


def examples_folder() -> Traversable:
    """The package folder holding the examples."""
    return files("pathsec") / "examples"


def list_examples() -> list[Example]:
    """Every shipped example, sorted by name."""
    out = []
    for entry in examples_folder().iterdir():
        if entry.is_file() and entry.name.endswith(".yaml"):
            text = entry.read_text(encoding="utf-8")
            out.append(Example(entry.name.removesuffix(".yaml"), entry.name, _summary(text), text))
    return sorted(out, key=lambda e: e.name)


def find_example(name: str) -> Example | None:
    """The example called ``name`` (with or without ``.yaml``), or None."""
    wanted = name.removesuffix(".yaml")
    return next((e for e in list_examples() if e.name == wanted), None)
