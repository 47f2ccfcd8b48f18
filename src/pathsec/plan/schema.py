"""The JSON Schema of plan documents (``pathsec plan --format json``), committed beside it."""

from __future__ import annotations

import json
from typing import Any

from pathsec.plan.models import Plan

SCHEMA_ID = "https://pathsec.invalid/schemas/plan.schema.json"


def plan_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a plan document as pathsec writes it."""
    schema = Plan.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def plan_schema_text() -> str:
    """The committed ``plan.schema.json``'s content."""
    return json.dumps(plan_json_schema(), indent=2, ensure_ascii=False) + "\n"
