"""Golden files: the plan of every example, byte for byte.

Regenerate after an intended change with:

    PATHSEC_UPDATE_GOLDEN=1 python -m pytest tests/plan -k golden

and review the diff of tests/golden/plan/ before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pathsec.catalog import load_catalog
from pathsec.plan import build_plan
from pathsec.topology import load_deployment

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests/golden/plan"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def render(example: Path) -> str:
    rel = example.relative_to(ROOT).as_posix()
    plan = build_plan(load_catalog(), load_deployment(example), rel)
    return json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_plan_golden(example: Path) -> None:
    golden = GOLDEN / f"{example.stem}.json"
    actual = render(example)
    if os.environ.get("PATHSEC_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, "utf-8")
    assert golden.exists(), (
        f"missing {golden}: run PATHSEC_UPDATE_GOLDEN=1 python -m pytest tests/plan"
    )
    assert actual == golden.read_text("utf-8"), (
        f"plan of {example.name} changed; if intended: PATHSEC_UPDATE_GOLDEN=1 python -m pytest tests/plan"
    )


def test_every_golden_has_an_example() -> None:
    assert {p.stem for p in GOLDEN.glob("*.json")} == {p.stem for p in EXAMPLES}
