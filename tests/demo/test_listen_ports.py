"""``listen_ports``: a deployment names services on non-standard ports; the audit dials them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pathsec.catalog import load_builtin
from pathsec.cli.main import run
from pathsec.demo.run import running_lab
from pathsec.plan import build_plan
from pathsec.topology import load_deployment_text

SMALL = (Path(__file__).resolve().parents[2] / "examples/small.yaml").read_text("utf-8")
ANCHOR = "    addresses: [10.1.0.20]\n"


def _with(ports: str) -> str:
    assert ANCHOR in SMALL
    return SMALL.replace(ANCHOR, ANCHOR + f"    listen_ports: {ports}\n")


def test_plan_carries_overrides_and_json_omits_them_when_empty() -> None:
    plan = build_plan(load_builtin(), load_deployment_text(_with("{25: 2525}")), "small.yaml")
    assert plan.host("EX1").listen_ports == {25: 2525}
    plain = build_plan(load_builtin(), load_deployment_text(SMALL), "small.yaml")
    hosts = json.loads(plain.model_dump_json())["hosts"]
    assert all("listen_ports" not in h for h in hosts)  # plans without overrides unchanged
    moved = json.loads(plan.model_dump_json())["hosts"]
    assert [h["listen_ports"] for h in moved if "listen_ports" in h] == [{"25": 2525}]
    assert type(plan).model_validate_json(plan.model_dump_json()) == plan


@pytest.mark.parametrize("ports", ["{25: 0}", "{70000: 25}", "{25: smtp}"])
def test_bad_override_is_one_line_with_file_and_line(
    tmp_path: Path, ports: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "dep.yaml"
    text = _with(ports)
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index(f"    listen_ports: {ports}") + 1
    assert run(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{path}:{line}:" in err and "listen_ports" in err


def test_pathsec_audit_deployment_dials_the_overrides(tmp_path: Path) -> None:
    """The CLI ``pathsec audit DEPLOYMENT.yaml`` reaches the lab through ``listen_ports``."""
    out = tmp_path / "results.json"
    with running_lab("default") as lab:
        dep, _ = lab.write_files(tmp_path)
        rc = run(["audit", str(dep), "-f", "json", "-o", str(out), "-q", "--timeout", "3"])
    assert rc == 1  # findings at or above medium: the lab's by-design findings
    doc = json.loads(out.read_text(encoding="utf-8"))
    smtp = [e for e in doc["endpoints"] if e["port"] == 587]
    assert smtp and all(e["status"] == "ok" for e in smtp)
    assert "Microsoft ESMTP MAIL Service" in smtp[0]["observations"]["smtp"]["banner"]
