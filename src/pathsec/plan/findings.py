"""Validation: the topology rules of the reference's notes and the planner's sanity checks.

Each check is one function registered in :data:`CHECKS` under its finding id. A check reads
the deployment, the planned topology and flows, and returns findings in English and Chinese.
Severity comes from the catalog rule when it grades one, else from the check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from pathsec.catalog.models import Catalog, Role
from pathsec.plan import assumptions
from pathsec.plan.hosts import Topology
from pathsec.plan.models import Flow, HostKind, PlanFinding, Severity
from pathsec.topology.models import (
    Deployment,
    ExchangeVersion,
    ServerRole,
    SipMode,
    WindowsVersion,
    ZoneKind,
    parse_port_range,
    server_domain_joined,
)


@dataclass(frozen=True)
class Context:
    """Everything a check may read."""

    catalog: Catalog
    deployment: Deployment
    topology: Topology
    flows: tuple[Flow, ...]
    removed: tuple[Flow, ...] = ()
    #: Indexes of deployment exceptions that removed no flow.
    unused_exceptions: tuple[int, ...] = ()

    @cached_property
    def talks(self) -> frozenset[str]:
        """Every host that is the source or the destination of a flow."""
        out = {f.source for f in self.flows}
        out.update(f.destination for f in self.flows)
        return frozenset(out)

    @cached_property
    def by_path(self) -> dict[str, list[Flow]]:
        """The flows of each catalog path id, in plan order (paths in order of appearance)."""
        out: dict[str, list[Flow]] = {}
        for f in self.flows:
            group = out.get(f.path_id)
            if group is None:
                out[f.path_id] = [f]
            else:
                group.append(f)
        return out

    def severity(self, rule: str | None, fallback: Severity) -> Severity:
        """The catalog rule's grade when it has one, else ``fallback``."""
        if rule is not None:
            for r in self.catalog.rules:
                if r.id == rule and r.severity is not None:
                    return Severity(r.severity)
        return fallback


Check = Callable[[Context, str], list[PlanFinding]]


def _f(
    ctx: Context,
    fid: str,
    fallback: Severity,
    rule: str | None,
    en: str,
    zh: str,
    *objects: str,
) -> PlanFinding:
    return PlanFinding(
        id=fid,
        severity=ctx.severity(rule, fallback),
        message=en,
        message_zh=zh,
        rule=rule,
        objects=objects,
    )


def _zone_kind(ctx: Context, zone: str) -> ZoneKind | None:
    for z in ctx.deployment.zones:
        if z.name == zone:
            return z.kind
    return None


def cas_in_perimeter(ctx: Context, fid: str) -> list[PlanFinding]:
    """A Client Access server in a perimeter zone is unsupported."""
    return [
        _f(
            ctx,
            fid,
            Severity.error,
            "cas_not_in_perimeter",
            f"Client Access server {s.name} is in perimeter zone {s.zone}: unsupported; "
            "move it to an internal zone and publish it through a reverse proxy.",
            f"客户端访问服务器 {s.name} 位于外围网络区域 {s.zone}:不受支持;请将其移至内部区域。",
            s.name,
            s.zone,
        )
        for s in ctx.deployment.servers
        if ServerRole.client_access in s.roles and _zone_kind(ctx, s.zone) is ZoneKind.perimeter
    ]


def firewall_cas_mailbox(ctx: Context, fid: str) -> list[PlanFinding]:
    """A network firewall between Client Access and Mailbox servers of one AD site."""
    out: dict[tuple[str, str], PlanFinding] = {}
    paths = {"client_access.cas_to_mailbox", "mailbox.availability_web_service"}
    # Plan order: the plan sorts flows by catalog path first, as by_path keeps them.
    flows = (f for pid, group in ctx.by_path.items() if pid in paths for f in group)
    for f in flows:
        if f.crosses and (f.source, f.destination) not in out:
            out[(f.source, f.destination)] = _f(
                ctx,
                fid,
                Severity.error,
                "no_firewall_cas_mailbox_same_site",
                f"Firewall {', '.join(f.crosses)} lies between Client Access server {f.source} "
                f"and Mailbox server {f.destination} in one AD site: unsupported.",
                f"同一 Active Directory 站点中的客户端访问服务器 {f.source} 与邮箱服务器 "
                f"{f.destination} 之间有防火墙 {', '.join(f.crosses)}:不受支持。",
                f.source,
                f.destination,
                *f.crosses,
            )
    return list(out.values())


def edge_domain_joined(ctx: Context, fid: str) -> list[PlanFinding]:
    """An Edge Transport server must not be a domain member."""
    return [
        _f(
            ctx,
            fid,
            Severity.error,
            None,
            f"Edge Transport server {s.name} is joined to the domain: unsupported; "
            "Edge servers are stand-alone and use ADAM with EdgeSync.",
            f"边缘传输服务器 {s.name} 已加入域:不受支持;边缘服务器应为独立服务器。",
            s.name,
        )
        for s in ctx.deployment.servers
        if ServerRole.edge_transport in s.roles and server_domain_joined(s)
    ]


def edge_outside_perimeter(ctx: Context, fid: str) -> list[PlanFinding]:
    """An Edge Transport server belongs in a perimeter zone."""
    return [
        _f(
            ctx,
            fid,
            Severity.warning,
            None,
            f"Edge Transport server {s.name} is in zone {s.zone}, not in a perimeter zone.",
            f"边缘传输服务器 {s.name} 位于区域 {s.zone},不在外围网络中。",
            s.name,
            s.zone,
        )
        for s in ctx.deployment.servers
        if ServerRole.edge_transport in s.roles
        and _zone_kind(ctx, s.zone) is not ZoneKind.perimeter
    ]


def edge_with_other_roles(ctx: Context, fid: str) -> list[PlanFinding]:
    """The Edge Transport role cannot share a server with other roles."""
    return [
        _f(
            ctx,
            fid,
            Severity.error,
            None,
            f"Edge Transport server {s.name} also holds other roles: unsupported.",
            f"边缘传输服务器 {s.name} 同时承担其他角色:不受支持。",
            s.name,
        )
        for s in ctx.deployment.servers
        if ServerRole.edge_transport in s.roles and len(s.roles) > 1
    ]


def _site_roles(ctx: Context) -> dict[str, set[str]]:
    roles: dict[str, set[str]] = {s.name: set() for s in ctx.deployment.sites}
    for e in ctx.topology.endpoints:
        if e.info.kind is HostKind.server and e.site is not None:
            roles[e.site] |= set(e.roles)
    return roles


def site_mailbox_without_hub_cas(ctx: Context, fid: str) -> list[PlanFinding]:
    """An AD site with Mailbox servers needs Hub Transport and Client Access servers."""
    out = []
    for site, roles in _site_roles(ctx).items():
        if Role.mailbox.value not in roles:
            continue
        for need, zh in ((Role.hub_transport, "集线器传输"), (Role.client_access, "客户端访问")):
            if need.value not in roles:
                out.append(
                    _f(
                        ctx,
                        fid,
                        Severity.error,
                        None,
                        f"AD site {site} has Mailbox servers but no {need.value} server: "
                        "mail or clients cannot reach its mailboxes.",
                        f"Active Directory 站点 {site} 有邮箱服务器,但没有{zh}服务器。",
                        site,
                        need.value,
                    )
                )
    return out


def um_rtm_both(ctx: Context, fid: str) -> list[PlanFinding]:
    """Exchange 2007 RTM Unified Messaging uses 5060 or 5061, not both."""
    return [
        _f(
            ctx,
            fid,
            Severity.error,
            "um_rtm_single_sip_port",
            f"UM server {s.name} runs Exchange 2007 RTM with SIP on both 5060 and 5061: "
            "RTM listens on one of them only.",
            f"统一消息服务器 {s.name} 运行 Exchange 2007 RTM,却同时使用 5060 和 5061。",
            s.name,
        )
        for s in ctx.deployment.servers
        if ServerRole.unified_messaging in s.roles
        and s.exchange is ExchangeVersion.e2007_rtm
        and s.um_sip_mode is SipMode.both
    ]


def rpc_range_small(ctx: Context, fid: str) -> list[PlanFinding]:
    """KB 154596: open at least 100 RPC ports."""
    out = []
    for s in ctx.deployment.servers:
        if s.rpc_range is None:
            continue
        start, end = parse_port_range(s.rpc_range)
        if end - start + 1 < 100:
            out.append(
                _f(
                    ctx,
                    fid,
                    Severity.warning,
                    "rpc_dynamic_ports",
                    f"RPC dynamic range {s.rpc_range} of {s.name} has {end - start + 1} ports; "
                    "KB 154596 advises at least 100.",
                    f"{s.name} 的 RPC 动态端口范围 {s.rpc_range} 仅有 {end - start + 1} 个端口;"
                    "KB 154596 建议至少 100 个。",
                    s.name,
                )
            )
    return out


def rpc_range_low(ctx: Context, fid: str) -> list[PlanFinding]:
    """KB 154596: configured RPC ports should lie above 5000."""
    out = []
    for s in ctx.deployment.servers:
        if s.rpc_range is None:
            continue
        start, _end = parse_port_range(s.rpc_range)
        if start < 5000:
            out.append(
                _f(
                    ctx,
                    fid,
                    Severity.warning,
                    "rpc_dynamic_ports",
                    f"RPC dynamic range {s.rpc_range} of {s.name} starts below 5000; "
                    "KB 154596 advises ports above 5000.",
                    f"{s.name} 的 RPC 动态端口范围 {s.rpc_range} 起始于 5000 以下;"
                    "KB 154596 建议使用 5000 以上的端口。",
                    s.name,
                )
            )
    return out


def edge_without_subscription(ctx: Context, fid: str) -> list[PlanFinding]:
    """An Edge Transport server without an Edge subscription gets no EdgeSync data."""
    subscribed = {e.edge for e in ctx.deployment.edge_subscriptions}
    return [
        _f(
            ctx,
            fid,
            Severity.warning,
            None,
            f"Edge Transport server {s.name} has no Edge subscription: no EdgeSync, "
            "no flows to Hub Transport servers.",
            f"边缘传输服务器 {s.name} 没有边缘订阅:无 EdgeSync,也没有到集线器传输服务器的流。",
            s.name,
        )
        for s in ctx.deployment.servers
        if ServerRole.edge_transport in s.roles and s.name not in subscribed
    ]


def unencrypted_across_zones(ctx: Context, fid: str) -> list[PlanFinding]:
    """A path not encrypted by default (e.g. IPsec only) crossing a zone boundary."""
    seen: dict[tuple[str, str, str], PlanFinding] = {}
    for f in ctx.flows:
        if f.local or f.encryption.by_default is not False or f.source_zone == f.destination_zone:
            continue
        key = (f.path_id, f.source_zone, f.destination_zone)
        if key in seen:
            continue
        how = ", ".join(f.encryption.mechanisms) or "nothing"
        seen[key] = _f(
            ctx,
            fid,
            Severity.warning,
            None,
            f"{f.path_id} is not encrypted by default (possible: {how}) and crosses from "
            f"zone {f.source_zone} to zone {f.destination_zone}.",
            f"{f.path_id} 默认不加密(可用:{how}),却从区域 {f.source_zone} 跨越到区域 "
            f"{f.destination_zone}。",
            f.path_id,
            f.source_zone,
            f.destination_zone,
        )
    return list(seen.values())


def site_without_dc(ctx: Context, fid: str) -> list[PlanFinding]:
    """AD paths need a domain controller (GC, DNS) in the site of every Exchange server."""
    out = []
    exchange_roles = {Role.hub_transport.value, Role.mailbox.value, Role.client_access.value}
    dcs = [s for s in ctx.deployment.servers if ServerRole.domain_controller in s.roles]
    for site, roles in _site_roles(ctx).items():
        if not roles & exchange_roles:
            continue
        here = [s for s in dcs if s.site == site]
        for what, ok, zh in (
            ("domain controller", bool(here), "域控制器"),
            ("global catalog", any(s.global_catalog for s in here), "全局编录"),
            ("DNS server", any(s.dns for s in here), "DNS 服务器"),
        ):
            if not ok:
                out.append(
                    _f(
                        ctx,
                        fid,
                        Severity.warning,
                        "kb179442_domain_firewalls",
                        f"AD site {site} has Exchange servers but no {what}: "
                        "their Active Directory paths have no destination in the site.",
                        f"Active Directory 站点 {site} 有 Exchange 服务器,但没有{zh}。",
                        site,
                    )
                )
                break
    return out


def subscription_without_hub(ctx: Context, fid: str) -> list[PlanFinding]:
    """An Edge subscription needs Hub Transport servers in the subscribed site."""
    roles = _site_roles(ctx)
    return [
        _f(
            ctx,
            fid,
            Severity.error,
            "edge_hub_mutual_tls_direct_trust",
            f"Edge {e.edge} is subscribed to AD site {e.site}, which has no Hub Transport server.",
            f"边缘服务器 {e.edge} 订阅的站点 {e.site} 没有集线器传输服务器。",
            e.edge,
            e.site,
        )
        for e in ctx.deployment.edge_subscriptions
        if Role.hub_transport.value not in roles.get(e.site, set())
    ]


def gateway_without_um(ctx: Context, fid: str) -> list[PlanFinding]:
    """An IP gateway with no Unified Messaging server to talk to."""
    talks = ctx.talks
    return [
        _f(
            ctx,
            fid,
            Severity.warning,
            "um_ip_gateway_object",
            f"IP gateway {g.name} has no Unified Messaging server to talk to "
            "(each gateway also needs a UM IP gateway object with its address).",
            f"IP 网关 {g.name} 没有可通信的统一消息服务器。",
            g.name,
        )
        for g in ctx.deployment.ip_gateways
        if g.name not in talks
    ]


def cluster_shape(ctx: Context, fid: str) -> list[PlanFinding]:
    """Cluster members and SCR targets are Exchange 2007 Mailbox servers; CCR has two nodes."""
    out = []
    servers = {s.name: s for s in ctx.deployment.servers}
    for c in ctx.deployment.clusters:
        for n in (*c.nodes, *c.scr_targets):
            s = servers[n]
            if ServerRole.mailbox not in s.roles or s.exchange is ExchangeVersion.e2003:
                out.append(
                    _f(
                        ctx,
                        fid,
                        Severity.error,
                        None,
                        f"{n} in cluster {c.name} is not an Exchange 2007 Mailbox server.",
                        f"群集 {c.name} 中的 {n} 不是 Exchange 2007 邮箱服务器。",
                        c.name,
                        n,
                    )
                )
        if c.kind.value == "ccr" and len(c.nodes) != 2:
            out.append(
                _f(
                    ctx,
                    fid,
                    Severity.error,
                    None,
                    f"CCR cluster {c.name} has {len(c.nodes)} nodes; CCR has exactly two.",
                    f"CCR 群集 {c.name} 有 {len(c.nodes)} 个节点;CCR 必须恰好两个节点。",
                    c.name,
                )
            )
    return out


def exchange_on_windows(ctx: Context, fid: str) -> list[PlanFinding]:
    """Exchange 2007 RTM needs Windows Server 2003; 2008 R2 needs Exchange 2007 SP3;
    nothing of Exchange 2007 (or 2003) runs on Windows Server 2012 or later."""
    out = []
    for s in ctx.deployment.servers:
        bad = (
            (s.exchange is ExchangeVersion.e2007_rtm and s.windows.value.startswith("2008"))
            or (
                s.windows is WindowsVersion.w2008_r2
                and s.exchange in (ExchangeVersion.e2007_sp1, ExchangeVersion.e2007_sp2)
            )
            or s.windows.value[:4] >= "2012"
        )
        if bad and s.exchange is not None:
            out.append(
                _f(
                    ctx,
                    fid,
                    Severity.error,
                    None,
                    f"Exchange {s.exchange.value} on Windows Server {s.windows.value} "
                    f"({s.name}) is unsupported.",
                    f"{s.name}:Windows Server {s.windows.value} 上的 Exchange "
                    f"{s.exchange.value} 不受支持。",
                    s.name,
                )
            )
    return out


def cas_legacy_mailbox(ctx: Context, fid: str) -> list[PlanFinding]:
    """CAS to Exchange 2003 mailboxes: use Kerberos, disable NTLM and Basic."""
    pairs = sorted(
        {
            (f.source, f.destination)
            for pid, group in ctx.by_path.items()
            if pid.endswith("cas_to_legacy_mailbox")
            for f in group
        }
    )
    return [
        _f(
            ctx,
            fid,
            Severity.warning,
            "cas_legacy_kerberos",
            f"Client Access server {a} reaches Exchange 2003 server {b} over HTTP: "
            "use Kerberos and disable NTLM and Basic on the 2003 server.",
            f"客户端访问服务器 {a} 通过 HTTP 访问 Exchange 2003 服务器 {b}:"
            "请使用 Kerberos 并禁用 NTLM 和基本身份验证。",
            a,
            b,
        )
        for a, b in pairs
    ]


def endpoint_without_flows(ctx: Context, fid: str) -> list[PlanFinding]:
    """Planner sanity: an external endpoint that reaches no server (check its filters)."""
    talks = ctx.talks
    return [
        _f(
            ctx,
            fid,
            Severity.warning,
            None,
            f"{e.name} ({e.info.kind.value}) has no flow: no server of a matching role, "
            "site or list.",
            f"{e.name} 没有任何流:没有匹配角色、站点或列表的服务器。",
            e.name,
        )
        for e in ctx.topology.endpoints
        if e.info.kind not in (HostKind.server, HostKind.ip_gateway) and e.name not in talks
    ]


#: Every check, by finding id. Ids are stable: never renumber, only append.
CHECKS: dict[str, Check] = {
    "PS-TOPO-001": cas_in_perimeter,
    "PS-TOPO-002": firewall_cas_mailbox,
    "PS-TOPO-003": edge_domain_joined,
    "PS-TOPO-004": edge_outside_perimeter,
    "PS-TOPO-005": site_mailbox_without_hub_cas,
    "PS-TOPO-006": um_rtm_both,
    "PS-TOPO-007": rpc_range_small,
    "PS-TOPO-008": rpc_range_low,
    "PS-TOPO-009": edge_without_subscription,
    "PS-TOPO-010": unencrypted_across_zones,
    "PS-TOPO-011": site_without_dc,
    "PS-TOPO-012": subscription_without_hub,
    "PS-TOPO-013": gateway_without_um,
    "PS-TOPO-014": cluster_shape,
    "PS-TOPO-015": exchange_on_windows,
    "PS-TOPO-016": cas_legacy_mailbox,
    "PS-TOPO-017": endpoint_without_flows,
    "PS-TOPO-018": edge_with_other_roles,
    "PS-TOPO-019": assumptions.zone_unfiltered,
    "PS-TOPO-020": assumptions.overlapping_zones,
    "PS-TOPO-021": assumptions.windows_missing,
    "PS-TOPO-022": assumptions.dc_host_firewall,
    "PS-TOPO-023": assumptions.cluster_sites,
    "PS-TOPO-024": assumptions.cluster_other_roles,
    "PS-TOPO-025": assumptions.cluster_windows,
    "PS-TOPO-026": assumptions.facing_unmarked,
    "PS-TOPO-027": assumptions.internet_to_inner_cas,
    "PS-TOPO-028": assumptions.exception_unused,
    "PS-TOPO-029": assumptions.crl_nowhere,
}

_SEVERITY_ORDER = {Severity.error: 0, Severity.warning: 1, Severity.info: 2}


def run_checks(ctx: Context) -> tuple[PlanFinding, ...]:
    """Every finding, sorted by severity, id and objects."""
    found = [f for fid, check in CHECKS.items() for f in check(ctx, fid)]
    return tuple(sorted(found, key=lambda f: (_SEVERITY_ORDER[f.severity], f.id, f.objects)))
