# pathsec rules: Windows Firewall of 'DC1', deployment 'Lab'
# Inbound allow rules for the planned flows only; the default inbound action is Block.
# Needs the NetSecurity module (Windows Server 2012 / Windows 8 or later); on older
# Windows the script stops at Import-Module. Existing allow rules outside the group
# 'pathsec' stay in force: review them with
#   Get-NetFirewallRule -Enabled True -Direction Inbound
#Requires -RunAsAdministrator
$ErrorActionPreference = 'Stop'
Import-Module NetSecurity
Get-NetFirewallRule -Group 'pathsec' -ErrorAction SilentlyContinue | Remove-NetFirewallRule
Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True -DefaultInboundAction Block

# transport.hub_ad_access:EX1>DC1:tcp/3268
New-NetFirewallRule -Name 'pathsec transport.hub_ad_access:EX1>DC1:tcp/3268 tcp' -DisplayName 'pathsec transport.hub_ad_access:EX1>DC1:tcp/3268 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '3268' -RemoteAddress @('10.1.0.20') -LocalAddress @('10.1.0.10') -Description 'transport.hub_ad_access:EX1>DC1:tcp/3268' | Out-Null
# transport.hub_ad_access:EX1>DC1:udp/88
New-NetFirewallRule -Name 'pathsec transport.hub_ad_access:EX1>DC1:udp/88 udp' -DisplayName 'pathsec transport.hub_ad_access:EX1>DC1:udp/88 udp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol UDP -LocalPort '88' -RemoteAddress @('10.1.0.20') -LocalAddress @('10.1.0.10') -Description 'transport.hub_ad_access:EX1>DC1:udp/88' | Out-Null
