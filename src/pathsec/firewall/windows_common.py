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

import re
from enum import StrEnum

from pathsec.firewall.interface import FirewallError
from pathsec.firewall.rules import FlowRule, is_rpc_range
from pathsec.plan.models import HostInfo


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


# --- cmd.exe ----------------------------------------------------------------------------

#: What reaches a .cmd file from data: letters, digits, space and ``_ . : ; / ( ) + - # @ '``.
#: Everything cmd.exe or netsh treat specially (``& | < > ^ % " ! , =`` and controls) is not
#: in the list and becomes ``_``; a flow's ``>`` is written `` to `` first (:func:`cmd_label`).
_CMD_BAD = re.compile(r"[^A-Za-z0-9 _.:;/()+\-#@']")
_CMD_TOKEN = re.compile(r"[A-Za-z0-9_.:/\-]+")


def cmd_text(text: str, limit: int = 1000) -> str:
    """``text`` reduced to the cmd.exe allow-list, cut to ``limit`` characters."""
    clean = _CMD_BAD.sub("_", text)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def cmd_quoted(text: str, limit: int = 1000) -> str:
    """A double-quoted netsh argument value (``name="…"``, ``description="…"``)."""
    return f'"{cmd_text(text, limit)}"'


#: ``rem`` lines may also hold ``,`` and ``=`` (cmd.exe ignores the rest of a ``rem`` line but
#: still expands ``%``, and a caret could continue it: those stay out).
_REM_BAD = re.compile(r"[^A-Za-z0-9 _.:;/()+\-#@',=]")


def cmd_rem(text: str) -> str:
    """A ``rem`` comment line (the cmd.exe allow-list plus ``,`` and ``=``)."""
    body = _REM_BAD.sub("_", text)[:1000]
    return f"rem {body}" if body else "rem"


def cmd_token(text: str) -> str:
    """A bare netsh value (addresses, ports, keywords): refused unless plain."""
    if not _CMD_TOKEN.fullmatch(text):
        raise FirewallError(f"{text!r} is not a plain netsh value")
    return text


def cmd_label(label: str) -> str:
    """A flow label as .cmd files write it: ``a>b`` (and ``a -> b``) become ``a to b``."""
    return label.replace(" -> ", " to ").replace(">", " to ")


# --- RPC ------------------------------------------------------------------------------------

#: The RPC endpoint mapper as Windows' own rules name it (jj717250; the "RPC Dependency"
#: page of the Windows Firewall API): svchost.exe hosting the RpcSs service, TCP 135.
EPMAP_PROGRAM = r"%SystemRoot%\system32\svchost.exe"
EPMAP_SERVICE = "rpcss"


def rpc_kind(rule: FlowRule) -> str:
    """``RPC`` for a flow to an RPC dynamic range, ``RPC-EPMap`` for TCP 135, else ``ports``.

    ``localport=RPC`` matches only the ports the endpoint mapper handed out, tighter than
    the whole range; ``RPC-EPMap`` only the endpoint mapper itself (RpcSs) on TCP 135.
    """
    if rule.protocol != "tcp":
        return "ports"
    if rule.flow.port_range is not None and is_rpc_range(rule.flow, rule.path):
        return "RPC"
    if rule.ports.start == rule.ports.end == 135:
        return "RPC-EPMap"
    return "ports"


def span_size(rule: FlowRule) -> int:
    """How many ports a rule's span covers."""
    return rule.ports.end - rule.ports.start + 1


#: A range up to this many ports is written as a list of single ports where the platform
#: has no ranges (2003 openings, 2008 rules); a larger one is refused.
EXPAND_MAX = 16
