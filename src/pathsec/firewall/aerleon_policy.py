"""aerleon: a YAML policy plus network and service definitions, renderable to many platforms.

The consolidated rules (:mod:`pathsec.firewall.consolidate`) become terms whose addresses
are network objects named after roles and hosts (``PATHSEC_HUB_TRANSPORT_HQ`` = the hosts'
own objects) and whose ports are service objects (``PATHSEC_TCP_25``). Filters follow each
platform's shape (:mod:`pathsec.firewall.aerleon_targets`): per ingress zone for interface
ACLs (``pathsec-<fw>-from-<zone>``, applied inbound on the interface facing that zone),
one per firewall for pf and nftables, per zone pair for Palo Alto and SRX, ``input`` for
host firewalls. Stateless platforms (Juniper and Cisco filters) get return-traffic terms;
stateful ones do not. Every filter ends with an explicit deny term. Without
``aerleon_targets`` the headers name juniper and cisco (network) and nftables (hosts) and
nothing is rendered; with them, the policy is also rendered through aerleon's API into
``aerleon/out/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from pathsec.firewall.aerleon_targets import (
    DEFAULT_TARGETS,
    HOST_PLATFORM,
    PLATFORMS,
    Platform,
    render_policies,
)
from pathsec.firewall.consolidate import Consolidated, HostSet, Rule, consolidated_points
from pathsec.firewall.interface import (
    Capabilities,
    Generator,
    GeneratorOptions,
    PointSummary,
    Refusal,
    RenderedFile,
    Rendering,
    Selection,
    Target,
)
from pathsec.firewall.rules import IPNet, skipped_hosts
from pathsec.plan.models import Plan
from pathsec.quoting import aerleon_name, aerleon_text, aerleon_token, yaml_comment

POLICY_DIR = "aerleon/policies/pol"  # aclgen reads policies in subfolders
NETWORKS_FILE = "aerleon/def/networks.yaml"
SERVICES_FILE = "aerleon/def/services.yaml"
FLOWS_DIR = "aerleon/flows"
OUT_DIR = "aerleon/out"


class _Names:
    """Network and service objects, unique after sanitising.

    A host is one object with its addresses (``PATHSEC_EX1``); a set of hosts one object
    listing the hosts' objects by name (``PATHSEC_HUB_TRANSPORT_HQ``).
    """

    def __init__(self) -> None:
        self.networks: dict[str, dict[str, Any]] = {}
        self.services: dict[str, list[dict[str, Any]]] = {}
        self._owner: dict[str, str] = {}
        self._tokens: dict[str, str] = {}

    def _unique(self, base: str, owner: str) -> str:
        found = self._tokens.get(owner)
        if found is not None:
            return found
        token, n = base, 2
        while token in self._owner:
            token, n = f"{base}_{n}", n + 1
        self._owner[token] = owner
        self._tokens[owner] = token
        return token

    def host(self, name: str, nets: Mapping[str, tuple[IPNet, ...]]) -> str:
        token = self._unique("PATHSEC_" + aerleon_token(name), f"host:{name}")
        if token not in self.networks:
            comment = aerleon_text(f"pathsec host {name}")
            self.networks[token] = {
                "values": [{"address": str(n), "comment": comment} for n in nets[name]]
            }
        return token

    def side(self, hs: HostSet, nets: Mapping[str, tuple[IPNet, ...]]) -> str:
        if len(hs.hosts) == 1:
            return self.host(hs.hosts[0], nets)
        token = self._unique("PATHSEC_" + aerleon_token(hs.name), f"set:{','.join(hs.hosts)}")
        if token not in self.networks:
            members = [self.host(h, nets) for h in hs.hosts]
            self.networks[token] = {"values": [{"name": m} for m in members]}
        return token

    def service(self, proto: str, a: int, b: int) -> str:
        token = f"PATHSEC_{proto.upper()}_{a}" + (f"_{b}" if b != a else "")
        self.services[token] = [{"port": a if a == b else f"{a}-{b}", "protocol": proto}]
        return token


def _term(names: _Names, c: Consolidated, rule: Rule, reply: bool) -> dict[str, Any]:
    services = " ".join(names.service(rule.protocol, a, b) for a, b in rule.ports)
    src, dst = names.side(rule.sources, c.nets), names.side(rule.destinations, c.nets)
    if not reply:
        return {
            "name": aerleon_name(f"r{rule.number}-{rule.protocol}"),
            "comment": aerleon_text(c.comment(rule)),
            "source-address": src,
            "destination-address": dst,
            "protocol": rule.protocol,
            "destination-port": services,
            "action": "accept",
        }
    return {
        "name": aerleon_name(f"r{rule.number}-{rule.protocol}-reply"),
        "comment": aerleon_text(f"replies of r{rule.number} (stateless platforms: established)"),
        "source-address": dst,
        "source-port": services,
        "destination-address": src,
        "protocol": rule.protocol,
        "option": "established",
        "action": "accept",
    }


def _deny() -> dict[str, Any]:
    return {"name": "default-deny", "comment": "pathsec: nothing else", "action": "deny"}


def _filter(targets: dict[str, str], comment: str, terms: list[dict[str, Any]]) -> dict[str, Any]:
    header = {"targets": targets, "comment": aerleon_text(comment)}
    return {"header": header, "terms": [*terms, _deny()]}


def _network_filters(
    c: Consolidated, names: _Names, platforms: list[Platform]
) -> tuple[list[dict[str, Any]], list[Refusal]]:
    point = c.point
    fw = aerleon_name(point.name)
    filters: list[dict[str, Any]] = []
    refused: list[Refusal] = []
    by_in: dict[str, list[Rule]] = {}
    replies: dict[str, list[Rule]] = {}
    for rule in c.rules:
        by_in.setdefault(rule.ingress_zone or "any", []).append(rule)
        replies.setdefault(rule.egress_zone or "any", []).append(rule)
    zones = list(dict.fromkeys([*by_in, *replies])) or ["any"]
    itfs = point.firewall.interfaces if point.firewall else {}
    for stateful in (False, True):
        acl = [p for p in platforms if p.shape == "interface" and p.stateful == stateful]
        if not acl:
            continue
        for zone in zones:
            name = aerleon_name(f"pathsec-{fw}-from-{zone}")
            where = f"interface {itfs[zone]}" if zone in itfs else "the interface"
            terms = [_term(names, c, r, False) for r in by_in.get(zone, [])]
            if not stateful:
                terms += [_term(names, c, r, True) for r in replies.get(zone, [])]
            how = "stateful" if stateful else "stateless: with return-traffic terms"
            comment = (
                f"pathsec: network firewall {point.name}, traffic entering from zone {zone}; "
                f"apply inbound on {where} facing {zone} ({how}). Egress interfaces are "
                "not expressed: destination addresses scope every term."
            )
            filters.append(_filter({p.name: p.header(name) for p in acl}, comment, terms))
    glob = [p for p in platforms if p.shape == "global"]
    if glob:
        comment = f"pathsec: network firewall {point.name}, all its flows (stateful)"
        terms = [_term(names, c, r, False) for r in c.rules]
        name = aerleon_name(f"pathsec-{fw}")
        filters.append(_filter({p.name: p.header(name) for p in glob}, comment, terms))
    zoned = [p for p in platforms if p.shape == "zone"]
    if zoned:
        pairs: dict[tuple[str, str], list[Rule]] = {}
        for rule in c.rules:
            if rule.ingress_zone is None or rule.egress_zone is None:
                refused += [
                    Refusal(
                        label,
                        f"{', '.join(p.name for p in zoned)}: the plan does not say which "
                        f"zones of {point.name} this flow enters and leaves by",
                    )
                    for label in rule.flow_labels()
                ]
                continue
            pairs.setdefault((rule.ingress_zone, rule.egress_zone), []).append(rule)
        for (src_zone, dst_zone), rules in pairs.items():
            comment = f"pathsec: network firewall {point.name}, {src_zone} to {dst_zone}"
            terms = [_term(names, c, r, False) for r in rules]
            targets = {
                p.name: p.header("", aerleon_name(src_zone), aerleon_name(dst_zone)) for p in zoned
            }
            filters.append(_filter(targets, comment, terms))
    return filters, refused


def build_policies(
    plan: Plan, selection: Selection, options: GeneratorOptions
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], list[Consolidated], dict[str, list[Refusal]]]:
    """One aerleon policy per enforcement point (by its file name, ``firewall-X``), the
    shared definitions (networks, services), the consolidated points and the flows refused
    per point. One policy per point, because aerleon writes one output file per policy and
    platform: a pf or nftables file holds exactly one firewall's rules."""
    targets = options.aerleon_targets or DEFAULT_TARGETS
    network = [PLATFORMS[t] for t in targets if t in PLATFORMS]
    if not options.aerleon_targets:
        network = [PLATFORMS["juniper"], PLATFORMS["cisco"]]
    host_targets = "nftables" in targets
    names = _Names()
    policies: dict[str, dict[str, Any]] = {}
    points = consolidated_points(plan, selection, options, "other")
    refused: dict[str, list[Refusal]] = {}
    for c in points:
        filters: list[dict[str, Any]] = []
        if c.point.kind == "network":
            filters, why = _network_filters(c, names, network)
            refused[c.point.name] = why
        elif host_targets:
            comment = f"pathsec: host firewall of {c.point.name}"
            terms = [_term(names, c, r, False) for r in c.rules]
            filters = [_filter({"nftables": HOST_PLATFORM.header("")}, comment, terms)]
            refused[c.point.name] = []
        else:
            refused[c.point.name] = [
                Refusal(label, "no host platform among --aerleon-targets (use nftables)")
                for rule in c.rules
                for label in rule.flow_labels()
            ]
        if filters:
            policies[c.point.slug] = {"filters": filters}
    return policies, {"networks": names.networks, "services": names.services}, points, refused


#: libyaml's emitter (PyYAML's C extension) writes the same text as the Python one for
#: printable strings, about 3x faster on a 500-server policy; they differ on line and
#: paragraph separators and control characters, which therefore take the Python emitter.
_C_DUMPER: type[yaml.SafeDumper] | None = getattr(yaml, "CSafeDumper", None)


def _printable(data: Any) -> bool:
    """Whether every string (key or value) in ``data`` is printable (``str.isprintable``)."""
    if isinstance(data, str):
        return data.isprintable()
    if isinstance(data, dict):
        return all(_printable(k) and _printable(v) for k, v in data.items())
    if isinstance(data, list):
        return all(_printable(x) for x in data)
    return True


def _dump(data: dict[str, Any]) -> str:
    dumper = _C_DUMPER if _C_DUMPER is not None and _printable(data) else yaml.SafeDumper
    text: str = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=1000)
    return text


class AerleonGenerator(Generator):
    """An aerleon YAML policy and definitions directory (and its renderings, when asked)."""

    target = Target.aerleon
    capabilities = Capabilities(
        network_firewalls=True,
        host_firewalls=True,
        description="aerleon policy; filters per platform shape, return terms where stateless",
    )

    def render(self, plan: Plan, selection: Selection, options: GeneratorOptions) -> Rendering:
        """``aerleon/policies/pol/<point>.yaml``, ``aerleon/def/{networks,services}.yaml``,
        side files in ``aerleon/flows/`` and, with ``aerleon_targets``, ``aerleon/out/``."""
        policies, defs, points, refused = build_policies(plan, selection, options)
        targets = ",".join(options.aerleon_targets or DEFAULT_TARGETS)
        files: list[RenderedFile] = []
        for slug, policy in policies.items():
            head = yaml_comment(
                f"pathsec aerleon policy of {slug}, deployment {plan.deployment!r}; "
                f"platforms {targets}"
            )
            head += "\n"
            files.append(RenderedFile(f"{POLICY_DIR}/{slug}.yaml", head + _dump(policy)))
        files.append(RenderedFile(NETWORKS_FILE, _dump({"networks": defs["networks"]})))
        files.append(RenderedFile(SERVICES_FILE, _dump({"services": defs["services"]})))
        summaries: list[PointSummary] = []
        for c in points:
            files += [RenderedFile(f"{FLOWS_DIR}/{f.name}", f.content) for f in c.files()]
            summaries.append(c.summary(f"aerleon ({targets})", tuple(refused[c.point.name])))
        if options.aerleon_targets and policies:
            files += render_policies(policies, defs, OUT_DIR)
        return Rendering(
            tuple(files), tuple(summaries), skipped_hosts(plan, selection, options, "other")
        )
