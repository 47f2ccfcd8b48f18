"""The consolidation proof: consolidated rules accept exactly what the per-flow rules accept.

For every enforcement point of every example, the hand-built plans and the 500-server bench
plan, the (source address, destination address, protocol, port) space of the per-flow rules
(``rules.py``) equals, by interval arithmetic (:mod:`firewall.equivalence`), the space of
the nftables and iptables files pathsec writes (parsed back, sets and ipsets resolved) and
of the consolidated model itself. And consolidation must actually consolidate.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache

import pytest

from firewall.conftest import (
    EXAMPLES,
    REPO,
    example_plan,
    flavours_plan,
    flow,
    host,
    lab_plan,
    options_for,
)
from firewall.equivalence import (
    ProofError,
    assert_same,
    flow_rule_space,
    ipset_contents,
    ipt_space,
    model_space,
    nft_space,
)
from pathsec.catalog import load_catalog
from pathsec.firewall import Selection, Target, render
from pathsec.firewall import iptables as ipt_module
from pathsec.firewall.consolidate import SetNamer, consolidate_point, consolidated_points
from pathsec.firewall.rules import enforcement_points
from pathsec.firewall.windows_common import rpc_kind, rpc_kind_of
from pathsec.plan import build_plan
from pathsec.plan.models import HostKind, Plan
from pathsec.topology import load_deployment_text


@cache
def bench_plan() -> Plan:
    """The 500-server plan of ``bench/bench_plan.py``."""
    spec = importlib.util.spec_from_file_location("bench_plan", REPO / "bench" / "bench_plan.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_plan", mod)
    spec.loader.exec_module(mod)
    return build_plan(load_catalog(), load_deployment_text(mod.generate(), "<bench>"))


def bench_plan_with_host_firewalls() -> Plan:
    """The bench plan with a host firewall on every server (500 more enforcement points)."""
    plan = bench_plan()
    hosts = tuple(
        h.model_copy(update={"host_firewall": True}) if h.kind is HostKind.server else h
        for h in plan.hosts
    )
    return plan.model_copy(update={"hosts": hosts})


PLANS = {
    "lab": lab_plan,
    "flavours": flavours_plan,
    **{p.stem: (lambda p=p: example_plan(p)) for p in EXAMPLES},
    "bench-500": bench_plan,
}


def prove(plan: Plan) -> tuple[int, int]:
    """Prove every point of ``plan`` for nftables and iptables; (per-flow rules, rules)."""
    opts = options_for(plan, "any")
    nft = {f.name: f.content for f in render(plan, Target.nftables, Selection(), opts).files}
    ipt = {f.name: f.content for f in render(plan, Target.iptables, Selection(), opts).files}
    points = enforcement_points(plan, Selection(), opts)
    consolidated = {c.point.slug: c for c in consolidated_points(plan, Selection(), opts, "other")}
    before = after = 0
    for p in points:
        expected = flow_rule_space(p.rules)
        c = consolidated[p.slug]
        assert_same(expected, model_space(c.rules), f"{p.slug} (model)")
        assert_same(expected, nft_space(nft[f"{p.slug}.nft"]), f"{p.slug}.nft")
        sets = ipset_contents(ipt.get(f"{p.slug}.ipset", ""))
        got = ipt_space(ipt[f"{p.slug}.rules.v4"], 4, sets)
        for key, boxes in ipt_space(ipt[f"{p.slug}.rules.v6"], 6, sets).items():
            got.setdefault(key, []).extend(boxes)
        assert_same(expected, got, f"{p.slug}.rules.v4/v6")
        before += len(p.rules)
        after += len(c.rules)
    return before, after


@pytest.mark.parametrize("name", list(PLANS))
def test_consolidated_rules_accept_exactly_the_per_flow_rules(name: str) -> None:
    before, after = prove(PLANS[name]())
    assert after <= before
    if name in ("two-sites", "bench-500"):
        assert after * 3 < before, f"{name}: {before} per-flow rules -> {after} rules"


def test_bench_plan_with_a_host_firewall_on_every_server() -> None:
    before, after = prove(bench_plan_with_host_firewalls())
    assert after * 4 < before


def test_ipsets_and_multiport_chunks_keep_the_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    # every multi-network side an ipset, and a rule with more ports than multiport takes
    monkeypatch.setattr(ipt_module, "IPSET_MIN", 0)
    plan = lab_plan()
    ex1, dc1 = plan.host("EX1"), plan.host("DC1")
    many = tuple(flow("mailbox.cluster", dc1, ex1, "udp", 40000 + 3 * i) for i in range(20))
    plan = lab_plan(extra_flows=many)
    prove(plan)
    files = {
        f.name: f.content
        for f in render(plan, Target.iptables, Selection(), options_for(plan, "any")).files
    }
    rules = files["host-EX1.rules.v4"]
    assert "--match-set ps_" in rules and "host-EX1.ipset" in files
    assert rules.count("--dports 40000,") == 1 and "40045" in rules.split("--dports 40000,")[1]
    assert (
        max(
            len(line.split("--dports ")[1].split()[0].split(","))
            for line in rules.splitlines()
            if "--dports" in line
        )
        <= 15
    )


def test_the_proof_catches_a_widened_or_narrowed_rule() -> None:
    plan = lab_plan()
    opts = options_for(plan, "any")
    p = next(p for p in enforcement_points(plan, Selection(), opts) if p.slug == "host-EX1")
    text = next(
        f.content
        for f in render(plan, Target.nftables, Selection(host="EX1"), opts).files
        if f.name == "host-EX1.nft"
    )
    with pytest.raises(ProofError):
        assert_same(
            flow_rule_space(p.rules),
            nft_space(text.replace("tcp dport 25 ", "tcp dport 24-25 ")),
            "x",
        )
    with pytest.raises(ProofError):
        assert_same(
            flow_rule_space(p.rules),
            nft_space(text.replace("ip saddr 192.0.2.25", "ip saddr 192.0.2.0/24")),
            "x",
        )
    with pytest.raises(ProofError, match="does not know"):
        nft_space(text.replace("ct state invalid drop", "ip saddr 0.0.0.0/0 accept"))


def test_windows_consolidation_keeps_rpc_keywords_apart_and_exact() -> None:
    plan = flavours_plan()
    opts = options_for(plan)
    namer = SetNamer(plan)
    for p in enforcement_points(plan, Selection(), opts, hosts_only=True):
        assert p.host is not None
        c = consolidate_point(plan, p, namer, rpc_kind_of(p.host))
        assert_same(flow_rule_space(p.rules), model_space(c.rules), p.slug)
        for rule in c.rules:
            assert {rpc_kind(r, p.host) for r in rule.flows} == {rule.kind}


def test_sets_are_named_after_roles_sites_and_hosts() -> None:
    plan = bench_plan()
    names = {
        rule.sources.name
        for c in consolidated_points(
            plan, Selection(firewall="fw-mgmt"), options_for(plan), "other"
        )
        for rule in c.rules
    } | {
        rule.destinations.name
        for c in consolidated_points(
            plan, Selection(firewall="fw-mgmt"), options_for(plan), "other"
        )
        for rule in c.rules
    }
    assert "admins" in names and "bk" in names
    assert any(n.startswith("mailbox_S0") for n in names)
    assert all(n.replace("_", "").isalnum() and len(n) <= 23 for n in names)


def test_flows_to_rules_counts_are_in_the_headers_and_the_summary() -> None:
    plan = example_plan(REPO / "examples" / "two-sites.yaml")
    r = render(plan, Target.nftables, Selection(), options_for(plan))
    outer = next(f.content for f in r.files if f.name == "firewall-fw-outer.nft")
    summary = next(p for p in r.points if p.name == "fw-outer")
    assert (
        f"# {summary.flows} flows ({summary.flow_rules} per-flow rules) -> {summary.rules} rules"
        in outer
    )
    assert summary.rules < summary.flow_rules


def test_side_file_lists_every_flow_of_every_rule() -> None:
    plan = bench_plan()
    opts = options_for(plan)
    r = render(plan, Target.nftables, Selection(firewall="fw-mgmt"), opts)
    files = {f.name: f.content for f in r.files}
    side = files["firewall-fw-mgmt.flows"]
    point = enforcement_points(plan, Selection(firewall="fw-mgmt"), opts)[0]
    listed = {line.split("\t")[3] for line in side.splitlines() if not line.startswith("#")}
    assert listed == {fr.label for fr in point.rules}
    assert "flows (firewall-fw-mgmt.flows)" in files["firewall-fw-mgmt.nft"]


def test_host_set_names_fall_back_to_kinds_and_host_names() -> None:
    plan = lab_plan()
    namer = SetNamer(plan)
    assert namer.name(frozenset({"EX1"})) == "EX1"
    assert namer.name(frozenset({"EX1", "DC1"})) == "server"  # no shared role: the kind
    assert namer.name(frozenset({"internet-users", "phones"})) == "client_population"
    assert namer.name(frozenset({"EX1", "phones"})) == "EX1_phones"  # mixed kinds: the hosts
    long = host("x" * 30, "internal", "10.9.9.9", kind=HostKind.backup)
    big = plan.model_copy(update={"hosts": (*plan.hosts, long)})
    assert SetNamer(big).name(frozenset({"EX1", long.name})) == "hosts_2"
    assert namer.name(frozenset({"DC1", "EX1"})) == "server"  # the same set, the same name
