"""Findings for what the planner would otherwise assume silently.

Each check names the objects and, where the reference has one, the catalog rule. They are
registered in :data:`pathsec.plan.findings.CHECKS` with the reference's topology checks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pathsec.catalog.models import Role
from pathsec.plan.hosts import DEFAULT_RPC_RANGE, Endpoint
from pathsec.plan.models import Flow, HostKind, PlanFinding, Severity
from pathsec.topology.models import ServerRole, ZoneKind

if TYPE_CHECKING:
    from pathsec.plan.findings import Context

#: An internet zone with these CIDRs means "every address no other zone claims".
EVERYTHING_ELSE = frozenset({"0.0.0.0/0", "::/0"})


def _f(
    ctx: Context, fid: str, fallback: Severity, rule: str | None, en: str, zh: str, *objects: str
) -> PlanFinding:
    return PlanFinding(
        id=fid,
        severity=ctx.severity(rule, fallback),
        message=en,
        message_zh=zh,
        rule=rule,
        objects=objects,
    )


def zone_unfiltered(ctx: Context, fid: str) -> list[PlanFinding]:
    """A zone attached to no firewall, or zones no firewall path joins: assumed unfiltered."""
    dep = ctx.deployment
    if not dep.firewalls:
        return []
    attached = {z for f in dep.firewalls for z in f.zones}
    crossing: dict[str, int] = {}
    unrouted: dict[tuple[str, str], int] = {}
    for f in ctx.flows:
        if f.local or f.source_zone == f.destination_zone or f.crosses:
            continue
        for name in (f.source_zone, f.destination_zone):
            crossing[name] = crossing.get(name, 0) + 1
        if f.source_zone in attached and f.destination_zone in attached:
            a, b = sorted((f.source_zone, f.destination_zone))
            unrouted[(a, b)] = unrouted.get((a, b), 0) + 1
    out = []
    for z in dep.zones:
        if z.name in attached:
            continue
        n = crossing.get(z.name, 0)
        out.append(
            _f(
                ctx,
                fid,
                Severity.warning,
                None,
                f"Zone {z.name} is attached to no firewall: pathsec assumes traffic between it and "
                f"every other zone is unfiltered, so no firewall gets rules for its {n} flow(s) "
                "to or from other zones. Add it to the firewall(s) that separate it.",
                f"区域 {z.name} 未连接任何防火墙:pathsec 假定它与其他所有区域之间的通信不经过筛选,"
                f"因此没有防火墙获得其 {n} 个跨区域流的规则。请将它加入分隔它的防火墙。",
                z.name,
            )
        )
    for (a, b), n in sorted(unrouted.items()):
        out.append(
            _f(
                ctx,
                fid,
                Severity.warning,
                None,
                f"No chain of firewalls joins zones {a} and {b}: pathsec assumes the {n} flow(s) "
                "between them are unfiltered and writes no rule for them.",
                f"没有防火墙链连接区域 {a} 和 {b}:pathsec 假定它们之间的 {n} 个流不经过筛选,"
                "不为其生成规则。",
                a,
                b,
            )
        )
    return out


def overlapping_zones(ctx: Context, fid: str) -> list[PlanFinding]:
    """Two zones share addresses (an internet zone of 0.0.0.0/0 or ::/0 excepted)."""
    out = []
    zones = ctx.deployment.zones
    for i, a in enumerate(zones):
        for b in zones[i + 1 :]:
            for ca in a.cidrs:
                hit = _overlap(a.kind, ca, b.kind, b.cidrs)
                if hit is None:
                    continue
                out.append(
                    _f(
                        ctx,
                        fid,
                        Severity.warning,
                        None,
                        f"Zones {a.name} ({ca}) and {b.name} ({hit}) overlap: rules built from "
                        "zone addresses match hosts of both. Make zones disjoint; only an internet "
                        "zone of 0.0.0.0/0 or ::/0 ('everything else') may contain other zones.",
                        f"区域 {a.name} ({ca}) 与 {b.name} ({hit}) 地址重叠:"
                        "按区域地址生成的规则会同时匹配两个区域的主机。请使区域互不重叠;"
                        "只有 0.0.0.0/0 或 ::/0 的 Internet 区域(表示“其余所有地址”)"
                        "可以包含其他区域。",
                        a.name,
                        b.name,
                    )
                )
                break
    return out


def _overlap(kind_a: ZoneKind, ca: str, kind_b: ZoneKind, cidrs_b: tuple[str, ...]) -> str | None:
    na = ipaddress.ip_network(ca)
    for cb in cidrs_b:
        nb = ipaddress.ip_network(cb)
        if na.version != nb.version or not na.overlaps(nb):
            continue
        if (kind_a is ZoneKind.internet and ca in EVERYTHING_ELSE) or (
            kind_b is ZoneKind.internet and cb in EVERYTHING_ELSE
        ):
            continue
        return cb
    return None


def windows_missing(ctx: Context, fid: str) -> list[PlanFinding]:
    """An Exchange server or DC without ``windows:``: the 2003 default and its RPC range."""
    out = []
    default = DEFAULT_RPC_RANGE[next(iter(DEFAULT_RPC_RANGE))]
    for s in ctx.deployment.servers:
        if "windows" in s.model_fields_set:
            continue
        used = f"the configured RPC range {s.rpc_range}" if s.rpc_range else f"RPC range {default}"
        out.append(
            _f(
                ctx,
                fid,
                Severity.warning,
                "rpc_dynamic_ports",
                f"Server {s.name} has no 'windows:'; pathsec assumed Windows Server 2003 and used "
                f"{used} (Windows Server 2008 uses 49152-65535). Set windows.",
                f"服务器 {s.name} 未设置 windows:pathsec 假定为 Windows Server 2003,并使用 "
                f"{used}(Windows Server 2008 为 49152-65535)。请设置 windows。",
                s.name,
            )
        )
    return out


def dc_host_firewall(ctx: Context, fid: str) -> list[PlanFinding]:
    """A host firewall on a DC gets the reference's Exchange paths only (KB 179442)."""
    return [
        _f(
            ctx,
            fid,
            Severity.warning,
            "kb179442_domain_firewalls",
            f"Domain controller {s.name} has a host firewall: its rules admit only the Exchange "
            "paths planned here. A DC also serves workstations and member servers (logon, Group "
            "Policy: LDAP, Kerberos, DNS, SMB 445, RPC), other DCs (replication, KB 179442), "
            "W32Time, and Exchange 2003, UM and Client Access servers (planned only with "
            "--with-operational); loading these rules cuts them off.",
            f"域控制器 {s.name} 启用了主机防火墙:其规则只允许此处规划的 Exchange 数据路径。域控制器"
            "还为工作站和成员服务器(登录、组策略:LDAP、Kerberos、DNS、SMB 445、RPC)、其他域控制器"
            "(复制,KB 179442)、W32Time 以及 Exchange 2003、统一消息和客户端访问服务器(仅在 "
            "--with-operational 时规划)提供服务;加载这些规则会切断它们。",
            s.name,
        )
        for s in ctx.deployment.servers
        if ServerRole.domain_controller in s.roles and s.host_firewall
    ]


def _cluster_members(ctx: Context) -> Iterator[tuple[str, list[Endpoint]]]:
    by_name = ctx.topology.by_name
    for c in ctx.deployment.clusters:
        yield c.name, [by_name[n] for n in c.nodes if n in by_name]


def cluster_sites(ctx: Context, fid: str) -> list[PlanFinding]:
    """Cluster nodes in different AD sites."""
    out = []
    for name, members in _cluster_members(ctx):
        sites = sorted({m.site or "-" for m in members})
        if len(sites) > 1:
            out.append(
                _f(
                    ctx,
                    fid,
                    Severity.error,
                    None,
                    f"Nodes of cluster {name} are in different AD sites ({', '.join(sites)}): both "
                    "nodes of an Exchange 2007 CCR cluster belong to one AD site; use SCR for "
                    "another site.",
                    f"群集 {name} 的节点位于不同的 Active Directory 站点({', '.join(sites)}):"
                    "Exchange 2007 CCR 群集的节点必须位于同一站点;跨站点请使用 SCR。",
                    name,
                    *(m.name for m in members),
                )
            )
    return out


def cluster_other_roles(ctx: Context, fid: str) -> list[PlanFinding]:
    """Cluster nodes holding roles besides Mailbox."""
    out = []
    for name, members in _cluster_members(ctx):
        for m in members:
            extra = sorted(r.value for r in (m.server.roles if m.server else ()))
            extra = [r for r in extra if r != ServerRole.mailbox.value]
            if extra:
                out.append(
                    _f(
                        ctx,
                        fid,
                        Severity.error,
                        None,
                        f"Cluster node {m.name} of {name} also holds {', '.join(extra)}: a "
                        "clustered Mailbox server holds no other server role.",
                        f"群集 {name} 的节点 {m.name} 还承担 {', '.join(extra)}:"
                        "群集邮箱服务器不能承担其他服务器角色。",
                        name,
                        m.name,
                    )
                )
    return out


def cluster_windows(ctx: Context, fid: str) -> list[PlanFinding]:
    """Cluster nodes on different Windows releases."""
    out = []
    for name, members in _cluster_members(ctx):
        versions = sorted({m.server.windows.value for m in members if m.server})
        if len(versions) > 1:
            out.append(
                _f(
                    ctx,
                    fid,
                    Severity.error,
                    None,
                    f"Nodes of cluster {name} run different Windows releases "
                    f"({', '.join(versions)}): every node of a cluster runs the same release "
                    "(and the same RPC range).",
                    f"群集 {name} 的节点运行不同的 Windows 版本({', '.join(versions)}):"
                    "群集的所有节点必须运行相同的版本。",
                    name,
                    *(m.name for m in members),
                )
            )
    return out


def _internet_flows(ctx: Context) -> Iterator[tuple[Flow, Endpoint]]:
    """Flows that carry internet populations' traffic to a Client Access server."""
    by_name = ctx.topology.by_name
    serving = {
        p.name
        for p in ctx.topology.publishers
        if p.populations is None or any(by_name[n].internet for n in p.populations if n in by_name)
    }
    cas = Role.client_access.value
    for f in ctx.flows:
        src, dst = by_name.get(f.source), by_name.get(f.destination)
        if src is None or dst is None or cas not in dst.roles:
            continue
        if (src.info.kind is HostKind.client_population and src.internet) or src.name in serving:
            yield f, dst


def facing_unmarked(ctx: Context, fid: str) -> list[PlanFinding]:
    """Several sites with CAS, internet populations, and no site or CAS marked internet_facing."""
    if ctx.topology.facing_marked:
        return []
    reached = sorted({d.name for _f_, d in _internet_flows(ctx)})
    sites = {
        e.site for e in ctx.topology.endpoints if e.server and Role.client_access.value in e.roles
    }
    if not reached or len(sites) < 2:
        return []
    return [
        _f(
            ctx,
            fid,
            Severity.info,
            None,
            "No site or Client Access server is marked internet_facing: internet users and "
            f"devices reach every Client Access server in every site ({', '.join(reached)}). Mark "
            "the site you publish (internet_facing: true); the CAS of other sites are then served "
            "through it (CAS-to-CAS proxying).",
            "没有任何站点或客户端访问服务器标记为 internet_facing:Internet 用户和设备可访问所有站点"
            f"的所有客户端访问服务器({', '.join(reached)})。请标记发布的站点"
            "(internet_facing: true);其他站点的客户端访问服务器将通过它代理访问。",
            *reached,
        )
    ]


def internet_to_inner_cas(ctx: Context, fid: str) -> list[PlanFinding]:
    """An internet population reaches a CAS that is not internet-facing (explicitly listed)."""
    if not ctx.topology.facing_marked:
        return []
    pairs = sorted(
        {(f.source, d.name, d.site or "-") for f, d in _internet_flows(ctx) if not d.facing}
    )
    return [
        _f(
            ctx,
            fid,
            Severity.warning,
            None,
            f"{src} carries internet traffic to Client Access server {cas} of site {site}, which "
            "is not internet-facing: internet clients should reach an internet-facing CAS, which "
            "proxies to the other sites.",
            f"{src} 将 Internet 流量送到站点 {site} 中不面向 Internet 的客户端访问服务器 {cas}:"
            "Internet 客户端应访问面向 Internet 的客户端访问服务器,再由其代理到其他站点。",
            src,
            cas,
            site,
        )
        for src, cas, site in pairs
    ]


def exception_unused(ctx: Context, fid: str) -> list[PlanFinding]:
    """A deployment exception that removes no flow (a typo in its path, ports or scope?)."""
    out = []
    for i in ctx.unused_exceptions:
        ex = ctx.deployment.exceptions[i]
        out.append(
            _f(
                ctx,
                fid,
                Severity.warning,
                None,
                f"exceptions[{i}] ({ex.path}) removes no flow: check its path, ports and scope.",
                f"exceptions[{i}]({ex.path})没有移除任何流:请检查其数据路径、端口和范围。",
                f"exceptions[{i}]",
                ex.path,
            )
        )
    return out


def crl_nowhere(ctx: Context, fid: str) -> list[PlanFinding]:
    """Edge servers exchange mail with peers but no CRL endpoint is known."""
    if ctx.topology.crl is not None:
        return []
    edges = sorted({f.source for f in ctx.by_path.get("transport.edge_to_edge", [])})
    edges = [e for e in edges if e in ctx.topology.by_name and ctx.topology.by_name[e].server]
    if not edges:
        return []
    return [
        _f(
            ctx,
            fid,
            Severity.warning,
            "domain_security",
            "No zone of kind internet and no certificate_checks: the certificate revocation "
            f"checks of {', '.join(edges)} (80/TCP, 389/TCP/UDP outbound) are not planned.",
            "没有 Internet 类型的区域,也没有 certificate_checks:"
            f"{', '.join(edges)} 的证书吊销检查(出站 80/TCP、389/TCP/UDP)未被规划。",
            *edges,
        )
    ]
