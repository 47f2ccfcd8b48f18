"""The collector: PowerShell 1.0 syntax (static checker), a real PowerShell grammar parse
(tree-sitter), and agreement between the files it writes and the files the importer reads."""

from __future__ import annotations

import os
import re

import pytest

from pathsec.cli.main import run
from pathsec.inventory import collector_script
from pathsec.inventory.exports import FILES
from pathsec.inventory.ps1check import check_script, main

SCRIPT = collector_script()

# Each line uses one construct PowerShell 1.0 lacks; the checker must name it.
NEWER = {
    "try { Get-Foo } catch { }": "try",
    "$h = [ordered]@{ a = 1 }": "[ordered]",
    "$o = [pscustomobject]@{ a = 1 }": "[pscustomobject]",
    "$j = $h | ConvertTo-Json": "ConvertTo-Json",
    "$h = '{}' | ConvertFrom-Json": "ConvertFrom-Json",
    "Get-Item x -ErrorAction Ignore": "Ignore",
    "Get-Item x -ea:Ignore": "Ignore",
    "$ErrorActionPreference = 'Ignore'": "ErrorActionPreference",
    "Get-CimInstance Win32_OperatingSystem": "Get-CimInstance",
    "#Requires -Version 3": "#Requires -Version 3",
    "#Requires -Modules ActiveDirectory": "-modules",
    "if ($a -in $b) { }": "-in",
    "if ($a -notin $b) { }": "-notin",
    "$s = $parts -join ','": "-join",
    "$p = $s -split ','": "-split",
    "Invoke-Stuff @params": "splatting",
    "<# help #>": "block comment",
    "function f { [CmdletBinding()] param() }": "[cmdletbinding]",
    "function f { param([Parameter(Mandatory=$true)][string]$x) }": "[parameter]",
    "$x = New-Object PSObject -Property @{ a = 1 }": "-property",
    "$rows | Export-Csv x.csv -Append": "-append",
    "$rows | Export-Csv x.csv -Encoding UTF8NoBOM": "UTF8NoBOM",
    "Get-Process | Where-Object Name -eq 'x'": "simplified syntax",
    "Get-Process | % Name": "simplified syntax",
    "$d = \"v: $($a -split ',')\"": "-split",
    "Write-Host $PSScriptRoot": "$PSScriptRoot",
    "Invoke-Command -ScriptBlock { $using:foo }": "$using:foo",
    "class Foo { }": "class",
    "enum Colour { Red }": "enum",
    "using namespace System.Text": "using namespace",
    "$a.ForEach({ $_ })": ".ForEach",
    "[System.Text.StringBuilder]::new()": "::new",
    "Invoke-RestMethod http://x": "Invoke-RestMethod",
    "foreach -parallel ($a in $b) { }": "foreach -parallel",
    "workflow w { }": "workflow",
    "Add-Type -TypeDefinition 'x'": "Add-Type",
    "Import-Module ActiveDirectory": "Import-Module",
    "$a = Test-Connection x": "Test-Connection",
    "$a && $b": "&&",
    "$s = 'caf\u00e9'": "U+00E9",
}

# PowerShell 1.0 code the checker must leave alone.
FINE = [
    "foreach ($s in @(Get-ExchangeServer)) { if ($s.Name -eq 'x') { break } }",
    "trap { Write-Warning ([string]$_); continue }",
    "$x = [string]::Join('|', [string[]]$parts)",
    "$o = New-Object PSObject",
    "Add-Member -InputObject $o -MemberType NoteProperty -Name N -Value 1",
    "$rows | Export-Csv -Path x.csv -NoTypeInformation -Encoding UTF8",
    "Get-WmiObject -Class Win32_OperatingSystem -ComputerName $h -ErrorAction SilentlyContinue",
    "$f = [System.DirectoryServices.ActiveDirectory.Forest]::GetCurrentForest()",
    "Get-Process | Where-Object { $_.Name -eq 'x' } | ForEach-Object { $_.Id }",
    '$s = "join in text: -join and [ordered] are only words here"',
    "# try { } catch { } in a comment",
    '$t = @"\nhere -in a here-string\n"@',
    "$n = $a.Length",
]


def test_collector_keeps_to_powershell_1() -> None:
    assert check_script(SCRIPT) == []


@pytest.mark.parametrize("line", list(NEWER), ids=list(NEWER.values()))
def test_checker_rejects_newer_constructs(line: str) -> None:
    found = check_script(line + "\n")
    assert found, line
    assert any(NEWER[line].lower() in str(v).lower() for v in found), [str(v) for v in found]


@pytest.mark.parametrize("line", FINE)
def test_checker_accepts_powershell_1(line: str) -> None:
    assert check_script(line + "\n") == []


def test_checker_reports_lines_and_exit_code(tmp_path, capsys) -> None:
    script = tmp_path / "x.ps1"
    script.write_text("Get-Foo\n\n$a = $b -join ','\n", encoding="ascii")
    assert main([str(script)]) == 1
    out = capsys.readouterr().out
    assert f"{script}:3:9: operator -join needs PowerShell 2.0" in out
    script.write_text("Get-Foo\n", encoding="ascii")
    assert main([str(script)]) == 0


def test_collector_parses_as_powershell() -> None:
    """A real PowerShell grammar (tree-sitter's) finds no syntax error in the collector."""
    if os.environ.get("CI") != "true":
        pytest.importorskip("tree_sitter_language_pack")
    from tree_sitter_language_pack import get_parser

    tree = get_parser("powershell").parse(SCRIPT.encode("ascii"))
    errors = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            errors.append((node.start_point, node.text[:60]))
        stack.extend(node.children)
    assert not errors
    broken = get_parser("powershell").parse(b"function f { if ($a) { 1 }\n")
    assert broken.root_node.has_error  # the grammar does see errors


def test_collector_writes_every_file_the_importer_reads() -> None:
    written = set(re.findall(r"'([A-Za-z]+\.csv)'", SCRIPT))
    assert written == set(FILES)
    # every column the importer's models name is written by the collector
    for name, model in FILES.items():
        names_var = re.search(
            r"Save-Records \S+ (\$\w+|@\([^)]*\)) '" + re.escape(name) + "'", SCRIPT
        )
        assert names_var, name
        spec = names_var.group(1)
        if spec.startswith("$"):
            decl = re.search(re.escape(spec) + r" = @\(([^)]*)\)", SCRIPT, re.S)
            assert decl, spec
            spec = decl.group(1)
        columns = set(re.findall(r"'(\w+)'", spec))
        for field, info in model.model_fields.items():
            assert (info.alias or field) in columns, f"{name}: {info.alias}"


def test_collector_command_prints_the_script(capsys, tmp_path) -> None:
    assert run(["collector"]) == 0
    assert capsys.readouterr().out == SCRIPT
    out = tmp_path / "Collect-PathsecInventory.ps1"
    assert run(["collector", "-o", str(out)]) == 0
    assert out.read_text("ascii") == SCRIPT
