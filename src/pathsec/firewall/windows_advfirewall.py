"""Windows Server 2008 and 2008 R2: a ``.cmd`` of ``netsh advfirewall firewall add rule``.

Windows Firewall with Advanced Security (KB 947709 maps the old ``netsh firewall``
commands to these). Each consolidated rule is one ``add rule`` with ``remoteip`` (the
sources) and ``localip`` (this host's addresses), a port list, and the platform's RPC
keywords where they say more than a range: ``localport=RPC`` for the RPC dynamic range
(only ports the endpoint mapper handed out) and ``localport=RPC-EPMap`` with
``program=svchost.exe service=rpcss`` for TCP 135 (Microsoft's own rule for the endpoint
mapper). Rule groups cannot be set from netsh, so every rule is named ``pathsec``; a rerun
deletes every rule of that name (``delete rule name=pathsec`` removes all of them) and adds
them again. Windows Server 2008 has no port ranges in rules (Windows 7 and 2008 R2 added
them): there a range of up to 16 ports is written port by port and a larger one, other
than the RPC range, is refused. A ``remoteip`` list too long for one cmd.exe line is split
over several rules (the same union).
"""

from __future__ import annotations

from pathsec.firewall.consolidate import Consolidated, Rule, SetNamer, consolidate_point
from pathsec.firewall.interface import Refusal
from pathsec.firewall.rules import EnforcementPoint, FlowRule, address_text
from pathsec.firewall.windows_common import (
    EPMAP_PROGRAM,
    EPMAP_SERVICE,
    EXPAND_MAX,
    Flavour,
    cmd_label,
    cmd_token,
    release_name,
    rpc_kind,
    rpc_kind_of,
    span_size,
)
from pathsec.firewall.windows_netsh_fw import LINE_MAX, HostFile
from pathsec.plan.models import HostInfo, Plan
from pathsec.quoting import cmd_quoted, cmd_rem

RULE_NAME = "pathsec"


def _allowed(rule: FlowRule, ranges: bool, host: HostInfo) -> Refusal | None:
    if ranges or rpc_kind(rule, host) != "ports" or span_size(rule) <= EXPAND_MAX:
        return None
    return Refusal(
        rule.label,
        f"port range {rule.ports} ({span_size(rule)} ports): Windows Server 2008 has no port "
        "ranges in firewall rules (2008 R2 added them); pathsec does not widen. Enforce "
        "this flow on the network firewall or upgrade the host to 2008 R2",
    )


def _localport(rule: Rule, ranges: bool) -> str:
    if rule.kind == "RPC":
        return "localport=RPC"
    if rule.kind == "RPC-EPMap":
        program = EPMAP_PROGRAM.replace("%", "%%")  # the rule keeps %SystemRoot% unexpanded
        return f'localport=RPC-EPMap program="{program}" service={EPMAP_SERVICE}'
    if ranges:
        return "localport=" + ",".join(cmd_token(t) for t in rule.port_texts())
    ports = [str(p) for a, b in rule.ports for p in range(a, b + 1)]
    return "localport=" + ",".join(ports)


def _chunks(items: list[str], room: int) -> list[list[str]]:
    out: list[list[str]] = [[]]
    used = 0
    for item in items:
        if out[-1] and used + len(item) + 1 > room:
            out.append([])
            used = 0
        out[-1].append(item)
        used += len(item) + 1
    return out


def rule_lines(c: Consolidated, rule: Rule, ranges: bool) -> list[str]:
    """The ``rem`` lines and ``add rule`` commands of one consolidated rule."""
    fams = rule.families()
    remote = [cmd_token(address_text(n)) for _, s, _ in fams for n in s]
    local = [cmd_token(address_text(n)) for _, _, d in fams for n in d]
    desc = cmd_quoted(cmd_label(c.comment(rule)), 900)
    fixed = (
        f"netsh advfirewall firewall add rule name={RULE_NAME} dir=in action=allow enable=yes "
        f"profile=any protocol={rule.protocol} {_localport(rule, ranges)} "
        f"localip={','.join(local)} description={desc} remoteip="
    )
    lines = [cmd_rem(cmd_label(line)) for line in c.flow_lines(rule)]
    for part in _chunks(remote, LINE_MAX - len(fixed)):
        lines += [fixed + ",".join(part), "if errorlevel 1 goto :failed"]
    return lines


def cannot(flavour: Flavour) -> list[str]:
    """The header's list of what the flavour cannot express."""
    out = [
        "What netsh advfirewall cannot express here, and what this file does instead:",
        "- rule groups (netsh cannot set them): every rule is named pathsec and a rerun",
        "  deletes all rules of that name first;",
    ]
    if flavour is Flavour.advfirewall_2008:
        out += [
            "- port ranges (Windows Server 2008 has none; 2008 R2 added them): ranges of up",
            "  to 16 ports are listed port by port, the RPC dynamic range is localport=RPC,",
            "  larger ranges are refused;",
        ]
    out.append("- nothing else is widened: sources are remoteip, this host's addresses localip.")
    return out


def render_host(
    plan: Plan, point: EnforcementPoint, namer: SetNamer, flavour: Flavour
) -> tuple[HostFile, Consolidated]:
    """The ``.cmd`` of one Windows Server 2008 or 2008 R2 host and its consolidated rules."""
    assert point.host is not None
    host = point.host
    ranges = flavour is Flavour.advfirewall_2008_r2
    kept: list[FlowRule] = []
    refused: list[Refusal] = []
    for r in point.rules:
        refusal = _allowed(r, ranges, host)
        if refusal is None:
            kept.append(r)
        else:
            refused.append(refusal)
    c = consolidate_point(plan, point, namer, rpc_kind_of(host), kept)
    body: list[str] = []
    for rule in c.rules:
        body += rule_lines(c, rule, ranges)
    out = [
        "@echo off",
        cmd_rem(
            f"pathsec rules: Windows Firewall of {host.name}, {release_name(host)}, "
            f"deployment {plan.deployment}"
        ),
        cmd_rem("Windows Firewall with Advanced Security: netsh advfirewall firewall (KB 947709)."),
        cmd_rem(cmd_label(c.headline())),
        cmd_rem(f"Run from an elevated command prompt on {host.name}: {point.slug}.cmd"),
        cmd_rem("Inbound: the planned flows below; the default inbound action becomes block."),
        cmd_rem("Inbound allow rules outside pathsec stay in force; review them with"),
        cmd_rem("  netsh advfirewall firewall show rule name=all dir=in"),
        *(cmd_rem(line) for line in cannot(flavour)),
    ]
    if refused:
        out.append(cmd_rem(f"REFUSED ({len(refused)}), not opened by this file:"))
        out += [cmd_rem(f"  {cmd_label(r.flow)}: {r.reason}") for r in refused]
    out += [
        "setlocal",
        "net session >nul 2>&1",
        "if errorlevel 1 goto :notadmin",
        f"netsh advfirewall firewall delete rule name={RULE_NAME} dir=in >nul 2>&1",
        *body,
        "netsh advfirewall set allprofiles state on",
        "if errorlevel 1 goto :failed",
        "netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound",
        "if errorlevel 1 goto :failed",
        f"echo pathsec: {len(c.rules)} rules written.",
        "exit /b 0",
        ":notadmin",
        "echo pathsec: run this file from an elevated command prompt (Run as administrator).",
        "exit /b 1",
        ":failed",
        "echo pathsec: netsh failed; fix the error above and run this file again.",
        "exit /b 1",
        "",
    ]
    return HostFile("\r\n".join(out), len(c.rules), tuple(refused)), c
