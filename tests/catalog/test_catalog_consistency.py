"""Consistency of the built-in catalog and of the schema committed beside it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import ValidationError

from pathsec.catalog import Auth, Catalog, Mechanism, Role, load_builtin
from pathsec.catalog.loader import builtin_catalog_text
from pathsec.catalog.models import ROLE_DESCRIPTIONS, BasisKind
from pathsec.catalog.schema import catalog_json_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "src/pathsec/catalog/data/catalog.schema.json"


def test_ids_are_unique_and_well_formed() -> None:
    c = load_builtin()
    ids = [p.id for p in c.paths]
    assert len(ids) == len(set(ids)) == 52
    assert all(p.id.startswith(p.section.value + ".") for p in c.paths)
    rule_ids = [r.id for r in c.rules]
    assert len(rule_ids) == len(set(rule_ids))


def test_tokens_come_from_the_vocabularies() -> None:
    c = load_builtin()
    for p in c.paths:
        assert p.source_role in Role and p.destination_role in Role
        assert all(a in Auth for a in (*p.default_auth, *p.supported_auth))
        assert all(m in Mechanism for m in p.encryption.mechanisms)
    assert set(ROLE_DESCRIPTIONS) == set(Role), "every role is documented"


def test_every_referenced_rule_exists_and_every_rule_path_exists() -> None:
    c = load_builtin()
    rule_ids = {r.id for r in c.rules}
    path_ids = {p.id for p in c.paths}
    for p in c.paths:
        refs = set(p.rules) | {x.rule for x in p.conditions if x.rule}
        refs |= {x.rule for x in p.encryption.conditions if x.rule} | {
            x.rule for x in p.ports if x.rule
        }
        assert refs <= rule_ids, p.id
    for r in c.rules:
        assert set(r.paths) <= path_ids, r.id


def test_dropped_cells_carry_a_basis_with_a_reason() -> None:
    c = load_builtin()
    dropped = 0
    for p in c.paths:
        for raw, basis in (
            (p.encryption.supported_raw, p.encryption.supported_basis),
            (p.encryption.by_default_raw, p.encryption.by_default_basis),
        ):
            if raw is None:
                dropped += 1
                assert basis.kind is not BasisKind.source and basis.reason, p.id
            else:
                assert basis.kind is BasisKind.source, p.id
    # 4 rows lost both encryption cells, 44 lost "encrypted by default" (52 rows, 4 complete).
    assert dropped == 4 * 2 + 44


def _doc() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(builtin_catalog_text())


def test_model_rejects_an_unknown_rule_reference() -> None:
    doc = _doc()
    doc["paths"][0]["rules"] = ["no_such_rule"]
    with pytest.raises(ValidationError, match="unknown rule 'no_such_rule'"):
        Catalog.model_validate(doc)


def test_model_rejects_duplicate_ids() -> None:
    doc = _doc()
    doc["paths"][1]["id"] = doc["paths"][0]["id"]
    with pytest.raises(ValidationError, match="duplicate path id"):
        Catalog.model_validate(doc)


def test_model_rejects_a_port_with_both_number_and_range() -> None:
    doc = _doc()
    doc["paths"][0]["ports"][0]["range"] = "dynamic"
    with pytest.raises(ValidationError, match="exactly one of 'port' and 'range'"):
        Catalog.model_validate(doc)


def test_committed_schema_matches_the_models() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == catalog_json_schema(), (
        "regenerate: pathsec catalog schema > src/pathsec/catalog/data/catalog.schema.json"
    )


def test_builtin_yaml_validates_against_the_committed_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(_doc())
