"""Syntax checks for the Windows files, runnable without Windows.

- ``.cmd`` files: :func:`check_cmd`, a validator for exactly the grammar pathsec emits: the
  fixed cmd.exe lines (``@echo off``, ``setlocal``, the admin check, labels, ``exit /b``, the
  Exchange install path lookup), ``rem`` lines from the allow-list, and every ``netsh``
  command parsed argument by argument against the syntax of ``netsh firewall`` (Windows
  Server 2003 SP1: ``add|delete portopening``, ``add|delete allowedprogram``, ``set
  opmode``) or ``netsh advfirewall`` (2008: ``add|delete rule``, ``set allprofiles``):
  required and allowed keys in order, values (protocols, ports, IPv4 scopes on 2003,
  IPv4/IPv6 lists, ranges only on 2008 R2, ``RPC``/``RPC-EPMap`` with TCP, quoted strings
  free of ``"`` and ``%``). No cmd.exe metacharacter may stand outside the fixed lines and
  quoted values; ``goto`` targets must exist; lines stay under cmd.exe's 8,191 characters.
- ``.ps1`` files: :func:`check_ps1`, tree-sitter's PowerShell grammar (a real parser:
  no ERROR or MISSING node) and :mod:`pathsec.inventory.ps1check` for the PowerShell
  version every construct needs (at most 3.0 for ``New-NetFirewallRule`` scripts, 1.0 for
  the KB 154596 script), and the cmdlets must be the ones pathsec means to call.
"""

from __future__ import annotations

import ipaddress
import re

from pathsec.inventory.ps1check import check_script

FIXED_LINES = {
    "@echo off",
    "setlocal",
    "net session >nul 2>&1",
    "if errorlevel 1 goto :notadmin",
    "if errorlevel 1 goto :failed",
    "if not defined PATHSEC_EXBIN goto :noexchange",
    'set "PATHSEC_EXBIN="',
    'for /f "tokens=2,*" %%A in (\'reg query "HKLM\\SOFTWARE\\Microsoft\\Exchange\\Setup" '
    '/v MsiInstallPath 2^>nul ^| find "REG_SZ"\') do set "PATHSEC_EXBIN=%%Bbin"',
    "exit /b 0",
    "exit /b 1",
    ":notadmin",
    ":failed",
    ":noexchange",
    "netsh firewall set opmode mode=ENABLE exceptions=ENABLE profile=ALL",
    "netsh advfirewall firewall delete rule name=pathsec dir=in >nul 2>&1",
    "netsh advfirewall set allprofiles state on",
    "netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound",
}
_REM = re.compile(r"rem( [A-Za-z0-9 _.:;/()+\-#@',=]*)?")
_ECHO = re.compile(r"echo pathsec: [A-Za-z0-9 ,.;:()=\-]*")
_QUOTED = re.compile(r'"[A-Za-z0-9 _.:;/()+\-#@\'>]*"')
_PROGRAMS = {
    r"%PATHSEC_EXBIN%\store.exe",
    r"%PATHSEC_EXBIN%\mad.exe",
    r"%SystemRoot%\Cluster\clussvc.exe",
    r"%SystemRoot%\system32\lsass.exe",
}
_EPMAP_PROGRAM = r"%%SystemRoot%%\system32\svchost.exe"
META = set('&|<>^%"!')


def _args(text: str) -> list[tuple[str, str]]:
    """``key=value`` arguments; a value is a bare token or one double-quoted string."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in re.finditer(r'\s*([a-z]+)=("[^"]*"|[^\s"]+)', text):
        if m.start() != pos:
            raise ValueError(f"cannot parse arguments at {text[pos : pos + 40]!r}")
        out.append((m.group(1), m.group(2)))
        pos = m.end()
    if text[pos:].strip():
        raise ValueError(f"trailing text {text[pos:]!r}")
    return out


def _quoted(value: str, what: str) -> str:
    if not _QUOTED.fullmatch(value):
        raise ValueError(f"{what}: {value!r} is not a safe quoted string")
    return value[1:-1]


def _addresses(value: str, v4_only: bool) -> None:
    for item in value.split(","):
        net = ipaddress.ip_network(item, strict=True)
        if v4_only and net.version != 4:
            raise ValueError(f"netsh firewall scopes take IPv4 only: {item}")


def _port(value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", value) or not 1 <= int(value) <= 65535:
        raise ValueError(f"bad port {value!r}")
    return int(value)


def _check_keys(
    args: list[tuple[str, str]], required: list[str], optional: set[str]
) -> dict[str, str]:
    keys = [k for k, _ in args]
    if len(set(keys)) != len(keys):
        raise ValueError(f"repeated keys {keys}")
    missing = [k for k in required if k not in keys]
    unknown = [k for k in keys if k not in required and k not in optional]
    if missing or unknown:
        raise ValueError(f"missing {missing}, unknown {unknown}")
    return dict(args)


def _netsh_firewall(rest: str) -> None:
    """``netsh firewall add|delete portopening|allowedprogram`` (Windows Server 2003 SP1)."""
    m = re.fullmatch(r"(add|delete) (portopening|allowedprogram)(.*?)( >nul 2>&1)?", rest)
    if not m:
        raise ValueError(f"unknown netsh firewall command {rest[:60]!r}")
    verb, obj, argtext, quiet = m.groups()
    if (verb == "delete") != bool(quiet):
        raise ValueError("deletes (and only deletes) ignore errors")
    args = _args(argtext)
    if obj == "portopening":
        if verb == "add":
            a = _check_keys(
                args, ["protocol", "port", "name", "mode", "scope", "addresses", "profile"], set()
            )
            _quoted(a["name"], "name")
            if a["mode"] != "ENABLE" or a["scope"] != "CUSTOM":
                raise ValueError("openings are enabled with a custom scope")
            _addresses(a["addresses"], v4_only=True)
        else:
            a = _check_keys(args, ["protocol", "port", "profile"], set())
        if a["protocol"] not in ("TCP", "UDP"):
            raise ValueError(f"protocol {a['protocol']}")
        _port(a["port"])
    else:
        if verb == "add":
            a = _check_keys(
                args, ["program", "name", "mode", "scope", "addresses", "profile"], set()
            )
            _quoted(a["name"], "name")
            if a["mode"] != "ENABLE" or a["scope"] != "CUSTOM":
                raise ValueError("programs are enabled with a custom scope")
            _addresses(a["addresses"], v4_only=True)
        else:
            a = _check_keys(args, ["program", "profile"], set())
        if a["program"].strip('"') not in _PROGRAMS or not a["program"].startswith('"'):
            raise ValueError(f"program {a['program']}")
    if a["profile"] != "ALL":
        raise ValueError("profile=ALL")


def _netsh_advfirewall(rest: str, ranges: bool) -> None:
    """``netsh advfirewall firewall add rule`` (Windows Server 2008 / 2008 R2)."""
    m = re.fullmatch(r"firewall add rule(.*)", rest)
    if not m:
        raise ValueError(f"unknown netsh advfirewall command {rest[:60]!r}")
    a = _check_keys(
        _args(m.group(1)),
        [
            "name",
            "dir",
            "action",
            "enable",
            "profile",
            "protocol",
            "localport",
            "localip",
            "description",
            "remoteip",
        ],
        {"program", "service"},
    )
    fixed = {"name": "pathsec", "dir": "in", "action": "allow", "enable": "yes", "profile": "any"}
    for key, value in fixed.items():
        if a[key] != value:
            raise ValueError(f"{key}={a[key]}")
    if a["protocol"] not in ("tcp", "udp"):
        raise ValueError(f"protocol {a['protocol']}")
    port = a["localport"]
    if port in ("RPC", "RPC-EPMap"):
        if a["protocol"] != "tcp":
            raise ValueError(f"{port} needs protocol=tcp")
        if port == "RPC-EPMap" and (
            a.get("program") != f'"{_EPMAP_PROGRAM}"' or a.get("service") != "rpcss"
        ):
            raise ValueError("RPC-EPMap is the endpoint mapper: svchost.exe, service rpcss")
    else:
        if "program" in a or "service" in a:
            raise ValueError("program/service only with RPC-EPMap")
        for item in port.split(","):
            lo, dash, hi = item.partition("-")
            if dash and not ranges:
                raise ValueError(f"port range {item} on Windows Server 2008")
            if dash and _port(lo) > _port(hi):
                raise ValueError(f"empty range {item}")
            _port(lo)
    _addresses(a["localip"], v4_only=False)
    _addresses(a["remoteip"], v4_only=False)
    _quoted(a["description"], "description")


def check_cmd(text: str, flavour: str) -> list[str]:
    """Every problem of a pathsec ``.cmd`` for ``flavour`` (``2003``, ``2008``, ``2008-r2``)."""
    problems: list[str] = []
    if not text.endswith("\r\n") or "\n" in text.replace("\r\n", ""):
        problems.append("lines must end with CRLF")
    if not text.isascii():
        problems.append("non-ASCII text (cmd.exe reads the OEM code page)")
    labels = set()
    gotos = set()
    for n, line in enumerate(text.split("\r\n")[:-1], start=1):
        try:
            if len(line) > 8191:
                raise ValueError("longer than cmd.exe reads")
            if line.startswith(":"):
                labels.add(line[1:])
            gotos.update(re.findall(r"goto :(\w+)", line))
            if line in FIXED_LINES:
                if line.startswith("netsh advfirewall") and flavour.startswith("2003"):
                    raise ValueError("netsh advfirewall on Windows Server 2003")
                if line.startswith("netsh firewall") and not flavour.startswith("2003"):
                    raise ValueError("netsh firewall on Windows Server 2008")
                continue
            if _REM.fullmatch(line) or _ECHO.fullmatch(line):
                continue
            if not line.startswith("netsh "):
                raise ValueError("not a line pathsec writes")
            outside = re.sub(r'"[^"]*"', "", line).replace(" >nul 2>&1", "")
            if META & set(outside):
                raise ValueError("cmd.exe metacharacter outside quotes")
            if flavour.startswith("2003"):
                if not line.startswith("netsh firewall "):
                    raise ValueError("Windows Server 2003 has netsh firewall only")
                _netsh_firewall(line[len("netsh firewall ") :])
            else:
                if not line.startswith("netsh advfirewall "):
                    raise ValueError("Windows Server 2008 files use netsh advfirewall")
                _netsh_advfirewall(line[len("netsh advfirewall ") :], flavour == "2008-r2")
        except ValueError as exc:
            problems.append(f"line {n}: {exc}: {line[:100]}")
    problems += [f"goto :{g} without the label" for g in sorted(gotos - labels)]
    return problems


# --- PowerShell ----------------------------------------------------------------------------

_VERSIONS = {"1.0": 1.0, "2.0": 2.0, "3.0": 3.0, "4.0": 4.0, "5.0": 5.0, "5.1": 5.1, "7.0": 7.0}
CMDLETS = {
    "New-Object",
    "Write-Host",
    "Import-Module",
    "Get-NetFirewallRule",
    "Remove-NetFirewallRule",
    "New-NetFirewallRule",
    "Set-NetFirewallProfile",
    "Out-Null",
    "New-Item",
    "New-ItemProperty",
}


def check_ps1(text: str, max_version: float) -> list[str]:
    """Every problem of a pathsec ``.ps1``: parse errors (tree-sitter), constructs newer than
    ``max_version`` (ps1check), cmdlets outside :data:`CMDLETS`, non-ASCII, ``#Requires``
    options the version lacks."""
    from tree_sitter_language_pack import get_parser

    problems: list[str] = []
    if not text.isascii():
        problems.append("non-ASCII text")
    data = text.encode("ascii", "replace")
    tree = get_parser("powershell").parse(data)

    def walk(node: object) -> None:
        n = node  # tree_sitter.Node
        if n.type == "ERROR" or n.is_missing:  # type: ignore[attr-defined]
            row = n.start_point[0] + 1  # type: ignore[attr-defined]
            problems.append(f"line {row}: PowerShell parse error ({n.type})")  # type: ignore[attr-defined]
            return
        if n.type == "command_name":  # type: ignore[attr-defined]
            name = data[n.start_byte : n.end_byte].decode()  # type: ignore[attr-defined]
            if name not in CMDLETS:
                problems.append(f"unexpected command {name}")
        for child in n.children:  # type: ignore[attr-defined]
            walk(child)

    walk(tree.root_node)
    for v in check_script(text):
        if v.version != "-" and _VERSIONS.get(v.version, 99.0) > max_version:
            problems.append(str(v))
    return problems
