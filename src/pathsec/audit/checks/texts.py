"""Titles and remediation of every finding: YAML data with a JSON Schema, like the catalog.

``texts.yaml`` beside this module holds, per finding id, a title and a remediation in
English and Chinese; it is validated by :class:`FindingTexts` (file, line and field on an
error) and its JSON Schema is committed as ``texts.schema.json``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from pathsec.audit.models import Text
from pathsec.yamlfile import load_yaml_text, validate_located

TEXTS_FILE = "texts.yaml"
SCHEMA_ID = "https://pathsec.invalid/schemas/finding-texts.schema.json"

FindingId = Annotated[str, Field(pattern=r"^PS-[A-Z0-9]+-[0-9]{3}$")]


class FindingText(BaseModel):
    """What a finding is called and how to fix it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: Text
    remediation: Text


class FindingTexts(BaseModel):
    """The texts file: finding id -> title and remediation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    findings: dict[FindingId, FindingText] = Field(min_length=1)


def texts_yaml() -> str:
    """The YAML text shipped with pathsec."""
    return resources.files("pathsec.audit.checks").joinpath(TEXTS_FILE).read_text("utf-8")


@lru_cache(maxsize=1)
def finding_texts() -> dict[str, FindingText]:
    """Every finding's texts by id (loaded and validated once; the objects are shared by
    all findings of an id, which matters for a fleet of 10,000 endpoints)."""
    doc = load_yaml_text(texts_yaml(), f"<builtin>/{TEXTS_FILE}")
    return dict(validate_located(FindingTexts, doc).findings)


def texts_of(finding_id: str) -> FindingText:
    """The texts of ``finding_id``; a KeyError names an id without texts."""
    try:
        return finding_texts()[finding_id]
    except KeyError:
        raise KeyError(f"{finding_id} has no entry in {TEXTS_FILE}") from None


def texts_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the texts file."""
    schema = FindingTexts.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def texts_schema_text() -> str:
    """The committed schema file's content."""
    return json.dumps(texts_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
