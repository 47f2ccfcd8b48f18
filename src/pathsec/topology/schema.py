"""The JSON Schema of deployment files, generated from the models and committed beside them."""

from __future__ import annotations

from typing import Any

from pathsec.topology.models import Deployment

SCHEMA_ID = "https://pathsec.invalid/schemas/deployment.schema.json"


def deployment_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) for a deployment file."""
    schema = Deployment.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
