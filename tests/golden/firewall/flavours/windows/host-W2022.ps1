# pathsec rules: Windows Firewall of W2022, Windows Server 2022, deployment Flavours
# 11 flows (12 per-flow rules) -> 7 rules
# New-NetFirewallRule (NetSecurity module, Windows Server 2012 and later).
# Inbound allow rules for the planned flows only; the default inbound action
# becomes Block. A rerun removes the rules of the group 'pathsec' first. Allow
# rules outside that group stay in force: review them with
#   Get-NetFirewallRule -Enabled True -Direction Inbound
# Run in an elevated PowerShell on W2022: .\host-W2022.ps1
#Requires -Version 3.0
$principal = New-Object -TypeName Security.Principal.WindowsPrincipal -ArgumentList ([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Write-Host 'pathsec: run this script as an administrator.'
    exit 1
}
$ErrorActionPreference = 'Stop'
Import-Module NetSecurity
Get-NetFirewallRule -Group 'pathsec' -ErrorAction SilentlyContinue | Remove-NetFirewallRule
# r1: tcp 443 client_population -> W2022; 2 flows
#   client_access.owa:internet-users>W2022:tcp/443
#   client_access.activesync:phones>W2022:tcp/443
New-NetFirewallRule -Name 'pathsec-001' -DisplayName 'pathsec 001: tcp 443 client_population -> W2022' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort @('443') -RemoteAddress @('203.0.113.0/24', '2001:db8:ffff::/48') -LocalAddress @('10.1.0.35', 'fd00:1::23') -Description 'r1: client_access.owa:internet-users>W2022:tcp/443 client_access.activesync:phones>W2022:tcp/443' | Out-Null
# r2: tcp 25,587 EDGE1 -> W2022; 2 flows
#   transport.edge_to_hub:EDGE1>W2022:tcp/25
#   transport.edge_to_hub:EDGE1>W2022:tcp/587
New-NetFirewallRule -Name 'pathsec-002' -DisplayName 'pathsec 002: tcp 25,587 EDGE1 -> W2022' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort @('25', '587') -RemoteAddress @('192.0.2.25', '2001:db8:2::25') -LocalAddress @('10.1.0.35', 'fd00:1::23') -Description 'r2: transport.edge_to_hub:EDGE1>W2022:tcp/25 transport.edge_to_hub:EDGE1>W2022:tcp/587' | Out-Null
# r3: tcp RPC-EPMap (135) DC1_admins -> W2022; 2 flows
#   mailbox.mapi_access:DC1>W2022:tcp/135
#   mailbox.admin_remote_registry:admins>W2022:tcp/135
New-NetFirewallRule -Name 'pathsec-003' -DisplayName 'pathsec 003: tcp RPC-EPMap (135) DC1_admins -> W2022' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort RPCEPMap -Program '%SystemRoot%\system32\svchost.exe' -Service 'RpcSs' -RemoteAddress @('10.1.0.10', '10.1.9.0/26') -LocalAddress @('10.1.0.35') -Description 'r3: mailbox.mapi_access:DC1>W2022:tcp/135 mailbox.admin_remote_registry:admins>W2022:tcp/135' | Out-Null
# r4: tcp RPC (6005-6010) DC1_admins -> W2022; 2 flows
#   mailbox.mapi_access:DC1>W2022:tcp/6005-6010
#   mailbox.admin_remote_registry:admins>W2022:tcp/6005-6010
New-NetFirewallRule -Name 'pathsec-004' -DisplayName 'pathsec 004: tcp RPC (6005-6010) DC1_admins -> W2022' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort RPC -RemoteAddress @('10.1.0.10', '10.1.9.0/26') -LocalAddress @('10.1.0.35') -Description 'r4: mailbox.mapi_access:DC1>W2022:tcp/6005-6010 mailbox.admin_remote_registry:admins>W2022:tcp/6005-6010' | Out-Null
# r5: udp 3343,5060-5062 DC1 -> W2022; 2 flows
#   mailbox.cluster:DC1>W2022:udp/3343
#   unified_messaging.pbx:DC1>W2022:udp/5060-5062
New-NetFirewallRule -Name 'pathsec-005' -DisplayName 'pathsec 005: udp 3343,5060-5062 DC1 -> W2022' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol UDP -LocalPort @('3343', '5060-5062') -RemoteAddress @('10.1.0.10') -LocalAddress @('10.1.0.35') -Description 'r5: mailbox.cluster:DC1>W2022:udp/3343 unified_messaging.pbx:DC1>W2022:udp/5060-5062' | Out-Null
# r6: tcp 1025-65535 BK1 -> W2022; 1 flow
#   mailbox.legacy_backup:BK1>W2022:tcp/1025-65535
New-NetFirewallRule -Name 'pathsec-006' -DisplayName 'pathsec 006: tcp 1025-65535 BK1 -> W2022' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort @('1025-65535') -RemoteAddress @('10.1.9.70') -LocalAddress @('10.1.0.35') -Description 'r6: mailbox.legacy_backup:BK1>W2022:tcp/1025-65535' | Out-Null
# r7: udp 1025-65535 BK1 -> W2022; 1 flow
#   mailbox.legacy_backup:BK1>W2022:udp/1025-65535
New-NetFirewallRule -Name 'pathsec-007' -DisplayName 'pathsec 007: udp 1025-65535 BK1 -> W2022' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol UDP -LocalPort @('1025-65535') -RemoteAddress @('10.1.9.70') -LocalAddress @('10.1.0.35') -Description 'r7: mailbox.legacy_backup:BK1>W2022:udp/1025-65535' | Out-Null
Set-NetFirewallProfile -All -Enabled True -DefaultInboundAction Block
Write-Host 'pathsec: 7 rules written.'
