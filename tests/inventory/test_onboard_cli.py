"""pathsec init, schema and examples: starters that validate, schemas equal to the committed
files, examples shipped inside the package (one copy; the repository's examples/ points to it)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from pathsec.cli.main import run
from pathsec.cli.onboard_cmd import SCHEMAS, SchemaName
from pathsec.inventory.examples import list_examples
from pathsec.inventory.starter import StarterShape, starter_deployment
from pathsec.topology import deployment_json_schema, load_deployment_text
from pathsec.topology import models as topo

ROOT = Path(__file__).resolve().parents[2]
SHAPES = [
    StarterShape(sites, edge, ccr, um)
    for sites, edge, ccr, um in itertools.product((1, 2, 3), *([(False, True)] * 3))
]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = run(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s.sites}{s.edge:d}{s.ccr:d}{s.um:d}")
def test_every_starter_validates(
    shape: StarterShape, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opts = [f"--sites={shape.sites}"]
    opts += [f"--{n}" for n in ("edge", "ccr", "um") if getattr(shape, n)]
    path = tmp_path / "deployment.yaml"
    rc, _, err = cli(capsys, "init", "-o", str(path), *opts)
    assert rc == 0, err
    rc, out, err = cli(capsys, "validate", str(path), "-f", "json")
    assert rc == 0, out + err
    assert json.loads(out)["errors"] == 0
    dep = load_deployment_text(path.read_text("utf-8"))
    jsonschema.validate(yaml.safe_load(path.read_text("utf-8")), deployment_json_schema())
    assert len(dep.sites) == shape.sites
    roles = {r.value for s in dep.servers for r in s.roles}
    assert ("edge_transport" in roles) is shape.edge
    assert ("unified_messaging" in roles) is shape.um
    assert bool(dep.clusters) is shape.ccr
    assert bool(dep.ip_gateways) is shape.um
    assert "TODO" in path.read_text("utf-8")
    rc, out, _ = cli(capsys, "plan", str(path), "-f", "json")
    assert rc == 0 and json.loads(out)["flows"]


def test_starter_explains_every_field() -> None:
    """Every field of every deployment model appears set or commented out in the full starter."""
    text = starter_deployment(StarterShape(3, True, True, True))
    keys = {
        line.lstrip(" #-").split(":", 1)[0]
        for line in text.splitlines()
        if ":" in line and not line.lstrip().startswith("# TODO")
    }
    models = [
        getattr(topo, name)
        for name in dir(topo)
        if isinstance(getattr(topo, name), type)
        and issubclass(getattr(topo, name), topo._Frozen)
        and getattr(topo, name) is not topo._Frozen
    ]
    assert len(models) >= 12
    missing = {
        f"{m.__name__}.{field}" for m in models for field in m.model_fields if field not in keys
    }
    assert not missing, f"fields the starter does not mention: {sorted(missing)}"
    # every live field line carries a comment somewhere in its block (first server explained)
    assert text.count("# TODO") >= 10


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("mine\n")
    rc, _, err = cli(capsys, "init", "-o", str(path))
    assert rc == 2 and "exists; use --force" in err and path.read_text() == "mine\n"
    assert cli(capsys, "init", "-o", str(path), "--force")[0] == 0
    rc, _, err = cli(capsys, "init", "--sites", "0")
    assert rc == 2 and "--sites" in err


@pytest.mark.parametrize("name", [s.value for s in SchemaName])
def test_schema_command_prints_the_committed_schema(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = cli(capsys, "schema", name)
    committed = ROOT / "src/pathsec" / SCHEMAS[SchemaName(name)][1]
    assert rc == 0
    assert out == committed.read_text("utf-8"), (
        f"regenerate: pathsec schema {name} > {committed.relative_to(ROOT)}"
    )
    jsonschema.Draft202012Validator.check_schema(json.loads(out))


def test_plan_json_validates_against_plan_schema(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "plan", str(ROOT / "examples/two-sites.yaml"), "-f", "json")
    assert rc == 0
    schema = json.loads((ROOT / "src/pathsec/plan/plan.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(json.loads(out))


def test_examples_are_one_copy_inside_the_package() -> None:
    link = ROOT / "examples"
    assert link.is_symlink() and link.resolve() == (ROOT / "src/pathsec/examples").resolve()
    shipped = {f.stem for f in (ROOT / "src/pathsec/examples").glob("*.yaml")}
    assert {e.name for e in list_examples()} == shipped
    assert {"internet-facing", "small", "two-sites", "two-sites-large", "unsupported"} <= shipped


def test_examples_list_print_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "examples")
    assert rc == 0 and "two-sites" in out and "small" in out
    rc, out, _ = cli(capsys, "examples", "small")
    assert rc == 0 and out == (ROOT / "examples/small.yaml").read_text("utf-8")
    rc, _, _ = cli(capsys, "examples", "-o", str(tmp_path / "ex"))
    assert rc == 0
    assert sorted(p.name for p in (tmp_path / "ex").iterdir()) == sorted(
        f.name for f in (ROOT / "src/pathsec/examples").glob("*.yaml")
    )
    rc, _, err = cli(capsys, "examples", "nope")
    assert (
        rc == 2 and "known: internet-facing, small, two-sites, two-sites-large, unsupported" in err
    )


def test_help_texts_do_not_point_to_a_folder_a_wheel_lacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in ("plan", "validate", "firewall", "audit", "init", "examples", "import"):
        run([command, "--help"])
        out, _ = capsys.readouterr()
        assert "examples/" not in out, command


def test_wheel_ships_examples_collector_and_schemas(tmp_path: Path) -> None:
    """Build the wheel as a user would (pip, build isolation) and look inside."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "-w", str(tmp_path), "--no-deps", "-q"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("pathsec-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "pathsec/examples/internet-facing.yaml",
        "pathsec/examples/small.yaml",
        "pathsec/examples/two-sites.yaml",
        "pathsec/examples/unsupported.yaml",
        "pathsec/inventory/collector/Collect-PathsecInventory.ps1",
        "pathsec/plan/plan.schema.json",
        "pathsec/topology/deployment.schema.json",
        "pathsec/audit/results.schema.json",
        "pathsec/catalog/data/catalog.schema.json",
    ):
        assert needed in names, needed


def test_readme_getting_started_order() -> None:
    """demo; init or import; validate; plan; firewall; audit — each a command that exists."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Getting started") :]
    block = section[section.index("```sh") : section.index("```", section.index("```sh") + 5)]
    commands = [
        line.split("pathsec ", 1)[1].split()[0] for line in block.splitlines() if "pathsec " in line
    ]
    assert commands == [
        "demo",
        "init",
        "collector",
        "import",
        "validate",
        "plan",
        "firewall",
        "audit",
    ]
    for command in set(commands):
        assert run([command, "--help"]) == 0, command
