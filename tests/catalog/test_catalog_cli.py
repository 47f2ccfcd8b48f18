"""The ``pathsec catalog`` command, end to end through the CLI entry point."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from pathsec.cli.main import run

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "src/pathsec/catalog/data/catalog.schema.json"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_client_access_in_chinese_is_a_readable_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "catalog", "--section", "client_access", "--lang", "zh")
    assert code == 0
    assert "数据路径 (14)" in out
    for text in (
        "client_access.autodiscover",
        "client_access.cas_to_um",
        "自动发现服务",
        "是 (HTTPS)",
    ):
        assert text in out
    assert out.count("client_access.") == 14
    assert "集线器传输服务器到集线器传输服务器" not in out  # another section


def test_json_output_validates_against_the_committed_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "catalog", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"paths", "rules"}
    assert len(data["paths"]) == 52 and len(data["rules"]) >= 20
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    wrapper = {
        "$defs": schema["$defs"],
        "type": "object",
        "properties": {
            "paths": {"type": "array", "items": {"$ref": "#/$defs/DataPath"}},
            "rules": {"type": "array", "items": {"$ref": "#/$defs/Rule"}},
        },
        "required": ["paths", "rules"],
    }
    jsonschema.Draft202012Validator(wrapper).validate(data)
    first = data["paths"][0]
    for key in (
        "id",
        "section",
        "name",
        "source_role",
        "destination_role",
        "ports",
        "default_auth",
        "supported_auth",
        "encryption",
        "conditions",
    ):
        assert key in first
    assert set(first["encryption"]) >= {"supported", "mechanisms", "by_default"}
    assert set(first["ports"][0]) >= {"protocol", "port", "range", "label"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--role", "domain_controller", "--port", "3268"],
            {
                "transport.hub_ad_access",
                "mailbox.ad_access",
                "mailbox.sa_legacy_ad",
                "mailbox.recipient_update_ad",
                "mailbox.directory_access_ad",
            },
        ),
        (["--port", "3343"], {"mailbox.cluster"}),
        (["--auth", "forms"], {"client_access.owa", "client_access.webdav"}),
        (
            ["--encryption", "none"],
            {
                "transport.edge_adam_local",
                "mailbox.vss_backup",
                "mailbox.mailbox_assistants",
                "mailbox.sa_legacy_listen",
            },
        ),
        (["--search", "统一消息传真"], {"unified_messaging.fax"}),
        (
            ["--search", "ACTIVESYNC", "--section", "client_access"],
            {"client_access.activesync", "client_access.cas_to_cas_activesync"},
        ),
        (
            ["--section", "transport", "--role", "edge_adam"],
            {"transport.edgesync", "transport.edge_adam_local"},
        ),
    ],
)
def test_filters(capsys: pytest.CaptureFixture[str], args: list[str], expected: set[str]) -> None:
    code, out, _ = _run(capsys, "catalog", *args, "--format", "csv")
    assert code == 0
    ids = {row["id"] for row in csv.DictReader(io.StringIO(out))}
    assert ids == expected


def test_optional_encryption_filter_is_ipsec_and_plain_http(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "catalog", "--encryption", "optional", "--format", "json")
    paths = json.loads(out)["paths"]
    assert code == 0 and paths
    for p in paths:
        assert p["encryption"]["supported"] is True and p["encryption"]["by_default"] is False


def test_markdown_and_show_and_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "catalog", "--section", "unified_messaging", "--format", "markdown")
    # Markdown characters in cells are escaped: ``_`` is written ``\_``.
    assert code == 0 and out.count("\n| unified\\_messaging.") == 5
    code, out, _ = _run(capsys, "catalog", "show", "mailbox.cluster", "--format", "json")
    shown = json.loads(out)
    assert code == 0
    assert {r["id"] for r in shown["rules"]} >= {
        "cluster_heartbeat_udp_3343",
        "cluster_dynamic_rpc",
    }
    code, out, _ = _run(capsys, "catalog", "rules", "--lang", "zh")
    assert code == 0 and "我们不支持在外围网络中安装客户端访问服务器" in out


GOOD_PATH = """\
schema_version: 1
source: {title_zh: t, title_en: t, product: p, last_modified: '2009', english_original: u}
paths:
- id: custom.one
  section: transport
  index: 1
  name: {zh: 一, en: one}
  source_role: hub_transport
  destination_role: hub_transport
  scope: organization
  ports:
  - {protocol: tcp, port: PORT}
  ports_raw: 25/TCP
  default_auth: [kerberos]
  default_auth_raw: Kerberos
  supported_auth: [kerberos]
  supported_auth_raw: Kerberos
  encryption:
    supported: true
    mechanisms: [tls]
    by_default: true
    supported_raw: 是
    by_default_raw: 是
    supported_basis: {kind: source}
    by_default_basis: {kind: source}
rules: []
"""


def test_a_users_own_catalog_is_loaded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "mine.yaml"
    f.write_text(GOOD_PATH.replace("PORT", "2525"), encoding="utf-8")
    code, out, _ = _run(capsys, "catalog", "--catalog", str(f), "--format", "json")
    assert code == 0
    assert [p["ports"][0]["port"] for p in json.loads(out)["paths"]] == [2525]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD_PATH.replace("PORT", "70000"),
            ":12: paths[0].ports[0].port: Input should be less than or equal to 65535",
        ),
        (
            GOOD_PATH.replace("PORT", "25").replace(
                "source_role: hub_transport", "source_role: hub"
            ),
            ":8: paths[0].source_role: Input should be",
        ),
        (
            GOOD_PATH.replace("PORT", "25").replace(
                "  scope: organization\n", "  scope: organization\n  colour: red\n"
            ),
            ":11: paths[0].colour: unknown field",
        ),
        (
            GOOD_PATH.replace("PORT", "25").replace("  index: 1\n", ""),
            ": paths[0].index: required field is missing",
        ),
        (
            GOOD_PATH.replace("PORT", "25").replace(
                "default_auth: [kerberos]", "default_auth: [kerberos"
            ),
            ": YAML syntax error",
        ),
        (
            GOOD_PATH.replace("PORT", "25").replace("rules: []", "rules: [x]"),
            ":26: rules[0]: Input should be a valid dictionary",
        ),
    ],
)
def test_a_malformed_catalog_is_one_line_with_file_line_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    code, out, err = _run(capsys, "catalog", "--catalog", str(f))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"pathsec: error: {f}")
    assert expected in err


def test_the_console_script_exits_2_without_traceback(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("paths: [\n", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pathsec.cli.main import entry; entry()",
            "catalog",
            "--catalog",
            str(f),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and f"{f}:" in proc.stderr


def test_unknown_section_and_path_id_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "catalog", "--section", "nope")
    assert code == 2 and "--section" in err
    code, _, err = _run(capsys, "catalog", "show", "client_access.nope")
    assert code == 2 and "unknown path id" in err
