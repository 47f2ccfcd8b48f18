"""aerleon: a YAML policy plus network and service definitions, renderable to ~30 platforms.

Network firewalls become one filter per ingress zone (``pathsec-<fw>-from-<zone>``), to be
applied inbound on the interface facing that zone, so the interface match of the other
targets survives as the place the filter is applied. Header targets: ``juniper`` and
``cisco`` (``mixed``, IPv4 and IPv6) for network firewalls; ``nftables`` (``mixed input``)
for host firewalls (aerleon's nftables generator has no forward hook). Every filter ends
with an explicit deny term. Add targets to the headers for other platforms.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from pathsec.firewall.interface import (
    Capabilities,
    Generator,
    GeneratorOptions,
    RenderedFile,
    Rendering,
    Selection,
    Target,
)
from pathsec.firewall.rules import (
    EnforcementPoint,
    FlowRule,
    enforcement_points,
    safe_name,
)
from pathsec.plan.models import HostInfo, Plan

POLICY_FILE = "aerleon/policies/pol/pathsec.yaml"  # aclgen reads policies in subfolders
NETWORKS_FILE = "aerleon/def/networks.yaml"
SERVICES_FILE = "aerleon/def/services.yaml"


def _token(text: str) -> str:
    return re.sub(r"[^A-Z0-9_]", "_", text.upper())


class _Names:
    """Definition names for hosts and services, unique after sanitising."""

    def __init__(self) -> None:
        self.networks: dict[str, dict[str, Any]] = {}
        self.services: dict[str, list[dict[str, Any]]] = {}
        self._host_token: dict[str, str] = {}

    def host(self, name: str, addresses: list[str]) -> str:
        if name in self._host_token:
            return self._host_token[name]
        base = "PATHSEC_" + _token(name)
        token, n = base, 2
        while token in self.networks:
            token, n = f"{base}_{n}", n + 1
        self._host_token[name] = token
        self.networks[token] = {
            "values": [{"address": a, "comment": f"pathsec host {name}"} for a in addresses]
        }
        return token

    def service(self, rule: FlowRule) -> str:
        span = rule.ports
        token = f"PATHSEC_{rule.protocol.upper()}_{span.start}"
        if span.end != span.start:
            token += f"_{span.end}"
        port: int | str = span.start if span.start == span.end else f"{span.start}-{span.end}"
        self.services[token] = [{"port": port, "protocol": rule.protocol}]
        return token


def _term(index: int, rule: FlowRule, names: _Names, hosts: dict[str, HostInfo]) -> dict[str, Any]:
    src = hosts[rule.flow.source]
    dst = hosts[rule.flow.destination]
    src_addrs = [t for fm in rule.families for t in fm.source_texts]
    dst_addrs = [t for fm in rule.families for t in fm.destination_texts]
    # Only the families the rule keeps: a source's IPv6 without a destination IPv6 is no rule.
    src_key = names.host(src.name, sorted(set(src_addrs), key=src_addrs.index))
    dst_key = names.host(dst.name, sorted(set(dst_addrs), key=dst_addrs.index))
    return {
        "name": f"t{index:03d}-{safe_name(rule.flow.path_id).replace('.', '-')}-{rule.protocol}",
        "comment": rule.comment,
        "source-address": src_key,
        "destination-address": dst_key,
        "protocol": rule.protocol,
        "destination-port": names.service(rule),
        "action": "accept",
    }


def _filters(
    plan: Plan, point: EnforcementPoint, names: _Names, hosts: dict[str, HostInfo]
) -> list[dict[str, Any]]:
    groups: dict[str, list[FlowRule]] = {}
    if point.kind == "network":
        for rule in point.rules:
            groups.setdefault(rule.ingress_zone or "any", []).append(rule)
        if not groups:
            groups["any"] = []
    else:
        groups["host"] = list(point.rules)
    filters: list[dict[str, Any]] = []
    for zone, rules in groups.items():
        if point.kind == "network":
            fname = f"pathsec-{safe_name(point.name)}-from-{safe_name(zone)}"
            itf = point.firewall.interfaces.get(zone) if point.firewall else None
            where = f"interface {itf}" if itf else "the interface"
            comment = (
                f"pathsec: network firewall {point.name}, traffic entering from zone {zone}; "
                f"apply inbound on {where} facing {zone}. Egress interfaces are not expressed: "
                "destination addresses scope every term."
            )
            targets = {"juniper": f"{fname} mixed", "cisco": f"{fname} mixed"}
        else:
            fname = f"pathsec-host-{safe_name(point.name)}"
            comment = f"pathsec: host firewall of {point.name}"
            targets = {"nftables": "mixed input"}
        terms = [_term(i, r, names, hosts) for i, r in enumerate(rules, start=1)]
        terms.append({"name": "default-deny", "comment": "pathsec: nothing else", "action": "deny"})
        filters.append({"header": {"targets": targets, "comment": comment}, "terms": terms})
    return filters


def build_policy(
    plan: Plan, selection: Selection, options: GeneratorOptions
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The aerleon policy (``{"filters": [...]}``) and definitions (networks and services)."""
    names = _Names()
    hosts: dict[str, HostInfo] = {}
    for h in plan.hosts:
        hosts.setdefault(h.name, h)  # as Plan.host: the first of that name
    filters: list[dict[str, Any]] = []
    for point in enforcement_points(plan, selection, options):
        filters += _filters(plan, point, names, hosts)
    return {"filters": filters}, {"networks": names.networks, "services": names.services}


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
    """An aerleon YAML policy and definitions directory."""

    target = Target.aerleon
    capabilities = Capabilities(
        network_firewalls=True,
        host_firewalls=True,
        interfaces=False,
        description="aerleon policy; one filter per ingress zone of a network firewall",
    )

    def render(self, plan: Plan, selection: Selection, options: GeneratorOptions) -> Rendering:
        """``aerleon/policies/pol/pathsec.yaml`` and ``aerleon/def/{networks,services}.yaml``."""
        policy, defs = build_policy(plan, selection, options)
        head = f"# pathsec aerleon policy, deployment {plan.deployment!r}\n"
        return Rendering(
            (
                RenderedFile(POLICY_FILE, head + _dump(policy)),
                RenderedFile(NETWORKS_FILE, _dump({"networks": defs["networks"]})),
                RenderedFile(SERVICES_FILE, _dump({"services": defs["services"]})),
            )
        )
