"""Windows Server 2003 and 2003 R2: a ``.cmd`` of ``netsh firewall`` port openings and
allowed programs (Windows Firewall, Service Pack 1 and later).

What ``netsh firewall`` can say: an inbound opening for one TCP or UDP port, or for every
port a program listens on, scoped to a list of remote IPv4 addresses and subnets
(``scope=CUSTOM addresses=…``). What it cannot, and what pathsec does instead:

- local addresses: an opening applies to every address of the host (the flows end there);
- port ranges: one port per opening. A range of up to
  :data:`~pathsec.firewall.windows_common.EXPAND_MAX` ports becomes that many openings;
  the RPC dynamic range becomes an allowed program for the service executable that owns
  it (:data:`RPC_PROGRAMS`; any port that program listens on, TCP and UDP, from the
  scope); any other range is refused, naming the flow;
- IPv6 scopes: custom scopes hold IPv4 addresses only, so the IPv6 part of a flow is
  refused;
- several scopes on one port: Windows keeps one opening per protocol and port, so all flows
  to a port share one opening whose scope is the union of their sources (exact: the
  destination is the host itself).

Nothing is widened silently: what the file cannot express is listed in its header and in
the summary. Syntax: XP SP2 / 2003 SP1 ``netsh firewall add portopening`` and ``add
allowedprogram`` help; KB 947709 for the mapping to ``netsh advfirewall``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pathsec.firewall.consolidate import collapse
from pathsec.firewall.interface import L4, Refusal
from pathsec.firewall.rules import EnforcementPoint, FlowRule, IPNet, address_text
from pathsec.firewall.windows_common import (
    EXPAND_MAX,
    cmd_label,
    cmd_token,
    release_name,
    rpc_kind,
    span_size,
)
from pathsec.plan.models import HostInfo, Plan
from pathsec.quoting import cmd_quoted, cmd_rem

#: cmd.exe reads lines of up to 8,191 characters; pathsec stays below.
LINE_MAX = 8000

_EXBIN = r"%PATHSEC_EXBIN%"
_SYSTEM = r"%SystemRoot%\system32"
_STORE = (_EXBIN + r"\store.exe", "the Exchange Information Store (store.exe)")
_LSASS = (_SYSTEM + r"\lsass.exe", "Active Directory on the domain controller (lsass.exe)")

#: Catalog paths whose RPC dynamic range belongs to one service executable, as Windows'
#: own "Active Directory Domain Controller (RPC)" rule (lsass.exe) and Exchange's services
#: have it. A flow to an RPC range on any other path is refused on Windows Server 2003.
RPC_PROGRAMS: dict[str, tuple[str, str]] = {
    "client_access.cas_to_mailbox": _STORE,
    "mailbox.availability_web_service": _STORE,
    "mailbox.mapi_access": _STORE,
    "mailbox.outlook_oab_rpc": _STORE,
    "transport.hub_to_mailbox_mapi": _STORE,
    "unified_messaging.um_to_mailbox": _STORE,
    "mailbox.sa_legacy_listen": (
        _EXBIN + r"\mad.exe",
        "the Exchange System Attendant (mad.exe)",
    ),
    "mailbox.cluster": (r"%SystemRoot%\Cluster\clussvc.exe", "the Cluster service (clussvc.exe)"),
    "mailbox.ad_access": _LSASS,
    "mailbox.ad_topology_service": _LSASS,
    "mailbox.directory_access_ad": _LSASS,
    "mailbox.oab_ad_access": _LSASS,
    "mailbox.recipient_update_ad": _LSASS,
    "mailbox.sa_legacy_ad": _LSASS,
    "transport.hub_ad_access": _LSASS,
}

CANNOT = (
    "What netsh firewall cannot express, and what this file does instead:",
    "- local addresses: every opening applies to all addresses of this host;",
    "- port ranges: one port per opening; the RPC dynamic range is opened as an allowed",
    "  program (the service executable: every port it listens on, TCP and UDP, from the",
    "  scope); other ranges of more than 16 ports are refused;",
    "- IPv6: custom scopes list IPv4 addresses only; IPv6 parts of flows are refused;",
    "- one opening per protocol and port: flows to a port share its opening (scope = all",
    "  their sources); outbound rules and rule groups do not exist.",
)


@dataclass
class _Opening:
    first: int
    sources: list[IPNet] = field(default_factory=list)
    flows: list[FlowRule] = field(default_factory=list)


@dataclass(frozen=True)
class HostFile:
    """The script of one host, its rule count, what it refused and the flows of each rule
    (the side file's text, None when every comment lists all its flows)."""

    text: str
    rules: int
    refused: tuple[Refusal, ...]
    side: str | None = None


def _classify(
    rules: tuple[FlowRule, ...], host: HostInfo
) -> tuple[dict[tuple[L4, int], _Opening], dict[str, _Opening], list[Refusal]]:
    ports: dict[tuple[L4, int], _Opening] = {}
    programs: dict[str, _Opening] = {}
    refused: list[Refusal] = []
    for i, r in enumerate(rules):
        v4 = r.family(4)
        if r.family(6) is not None:
            refused.append(
                Refusal(
                    r.label,
                    "IPv6 part refused: netsh firewall on Windows Server 2003 scopes "
                    "openings by IPv4 addresses only",
                )
            )
        if v4 is None:
            continue
        if rpc_kind(r, host) == "RPC":
            prog = RPC_PROGRAMS.get(r.flow.path_id)
            if prog is None:
                refused.append(
                    Refusal(
                        r.label,
                        f"RPC dynamic range {r.ports}: netsh firewall opens one port per "
                        "opening and pathsec knows no single service executable for catalog "
                        f"path {r.flow.path_id}; open it with IPsec filters (netsh ipsec "
                        "static) or on the network firewall",
                    )
                )
                continue
            slot = programs.setdefault(prog[0], _Opening(i))
        elif span_size(r) > EXPAND_MAX:
            refused.append(
                Refusal(
                    r.label,
                    f"port range {r.ports} ({span_size(r)} ports): netsh firewall opens one "
                    "port per opening; pathsec does not widen. Enforce this flow on the "
                    "network firewall or a newer Windows",
                )
            )
            continue
        else:
            for port in range(r.ports.start, r.ports.end + 1):
                slot = ports.setdefault((r.protocol, port), _Opening(i))
                slot.sources.extend(v4.sources)
                slot.flows.append(r)
            continue
        slot.sources.extend(v4.sources)
        slot.flows.append(r)
    return ports, programs, refused


def _scope(nets: list[IPNet]) -> str:
    return ",".join(cmd_token(address_text(n)) for n in collapse(nets))


def _flows_rem(flows: list[FlowRule], side: str | None) -> list[str]:
    labels = list(dict.fromkeys(r.label for r in flows))
    out = [cmd_rem(f"  {cmd_label(lbl)}") for lbl in labels[:6]]
    if len(labels) > 6:
        out.append(cmd_rem(f"  ... and {len(labels) - 6} more in {side}"))
    return out


def _emit(
    body: list[str],
    side_lines: list[str],
    n: int,
    head: str,
    delete: str,
    add: str,
    op: _Opening,
    side: str,
) -> bool:
    """Append one opening; False (nothing written) when its command is too long for cmd."""
    if len(add) > LINE_MAX:
        return False
    count = len(dict.fromkeys(r.label for r in op.flows))
    body.append(cmd_rem(f"r{n}: {head}; {count} flow{'s' if count != 1 else ''}"))
    body += _flows_rem(op.flows, side)
    body += [f"{delete} >nul 2>&1", add, "if errorlevel 1 goto :failed"]
    side_lines.extend(f"r{n}\t{head}\t{lbl}" for lbl in dict.fromkeys(r.label for r in op.flows))
    return True


def _too_long(op: _Opening) -> list[Refusal]:
    return [
        Refusal(
            r.label,
            f"the scope of this opening has {len(collapse(op.sources))} networks, longer "
            f"than a cmd.exe line ({LINE_MAX} characters); pathsec does not widen it",
        )
        for r in op.flows
    ]


def render_host(plan: Plan, point: EnforcementPoint, side: str) -> HostFile:
    """The ``.cmd`` of one Windows Server 2003 host."""
    assert point.host is not None
    host = point.host
    ports, programs, refused = _classify(point.rules, host)
    body: list[str] = []
    side_lines = [f"# pathsec: flows of each opening of {host.name} (rule, opening, flow id)"]
    n = 0
    for (proto, port), op in sorted(ports.items(), key=lambda kv: kv[1].first):
        p = proto.upper()
        name = cmd_quoted(f"pathsec {p} {port}")
        delete = f"netsh firewall delete portopening protocol={p} port={port} profile=ALL"
        add = (
            f"netsh firewall add portopening protocol={p} port={port} name={name} "
            f"mode=ENABLE scope=CUSTOM addresses={_scope(op.sources)} profile=ALL"
        )
        if _emit(body, side_lines, n + 1, f"{proto} {port}", delete, add, op, side):
            n += 1
        else:
            refused += _too_long(op)
    exchange = False
    for program, op in sorted(programs.items(), key=lambda kv: kv[1].first):
        what = next(v[1] for v in RPC_PROGRAMS.values() if v[0] == program)
        exe = program.rsplit("\\", 1)[-1]
        delete = f'netsh firewall delete allowedprogram program="{program}" profile=ALL'
        add = (
            f'netsh firewall add allowedprogram program="{program}" '
            f"name={cmd_quoted('pathsec RPC ' + exe)} mode=ENABLE scope=CUSTOM "
            f"addresses={_scope(op.sources)} profile=ALL"
        )
        if _emit(body, side_lines, n + 1, f"RPC dynamic range of {what}", delete, add, op, side):
            n += 1
            exchange = exchange or program.startswith(_EXBIN)
        else:
            refused += _too_long(op)
    out = [
        "@echo off",
        cmd_rem(
            f"pathsec rules: Windows Firewall of {host.name}, {release_name(host)}, "
            f"deployment {plan.deployment}"
        ),
        cmd_rem("Windows Firewall of Windows Server 2003 SP1 and 2003 R2: netsh firewall."),
        cmd_rem(
            f"{len({r.flow.id for r in point.rules})} flows ({len(point.rules)} per-flow "
            f"rules) to {n} openings and allowed programs; the flows of each: {side}"
        ),
        cmd_rem(f"Run as an administrator on {host.name}: {point.slug}.cmd"),
        cmd_rem("Inbound: the planned flows below, and the exceptions already enabled on the"),
        cmd_rem("server (review them: netsh firewall show state verbose=ENABLE)."),
        cmd_rem("A rerun deletes and adds each opening again; openings an earlier run made for"),
        cmd_rem("ports no longer planned stay: netsh firewall show portopening lists them."),
        *(cmd_rem(line) for line in CANNOT),
    ]
    if refused:
        out.append(cmd_rem(f"REFUSED ({len(refused)}), not opened by this file:"))
        out += [cmd_rem(f"  {cmd_label(r.flow)}: {r.reason}") for r in refused]
    out += ["setlocal", "net session >nul 2>&1", "if errorlevel 1 goto :notadmin"]
    if exchange:
        out += [
            cmd_rem("The Exchange 2007 programs: the install path Exchange setup recorded."),
            'set "PATHSEC_EXBIN="',
            'for /f "tokens=2,*" %%A in (\'reg query "HKLM\\SOFTWARE\\Microsoft\\Exchange'
            '\\Setup" /v MsiInstallPath 2^>nul ^| find "REG_SZ"\')'
            ' do set "PATHSEC_EXBIN=%%Bbin"',
            "if not defined PATHSEC_EXBIN goto :noexchange",
        ]
    out += body
    out += [
        "netsh firewall set opmode mode=ENABLE exceptions=ENABLE profile=ALL",
        "if errorlevel 1 goto :failed",
        f"echo pathsec: {n} openings and allowed programs written.",
        "exit /b 0",
        ":notadmin",
        "echo pathsec: run this file as an administrator.",
        "exit /b 1",
        ":failed",
        "echo pathsec: netsh failed; fix the error above and run this file again.",
        "exit /b 1",
    ]
    if exchange:
        out += [
            ":noexchange",
            "echo pathsec: no Exchange 2007 here (no MsiInstallPath); nothing changed.",
            "exit /b 1",
        ]
    out.append("")
    return HostFile("\r\n".join(out), n, tuple(refused), "\n".join(side_lines) + "\n")
