"""The deployment model: examples load, the committed JSON Schema matches the models."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from pathsec.topology import deployment_json_schema, load_deployment, load_deployment_text
from pathsec.topology.models import population_direct_mapi, population_roles

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "src/pathsec/topology/deployment.schema.json"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def test_committed_schema_matches_models() -> None:
    committed = json.loads(SCHEMA.read_text("utf-8"))
    assert committed == deployment_json_schema(), (
        "regenerate: python -c 'import json; from pathsec.topology import deployment_json_schema;"
        " print(json.dumps(deployment_json_schema(), indent=2, ensure_ascii=False))'"
        " > src/pathsec/topology/deployment.schema.json"
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_load_and_match_schema(example: Path) -> None:
    dep = load_deployment(example)
    assert dep.servers
    jsonschema.validate(yaml.safe_load(example.read_text("utf-8")), deployment_json_schema())


def test_examples_exist() -> None:
    assert {p.name for p in EXAMPLES} >= {"small.yaml", "two-sites.yaml", "unsupported.yaml"}


def test_schema_rejects_unknown_field() -> None:
    data = yaml.safe_load((ROOT / "examples/small.yaml").read_text("utf-8"))
    data["servers"][0]["colour"] = "blue"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, deployment_json_schema())


def test_models_are_frozen() -> None:
    dep = load_deployment(ROOT / "examples/small.yaml")
    with pytest.raises(Exception, match="frozen"):
        dep.servers[0].name = "X"  # type: ignore[misc]


def test_population_defaults_by_kind() -> None:
    dep = load_deployment(ROOT / "examples/small.yaml")
    internet, phones = dep.client_populations
    assert [r.value for r in population_roles(internet)] == ["web_client", "outlook_client"]
    assert not population_direct_mapi(internet)
    assert [r.value for r in population_roles(phones)] == ["mobile_client"]


def test_integer_windows_version_accepted() -> None:
    text = (
        (ROOT / "examples/small.yaml")
        .read_text("utf-8")
        .replace('windows: "2008"', "windows: 2008")
    )
    dep = load_deployment_text(text, "x.yaml")
    assert dep.servers[1].windows.value == "2008"


def test_readme_example_is_valid() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Deployment files and the plan") :]
    snippet = section[section.index("```yaml") + len("```yaml") :]
    dep = load_deployment_text(snippet[: snippet.index("```")], "README.md")
    assert {s.name for s in dep.servers} == {"DC1", "EX1", "EDGE1"}
