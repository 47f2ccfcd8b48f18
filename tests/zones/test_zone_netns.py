"""Zone-aware audits on the firewall issue's namespace network (the small example).

The network is built by the firewall end-to-end test's builder (generated nftables rules on
routers and hosts); listeners answer on every planned destination port; one port the plan
keeps internal (EDGE1 50636, EdgeSync) is deliberately opened to the internet. ``pathsec
audit PLAN --from ZONE`` runs inside a namespace of that zone; the results are merged with
``pathsec merge``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from firewall.conftest import example_plan, need, options_for
from firewall.test_e2e_netns import SMALL, Lab, build, relocate, start_listeners
from pathsec.firewall import Selection, Target, generate
from pathsec.plan.models import HostKind, Plan

pytestmark = pytest.mark.root

EXTRA_PORT = 50636  # EdgeSync on EDGE1: planned from the internal zone only


def v4(plan: Plan, name: str) -> str:
    return next(a for a in plan.host(name).addresses if ":" not in a)


def planned_zones(plan: Plan) -> dict[tuple[str, int], set[str]]:
    """(server address, tcp port) -> zones the plan opens it to."""
    out: dict[tuple[str, int], set[str]] = {}
    for f in plan.flows:
        if f.local or f.port is None or f.protocol != "tcp":
            continue
        if plan.host(f.destination).kind is not HostKind.server:
            continue
        out.setdefault((v4(plan, f.destination), f.port), set()).add(f.source_zone)
    return out


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Plan, Path]]:
    need("ip")
    need("nft")
    d = tmp_path_factory.mktemp("zones")
    lab = Lab(prefix=f"ps{os.getpid()}zn")
    try:
        plan, ifaddrs = relocate(example_plan(SMALL))
        # "any": the DC (a Windows server) loads its host rules as nftables here
        for f in generate(plan, Target.nftables, Selection(), options_for(plan, "any")):
            (d / f.name).write_text(f.content)
        build(lab, plan, ifaddrs, d, Target.nftables)
        ports: dict[str, set[tuple[str, int]]] = {}
        for fl in plan.flows:
            if not fl.local and fl.port is not None and fl.protocol is not None:
                ports.setdefault(fl.destination, set()).add((fl.protocol, fl.port))
        start_listeners(lab, ports)
        # the deliberate hole: EdgeSync opened to the internet on fw-outer (and on EDGE1's
        # host firewall, if the builder gives it one)
        fw = next(i for i, f in enumerate(plan.firewalls, 1) if f.name == "fw-outer")
        holes = [(f"{lab.prefix}-r{fw}", "forward")]
        if plan.host("EDGE1").host_firewall:
            holes.append((lab.host_ns["EDGE1"], "input"))
        for ns, chain in holes:
            subprocess.run(
                [
                    "ip",
                    "netns",
                    "exec",
                    ns,
                    "nft",
                    "insert",
                    "rule",
                    "inet",
                    "pathsec",
                    chain,
                    "tcp",
                    "dport",
                    str(EXTRA_PORT),
                    "accept",
                ],
                check=True,
                capture_output=True,
                timeout=10,
            )
        (d / "plan.json").write_text(plan.model_dump_json())
        yield lab, plan, d
    finally:
        lab.close()


def audit_from(lab: Lab, d: Path, source: str, zone: str) -> tuple[int, dict, Path]:
    out = d / f"audit-{zone}.json"
    exe = Path(sys.executable).with_name("pathsec")
    proc = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            lab.host_ns[source],
            str(exe),
            "audit",
            str(d / "plan.json"),
            "--from",
            zone,
            "-q",
            "-f",
            "json",
            "--timeout",
            "1.5",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return proc.returncode, json.loads(proc.stdout), out


def tcp_facts(doc: dict) -> dict[tuple[str, int], tuple[str, str]]:
    """(host, port) -> (expectation, observed tcp state) of the TCP endpoints."""
    return {
        (e["host"], e["port"]): (e["expect"], e["observations"]["tcp"]["state"])
        for e in doc["endpoints"]
        if e["observations"].get("tcp") is not None
    }


def test_from_internet_zone(network: tuple[Lab, Plan, Path]) -> None:
    lab, plan, d = network
    rc, doc, _ = audit_from(lab, d, "internet-users", "internet")
    zones = planned_zones(plan)
    facts = tcp_facts(doc)
    expected = {key: ("open" if "internet" in z else "closed") for key, z in zones.items()}
    assert {k: v[0] for k, v in facts.items()} == expected  # every fact the plan implies
    edge = (v4(plan, "EDGE1"), EXTRA_PORT)
    for key, (expect, state) in facts.items():
        if expect == "open":
            assert state == "open", key
        elif key == edge:
            assert state == "open"  # the hole
        else:
            assert state == "filtered", key  # dropped by the firewalls
    zone_findings = {(f["host"], f["port"]) for f in doc["findings"] if f["id"] == "PS-ZONE-001"}
    assert zone_findings == {edge}
    f = next(f for f in doc["findings"] if f["id"] == "PS-ZONE-001")
    assert f["severity"] == "high" and f["from_zone"] == "internet"
    assert rc == 1


def test_from_internal_and_perimeter_and_merge(network: tuple[Lab, Plan, Path]) -> None:
    lab, plan, d = network
    _, internal, a = audit_from(lab, d, "EX1", "internal")
    _, perimeter, b = audit_from(lab, d, "EDGE1", "perimeter")
    _, _, c = audit_from(lab, d, "internet-users", "internet")
    zones = planned_zones(plan)
    ex1, edge1, dc1 = v4(plan, "EX1"), v4(plan, "EDGE1"), v4(plan, "DC1")
    # internal: every planned TCP destination from EX1 connects (DC1, EDGE1 through fw-inner);
    # EX1's own ports are not graded from EX1 itself
    facts = tcp_facts(internal)
    assert {k for k, v in facts.items() if v[0] == "open"} == {
        k for k, z in zones.items() if "internal" in z
    }
    assert all(state == "open" for _, state in facts.values())
    assert not any(h == ex1 for h, _ in facts)
    # perimeter: EDGE1 -> EX1 25 works; the DC and EX1's web ports are closed to it
    facts = tcp_facts(perimeter)
    assert facts[(ex1, 25)] == ("open", "open")
    closed = {k for k, v in facts.items() if v[0] == "closed"}
    assert {(dc1, p) for p in (53, 88, 135, 389, 3268)} | {(ex1, 80), (ex1, 443)} <= closed
    assert all(facts[k][1] == "filtered" for k in closed)
    assert not any(h == edge1 for h, _ in facts)
    assert not any(f["id"] == "PS-ZONE-001" for f in internal["findings"] + perimeter["findings"])
    # merged: one document, every endpoint keeps its zone
    exe = Path(sys.executable).with_name("pathsec")
    merged = json.loads(
        subprocess.run(
            [str(exe), "merge", str(a), str(b), str(c)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    )
    assert len(merged["endpoints"]) == sum(
        len(json.loads(p.read_text())["endpoints"]) for p in (a, b, c)
    )
    assert {e["from_zone"] for e in merged["endpoints"]} == {"internal", "perimeter", "internet"}
    assert [(f["host"], f["port"]) for f in merged["findings"] if f["id"] == "PS-ZONE-001"] == [
        (edge1, EXTRA_PORT)
    ]
