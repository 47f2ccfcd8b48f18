"""The plan as data for the report's script: zones in columns, hosts, flows, firewalls, rules.

The page's script draws the diagram and the flows and rule tables from this one JSON
document (embedded in the page, never fetched). It is columnar and interned — at 75,000
flows every byte per flow counts — and deterministic: the same plan gives the same text.

Zones are placed in columns by their distance, in firewalls, from the internet zones
(internet, then perimeter, then internal networks …); zones of one column are stacked.
A zone with no firewall path to an internet zone starts at the column of its kind.
Generic over kinds: an unknown host or zone kind is drawn like any other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from pathsec.jsontext import escape_controls
from pathsec.plan.models import Flow, Plan
from pathsec.report.checks import Check, path_names, safe
from pathsec.report.plan_rules import PointRules
from pathsec.report.vocab import terms_json

#: Column of a zone kind when no firewall leads to it from an internet zone.
KIND_COLUMN = {"internet": 0, "perimeter": 1, "internal": 2}
OTHER_COLUMN = 3
#: A zone holding more hosts than this is drawn by role group (one box per group).
GROUP_ABOVE = 16


@dataclass(frozen=True)
class FlowState:
    """What an audit says about one flow: its check status and the anchor of its detail."""

    status: str
    anchor: str | None


class _Interner:
    """Values to indexes, so that repeated values are written once."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._index: dict[Hashable, int] = {}

    def __call__(self, value: str) -> int:
        """The index of a string."""
        return self.add(value, lambda: value)

    def add(self, key: Hashable, make: Callable[[], Any]) -> int:
        """The index of the value ``make()`` stands for, made only the first time."""
        i = self._index.get(key)
        if i is None:
            i = self._index[key] = len(self.items)
            self.items.append(make())
        return i


def zone_kinds(plan: Plan) -> dict[str, str]:
    """Every zone of the plan (declared, or named by a host) and its kind."""
    kinds = {z.name: z.kind for z in plan.zones}
    for h in plan.hosts:
        kinds.setdefault(h.zone, "other")
    return kinds


def zone_columns(plan: Plan) -> dict[str, tuple[int, int]]:
    """Each zone's column and its place in the column (top to bottom)."""
    kinds = zone_kinds(plan)
    names = list(kinds)
    adj: dict[str, list[str]] = {n: [] for n in names}
    for fw in plan.firewalls:
        zs = [z for z in fw.zones if z in adj]
        for a in zs:
            adj[a].extend(b for b in zs if b != a and b not in adj[a])

    def rank(n: str) -> int:
        return KIND_COLUMN.get(kinds[n], OTHER_COLUMN)

    col: dict[str, int] = {}
    for start in sorted(names, key=lambda n: (rank(n), names.index(n))):
        if start in col:
            continue
        # The component of ``start``; BFS from its zones of the best kind.
        comp, todo = {start}, [start]
        while todo:
            for b in adj[todo.pop()]:
                if b not in comp:
                    comp.add(b)
                    todo.append(b)
        best = min(rank(n) for n in comp)
        frontier = [n for n in names if n in comp and rank(n) == best]
        for n in frontier:
            col[n] = best
        while frontier:
            nxt = []
            for a in frontier:
                for b in adj[a]:
                    if b not in col:
                        col[b] = col[a] + 1
                        nxt.append(b)
            frontier = nxt
    order = sorted(names, key=lambda n: (col[n], rank(n), names.index(n)))
    seen: dict[int, int] = {}
    out: dict[str, tuple[int, int]] = {}
    for n in order:
        out[n] = (col[n], seen.get(col[n], 0))
        seen[col[n]] = out[n][1] + 1
    return out


def port_text(flow: Flow) -> str:
    """``tcp/25``, ``tcp/6000-6999``, ``any/1025-65535`` or ``local``."""
    proto = flow.protocol or "any"
    if flow.port is not None:
        return f"{proto}/{flow.port}"
    if flow.port_range is not None:
        return f"{proto}/{flow.port_range}"
    return "local"


def _by_default(flow: Flow) -> int:
    by = flow.encryption.by_default
    return 2 if by == "conditional" else int(bool(by))


def _auth_combo(f: Flow) -> list[list[str]]:
    return [[safe(a) for a in f.default_auth], [safe(a) for a in f.supported_auth]]


def _enc_combo(f: Flow) -> list[Any]:
    return [int(f.encryption.supported), _by_default(f), [safe(m) for m in f.encryption.mechanisms]]


def _crosses_combo(f: Flow, fw_idx: Mapping[str, int]) -> list[int]:
    return [fw_idx[c] for c in f.crosses if c in fw_idx]


def view_data(
    plan: Plan,
    rules: tuple[PointRules, ...] | None,
    states: Mapping[str, FlowState] | None = None,
    mode: str = "plan",
) -> dict[str, Any]:
    """The document the page's script reads (see the module docstring)."""
    strings = _Interner()
    combos = _Interner()
    columns = zone_columns(plan)
    kinds = zone_kinds(plan)
    zone_idx = {z: i for i, z in enumerate(kinds)}
    cidrs = {z.name: z.cidrs for z in plan.zones}
    zones = [
        {
            "name": safe(z),
            "kind": safe(kinds[z]),
            "col": columns[z][0],
            "row": columns[z][1],
            "cidrs": [safe(c) for c in cidrs.get(z, ())],
        }
        for z in kinds
    ]
    fw_idx = {f.name: i for i, f in enumerate(plan.firewalls)}
    host_idx: dict[str, int] = {}
    for h in plan.hosts:
        host_idx.setdefault(h.name, len(host_idx))
    hosts: list[dict[str, Any]] = []
    for h in plan.hosts:
        if host_idx[h.name] != len(hosts):
            continue  # a duplicate name: the plan's host() finds the first
        group = f"{h.zone}|{h.kind.value}|{'+'.join(sorted(h.roles))}|{h.site or ''}"
        hosts.append(
            {
                "name": safe(h.name),
                "zone": zone_idx[h.zone],
                "kind": h.kind.value,
                "roles": [safe(r) for r in h.roles],
                "site": safe(h.site) if h.site else None,
                "group": strings(safe(group)),
                "fw": int(h.host_firewall),
            }
        )
    names = path_names()
    path_idx: dict[str, int] = {}
    paths: list[list[str]] = []
    flow_idx: dict[str, int] = {}
    cols: dict[str, list[Any]] = {
        k: [] for k in ("id", "path", "src", "dst", "port", "label", "auth", "enc", "crosses")
    }
    local: list[int] = []
    status: list[str] = []
    anchors: list[int] = []
    for f in plan.flows:
        if f.source not in host_idx or f.destination not in host_idx:
            continue  # a flow between hosts the plan does not list cannot be drawn
        flow_idx.setdefault(f.id, len(cols["id"]))
        p = path_idx.get(f.path_id)
        if p is None:
            p = path_idx[f.path_id] = len(paths)
            en, zh = names.get(f.path_id, (f.path_id, f.path_id))
            paths.append([safe(f.path_id), safe(en), safe(zh)])
        cols["id"].append(safe(f.id))
        cols["path"].append(p)
        cols["src"].append(host_idx[f.source])
        cols["dst"].append(host_idx[f.destination])
        cols["port"].append(strings(port_text(f)))
        cols["label"].append(strings(safe(f.label)) if f.label else -1)
        cols["auth"].append(
            combos.add(("auth", f.default_auth, f.supported_auth), partial(_auth_combo, f))
        )
        enc = f.encryption
        cols["enc"].append(
            combos.add(
                ("enc", enc.supported, enc.by_default, enc.mechanisms), partial(_enc_combo, f)
            )
        )
        cols["crosses"].append(
            combos.add(("crosses", f.crosses), partial(_crosses_combo, f, fw_idx))
        )
        if f.local or f.source == f.destination:
            local.append(len(cols["id"]) - 1)
        if states is not None:
            st = states.get(f.id)
            status.append(st.status if st else "not_observable")
            anchors.append(strings(st.anchor) if st and st.anchor else -1)
    firewalls = [
        {
            "name": safe(fw.name),
            "zones": [zone_idx[z] for z in fw.zones if z in zone_idx],
            "rules": None,
            "refused": 0,
        }
        for fw in plan.firewalls
    ]
    points = []
    for pr in rules or ():
        if pr.kind == "network" and pr.name in fw_idx:
            firewalls[fw_idx[pr.name]]["rules"] = len(pr.rules)
            firewalls[fw_idx[pr.name]]["refused"] = len(pr.refused)
        points.append(
            {
                "kind": pr.kind,
                "name": safe(pr.name),
                "rows": [
                    [
                        flow_idx.get(r.flow_id, -1),
                        r.protocol,
                        strings(r.ports),
                        strings(safe(r.sources)),
                        strings(safe(r.destinations)),
                        strings(safe(r.in_interface)) if r.in_interface else -1,
                        strings(safe(r.out_interface)) if r.out_interface else -1,
                    ]
                    for r in pr.rules
                ],
                "refused": [[flow_idx.get(x.flow_id, -1), strings(x.reason)] for x in pr.refused],
                "unknown": [safe(u) for u in pr.unknown_interfaces],
            }
        )
    flows: dict[str, Any] = dict(cols)
    flows["local"] = local
    if states is not None:
        flows["status"] = status
        flows["anchor"] = anchors
    return {
        "mode": mode,
        "group_above": GROUP_ABOVE,
        "zones": zones,
        "firewalls": firewalls,
        "hosts": hosts,
        "paths": paths,
        "flows": flows,
        "points": points if rules is not None else None,
        "strings": strings.items,
        "combos": combos.items,
        "terms": terms_json(),
    }


def script_json(data: Any) -> str:
    """``data`` as JSON text safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` become ``\\u`` escapes (so no ``</script>`` or comment can end the
    block), as do C1 controls and line separators; the JSON value is unchanged.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return escape_controls(text)


def endpoint_view_data(
    checks: Sequence[Check], vantage: tuple[str, str], audited: tuple[str, str]
) -> dict[str, Any]:
    """Without a plan: the vantage point in one column, the audited hosts in the next.

    Each check is a "flow" from the vantage point to its host; ``vantage`` and ``audited``
    name the two columns (English, Chinese).
    """
    strings = _Interner()
    combos = _Interner()
    hosts: list[dict[str, Any]] = [
        {
            "name": "pathsec",
            "label": list(vantage),
            "zone": 0,
            "kind": "vantage",
            "roles": [],
            "site": None,
            "group": strings("vantage"),
            "fw": 0,
        }
    ]
    host_idx: dict[str, int] = {}
    paths: list[list[str]] = []
    path_idx: dict[str, int] = {}
    names = path_names()
    cols: dict[str, list[Any]] = {
        k: [] for k in ("id", "path", "src", "dst", "port", "label", "auth", "enc", "crosses")
    }
    status: list[str] = []
    anchors: list[int] = []
    no_auth = combos.add("auth", lambda: [[], []])
    no_enc = combos.add("enc", lambda: [0, 0, []])
    no_fw = combos.add("crosses", list)
    for c in checks:
        h = host_idx.get(c.host)
        if h is None:
            h = host_idx[c.host] = len(hosts)
            hosts.append(
                {
                    "name": safe(c.host),
                    "zone": 1,
                    "kind": "host",
                    "roles": [safe(r) for r in c.roles],
                    "site": None,
                    "group": strings(f"h{h}"),
                    "fw": 0,
                }
            )
        pid = c.path_id or ""
        p = path_idx.get(pid)
        if p is None:
            p = path_idx[pid] = len(paths)
            en, zh = names.get(pid, (pid or "–", pid or "–"))
            paths.append([safe(pid or "–"), safe(en), safe(zh)])
        cols["id"].append(safe(c.label))
        cols["path"].append(p)
        cols["src"].append(0)
        cols["dst"].append(h)
        cols["port"].append(strings(f"{c.protocol or 'tcp'}/{c.port}"))
        cols["label"].append(-1)
        cols["auth"].append(no_auth)
        cols["enc"].append(no_enc)
        cols["crosses"].append(no_fw)
        status.append(c.status.value)
        anchors.append(strings(c.anchor))
    flows: dict[str, Any] = dict(cols)
    flows.update(local=[], status=status, anchor=anchors)
    return {
        "mode": "endpoints",
        "group_above": GROUP_ABOVE,
        "zones": [
            {
                "name": "pathsec",
                "label": list(vantage),
                "kind": "",
                "col": 0,
                "row": 0,
                "cidrs": [],
            },
            {
                "name": "audited",
                "label": list(audited),
                "kind": "",
                "col": 1,
                "row": 0,
                "cidrs": [],
            },
        ],
        "firewalls": [],
        "hosts": hosts,
        "paths": paths,
        "flows": flows,
        "points": None,
        "strings": strings.items,
        "combos": combos.items,
        "terms": terms_json(),
    }
