"""The servers discovery found -> a draft deployment with the evidence beside each value.

Zones come from the addresses (the given CIDR holding the server, else its /24 or /64), one
AD site stands for all (``TODO``: sites are not on the wire), each server's comments say
why it has its roles, versions and facts. The YAML goes through the importer's writer
(:func:`pathsec.inventory.draft.render_draft`): values by PyYAML's emitter, comments by
:func:`~pathsec.inventory.draft.yaml_comment`, read back before it is returned.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from pathsec.discover.hosts import EXCHANGE_ROLES
from pathsec.discover.models import DiscoveryReport, ServerVerdict
from pathsec.discover.scope import Network
from pathsec.errors import InputError, PathsecError
from pathsec.inventory.draft import Draft
from pathsec.topology import check_references
from pathsec.topology.models import Deployment, ServerRole

SITE = "TODO"
EVIDENCE_LINES = 3  # evidence comment lines per role in the YAML (all of it in the JSON)


def zone_of(address: str, networks: Sequence[Network]) -> Network:
    """The smallest given network holding ``address``, else its /24 (IPv4) or /64 (IPv6)."""
    ip = ipaddress.ip_address(address)
    inside = [n for n in networks if n.version == ip.version and ip in n]
    if inside:
        return max(inside, key=lambda n: n.prefixlen)
    return ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 64}", strict=False)


def zone_name(net: Network) -> str:
    """``net-10.1.0.0-24`` (IPv6: colons become dashes): a valid deployment name."""
    return "net-" + str(net).replace("/", "-").replace(":", "-")


def _server_entry(v: ServerVerdict, name: str, zone: str) -> dict[str, Any]:
    roles = [r.role for r in v.roles]
    entry: dict[str, Any] = {"name": name, "addresses": [v.address]}
    if ServerRole.edge_transport not in roles:
        entry["site"] = SITE
    entry["zone"] = zone
    entry["roles"] = [r.value for r in roles]
    if set(roles) & EXCHANGE_ROLES and v.exchange is not None and v.exchange.value:
        entry["exchange"] = v.exchange.value
    if v.windows.value:
        entry["windows"] = v.windows.value
    for key in ("global_catalog", "dns"):
        if key in v.facts:
            entry[key] = v.facts[key].value == "true"
    if "um_sip_mode" in v.facts:
        entry["um_sip_mode"] = v.facts["um_sip_mode"].value
    return entry


def _server_notes(v: ServerVerdict, name: str) -> list[str]:
    notes = [f"{name} at {v.address}: {v.name.basis}"]
    notes += [f"- name refused: {c}" for c in v.name.conflicts]
    for r in v.roles:
        notes.append(f"{r.role.value} ({r.certainty.value}):")
        notes += [f"- {e.endpoint} {e.says} [{e.rule}]" for e in r.evidence[:EVIDENCE_LINES]]
        if len(r.evidence) > EVIDENCE_LINES:
            notes.append(f"- and {len(r.evidence) - EVIDENCE_LINES} more (see the evidence file)")
    if v.exchange is not None:
        notes.append(f"exchange {v.exchange.value}: {v.exchange.basis}")
        notes += [f"- but {c}" for c in v.exchange.conflicts]
    if v.windows.value:
        notes.append(f"windows {v.windows.value}: {v.windows.basis}")
    else:
        notes.append(f"TODO: windows: {v.windows.basis} (2003 assumed until set)")
    notes += [f"- but {c}" for c in v.windows.conflicts]
    for key, est in v.facts.items():
        notes.append(f"{key} {est.value}: {est.basis}")
    return notes


def build_draft(
    report: DiscoveryReport, names: Sequence[str], networks: Sequence[Network]
) -> Draft:
    """The draft deployment of ``report`` (servers named ``names``), validated."""
    zones: dict[str, tuple[Network, list[ServerVerdict]]] = {}
    servers: list[dict[str, Any]] = []
    notes: dict[tuple[str, str], list[str]] = {}
    for v, name in zip(report.servers, names, strict=True):
        net = zone_of(v.address, networks)
        zones.setdefault(zone_name(net), (net, []))[1].append(v)
        servers.append(_server_entry(v, name, zone_name(net)))
        notes[("servers", name)] = _server_notes(v, name)
    zone_data = []
    for zname, (net, members) in zones.items():
        edge_only = all(ServerRole.edge_transport in {r.role for r in m.roles} for m in members)
        kind = "perimeter" if edge_only else "internal"
        zone_data.append({"name": zname, "kind": kind, "cidrs": [str(net)]})
        given = any(net == n for n in networks)
        origin = "the CIDR given" if given else f"the /{net.prefixlen} of its servers' addresses"
        why = "only Edge servers" if edge_only else "Exchange or AD servers"
        notes[("zones", zname)] = [f"TODO: kind {kind} guessed ({why}); CIDR from {origin}"]
    domain = report.domain.value
    data: dict[str, Any] = {
        "schema_version": 1,
        "organization": {
            "name": "TODO",
            "forest": domain or "TODO.example",
            "domain": domain or "TODO.example",
        },
        "sites": [{"name": SITE}],
        "zones": zone_data,
        "servers": servers,
    }
    header = [
        f"AD domain {domain}: {report.domain.basis}" if domain else report.domain.basis,
        f"TODO: AD site: not on the wire; every domain member is in site {SITE!r}",
    ]
    header += [f"but AD domain {c}" for c in report.domain.conflicts]
    edges = [n for v, n in zip(report.servers, names, strict=True) if _edge(v)]
    if edges:
        header.append(
            f"TODO: the AD site each Edge server ({', '.join(edges)}) subscribes to is not on "
            "the wire; add `edge_subscriptions: [{edge: NAME, site: SITE}]`"
        )
    left = [f"{x.address}: {x.reason} (open: {' '.join(x.open_ports)})" for x in report.left_out]
    return Draft(
        data=data,
        deployment=_validate(data),
        header=header,
        notes=notes,
        left_out=left,
        summary={
            "servers": len(servers),
            "zones": len(zone_data),
            "left_out": len(report.left_out),
        },
    )


def _edge(v: ServerVerdict) -> bool:
    return any(r.role is ServerRole.edge_transport for r in v.roles)


def _validate(data: dict[str, Any]) -> Deployment:
    """The deployment models check the draft (a failure here is a pathsec bug: values were
    validated where they entered)."""
    try:
        dep = Deployment.model_validate(data)
        check_references(dep)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise PathsecError(f"the discovered draft is not valid at {loc}: {err['msg']}") from None
    except InputError as exc:
        raise PathsecError(f"the discovered draft is not valid: {exc}") from None
    return dep
