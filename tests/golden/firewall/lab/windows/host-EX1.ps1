# pathsec rules: Windows Firewall of 'EX1', deployment 'Lab'
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

# client_access.owa:internet-users>EX1:tcp/443
New-NetFirewallRule -Name 'pathsec client_access.owa:internet-users>EX1:tcp/443 tcp' -DisplayName 'pathsec client_access.owa:internet-users>EX1:tcp/443 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '443' -RemoteAddress @('203.0.113.0/24', '2001:db8:ffff::/48') -LocalAddress @('10.1.0.20', 'fd00:1::20') -Description 'client_access.owa:internet-users>EX1:tcp/443' | Out-Null
# client_access.activesync:phones>EX1:tcp/443
New-NetFirewallRule -Name 'pathsec client_access.activesync:phones>EX1:tcp/443 tcp' -DisplayName 'pathsec client_access.activesync:phones>EX1:tcp/443 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '443' -RemoteAddress @('203.0.113.128/25') -LocalAddress @('10.1.0.20') -Description 'client_access.activesync:phones>EX1:tcp/443' | Out-Null
# transport.edge_to_hub:EDGE1>EX1:tcp/25
New-NetFirewallRule -Name 'pathsec transport.edge_to_hub:EDGE1>EX1:tcp/25 tcp' -DisplayName 'pathsec transport.edge_to_hub:EDGE1>EX1:tcp/25 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '25' -RemoteAddress @('192.0.2.25', '2001:db8:2::25') -LocalAddress @('10.1.0.20', 'fd00:1::20') -Description 'transport.edge_to_hub:EDGE1>EX1:tcp/25' | Out-Null
# mailbox.admin_remote_registry:DC1>EX1:tcp/135
New-NetFirewallRule -Name 'pathsec mailbox.admin_remote_registry:DC1>EX1:tcp/135 tcp' -DisplayName 'pathsec mailbox.admin_remote_registry:DC1>EX1:tcp/135 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '135' -RemoteAddress @('10.1.0.10') -LocalAddress @('10.1.0.20') -Description 'mailbox.admin_remote_registry:DC1>EX1:tcp/135' | Out-Null
# client_access.cas_to_mailbox:DC1>EX1:tcp/6005-6010
New-NetFirewallRule -Name 'pathsec client_access.cas_to_mailbox:DC1>EX1:tcp/6005-6010 tcp' -DisplayName 'pathsec client_access.cas_to_mailbox:DC1>EX1:tcp/6005-6010 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '6005-6010' -RemoteAddress @('10.1.0.10') -LocalAddress @('10.1.0.20') -Description 'client_access.cas_to_mailbox:DC1>EX1:tcp/6005-6010' | Out-Null
