"""Benchmark: plan a generated 500-server, 5-site deployment and print the time.

    python bench/bench_plan.py            # 5 runs
    python bench/bench_plan.py --runs 10

Prints the time to load the YAML, to plan, and to write each firewall target (best and
median of the runs), and load + plan + nftables together. Not a timed test: it prints
the figures (target: load + plan + firewall under one second).
"""

from __future__ import annotations

import time

import yaml

from pathsec.catalog import Catalog, load_catalog
from pathsec.firewall import GeneratorOptions, Selection, Target
from pathsec.firewall import generate as write_rules
from pathsec.plan import build_plan
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


def _one_run(catalog: Catalog, text: str) -> dict[str, float]:
    """Load, plan and every firewall target once; seconds per stage."""
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    dep = load_deployment_text(text, "<bench>")
    t1 = time.perf_counter()
    plan = build_plan(catalog, dep)
    t2 = time.perf_counter()
    times["load"], times["plan"] = t1 - t0, t2 - t1
    # Paths whose protocol the reference leaves open need an explicit choice (as
    # `pathsec firewall --protocol PATH=both` would give): both, for the bench.
    open_paths = {f.path_id: ("tcp", "udp") for f in plan.flows if f.protocol is None}
    options = GeneratorOptions(catalog=catalog, protocols=open_paths)  # type: ignore[arg-type]
    for target in Target:
        t = time.perf_counter()
        files = write_rules(plan, target, Selection(), options)
        times[target.value] = time.perf_counter() - t
        times[f"{target.value}:bytes"] = sum(len(f.content) for f in files)
    times["flows"] = len(plan.flows)
    times["servers"] = len(dep.servers)
    return times


def main() -> None:
    """Generate, then load, plan and write every firewall target ``--runs`` times."""
    import argparse
    import statistics

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="repetitions (default 5)")
    args = parser.parse_args()
    catalog = load_catalog()
    text = generate()
    runs = [_one_run(catalog, text) for _ in range(max(1, args.runs))]
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


if __name__ == "__main__":
    main()
