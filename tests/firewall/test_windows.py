"""Windows host firewalls: each server in its own Windows' format, checked by syntax.

The ``.cmd`` files go through the netsh grammar validator and the ``.ps1`` files through
tree-sitter's PowerShell parser and the PowerShell version check
(:mod:`firewall.windows_syntax`); the semantics (what each flavour opens, refuses and how
it names its rules) are asserted on the hand-built flavours plan (one server of each).
"""

from __future__ import annotations

import re

import pytest

from firewall.conftest import (
    EXAMPLES,
    FLAVOURS,
    REPO,
    RPC,
    example_plan,
    flavours_plan,
    lab_plan,
    options,
    options_for,
)
from firewall.windows_syntax import check_cmd, check_ps1
from pathsec.firewall import FirewallError, Selection, Target, generate, render
from pathsec.plan.models import Plan

PLANS = {
    "lab": lab_plan,
    "flavours": flavours_plan,
    **{p.stem: (lambda p=p: example_plan(p)) for p in EXAMPLES},
}


def _windows(plan: Plan) -> dict[str, str]:
    return {
        f.name: f.content for f in generate(plan, Target.windows, Selection(), options_for(plan))
    }


@pytest.mark.parametrize("name", list(PLANS))
def test_every_windows_file_passes_its_syntax_check(name: str) -> None:
    plan = PLANS[name]()
    versions = {h.name: h.windows for h in plan.hosts}
    checked = 0
    for fname, text in _windows(plan).items():
        host = fname.removeprefix("host-").split(".")[0].removesuffix("-rpc")
        version = versions[host] or ""
        if fname.endswith("-rpc.ps1"):
            assert check_ps1(text, 1.0) == [], fname  # Exchange 2007's shell is 1.0
        elif fname.endswith(".ps1"):
            assert version[:4] >= "2012", fname
            assert check_ps1(text, 3.0) == [], fname  # Windows Server 2012 ships 3.0
        elif fname.endswith(".cmd"):
            assert check_cmd(text, version) == [], fname
        else:
            assert fname.endswith((".reg", ".flows")), fname
            continue
        checked += 1
    assert checked or name == "small"


def test_each_flavour_gets_its_own_format() -> None:
    files = _windows(flavours_plan())
    for name, version in FLAVOURS.items():
        if version.startswith("2003"):
            text = files[f"host-{name}.cmd"]
            assert "netsh firewall add portopening" in text and "advfirewall" not in text
        elif version.startswith("2008"):
            text = files[f"host-{name}.cmd"]
            assert "netsh advfirewall firewall add rule name=pathsec" in text
            assert "netsh firewall " not in text
        else:
            text = files[f"host-{name}.ps1"]
            assert "New-NetFirewallRule" in text and f"host-{name}.cmd" not in files
            # no construct newer than the OS: PowerShell 3.0 on 2012
            assert "#Requires -RunAsAdministrator" not in text
            assert "#Requires -Version 3.0" in text
        assert "RunAsAdministrator" not in files.get(f"host-{name}-rpc.ps1", "")


def test_2003_openings_programs_and_refusals() -> None:
    r = render(
        flavours_plan(), Target.windows, Selection(host="W2003"), options_for(flavours_plan())
    )
    text = next(f.content for f in r.files if f.name == "host-W2003.cmd")
    (summary,) = r.points
    refused = {x.flow: x.reason for x in summary.refused}
    # IPv6 cannot be scoped: the IPv6 part of dual-stack flows is refused, IPv4 opened
    assert "IPv6" in refused["client_access.owa:internet-users>W2003:tcp/443"]
    assert (
        "addresses=203.0.113.0/24 profile=ALL" in text
        and "2001:db8" not in text.split("setlocal")[1]
    )
    # one opening per port: the small range 5060-5062 as three openings
    assert all(f"port={p} name=" in text for p in (5060, 5061, 5062))
    # the RPC range of the Information Store: an allowed program, scoped
    assert 'add allowedprogram program="%PATHSEC_EXBIN%\\store.exe"' in text
    assert 'reg query "HKLM\\SOFTWARE\\Microsoft\\Exchange\\Setup" /v MsiInstallPath' in text
    # ... but the remote registry's RPC range has no single executable: refused, named
    assert (
        "no single service executable"
        in refused["mailbox.admin_remote_registry:admins>W2003:tcp/6005-6010"]
    )
    # a large range is refused, never widened, with the protocol chosen in the label
    assert "does not widen" in refused["mailbox.legacy_backup:BK1>W2003:tcp/1025-65535"]
    assert "port=1025" not in text
    # TCP 135 from both sources: one opening, scope = union
    assert (
        'port=135 name="pathsec TCP 135" mode=ENABLE scope=CUSTOM addresses=10.1.0.10,10.1.9.0/26'
        in text
    )
    assert "What netsh firewall cannot express" in text and "REFUSED (" in text


def test_2008_has_no_ranges_but_rpc_keywords_and_2008_r2_has_ranges() -> None:
    files = _windows(flavours_plan())
    w2008, r2 = files["host-W2008.cmd"], files["host-W2008R2.cmd"]
    for text in (w2008, r2):
        assert "localport=RPC localip=" in text  # the RPC range: only what the mapper handed out
        assert (
            'localport=RPC-EPMap program="%%SystemRoot%%\\system32\\svchost.exe" service=rpcss'
            in text
        )
        assert f"localport={RPC.start}" not in text
        assert "netsh advfirewall firewall delete rule name=pathsec dir=in" in text
        assert "firewallpolicy blockinbound,allowoutbound" in text
    assert "localport=3343,5060,5061,5062" in w2008  # a small range, port by port
    assert "localport=3343,5060-5062" in r2
    assert "1025-65535" not in w2008.split("setlocal")[1]  # refused on 2008 ...
    assert "localport=1025-65535" in r2  # ... a range on 2008 R2
    assert "localip=10.1.0.32,fd00:1::20" in w2008  # this host's addresses, both families


def test_2012_script_groups_its_rules_and_uses_rpc_keywords() -> None:
    text = _windows(flavours_plan())["host-W2012.ps1"]
    assert (
        "Get-NetFirewallRule -Group 'pathsec' -ErrorAction SilentlyContinue | Remove-NetFirewallRule"
        in text
    )
    assert (
        "-LocalPort RPCEPMap -Program '%SystemRoot%\\system32\\svchost.exe' -Service 'RpcSs'"
        in text
    )
    assert "-LocalPort RPC -RemoteAddress" in text
    assert "-LocalPort @('3343', '5060-5062')" in text
    assert len(re.findall(r"^New-NetFirewallRule ", text, re.M)) == 7
    assert "IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)" in text


def test_validators_catch_what_a_windows_file_must_not_contain() -> None:
    files = _windows(flavours_plan())
    w2003, w2008, r2 = files["host-W2003.cmd"], files["host-W2008.cmd"], files["host-W2008R2.cmd"]
    assert check_cmd(r2.replace("localport=1025-65535", "localport=1025-65535"), "2008-r2") == []
    assert check_cmd(r2, "2008"), "a range passes on 2008"
    assert check_cmd(w2003.replace("addresses=10.1.0.10 ", "addresses=fd00::1 ", 1), "2003")
    assert check_cmd(w2008.replace('description="r1', 'description="r1 & del x', 1), "2008")
    assert check_cmd(w2008.replace("dir=in action=allow", "dir=in action=allow & calc", 1), "2008")
    assert check_cmd(w2008.replace("goto :failed", "goto :nowhere", 1), "2008")
    assert check_cmd(w2008.replace("profile=any", "profile=any foo=bar", 1), "2008")
    assert check_cmd(w2008.replace("\r\n", "\n"), "2008")
    assert check_cmd(
        w2003.replace("netsh firewall add", "netsh advfirewall firewall add", 1), "2003"
    )
    ps = files["host-W2012.ps1"]
    assert check_ps1(ps.replace("#Requires -Version 3.0", "#Requires -RunAsAdministrator"), 3.0)
    assert check_ps1(ps.replace("| Out-Null", "| Out-Null }", 1), 3.0)
    assert check_ps1(ps + "Invoke-Expression 'x'\r\n", 3.0)
    assert check_ps1(files["host-W2012-rpc.ps1"] + "Get-CimInstance Win32_OS\r\n", 1.0)


def test_kb154596_reg_for_every_flavour_with_a_configured_range() -> None:
    files = _windows(flavours_plan())
    for name in ("W2003", "W2008", "W2012"):  # rpc_range_configured on every other server
        reg = files[f"host-{name}-rpc.reg"]
        hexed = re.search(r'"Ports"=hex\(7\):([0-9a-f,]+)', reg)
        assert hexed
        raw = bytes(int(b, 16) for b in hexed.group(1).split(","))
        assert raw.decode("utf-16-le") == f"{RPC.start}-{RPC.end}\0\0"
        assert '"PortsInternetAvailable"="Y"' in reg and '"UseInternetPorts"="Y"' in reg
        assert "[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Rpc\\Internet]" in reg
        assert "-PropertyType MultiString -Value @('6005-6010')" in files[f"host-{name}-rpc.ps1"]
    assert "host-W2003R2-rpc.reg" not in files


def test_windows_refuses_network_firewalls() -> None:
    with pytest.raises(FirewallError, match="writes host firewalls only"):
        generate(lab_plan(), Target.windows, Selection(firewall="fw-outer"), options())


def test_a_deployment_with_windows_2012_and_later() -> None:
    from pathsec.catalog import load_catalog
    from pathsec.inventory.exchange import windows_version
    from pathsec.plan import build_plan
    from pathsec.topology import load_deployment_text

    text = (REPO / "examples" / "small.yaml").read_text()
    text = text.replace(
        'windows: "2003"               # RPC dynamic range 1025-5000 by default',
        "windows: 2019\n    host_firewall: true",
    )
    plan = build_plan(load_catalog(), load_deployment_text(text, "small-2019.yaml"))
    dc1 = plan.host("DC1")
    assert dc1.windows == "2019" and str(dc1.rpc_range) == "49152-65535"
    files = {f.name: f.content for f in generate(plan, Target.windows, Selection(), options())}
    assert check_ps1(files["host-DC1.ps1"], 3.0) == []
    assert "-LocalPort RPC " in files["host-DC1.ps1"]
    # Exchange 2007 itself does not run there
    text = text.replace('windows: "2008"               #', 'windows: "2012-r2"  #')
    plan = build_plan(load_catalog(), load_deployment_text(text, "small-2012.yaml"))
    assert any(f.id == "PS-TOPO-015" and "EX1" in f.objects for f in plan.findings)
    assert windows_version("6.3.9600", "Microsoft Windows Server 2012 R2 Standard") == "2012-r2"
    assert windows_version("10.0.17763", "Microsoft Windows Server 2019 Datacenter") == "2019"
