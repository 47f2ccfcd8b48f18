"""Load the built-in catalog or a user's own catalog file."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from pathsec.catalog.models import Catalog
from pathsec.yamlfile import load_yaml_file, load_yaml_text, validate_located

BUILTIN_NAME = "catalog.yaml"


def builtin_catalog_text() -> str:
    """The YAML text of the catalog shipped with pathsec."""
    return resources.files("pathsec.catalog").joinpath("data", BUILTIN_NAME).read_text("utf-8")


@lru_cache(maxsize=1)
def load_builtin() -> Catalog:
    """The catalog shipped with pathsec (cached; it is immutable)."""
    doc = load_yaml_text(builtin_catalog_text(), f"<builtin>/{BUILTIN_NAME}")
    return validate_located(Catalog, doc)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load ``path`` (a catalog YAML of the same schema) or the built-in catalog.

    Raises :class:`pathsec.errors.InputError` naming file, line and field on bad input.
    """
    if path is None:
        return load_builtin()
    return validate_located(Catalog, load_yaml_file(path))
