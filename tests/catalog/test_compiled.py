"""The JSON twins of the shipped YAML (catalog, finding texts) are current, and a stale or
broken twin is never used. ``PATHSEC_UPDATE_GOLDEN=1 python -m pytest
tests/catalog/test_compiled.py`` makes them again after the YAML changed."""

from __future__ import annotations

import json
import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import pytest
from pydantic import BaseModel

from pathsec.audit.checks.texts import TEXTS_FILE, FindingTexts
from pathsec.catalog.loader import BUILTIN_NAME
from pathsec.catalog.models import Catalog
from pathsec.compiled import SUFFIX, compiled_text, digest, load_shipped
from pathsec.yamlfile import load_yaml_text, validate_located

SHIPPED: list[tuple[Traversable, str, type[BaseModel]]] = [
    (resources.files("pathsec.catalog").joinpath("data"), BUILTIN_NAME, Catalog),
    (resources.files("pathsec.audit.checks"), TEXTS_FILE, FindingTexts),
]


@pytest.mark.parametrize(("folder", "name", "model"), SHIPPED, ids=[n for _, n, _ in SHIPPED])
def test_twin_is_current_and_gives_the_yaml_model(
    folder: Traversable, name: str, model: type[BaseModel]
) -> None:
    text = folder.joinpath(name).read_text("utf-8")
    expected = compiled_text(text, name)
    twin = Path(str(folder.joinpath(name + SUFFIX)))
    if os.environ.get("PATHSEC_UPDATE_GOLDEN") == "1":
        twin.write_text(expected, encoding="utf-8")
    assert twin.read_text(encoding="utf-8") == expected, (
        f"{twin.name} is stale: run PATHSEC_UPDATE_GOLDEN=1 python -m pytest "
        "tests/catalog/test_compiled.py"
    )
    data = load_yaml_text(text, name).data
    assert json.loads(json.dumps(data)) == data  # JSON holds the YAML's data unchanged
    from_yaml = validate_located(model, load_yaml_text(text, name))
    assert load_shipped(folder, name, model) == from_yaml


def _folder(tmp_path: Path, yaml_text: str, twin: str | None) -> Path:
    (tmp_path / "x.yaml").write_text(yaml_text, encoding="utf-8")
    if twin is not None:
        (tmp_path / ("x.yaml" + SUFFIX)).write_text(twin, encoding="utf-8")
    return tmp_path


class _Doc(BaseModel):
    name: str


def test_a_current_twin_stands_in_for_the_yaml(tmp_path: Path) -> None:
    text = "name: from yaml\n"
    twin = json.dumps({"sha256": digest(text), "data": {"name": "from twin"}})
    assert load_shipped(_folder(tmp_path, text, twin), "x.yaml", _Doc).name == "from twin"


@pytest.mark.parametrize(
    "twin",
    [
        None,  # none
        json.dumps({"sha256": digest("name: older\n"), "data": {"name": "stale"}}),
        "{not json",
        json.dumps({"sha256": digest("name: from yaml\n"), "data": {"nom": "wrong"}}),
    ],
    ids=["missing", "stale", "broken", "invalid"],
)
def test_the_yaml_decides_without_a_current_valid_twin(tmp_path: Path, twin: str | None) -> None:
    folder = _folder(tmp_path, "name: from yaml\n", twin)
    assert load_shipped(folder, "x.yaml", _Doc).name == "from yaml"
