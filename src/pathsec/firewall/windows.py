"""Windows Firewall: each server's rules in the format of its own Windows, and KB 154596.

Per host with a host firewall, by the plan's ``windows`` version:

- 2003 / 2003 R2: ``host-X.cmd`` of ``netsh firewall`` (:mod:`.windows_netsh_fw`);
- 2008 / 2008 R2: ``host-X.cmd`` of ``netsh advfirewall`` (:mod:`.windows_advfirewall`);
- 2012 and later: ``host-X.ps1`` of ``New-NetFirewallRule`` (:mod:`.windows_netsecurity`);

with ``host-X.flows`` listing the flows of each rule. For servers whose RPC dynamic range
is configured, the ``HKLM\\Software\\Microsoft\\Rpc\\Internet`` settings of KB 154596 as a
``.reg`` file (``reg import`` or ``regedit /s``, every version) and as a PowerShell 1.0
script. Network firewalls are not a Windows target.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from pathsec.firewall.consolidate import SetNamer
from pathsec.firewall.interface import (
    Capabilities,
    Encoding,
    FirewallError,
    Generator,
    GeneratorOptions,
    PointSummary,
    RenderedFile,
    Rendering,
    Selection,
    Target,
)
from pathsec.firewall.rules import enforcement_points, safe_name, skipped_hosts
from pathsec.firewall.windows_advfirewall import render_host as render_advfirewall
from pathsec.firewall.windows_common import Flavour, flavour_of
from pathsec.firewall.windows_netsecurity import ADMIN_CHECK
from pathsec.firewall.windows_netsecurity import render_host as render_netsecurity
from pathsec.firewall.windows_netsh_fw import HostFile
from pathsec.firewall.windows_netsh_fw import render_host as render_netsh_fw
from pathsec.plan.models import HostInfo, Plan, PortSpan
from pathsec.quoting import (
    ps_comment,
    ps_list,
    ps_string,
    reg_comment,
    reg_key,
    reg_multi_sz,
    reg_string,
)

RPC_KEY = r"Software\Microsoft\Rpc\Internet"
PS1: Final[Encoding] = "utf-8-bom"  # Windows PowerShell 5.1 reads a BOM-less script as ANSI
REG: Final[Encoding] = "utf-16le-bom"  # as regedit writes .reg files


def _rpc_range(host: HostInfo) -> PortSpan:
    if host.rpc_range is None:
        raise FirewallError(
            f"host {host.name!r}: rpc_range_configured is true but the plan gives no rpc_range"
        )
    return host.rpc_range


def render_reg(host: HostInfo) -> str:
    """KB 154596 settings as a ``.reg`` file (``Ports`` is REG_MULTI_SZ, hex(7)).

    Names, values and comments go through :mod:`pathsec.quoting` (no CR or LF can start
    another entry); the file is written as UTF-16LE with a BOM, as regedit does.
    """
    span = _rpc_range(host)
    value = f"{span.start}-{span.end}"
    return "\r\n".join(
        [
            "Windows Registry Editor Version 5.00",
            "",
            reg_comment(
                f"pathsec: RPC dynamic port range of {host.name} (KB 154596); restart to apply"
            ),
            reg_comment(f"Apply on any Windows: reg import host-{safe_name(host.name)}-rpc.reg"),
            reg_key(f"HKEY_LOCAL_MACHINE\\{RPC_KEY}"),
            f"{reg_string('Ports')}={reg_multi_sz([value])}",
            f"{reg_string('PortsInternetAvailable')}={reg_string('Y')}",
            f"{reg_string('UseInternetPorts')}={reg_string('Y')}",
            "",
        ]
    )


def render_rpc_ps1(host: HostInfo) -> str:
    """KB 154596 settings as a PowerShell 1.0 script (Exchange 2007's shell has 1.0)."""
    span = _rpc_range(host)
    key = f"HKLM:\\{RPC_KEY}"
    return "\r\n".join(
        [
            ps_comment(f"pathsec: RPC dynamic port range of {host.name} (KB 154596)"),
            ps_comment("PowerShell 1.0 and later; the .reg file does the same without PowerShell."),
            *ADMIN_CHECK,
            "$ErrorActionPreference = 'Stop'",
            f"New-Item -Path {ps_string(key)} -Force | Out-Null",
            f"New-ItemProperty -Path {ps_string(key)} -Name 'Ports' -PropertyType MultiString"
            f" -Value {ps_list([f'{span.start}-{span.end}'])} -Force | Out-Null",
            f"New-ItemProperty -Path {ps_string(key)} -Name 'PortsInternetAvailable'"
            " -PropertyType String -Value 'Y' -Force | Out-Null",
            f"New-ItemProperty -Path {ps_string(key)} -Name 'UseInternetPorts'"
            " -PropertyType String -Value 'Y' -Force | Out-Null",
            "Write-Host 'RPC port range set; restart the server for it to take effect.'",
            "",
        ]
    )


def _rpc_files(host: HostInfo) -> list[RenderedFile]:
    slug = f"host-{safe_name(host.name)}"
    return [
        RenderedFile(f"{slug}-rpc.reg", render_reg(host), REG),
        RenderedFile(f"{slug}-rpc.ps1", render_rpc_ps1(host), PS1),
    ]


class WindowsGenerator(Generator):
    """Per host: netsh firewall (2003), netsh advfirewall (2008) or New-NetFirewallRule
    (2012+), plus the KB 154596 RPC range."""

    target = Target.windows
    capabilities = Capabilities(
        network_firewalls=False,
        host_firewalls=True,
        description="Windows Firewall inbound rules per host in its own Windows' format; "
        "KB 154596 registry settings",
    )

    def render(self, plan: Plan, selection: Selection, options: GeneratorOptions) -> Rendering:
        """``host-X.cmd`` or ``.ps1`` per host by its Windows, its ``.flows``, and
        ``host-X-rpc.reg`` / ``-rpc.ps1`` where the RPC range is configured."""
        files: list[RenderedFile] = []
        summaries: list[PointSummary] = []
        namer = SetNamer(plan)
        options = replace(options, host_format="own")  # only Windows has a Windows flavour
        points = enforcement_points(plan, selection, options, hosts_only=True, family="windows")
        for p in points:
            assert p.host is not None
            flavour = flavour_of(p.host)
            side = f"{p.slug}.flows"
            ext = "ps1" if flavour is Flavour.netsecurity else "cmd"
            if flavour is Flavour.netsh_firewall:
                out: HostFile = render_netsh_fw(plan, p, side)
                side_text = out.side
            else:
                if flavour is Flavour.netsecurity:
                    out, c = render_netsecurity(plan, p, namer)
                else:
                    out, c = render_advfirewall(plan, p, namer, flavour)
                side_text = next((f.content for f in c.files()), None)
            encoding: Encoding = PS1 if ext == "ps1" else "utf-8"  # .cmd: ASCII (allow-list)
            files.append(RenderedFile(f"{p.slug}.{ext}", out.text, encoding))
            if side_text is not None:
                files.append(RenderedFile(side, side_text))
            summaries.append(
                PointSummary(
                    "host",
                    p.name,
                    f"windows {p.host.windows}: {flavour}",
                    len({r.flow.id for r in p.rules}),
                    len(p.rules),
                    out.rules,
                    out.refused,
                )
            )
            if p.host.rpc_range_configured:
                files += _rpc_files(p.host)
        if selection.host is None:
            # Servers with a configured RPC range but no host firewall still need the range.
            for h in plan.hosts:
                if h.rpc_range_configured and not h.host_firewall:
                    files += _rpc_files(h)
        return Rendering(
            tuple(files), tuple(summaries), skipped_hosts(plan, selection, options, "windows")
        )
