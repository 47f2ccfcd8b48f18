"""The JSON Schema of catalog files, generated from the models and committed beside the data."""

from __future__ import annotations

from typing import Any

from pathsec.catalog.models import Catalog

SCHEMA_ID = "https://pathsec.invalid/schemas/catalog.schema.json"


def catalog_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) for a catalog file."""
    schema = Catalog.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
