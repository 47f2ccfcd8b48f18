"""Benchmark: plan a generated 500-server, 5-site deployment and write its firewall rules.

    python bench/bench_plan.py                    # 5 runs
    python bench/bench_plan.py --runs 10
    python bench/bench_plan.py --host-firewalls   # and a host firewall on every server

Prints the time to load the YAML, to plan, and to write each firewall target (best and
median of the runs, with the bytes written), load + plan + nftables together (target:
under one second), and per enforcement point how many flows and per-flow rules became how
many consolidated rules, with the nftables bytes before (one rule per flow, protocol and
family, as pathsec wrote before consolidation) and after.
"""

from __future__ import annotations

import time

import yaml

from pathsec.catalog import Catalog, load_catalog
from pathsec.firewall import GeneratorOptions, Selection, Target
from pathsec.firewall import render as write_rules
from pathsec.firewall.consolidate import SetNamer, consolidate_point
from pathsec.firewall.nftables import render_point
from pathsec.firewall.rules import enforcement_points
from pathsec.plan import build_plan
from pathsec.plan.models import HostKind, Plan
from pathsec.topology import load_deployment_text

SITES = 5
SERVERS_PER_SITE = 100  # 2 DCs, 8 Hub, 8 CAS, 4 UM, 2 Edge, 76 Mailbox (38 CCR pairs)


def generate() -> str:
    """A deployment of 500 servers in 5 sites with clients, gateways, backups and firewalls."""
    zones = [
        {"name": "internet", "kind": "internet", "cidrs": ["203.0.113.0/24"]},
        {"name": "perimeter", "kind": "perimeter", "cidrs": ["192.0.2.0/24"]},
        {"name": "mgmt", "kind": "management", "cidrs": ["10.250.0.0/24"]},
    ]
    firewalls = [
        {"name": "fw-outer", "zones": ["internet", "perimeter"]},
        {"name": "fw-mgmt", "zones": ["mgmt"] + [f"site{s}" for s in range(SITES)]},
    ]
    servers: list[dict[str, object]] = []
    clusters: list[dict[str, object]] = []
    pops: list[dict[str, object]] = []
    gateways: list[dict[str, object]] = []
    subs: list[dict[str, str]] = []
    edge_ip = 10
    for s in range(SITES):
        site, zone = f"S{s}", f"site{s}"
        zones.append({"name": zone, "kind": "internal", "cidrs": [f"10.{s}.0.0/16"]})
        firewalls.append({"name": f"fw-dmz{s}", "zones": ["perimeter", zone]})
        layout = (
            [("domain_controller",)] * 2
            + [("hub_transport",)] * 8
            + [("client_access",)] * 8
            + [("unified_messaging",)] * 4
            + [("mailbox",)] * 76
        )
        mailboxes = []
        for i, roles in enumerate(layout):
            name = f"S{s}-{roles[0][:3].upper()}{i:03d}"
            srv: dict[str, object] = {
                "name": name,
                "addresses": [f"10.{s}.{i // 200}.{i % 200 + 10}"],
                "site": site,
                "zone": zone,
                "roles": list(roles),
                "windows": "2008" if i % 2 else "2003",
            }
            if roles[0] != "domain_controller":
                srv["exchange"] = "2007-sp2"
            if roles[0] == "mailbox":
                mailboxes.append(name)
            servers.append(srv)
        for k in range(0, len(mailboxes) - 1, 2):
            clusters.append({"name": f"S{s}-CCR{k}", "nodes": mailboxes[k : k + 2]})
        for e in range(2):
            name = f"S{s}-EDGE{e}"
            servers.append(
                {
                    "name": name,
                    "addresses": [f"192.0.2.{edge_ip}"],
                    "zone": "perimeter",
                    "roles": ["edge_transport"],
                    "exchange": "2007-sp2",
                }
            )
            edge_ip += 1
            subs.append({"edge": name, "site": site})
        pops.append(
            {
                "name": f"users{s}",
                "kind": "internal_users",
                "zone": zone,
                "site": site,
                "cidrs": [f"10.{s}.128.0/17"],
            }
        )
        gateways.append(
            {"name": f"gw{s}", "addresses": [f"10.{s}.100.1"], "zone": zone, "site": site}
        )
    pops.append({"name": "internet-users", "kind": "internet_users", "zone": "internet"})
    pops.append({"name": "phones", "kind": "mobile_devices", "zone": "internet"})
    doc = {
        "organization": {"name": "Bench", "forest": "bench.example", "domain": "bench.example"},
        "sites": [{"name": f"S{s}"} for s in range(SITES)],
        "zones": zones,
        "servers": servers,
        "clusters": clusters,
        "client_populations": pops,
        "ip_gateways": gateways,
        "backup_servers": [
            {
                "name": "bk",
                "addresses": ["10.250.0.5"],
                "zone": "mgmt",
                "methods": ["vss", "legacy"],
            }
        ],
        "admin_workstations": [{"name": "admins", "addresses": ["10.250.0.64/26"], "zone": "mgmt"}],
        "partners": [
            {
                "name": "partner",
                "domain": "partner.example",
                "addresses": ["203.0.113.128/25"],
                "zone": "internet",
            }
        ],
        "firewalls": firewalls,
        "edge_subscriptions": subs,
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _options(catalog: Catalog, plan: Plan) -> GeneratorOptions:
    # Paths whose protocol the reference leaves open need an explicit choice (as
    # `pathsec firewall --protocol PATH=both` would give): both, for the bench.
    open_paths = {f.path_id: ("tcp", "udp") for f in plan.flows if f.protocol is None}
    return GeneratorOptions(catalog=catalog, protocols=open_paths)  # type: ignore[arg-type]


def _with_host_firewalls(plan: Plan) -> Plan:
    hosts = tuple(
        h.model_copy(update={"host_firewall": True}) if h.kind is HostKind.server else h
        for h in plan.hosts
    )
    return plan.model_copy(update={"hosts": hosts})


def _one_run(catalog: Catalog, text: str, host_firewalls: bool) -> dict[str, float]:
    """Load, plan and every firewall target once; seconds per stage."""
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    dep = load_deployment_text(text, "<bench>")
    t1 = time.perf_counter()
    plan = build_plan(catalog, dep)
    if host_firewalls:
        plan = _with_host_firewalls(plan)
    t2 = time.perf_counter()
    times["load"], times["plan"] = t1 - t0, t2 - t1
    options = _options(catalog, plan)
    if host_firewalls:
        options = GeneratorOptions(options.catalog, options.protocols, host_format="any")
    for target in Target:
        t = time.perf_counter()
        files = write_rules(plan, target, Selection(), options).files
        times[target.value] = time.perf_counter() - t
        times[f"{target.value}:bytes"] = sum(len(f.content) for f in files)
    times["flows"] = len(plan.flows)
    times["servers"] = len(dep.servers)
    return times


def flows_to_rules(catalog: Catalog, text: str, host_firewalls: bool) -> list[str]:
    """Per enforcement point: flows, per-flow rules -> rules, nftables bytes before/after."""
    plan = build_plan(catalog, load_deployment_text(text, "<bench>"))
    options = _options(catalog, plan)
    if host_firewalls:
        plan = _with_host_firewalls(plan)
        options = GeneratorOptions(options.catalog, options.protocols, host_format="any")
    namer = SetNamer(plan)
    rows = []
    totals = [0, 0, 0, 0, 0]
    for point in enforcement_points(plan, Selection(), options):
        after = consolidate_point(plan, point, namer)
        # one rule per flow and protocol: a kind of its own keeps every rule apart
        before = consolidate_point(plan, point, namer, lambda r: f"{r.flow.id} {r.protocol}")
        b_bytes, a_bytes = len(render_point(plan, before)), len(render_point(plan, after))
        flows = len({r.flow.id for r in point.rules})
        row = (flows, len(point.rules), len(after.rules), b_bytes, a_bytes)
        totals = [t + v for t, v in zip(totals, row, strict=True)]
        if point.kind == "network" or len(rows) < 12:
            rows.append(
                f"  {point.slug:<22} {flows:>7,} flows {len(point.rules):>7,} per-flow rules"
                f" -> {len(after.rules):>4,} rules   nftables {b_bytes:>10,} -> {a_bytes:>8,} bytes"
            )
    f, b, a, bb, ab = totals
    rows.append(
        f"  {'all points':<22} {f:>7,} flows {b:>7,} per-flow rules -> {a:>4,} rules"
        f"   nftables {bb:>10,} -> {ab:>8,} bytes"
    )
    return rows


def main() -> None:
    """Generate, then load, plan and write every firewall target ``--runs`` times."""
    import argparse
    import statistics

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="repetitions (default 5)")
    parser.add_argument(
        "--host-firewalls", action="store_true", help="a host firewall on every server too"
    )
    args = parser.parse_args()
    catalog = load_catalog()
    text = generate()
    runs = [_one_run(catalog, text, args.host_firewalls) for _ in range(max(1, args.runs))]
    stages = ["load", "plan", *(t.value for t in Target)]
    print(
        f"{int(runs[0]['servers'])} servers, {SITES} sites, "
        f"{int(runs[0]['flows'])} flows; {len(runs)} runs, seconds (best / median):"
    )
    for stage in stages:
        vals = [r[stage] for r in runs]
        extra = (
            f"  ({int(runs[0][stage + ':bytes']):,} bytes)" if stage not in ("load", "plan") else ""
        )
        print(f"  {stage:<10} {min(vals):.3f} / {statistics.median(vals):.3f}{extra}")
    totals = [r["load"] + r["plan"] + r["nftables"] for r in runs]
    print(
        f"  total load + plan + nftables: {min(totals):.3f} / {statistics.median(totals):.3f} "
        "(target: under 1 s)"
    )
    print("flows -> rules per enforcement point (consolidated; before = one rule per flow):")
    for line in flows_to_rules(catalog, text, args.host_firewalls):
        print(line)


if __name__ == "__main__":
    main()
