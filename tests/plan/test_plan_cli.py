"""``pathsec plan`` and ``pathsec validate`` through the real CLI entry point."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pathsec.cli.main import run

ROOT = Path(__file__).resolve().parents[2]
SMALL = str(ROOT / "examples/small.yaml")
TWO = str(ROOT / "examples/two-sites.yaml")
BAD = str(ROOT / "examples/unsupported.yaml")

FLOW_KEYS = {
    "id",
    "path_id",
    "source",
    "source_zone",
    "destination",
    "destination_zone",
    "protocol",
    "port",
    "port_range",
    "default_auth",
    "supported_auth",
    "encryption",
    "crosses",
}


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", TWO, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"flows", "findings", "hosts", "zones", "firewalls"} <= set(data)
    assert all(set(f) >= FLOW_KEYS for f in data["flows"])
    assert all({"id", "severity", "message", "objects"} <= set(f) for f in data["findings"])
    assert len({f["path_id"] for f in data["flows"]}) == 52


def test_filters(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", TWO, "-f", "json", "--from", "voice", "--to", "HQ-UM1"]) == 0
    flows = json.loads(capsys.readouterr().out)["flows"]
    assert flows and all(
        f["source_zone"] == "voice" and f["destination"] == "HQ-UM1" for f in flows
    )
    assert run(["plan", TWO, "-f", "json", "--path", "mailbox.cluster"]) == 0
    flows = json.loads(capsys.readouterr().out)["flows"]
    assert {f["path_id"] for f in flows} == {"mailbox.cluster"}


@pytest.mark.parametrize("option", ["--from", "--to", "--path"])
def test_unknown_filter_is_input_error(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", SMALL, option, "nowhere"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0]


def test_csv_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", SMALL, "-f", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][0] == "id" and len(rows) > 10
    assert any(r[0] == "transport.hub_to_edge:EX1>EDGE1:tcp/25" for r in rows)
    assert run(["plan", SMALL, "-f", "markdown", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "| 数据路径 |" in out and "## 发现" in out


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", SMALL, "--path", "client_access.owa"]) == 0
    out = capsys.readouterr().out
    assert "client_access.owa" in out and "fw-outer → fw-inner" in out


def test_output_file_atomic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "plan.json"
    assert run(["plan", SMALL, "-f", "json", "--output", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text("utf-8"))["deployment"] == "Contoso"
    assert [p.name for p in target.parent.iterdir()] == ["plan.json"]


def test_validate_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["validate", SMALL]) == 0
    assert run(["validate", TWO]) == 0
    capsys.readouterr()
    assert run(["validate", BAD, "-f", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["errors"] >= 1
    assert {"PS-TOPO-001", "PS-TOPO-002", "PS-TOPO-006"} <= {f["id"] for f in data["findings"]}


def test_validate_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["validate", BAD, "--lang", "zh", "-f", "markdown"]) == 1
    captured = capsys.readouterr()
    assert "不受支持" in captured.out
    assert "个错误" in captured.err


def test_console_script_exit_code() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from pathsec.cli.main import entry; entry()", "validate", BAD],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr


ORG = str(ROOT / "examples/internet-facing.yaml")


def test_basis_and_deviations_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", ORG, "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {f["basis"] for f in data["flows"]} == {"reference", "inferred", "operational"}
    removed = data["removed_flows"]
    assert removed and all(f["deviation"].startswith("exceptions[") for f in removed)
    assert not {f["id"] for f in removed} & {f["id"] for f in data["flows"]}

    assert run(["plan", ORG, "-f", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"basis", "basis note", "deviation"} <= set(rows[0])
    gone = [r for r in rows if r["deviation"]]
    assert {r["id"] for r in gone} == {f["id"] for f in removed}
    ops = [r for r in rows if r["basis"] == "operational"]
    assert ops and all(r["basis note"] for r in ops)

    assert run(["plan", ORG, "-f", "markdown"]) == 0
    md = capsys.readouterr().out
    # Markdown escapes the parentheses of the title (pathsec.quoting.markdown)
    assert "Removed by exceptions \\(deviations\\)" in md and "| operational |" in md

    assert run(["plan", ORG]) == 0
    table = capsys.readouterr().out
    assert "Removed by exceptions (deviations) (3)" in table
    assert "exceptions[0]: EdgeSync over LDAPS" in table

    assert run(["plan", ORG, "--lang", "zh"]) == 0
    assert "例外移除的流" in capsys.readouterr().out


def test_with_operational_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(["plan", TWO, "-f", "json"]) == 0
    plain = json.loads(capsys.readouterr().out)["flows"]
    assert run(["plan", TWO, "-f", "json", "--with-operational"]) == 0
    more = json.loads(capsys.readouterr().out)["flows"]
    extra = [f for f in more if f["basis"] == "operational"]
    assert len(more) == len(plain) + len(extra) and extra
    assert run(["validate", TWO, "--with-operational"]) == 0
    capsys.readouterr()
    args = ["--protocol", "mailbox.ccr_scr_seeding=tcp", "--protocol", "mailbox.legacy_backup=tcp"]
    assert run(["firewall", TWO, "-t", "csv", *args, "--with-operational"]) == 0
    matrix = capsys.readouterr().out
    assert "operational.dc_replication" in matrix
    assert run(["firewall", TWO, "-t", "csv", *args]) == 0
    assert "operational.dc_replication" not in capsys.readouterr().out
