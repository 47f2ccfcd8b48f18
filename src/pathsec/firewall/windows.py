"""Windows Firewall: a PowerShell script of ``New-NetFirewallRule`` per host, and KB 154596.

Per host with a host firewall: inbound allow rules scoped by remote address, protocol and
local port, grouped as ``pathsec`` so a rerun replaces them. For servers whose RPC dynamic
range is configured, the ``HKLM\\Software\\Microsoft\\Rpc\\Internet`` settings of KB 154596
as a ``.reg`` file and as PowerShell. Network firewalls are not a Windows target.
"""

from __future__ import annotations

from pathsec.firewall.interface import (
    Capabilities,
    FirewallError,
    Generator,
    GeneratorOptions,
    RenderedFile,
    Rendering,
    Selection,
    Target,
)
from pathsec.firewall.rules import (
    EnforcementPoint,
    address_text,
    enforcement_points,
    safe_name,
)
from pathsec.plan.models import HostInfo, Plan, PortSpan

RPC_KEY = r"Software\Microsoft\Rpc\Internet"


def _ps(text: str) -> str:
    """A PowerShell single-quoted string."""
    return "'" + text.replace("'", "''") + "'"


def _ps_list(items: list[str]) -> str:
    return "@(" + ", ".join(_ps(i) for i in items) + ")"


def render_rules(plan: Plan, point: EnforcementPoint) -> str:
    """The PowerShell script with the inbound rules of one host."""
    out = [
        f"# pathsec rules: Windows Firewall of {point.name!r}, deployment {plan.deployment!r}",
        "# Inbound allow rules for the planned flows only; the default inbound action is Block.",
        "# Needs the NetSecurity module (Windows Server 2012 / Windows 8 or later); on older",
        "# Windows the script stops at Import-Module. Existing allow rules outside the group",
        "# 'pathsec' stay in force: review them with",
        "#   Get-NetFirewallRule -Enabled True -Direction Inbound",
        "#Requires -RunAsAdministrator",
        "$ErrorActionPreference = 'Stop'",
        "Import-Module NetSecurity",
        "Get-NetFirewallRule -Group 'pathsec' -ErrorAction SilentlyContinue |"
        " Remove-NetFirewallRule",
        "Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True"
        " -DefaultInboundAction Block",
        "",
    ]
    for rule in point.rules:
        remote = [address_text(n) for fm in rule.families for n in fm.sources]
        local = [address_text(n) for fm in rule.families for n in fm.destinations]
        name = f"pathsec {rule.flow.id} {rule.protocol}"
        out.append(f"# {rule.comment}")
        out.append(
            f"New-NetFirewallRule -Name {_ps(name)} -DisplayName {_ps(name)} -Group 'pathsec'"
            f" -Direction Inbound -Action Allow -Profile Any -Protocol {rule.protocol.upper()}"
            f" -LocalPort {_ps(str(rule.ports))} -RemoteAddress {_ps_list(remote)}"
            f" -LocalAddress {_ps_list(local)} -Description {_ps(rule.comment)} | Out-Null"
        )
    out.append("")
    return "\r\n".join(out)


def _rpc_range(host: HostInfo) -> PortSpan:
    if host.rpc_range is None:
        raise FirewallError(
            f"host {host.name!r}: rpc_range_configured is true but the plan gives no rpc_range"
        )
    return host.rpc_range


def render_reg(host: HostInfo) -> str:
    """KB 154596 settings as a ``.reg`` file (``Ports`` is REG_MULTI_SZ, hex(7))."""
    span = _rpc_range(host)
    value = f"{span.start}-{span.end}"
    raw = (value + "\0\0").encode("utf-16-le")
    hexed = ",".join(f"{b:02x}" for b in raw)
    return "\r\n".join(
        [
            "Windows Registry Editor Version 5.00",
            "",
            f"; pathsec: RPC dynamic port range of {host.name} (KB 154596); restart to apply",
            f"[HKEY_LOCAL_MACHINE\\{RPC_KEY}]",
            f'"Ports"=hex(7):{hexed}',
            '"PortsInternetAvailable"="Y"',
            '"UseInternetPorts"="Y"',
            "",
        ]
    )


def render_rpc_ps1(host: HostInfo) -> str:
    """KB 154596 settings as PowerShell."""
    span = _rpc_range(host)
    key = f"HKLM:\\{RPC_KEY}"
    return "\r\n".join(
        [
            f"# pathsec: RPC dynamic port range of {host.name!r} (KB 154596)",
            "#Requires -RunAsAdministrator",
            "$ErrorActionPreference = 'Stop'",
            f"New-Item -Path {_ps(key)} -Force | Out-Null",
            f"New-ItemProperty -Path {_ps(key)} -Name 'Ports' -PropertyType MultiString"
            f" -Value @('{span.start}-{span.end}') -Force | Out-Null",
            f"New-ItemProperty -Path {_ps(key)} -Name 'PortsInternetAvailable' -PropertyType String"
            " -Value 'Y' -Force | Out-Null",
            f"New-ItemProperty -Path {_ps(key)} -Name 'UseInternetPorts' -PropertyType String"
            " -Value 'Y' -Force | Out-Null",
            "Write-Host 'RPC port range set; restart the server for it to take effect.'",
            "",
        ]
    )


class WindowsGenerator(Generator):
    """PowerShell New-NetFirewallRule scripts per host plus the KB 154596 RPC range."""

    target = Target.windows
    capabilities = Capabilities(
        network_firewalls=False,
        host_firewalls=True,
        interfaces=False,
        description="Windows Firewall inbound rules per host; KB 154596 registry settings",
    )

    def render(self, plan: Plan, selection: Selection, options: GeneratorOptions) -> Rendering:
        """``host-X.ps1`` per host, plus ``host-X-rpc.reg`` / ``-rpc.ps1`` with a set RPC range."""
        files: list[RenderedFile] = []
        for p in enforcement_points(plan, selection, options, hosts_only=True):
            assert p.host is not None
            files.append(RenderedFile(f"{p.slug}.ps1", render_rules(plan, p)))
            if p.host.rpc_range_configured:
                files.append(RenderedFile(f"{p.slug}-rpc.reg", render_reg(p.host)))
                files.append(RenderedFile(f"{p.slug}-rpc.ps1", render_rpc_ps1(p.host)))
        if selection.host is None:
            # Servers with a configured RPC range but no host firewall still need the range.
            for h in plan.hosts:
                if h.rpc_range_configured and not h.host_firewall:
                    slug = f"host-{safe_name(h.name)}"
                    files.append(RenderedFile(f"{slug}-rpc.reg", render_reg(h)))
                    files.append(RenderedFile(f"{slug}-rpc.ps1", render_rpc_ps1(h)))
        return Rendering(tuple(files))
