"""What the Windows host firewall writers share: the flavour per Windows release, cmd.exe
quoting, the RPC keywords and the notes every file carries.

Flavours (verified against Microsoft's documentation; sources in the README):

- 2003 / 2003 R2 (SP1 and later): Windows Firewall, ``netsh firewall``: inbound port
  openings and allowed programs scoped by remote IPv4 addresses; one port per opening.
- 2008: Windows Firewall with Advanced Security, ``netsh advfirewall firewall`` (KB 947709):
  rules with port lists, local and remote addresses, ``localport=RPC`` / ``RPC-EPMap``;
  no port ranges (Windows 7 / 2008 R2 added them).
- 2008 R2: as 2008, with port ranges.
- 2012 and later: ``New-NetFirewallRule`` (NetSecurity module, PowerShell 3.0).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from pathsec.firewall.interface import FirewallError
from pathsec.firewall.rules import FlowRule
from pathsec.plan.models import HostInfo
from pathsec.quoting import QuotingError, netsh_token


class Flavour(StrEnum):
    """The host firewall format of a Windows release."""

    netsh_firewall = "netsh firewall"
    advfirewall_2008 = "netsh advfirewall (2008)"
    advfirewall_2008_r2 = "netsh advfirewall (2008 R2)"
    netsecurity = "New-NetFirewallRule"


_FLAVOURS = {
    "2003": Flavour.netsh_firewall,
    "2003-r2": Flavour.netsh_firewall,
    "2008": Flavour.advfirewall_2008,
    "2008-r2": Flavour.advfirewall_2008_r2,
}


def flavour_of(host: HostInfo) -> Flavour:
    """The flavour of ``host``'s Windows (2012 and later: ``New-NetFirewallRule``)."""
    if not host.windows:
        raise FirewallError(
            f"host {host.name!r} is not a Windows server (the plan gives no Windows version): "
            "write its rules with --target nftables, iptables or aerleon"
        )
    return _FLAVOURS.get(host.windows, Flavour.netsecurity)


def release_name(host: HostInfo) -> str:
    """``Windows Server 2008 R2`` for ``2008-r2``."""
    return "Windows Server " + (host.windows or "?").replace("-r2", " R2")


def cmd_label(label: str) -> str:
    """A flow label as .cmd files write it: ``a>b`` (and ``a -> b``) become ``a to b``."""
    return label.replace(" -> ", " to ").replace(">", " to ")


def cmd_token(text: str) -> str:
    """A bare netsh value (:func:`pathsec.quoting.netsh_token`); a :class:`FirewallError`
    when the value is not plain."""
    try:
        return netsh_token(text)
    except QuotingError as exc:
        raise FirewallError(str(exc)) from None


# --- RPC ------------------------------------------------------------------------------------

#: The RPC endpoint mapper as Windows' own rules name it (jj717250; the "RPC Dependency"
#: page of the Windows Firewall API): svchost.exe hosting the RpcSs service, TCP 135.
EPMAP_PROGRAM = r"%SystemRoot%\system32\svchost.exe"
EPMAP_SERVICE = "rpcss"


def _rpc_path(rule: FlowRule) -> bool:
    return any(p.label is not None and "RPC" in p.label for p in rule.path.ports)


def rpc_kind(rule: FlowRule, host: HostInfo) -> str:
    """``RPC`` for a flow to ``host``'s RPC dynamic range, ``RPC-EPMap`` for TCP 135, else
    ``ports``.

    ``localport=RPC`` matches only the ports the endpoint mapper handed out, tighter than
    the whole range; ``RPC-EPMap`` only the endpoint mapper itself (RpcSs) on TCP 135. A
    flow is to the RPC range when its range is the host's ``rpc_range`` and its catalog
    path is an RPC path: decided from the catalog and the plan's host, never from a flow's
    free-text label.
    """
    if rule.protocol != "tcp":
        return "ports"
    span = rule.flow.port_range
    if span is not None and span == host.rpc_range and _rpc_path(rule):
        return "RPC"
    if rule.ports.start == rule.ports.end == 135:
        return "RPC-EPMap"
    return "ports"


def rpc_kind_of(host: HostInfo) -> Callable[[FlowRule], str]:
    """:func:`rpc_kind` for the flows to one host (a consolidation ``kind_of``)."""
    return lambda rule: rpc_kind(rule, host)


def span_size(rule: FlowRule) -> int:
    """How many ports a rule's span covers."""
    return rule.ports.end - rule.ports.start + 1


#: A range up to this many ports is written as a list of single ports where the platform
#: has no ranges (2003 openings, 2008 rules); a larger one is refused.
EXPAND_MAX = 16
