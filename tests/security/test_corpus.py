"""The attacks of issue 14, one named regression test each.

Every case was a working attack on an input pathsec accepted: a deployment that passed
``validate``, a plan JSON given to ``firewall``, a custom catalog, a results file, a stored
run. Now each is refused with one line and exit code 2, or written inert.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from firewall.windows_syntax import check_cmd
from pathsec.cli.main import internal_error, run
from pathsec.quoting import terminal
from report.sample import sample_result
from security.hostile import (
    assert_inert_text,
    assert_markdown_inert,
    base_deployment,
    csv_rows,
    markdown_html,
    ps_program,
    put,
    reg_entries,
    yaml_text,
)

REPO = Path(__file__).resolve().parents[2]
CATALOG_YAML = (REPO / "src/pathsec/catalog/data/catalog.yaml").read_text("utf-8")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, pattern: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("pathsec: error: "), err
    assert re.search(pattern, lines[0]), lines[0]
    assert_inert_text(lines[0])


def write_deployment(tmp_path: Path, data: dict[str, Any], name: str = "d.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml_text(data), "utf-8")
    return path


def with_interface(value: str) -> dict[str, Any]:
    return put(base_deployment(), ("firewalls", 0, "interfaces", "internet"), value)


# --- deployment files that passed `pathsec validate` -------------------------------------

NFT_FLUSH = 'eth0" accept\n\t}\n}\nflush ruleset\ntable inet x {\n\tchain y {\n\t\tiifname "eth0'
IPT_INSERT = "eth0 -j ACCEPT\n-I FORWARD 1 -j ACCEPT\n#"
JUNOS_COMMENT = "eth0 */ then accept; /*"


@pytest.mark.parametrize(
    "value",
    [NFT_FLUSH, IPT_INSERT, JUNOS_COMMENT, 'eth0" accept', "eth0;", "eth0 ", "-i", "eth0\n"],
    ids=["nft-flush-ruleset", "iptables-insert", "junos-comment", "quote", "semicolon",
         "space", "option", "newline"],
)  # fmt: skip
def test_interface_name_injection_is_refused(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_deployment(tmp_path, with_interface(value))
    code, _, err = cli(capsys, "validate", str(path))
    one_line_error(code, err, r"d\.yaml:\d+: firewalls\[0\]\.interfaces\.internet: ")
    out = tmp_path / "out"
    for target in ("nftables", "iptables", "aerleon", "windows", "csv"):
        code, _, err = cli(capsys, "firewall", str(path), "-t", target, "-o", str(out))
        one_line_error(code, err, "interfaces")
    assert not out.exists()


def test_zone_key_of_interfaces_is_a_name(tmp_path: Path, capsys) -> None:
    data = base_deployment()
    data["firewalls"][0]["interfaces"] = {"internet\nflush ruleset": "eth0", "perimeter": "eth1"}
    code, _, err = cli(capsys, "validate", str(write_deployment(tmp_path, data)))
    one_line_error(code, err, r"firewalls\[0\]\.interfaces")


def test_router_interface_names_validate_and_linux_targets_refuse_them(
    tmp_path: Path, capsys
) -> None:
    """``ge-0/0/0.0`` is a Junos name: fine for aerleon, not a Linux name (exit 3, no file)."""
    path = write_deployment(tmp_path, with_interface("ge-0/0/0.0"))
    assert cli(capsys, "validate", str(path))[0] == 0
    code, _, err = cli(capsys, "firewall", str(path), "-t", "nftables", "--firewall", "fw-outer")
    assert code == 3 and "not a Linux interface name" in err and len(err.splitlines()) == 1
    code, out, _ = cli(capsys, "firewall", str(path), "-t", "aerleon")
    assert code == 0 and "interface ge-0/0/0.0 facing internet" in out


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("fe80::1%eth0", "zone ids"),
        ("fe80::1%x;flush ruleset", "zone ids"),
    ],
)
def test_server_addresses_are_unicast(
    address: str, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = base_deployment()
    data["zones"][2]["cidrs"] = ["0.0.0.0/0", "::/0"]  # so the address lies in its zone
    data = put(data, ("servers", 1, "addresses", 0), address)
    code, _, err = cli(capsys, "validate", str(write_deployment(tmp_path, data)))
    one_line_error(code, err, rf"servers\[1\]\.addresses\[0\]: .*{why}")


def test_internet_zone_may_be_everything_but_host_routes_are_checked(
    tmp_path: Path, capsys
) -> None:
    data = base_deployment()
    data["zones"][0]["cidrs"] = ["0.0.0.0/0", "::/0"]
    assert cli(capsys, "validate", str(write_deployment(tmp_path, data)))[0] == 0
    data["zones"][0]["cidrs"] = ["0.0.0.0/32"]
    code, _, err = cli(capsys, "validate", str(write_deployment(tmp_path, data)))
    one_line_error(code, err, r"zones\[0\]\.cidrs\[0\]: '0\.0\.0\.0/32' is the unspecified")


def test_names_are_unique_ignoring_case(tmp_path: Path, capsys) -> None:
    data = put(base_deployment(), ("servers", 0, "name"), "ex1")  # DC1 -> ex1, EX1 exists
    code, _, err = cli(capsys, "validate", str(write_deployment(tmp_path, data)))
    one_line_error(code, err, r"servers\[1\]\.name: duplicate name 'EX1' \(same as 'ex1'")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (("sites", 0, "description"), "x" * 10240, "longer than 4096 characters"),
        (("organization", "name"), "x" * 300, "longer than 255 characters"),
        (("organization", "name"), "Contoso\x1b]0;pwned\x07", r"found U\+001B at position 8"),
        (("organization", "name"), "Contoso\u202e", r"found U\+202E"),
        (("organization", "domain"), "contoso.example;rm", "DNS domain"),
        (("servers", 1, "name"), "EX1\r\n", "a name is letters"),
    ],
)
def test_free_text_and_names_are_bounded(
    field: tuple[Any, ...], value: str, message: str, tmp_path: Path, capsys
) -> None:
    path = write_deployment(tmp_path, put(base_deployment(), field, value))
    code, _, err = cli(capsys, "validate", str(path))
    one_line_error(code, err, message)


def test_huge_integer_in_yaml_is_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "d.yaml"
    text = yaml_text(base_deployment()).replace(
        "rpc_range: 6000-6999", "rpc_range: 6000-6999\n  listen_ports: {25: " + "9" * 5000 + "}"
    )
    path.write_text(text, "utf-8")
    code, _, err = cli(capsys, "validate", str(path))
    one_line_error(code, err, r"d\.yaml:\d+: number with 5000 digits")


# --- plan JSON given to `pathsec firewall` -----------------------------------------------


@pytest.fixture
def plan_doc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    src = write_deployment(tmp_path, base_deployment(), "base.yaml")
    code, out, _ = cli(capsys, "plan", str(src), "-f", "json")
    assert code == 0
    doc: dict[str, Any] = json.loads(out)
    return doc


def write_plan(tmp_path: Path, doc: dict[str, Any], text: str | None = None) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(text if text is not None else json.dumps(doc, indent=2), "utf-8")
    return path


@pytest.mark.parametrize("target", ["nftables", "iptables", "windows", "aerleon", "csv"])
def test_newline_in_a_flow_id_is_refused(target: str, plan_doc, tmp_path: Path, capsys) -> None:
    i = next(n for n, f in enumerate(plan_doc["flows"]) if f["destination"] == "EX1")
    flow_id = plan_doc["flows"][i]["id"]
    doc = put(plan_doc, ("flows", i, "id"), flow_id + "\naccept\n$(Remove-NetFirewallRule)")
    code, _, err = cli(capsys, "firewall", str(write_plan(tmp_path, doc)), "-t", target)
    one_line_error(code, err, rf"plan\.json:\d+: flows\[{i}\]\.id: .*a flow id is")


def test_crlf_in_a_host_name_cannot_write_a_registry_key(plan_doc, tmp_path: Path, capsys) -> None:
    run_key = "EX1\r\n[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run]"
    i = next(n for n, h in enumerate(plan_doc["hosts"]) if h["name"] == "EX1")
    doc = put(plan_doc, ("hosts", i, "name"), run_key)
    out = tmp_path / "out"
    code, _, err = cli(
        capsys, "firewall", str(write_plan(tmp_path, doc)), "-t", "windows", "-o", str(out)
    )
    one_line_error(code, err, rf"plan\.json:\d+: hosts\[{i}\]\.name: ")
    assert not out.exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: put(d, ("flows", 0, "source"), "nobody"), r"flows\[0\]\.source: unknown host"),
        (lambda d: _crosses(d), "unknown firewall"),
        (lambda d: put(d, ("hosts", 0, "name"), "edge1"), r"duplicate host 'EDGE1' \(same as 'edge1'"),
        (lambda d: put(d, ("hosts", 0, "addresses", 0), "0.0.0.0"), "unspecified"),
        (lambda d: put(d, ("firewalls", 0, "interfaces", "internet"), 'eth0" accept'), "interface name"),
        (lambda d: put(d, ("flows", 0, "source_zone"), "internet"), r"source_zone: 'internet' is not the zone"),
        (lambda d: put(d, ("flows", 1, "id"), d["flows"][0]["id"]), "duplicate flow id"),
    ],
    ids=["unknown-host", "unknown-firewall", "case-duplicate", "address", "interface", "zone", "dup-id"],
)  # fmt: skip
def test_plan_json_is_checked_like_a_deployment(
    edit, message: str, plan_doc, tmp_path: Path, capsys
) -> None:
    path = write_plan(tmp_path, edit(plan_doc))
    code, _, err = cli(capsys, "firewall", str(path), "-t", "nftables")
    one_line_error(code, err, message)


def _crosses(doc: dict[str, Any]) -> dict[str, Any]:
    i = next(n for n, f in enumerate(doc["flows"]) if f["crosses"])
    return put(doc, ("flows", i, "crosses", 0), "fw-x")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("9" * 5000, "integer with 5000 digits"),
        ("NaN", "NaN is not a JSON value"),
        ("1e999", "number '1e999' is out of range"),
    ],
)
def test_numbers_in_plan_json_are_bounded(
    token: str, message: str, plan_doc, tmp_path: Path, capsys
) -> None:
    text = json.dumps(plan_doc, indent=2).replace('"port": 443', f'"port": {token}', 1)
    code, _, err = cli(capsys, "firewall", str(write_plan(tmp_path, plan_doc, text)), "-t", "csv")
    one_line_error(code, err, rf"plan\.json:\d+: {message}")


def test_audit_of_a_plan_never_dials_0_0_0_0(plan_doc, tmp_path: Path, capsys) -> None:
    i = next(n for n, h in enumerate(plan_doc["hosts"]) if h["name"] == "EX1")
    path = write_plan(tmp_path, put(plan_doc, ("hosts", i, "addresses", 0), "0.0.0.0"))
    code, _, err = cli(capsys, "audit", str(path), "--dry-run")
    one_line_error(code, err, "unspecified address")
    code, _, err = cli(capsys, "audit", "-t", "0.0.0.0:25", "--no-store")
    one_line_error(code, err, "unspecified address")
    code, _, err = cli(capsys, "audit", "-t", "224.0.0.1:25", "--no-store")
    one_line_error(code, err, "multicast")


# --- PowerShell and .reg -----------------------------------------------------------------


def test_powershell_and_reg_files_are_inert_and_encoded_for_windows(tmp_path: Path, capsys) -> None:
    data = put(base_deployment(), ("organization", "name"), "Ēxample ‘Corp’ '$(x)' `y`")
    for s in data["servers"]:  # EX1 on 2012 writes PowerShell; DC1 (2003) a netsh .cmd
        if s["name"] == "EX1":
            s["windows"] = "2012"
    out = tmp_path / "win"
    code, _, err = cli(
        capsys, "firewall", str(write_deployment(tmp_path, data)), "-t", "windows", "-o", str(out)
    )
    assert code == 0, err
    ps1 = (out / "host-EX1.ps1").read_bytes()
    assert ps1.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: PowerShell 5.1 would read cp1252
    program = ps_program(ps1)
    assert program and all(
        skeleton.strip().startswith(("$", "Import", "Get", "Set", "New", "Write-Host", "exit"))
        or skeleton in ("", "}")
        or skeleton.startswith("if (-not $principal.IsInRole(")  # the administrator check
        for skeleton, _ in program
    )
    assert "Ēxample ‘Corp’" in ps1.decode("utf-8-sig").splitlines()[0]  # in the comment
    cmd = (out / "host-DC1.cmd").read_bytes().decode("ascii")  # cmd.exe: ASCII or nothing
    assert check_cmd(cmd, "2003") == []  # no metacharacter, the netsh grammar
    assert cmd.splitlines()[1].startswith("rem pathsec rules: Windows Firewall of DC1")
    assert "$(x)" not in cmd and "`" not in cmd and "%" not in cmd.splitlines()[1]
    reg = (out / "host-EX1-rpc.reg").read_bytes()
    entries = reg_entries(reg)
    assert entries[0] == "Windows Registry Editor Version 5.00"
    assert "[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Rpc\\Internet]" in entries
    assert sum(1 for e in entries if e.startswith("[")) == 1


# --- CSV formulas ------------------------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("https://evil.example","x")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1",
    "-1+1",
    " =1",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_catalog_csv_cells_are_not_formulas(formula: str, tmp_path: Path, capsys) -> None:
    cat = yaml.safe_load(CATALOG_YAML)
    cat["paths"][1]["name"]["en"] = formula  # transport.hub_to_edge: a path with flows
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text(cat), "utf-8")
    code, out, err = cli(capsys, "catalog", "--catalog", str(path), "-f", "csv")
    assert code == 0, err
    rows = csv_rows(out)
    assert rows[2][1] == "'" + formula
    dep = write_deployment(tmp_path, base_deployment())
    code, out, err = cli(capsys, "firewall", str(dep), "-t", "csv", "--catalog", str(path))
    assert code == 0, err
    rows = csv_rows(out)
    purpose = rows[0].index("purpose")
    hits = [r[purpose] for r in rows if formula in r[purpose]]
    assert hits  # the hub-to-edge path name in the matrix (one rule may list several) ...
    for cell in hits:  # ... neutralised wherever a cell starts with it
        assert not cell.lstrip(" ").startswith(("=", "+", "-", "@")), cell
    assert any(cell.startswith("'" + formula) for cell in hits)


# --- terminal output of stored runs ------------------------------------------------------


def test_history_shows_stored_escape_sequences_escaped(tmp_path: Path, capsys, monkeypatch) -> None:
    db = tmp_path / "h.sqlite3"
    monkeypatch.setenv("PATHSEC_DB", f"sqlite:///{db}")
    results = tmp_path / "r.json"
    results.write_text(sample_result().model_dump_json(), "utf-8")
    assert cli(capsys, "store", str(results), "--label", "dmz")[0] == 0
    # What an older pathsec or another writer of a shared database could have stored:
    evil = "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07\x1b[2J\u202eevil\x9b31m"
    with sqlite3.connect(db) as con:
        con.execute("UPDATE pathsec_runs SET label = ?, profile = ?", (evil, evil))
    code, out, _ = cli(capsys, "history")
    assert code == 0 and "\\x1b]8;;https://evil" in out.replace("\n", "").replace("│", "")
    assert_inert_text(out)
    code, out, _ = cli(capsys, "history", "-f", "json")
    assert code == 0 and json.loads(out)[0]["label"] == evil
    assert_inert_text(out)
    code, _, err = cli(capsys, "store", str(results), "--label", "x\x1b[31m")
    one_line_error(code, err, r"--label: text may not hold control characters")


def test_diff_and_report_tables_escape_server_text(tmp_path: Path, capsys) -> None:
    doc = json.loads(sample_result().model_dump_json())
    doc["findings"][0]["evidence"] = ["banner: \x1b]0;pwned\x07 \u202eevil \x9b2J"]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(sample_result().model_dump_json(), "utf-8")
    b.write_text(json.dumps(doc), "utf-8")
    for argv in (("diff", str(a), str(b)), ("report", str(b))):
        code, out, err = cli(capsys, *argv)
        assert code == 0, err
        assert_inert_text(out)


# --- Markdown and SARIF ------------------------------------------------------------------


def test_markdown_report_carries_no_image_or_link(tmp_path: Path, capsys) -> None:
    doc = json.loads(sample_result().model_dump_json())
    doc["findings"][0]["title"]["en"] = "![img](https://evil.example/t.png) [x](javascript:1) <b>"
    doc["findings"][0]["evidence"] = ["![img](https://evil.example/e.png)"]
    doc["endpoints"][0]["reason"] = "| pipe | [l](https://evil.example) <img src=x>"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc), "utf-8")
    code, md, _ = cli(capsys, "report", str(path), "-f", "markdown")
    assert code == 0
    clean = tmp_path / "clean.json"
    clean.write_text(sample_result().model_dump_json(), "utf-8")
    assert_markdown_inert(md, cli(capsys, "report", str(clean), "-f", "markdown")[1])
    html = markdown_html(md)
    assert "<img" not in html and "<a " not in html and "<b>" not in html
    code, sarif, _ = cli(capsys, "report", str(path), "-f", "sarif")
    rules = json.loads(sarif)["runs"][0]["tool"]["driver"]["rules"]
    helps = [markdown_html(r["help"]["markdown"]) for r in rules]
    assert all("<img" not in h and "<a " not in h and "<b>" not in h for h in helps)


# --- results files -----------------------------------------------------------------------


def test_huge_integer_in_results_is_one_line(tmp_path: Path, capsys) -> None:
    text = json.dumps(json.loads(sample_result().model_dump_json()), indent=2)
    text = text.replace('"port": 25', '"port": ' + "1" * 5000, 1)
    path = tmp_path / "r.json"
    path.write_text(text, "utf-8")
    for argv in (
        ("report", str(path)),
        ("merge", str(path)),
        ("store", str(path)),
        ("diff", str(path), str(path)),
    ):
        code, _, err = cli(capsys, *argv)
        one_line_error(code, err, r"r\.json:\d+: integer with 5000 digits")


def test_results_identifiers_are_checked(tmp_path: Path, capsys) -> None:
    doc = json.loads(sample_result().model_dump_json())
    doc["findings"][0]["flow_id"] = "x\n| evil |"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc, indent=1), "utf-8")
    code, _, err = cli(capsys, "report", str(path), "-f", "markdown")
    one_line_error(code, err, r"r\.json:\d+: findings\[0\]\.flow_id: ")


# --- the top-level guard ------------------------------------------------------------------


def test_internal_error_line_is_escaped(capsys) -> None:
    rc = internal_error(RuntimeError("x\x1b]0;t\x07 \u202eevil \x9b31m\u2028y"))
    err = capsys.readouterr().err
    assert rc == 3 and err.count("\n") == 1
    assert "\\x1b]0;t\\x07 \\u202eevil \\x9b31m" in err
    assert_inert_text(err.rstrip("\n"))
    assert terminal("\u2066") == "\\u2066"


def test_error_messages_cut_long_values(tmp_path: Path, capsys) -> None:
    path = write_deployment(tmp_path, put(base_deployment(), ("servers", 1, "name"), "x;" * 31))
    code, _, err = cli(capsys, "validate", str(path))
    one_line_error(code, err, "not allowed")
    assert len(err) < 400


@pytest.mark.parametrize("argv", [("firewall", "{d}", "-t", "nftables"), ("validate", "{d}")])
def test_subprocess_exit_codes(argv: tuple[str, ...], tmp_path: Path) -> None:
    """The same through the installed entry point (a real process, real exit code)."""
    path = write_deployment(tmp_path, with_interface(NFT_FLUSH))
    res = subprocess.run(
        [str(Path(sys.executable).parent / "pathsec"), *(a.format(d=path) for a in argv)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and res.stdout == "" and len(res.stderr.splitlines()) == 1
    assert "flush ruleset" not in res.stderr.replace("\\n", " ").split("is not allowed")[-1]


def test_aclgen_renders_a_junos_comment_closed(tmp_path: Path, capsys) -> None:
    """The comment payload reaches aerleon only inside sanitised comments: aclgen's own
    output keeps every Juniper comment closed."""
    data = put(base_deployment(), ("organization", "name"), "Contoso */ then accept; /*")
    out = tmp_path / "out"
    code, _, err = cli(
        capsys, "firewall", str(write_deployment(tmp_path, data)), "-t", "aerleon", "-o", str(out)
    )
    assert code == 0, err
    acl = tmp_path / "acl"
    acl.mkdir()
    res = subprocess.run(
        [sys.executable, "-m", "aerleon", "--base_directory", str(out / "aerleon" / "policies"),
         "--definitions_directory", str(out / "aerleon" / "def"), "--output_directory", str(acl)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    from security.hostile import juniper_comments_balanced

    jcls = sorted(acl.glob("*.jcl"))  # one policy per firewall
    assert jcls
    for jcl in jcls:
        juniper_comments_balanced(jcl.read_text())


def test_lone_surrogate_in_results_is_one_line(tmp_path: Path, capsys) -> None:
    """A ``\\ud800`` escape is valid JSON but not Unicode: it used to crash every writer."""
    doc = json.loads(sample_result().model_dump_json())
    doc["findings"][0]["evidence"] = ["x\ud800y"]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc), "utf-8")  # ensure_ascii: written as \ud800
    for fmt in ("json", "sarif", "csv"):
        code, _, err = cli(capsys, "report", str(path), "-f", fmt)
        one_line_error(code, err, r"findings\[0\]\.evidence\[0\]: a lone surrogate")
    code, _, err = cli(capsys, "store", str(path))
    one_line_error(code, err, "lone surrogate")
