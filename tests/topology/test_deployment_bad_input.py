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
    "internet_facing on a server without Client Access": (
        SMALL.replace(
            "roles: [domain_controller]", "roles: [domain_controller]\n    internet_facing: true"
        ),
        "internet_facing: true",
        1,
        "servers[0].internet_facing",
        "only Client Access servers face the internet",
    ),
    "publisher forwarding to a non-CAS": (
        SMALL
        + "publishers:\n  - name: rp1\n    zone: perimeter\n    addresses: [192.0.2.80]\n"
        + "    publishes: [owa]\n    servers: [DC1]\n",
        "    servers: [DC1]",
        1,
        "publishers[0].servers[0]",
        "'DC1' is not a Client Access server",
    ),
    "publisher address outside its zone": (
        SMALL
        + "publishers:\n  - name: rp1\n    zone: perimeter\n    addresses: [10.1.0.80]\n"
        + "    publishes: [owa]\n",
        "    addresses: [10.1.0.80]",
        1,
        "publishers[0].addresses[0]",
        "outside zone 'perimeter'",
    ),
    "unknown published service": (
        SMALL
        + "publishers:\n  - name: rp1\n    zone: perimeter\n    addresses: [192.0.2.80]\n"
        + "    publishes: [owa, pop3]\n",
        "    publishes: [owa, pop3]",
        1,
        "publishers[0].publishes[1]",
        "Input should be",
    ),
    "internet mail through a non-Edge": (
        SMALL + "internet_mail:\n  edges: [EX1]\n",
        "  edges: [EX1]",
        1,
        "internet_mail.edges[0]",
        "'EX1' is not an Edge Transport server",
    ),
    "resolver outside its zone": (
        SMALL + "internet_mail:\n  resolvers:\n    zone: perimeter\n    addresses: [10.1.0.53]\n",
        "    addresses: [10.1.0.53]",
        1,
        "internet_mail.resolvers.addresses[0]",
        "outside zone 'perimeter'",
    ),
    "exception with two scopes": (
        SMALL
        + "exceptions:\n  - path: transport.edgesync\n    site: HQ\n"
        + "    zones: [internal, perimeter]\n    reason: x\n",
        "  - path: transport.edgesync",
        1,
        "exceptions[0]",
        "give at most one of site, zones and servers",
    ),
    "exception without a reason": (
        SMALL + "exceptions:\n  - path: transport.edgesync\n",
        "  - path: transport.edgesync",
        1,
        "exceptions[0].reason",
        "required field is missing",
    ),
    "exception on an unknown path": (
        SMALL + "exceptions:\n  - path: transport.edge_sync\n    reason: typo\n",
        "  - path: transport.edge_sync",
        1,
        "exceptions[0].path",
        "unknown catalog path 'transport.edge_sync'",
    ),
    "exception naming an unknown host": (
        SMALL
        + "exceptions:\n  - path: transport.edgesync\n    servers: [EX1, EX9]\n"
        + "    reason: x\n",
        "    servers: [EX1, EX9]",
        1,
        "exceptions[0].servers[1]",
        "unknown host 'EX9'",
    ),
    "name taken by the default CRL endpoints": (
        SMALL.replace("  - name: phones\n", "  - name: crl-endpoints\n"),
        "  - name: crl-endpoints",
        1,
        "client_populations[1].name",
        "names the host Edge servers check certificate revocation against",
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
