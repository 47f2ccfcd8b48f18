"""Bad deployment files: one line naming file:line and field, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from pathsec.cli.main import run

SMALL = (Path(__file__).resolve().parents[2] / "examples/small.yaml").read_text("utf-8")


def _line_of(text: str, needle: str, nth: int = 1) -> int:
    count = 0
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            count += 1
            if count == nth:
                return i
    raise AssertionError(needle)


DUP = SMALL.replace("  - name: EDGE1\n", "  - name: EX1\n")
CASES = {
    "unknown role": (
        SMALL.replace(
            "roles: [hub_transport, client_access, mailbox]", "roles: [hub_transport, fax_role]"
        ),
        "roles: [hub_transport, fax_role]",
        1,
        "servers[1].roles[1]",
        "Input should be",
    ),
    "duplicate server": (DUP, "  - name: EX1", 2, "servers[2].name", "duplicate name 'EX1'"),
    "address outside zone": (
        SMALL.replace("addresses: [10.1.0.20]", "addresses: [10.7.0.20]"),
        "addresses: [10.7.0.20]",
        1,
        "servers[1].addresses[0]",
        "outside zone 'internal'",
    ),
    "unknown site": (
        SMALL.replace(
            "    site: HQ\n    zone: internal\n    roles: [hub",
            "    site: Paris\n    zone: internal\n    roles: [hub",
        ),
        "site: Paris",
        1,
        "servers[1].site",
        "unknown site 'Paris'",
    ),
    "invalid CIDR": (
        SMALL.replace("cidrs: [192.0.2.0/24]", "cidrs: [192.0.2.0/33]"),
        "cidrs: [192.0.2.0/33]",
        1,
        "zones[1].cidrs[0]",
        "not a valid CIDR",
    ),
    "wrong type": (
        SMALL.replace(
            "roles: [domain_controller]", "roles: [domain_controller]\n    host_firewall: sometimes"
        ),
        "host_firewall: sometimes",
        1,
        "servers[0].host_firewall",
        "boolean",
    ),
    "unknown field": (
        SMALL.replace("  - name: HQ ", "  - name: HQ\n    colour: blue "),
        "colour: blue",
        1,
        "sites[0].colour",
        "unknown field",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_deployment_one_line_exit_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, needle, nth, field, message = CASES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text, "utf-8")
    for command in ("plan", "validate"):
        rc = run([command, str(path)])
        captured = capsys.readouterr()
        assert rc == 2, captured.err
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, captured.err
        assert lines[0].startswith(
            f"pathsec: error: {path}:{_line_of(text, needle, nth)}: {field}: "
        )
        assert message in lines[0]
        assert "Traceback" not in captured.err
        assert captured.out == ""


def test_yaml_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SMALL.replace("roles: [domain_controller]", "roles: [domain_controller")
    path = tmp_path / "broken.yaml"
    path.write_text(text, "utf-8")
    rc = run(["plan", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1
    assert err[0].startswith(f"pathsec: error: {path}:")
    assert "YAML syntax error" in err[0]
    line = int(err[0].split(f"{path}:")[1].split(":")[0])
    assert abs(line - _line_of(text, "roles: [domain_controller")) <= 2


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["validate", str(tmp_path / "nope.yaml")])
    assert rc == 2
    assert "cannot read" in capsys.readouterr().err


def test_unknown_cluster_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SMALL + "\nclusters:\n  - name: C1\n    nodes: [EX1, GHOST]\n"
    path = tmp_path / "c.yaml"
    path.write_text(text, "utf-8")
    assert run(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{path}:{_line_of(text, 'nodes: [EX1, GHOST]')}: clusters[0].nodes[1]: unknown server 'GHOST'"
        in err
    )
