"""Golden files for every target and every example (and the hand-built lab plan).

Regenerate after an intended change with:
    PATHSEC_UPDATE_GOLDEN=1 python -m pytest tests/firewall/test_golden.py
and review the diff of tests/golden/firewall/.
"""

from __future__ import annotations

import os
import shutil

import pytest

from firewall.conftest import EXAMPLES, REPO, example_plan, flavours_plan, lab_plan, options_for
from pathsec.firewall import Selection, Target, generate

GOLDEN = REPO / "tests" / "golden" / "firewall"
UPDATE = os.environ.get("PATHSEC_UPDATE_GOLDEN") == "1"
CASES = ["lab", "flavours", *(p.stem for p in EXAMPLES)]


def _plan(case: str):
    if case == "lab":
        return lab_plan()
    if case == "flavours":  # one server of every Windows host firewall flavour
        return flavours_plan()
    return example_plan(REPO / "examples" / f"{case}.yaml")


@pytest.mark.parametrize("target", list(Target), ids=str)
@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, target: Target) -> None:
    plan = _plan(case)
    files = {f.name: f.content for f in generate(plan, target, Selection(), options_for(plan))}
    if not files:  # e.g. windows for a plan without host firewalls: recorded as such
        files = {"NO-FILES": "this target writes no file for this plan\n"}
    folder = GOLDEN / case / target.value
    if UPDATE:
        shutil.rmtree(folder, ignore_errors=True)
        for name, content in files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode("utf-8"))
    assert folder.is_dir(), (
        f"no golden files for {case}/{target}; run PATHSEC_UPDATE_GOLDEN=1 pytest {__file__}"
    )
    on_disk = {
        str(p.relative_to(folder)): p.read_bytes().decode("utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    assert sorted(on_disk) == sorted(files)
    for name, content in files.items():
        assert content == on_disk[name], f"{case}/{target}/{name} differs from the golden file"


def test_golden_folders_match_cases() -> None:
    stale = (
        sorted(p.name for p in GOLDEN.iterdir() if p.is_dir() and p.name not in CASES)
        if GOLDEN.is_dir()
        else []
    )
    assert not stale, f"golden files for cases that no longer exist: {stale}"
