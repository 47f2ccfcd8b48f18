"""Windows Server 2012 and later: a PowerShell script of ``New-NetFirewallRule``.

The NetSecurity module (Windows Server 2012, PowerShell 3.0). One rule per consolidated
rule, grouped as ``pathsec`` so a rerun removes exactly its own rules first; ports as a
list with ranges, ``-LocalPort RPC`` for the RPC dynamic range and ``-LocalPort RPCEPMap
-Program svchost.exe -Service RpcSs`` for TCP 135 (as Windows' own rules for Active
Directory write them). No construct newer than PowerShell 3.0: no ``#Requires
-RunAsAdministrator`` (PowerShell 4.0); the script checks for an administrator itself.
"""

from __future__ import annotations

from pathsec.firewall.consolidate import Consolidated, Rule, SetNamer, consolidate_point
from pathsec.firewall.rules import EnforcementPoint, address_text
from pathsec.firewall.windows_common import EPMAP_PROGRAM, release_name, rpc_kind_of
from pathsec.firewall.windows_netsh_fw import HostFile
from pathsec.plan.models import Plan
from pathsec.quoting import ps_comment, ps_list, ps_string

GROUP = "pathsec"


ADMIN_CHECK = (
    "$principal = New-Object -TypeName Security.Principal.WindowsPrincipal -ArgumentList "
    "([Security.Principal.WindowsIdentity]::GetCurrent())",
    "if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {",
    "    Write-Host 'pathsec: run this script as an administrator.'",
    "    exit 1",
    "}",
)


def _ports(rule: Rule) -> str:
    if rule.kind == "RPC":
        return "-LocalPort RPC"
    if rule.kind == "RPC-EPMap":
        return (
            f"-LocalPort RPCEPMap -Program {ps_string(EPMAP_PROGRAM)} -Service {ps_string('RpcSs')}"
        )
    return f"-LocalPort {ps_list(rule.port_texts())}"


def rule_lines(c: Consolidated, rule: Rule, host: str) -> list[str]:
    """The comment lines and ``New-NetFirewallRule`` of one consolidated rule."""
    fams = rule.families()
    remote = [address_text(n) for _, s, _ in fams for n in s]
    local = [address_text(n) for _, _, d in fams for n in d]
    name = f"pathsec-{rule.number:03d}"
    display = f"pathsec {rule.number:03d}: {rule.summary()}"
    return [
        *(ps_comment(line) for line in c.flow_lines(rule)),
        f"New-NetFirewallRule -Name {ps_string(name)} -DisplayName {ps_string(display)}"
        f" -Group {ps_string(GROUP)} -Direction Inbound -Action Allow -Profile Any"
        f" -Protocol {rule.protocol.upper()} {_ports(rule)}"
        f" -RemoteAddress {ps_list(remote)} -LocalAddress {ps_list(local)}"
        f" -Description {ps_string(c.comment(rule))} | Out-Null",
    ]


def render_host(
    plan: Plan, point: EnforcementPoint, namer: SetNamer
) -> tuple[HostFile, Consolidated]:
    """The ``.ps1`` of one Windows Server 2012 (or later) host and its consolidated rules."""
    assert point.host is not None
    host = point.host
    c = consolidate_point(plan, point, namer, rpc_kind_of(host))
    out = [
        ps_comment(
            f"pathsec rules: Windows Firewall of {host.name}, {release_name(host)}, "
            f"deployment {plan.deployment}"
        ),
        ps_comment(c.headline()),
        ps_comment("New-NetFirewallRule (NetSecurity module, Windows Server 2012 and later)."),
        ps_comment("Inbound allow rules for the planned flows only; the default inbound action"),
        ps_comment("becomes Block. A rerun removes the rules of the group 'pathsec' first. Allow"),
        ps_comment("rules outside that group stay in force: review them with"),
        ps_comment("  Get-NetFirewallRule -Enabled True -Direction Inbound"),
        ps_comment(f"Run in an elevated PowerShell on {host.name}: .\\{point.slug}.ps1"),
        "#Requires -Version 3.0",
        *ADMIN_CHECK,
        "$ErrorActionPreference = 'Stop'",
        "Import-Module NetSecurity",
        f"Get-NetFirewallRule -Group {ps_string(GROUP)} -ErrorAction SilentlyContinue |"
        " Remove-NetFirewallRule",
    ]
    for rule in c.rules:
        out += rule_lines(c, rule, host.name)
    out += [
        "Set-NetFirewallProfile -All -Enabled True -DefaultInboundAction Block",
        f"Write-Host 'pathsec: {len(c.rules)} rules written.'",
        "",
    ]
    return HostFile("\r\n".join(out), len(c.rules), ()), c
