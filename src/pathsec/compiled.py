"""YAML data shipped with pathsec, read from a JSON twin while the twin is current.

The built-in catalog and the finding texts are YAML, which people edit and whose errors
name a line; parsing their 110 KB took 0.02 s of every ``pathsec audit``, JSON a tenth of
that. Beside each such file lies ``NAME.compiled.json``: the plain data of the YAML and the
SHA-256 of the YAML text it was made from. It stands in for the YAML only while that digest
matches the text shipped beside it, so an edited YAML file is read as YAML until its twin
is made again (``PATHSEC_UPDATE_GOLDEN=1 python -m pytest tests/catalog/test_compiled.py``;
that test fails while a twin is stale). Either way the same data meets the same model.
"""

from __future__ import annotations

import hashlib
import json
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pathsec.yamlfile import load_yaml_text, validate_located

M = TypeVar("M", bound=BaseModel)

#: Suffix of the twin of ``NAME`` (``catalog.yaml`` -> ``catalog.yaml.compiled.json``).
SUFFIX = ".compiled.json"


def digest(text: str) -> str:
    """The SHA-256 of the YAML text, as the twin records it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compiled_text(text: str, file: str) -> str:
    """The twin of the YAML ``text`` (``file`` names it in errors): digest and plain data."""
    data = load_yaml_text(text, file).data
    return json.dumps({"sha256": digest(text), "data": data}, ensure_ascii=False, indent=1) + "\n"


def _twin_data(folder: Traversable, name: str, text: str) -> Any:
    """The data of the twin of ``name`` when it was made from ``text``, else None."""
    try:
        twin = json.loads(folder.joinpath(name + SUFFIX).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(twin, dict) or twin.get("sha256") != digest(text):
        return None
    return twin.get("data")


def load_shipped(folder: Traversable, name: str, model: type[M]) -> M:
    """The YAML file ``name`` in ``folder`` validated by ``model``: from its twin when that
    is current, else from the YAML (errors name ``<builtin>/NAME``, line and field)."""
    text = folder.joinpath(name).read_text("utf-8")
    data = _twin_data(folder, name, text)
    if data is not None:
        try:
            return model.model_validate(data)
        except ValidationError:
            pass  # the YAML decides, and its error names the line
    return validate_located(model, load_yaml_text(text, f"<builtin>/{name}"))
