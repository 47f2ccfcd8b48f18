# pathsec rules: Windows Firewall of 'EDGE1', deployment 'Contoso Two Sites (HA)'
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

# transport.hub_to_edge:HQ-HC1>EDGE1:tcp/25
New-NetFirewallRule -Name 'pathsec transport.hub_to_edge:HQ-HC1>EDGE1:tcp/25 tcp' -DisplayName 'pathsec transport.hub_to_edge:HQ-HC1>EDGE1:tcp/25 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '25' -RemoteAddress @('10.1.0.20') -LocalAddress @('192.0.2.25') -Description 'transport.hub_to_edge:HQ-HC1>EDGE1:tcp/25' | Out-Null
# transport.hub_to_edge:HQ-HC2>EDGE1:tcp/25
New-NetFirewallRule -Name 'pathsec transport.hub_to_edge:HQ-HC2>EDGE1:tcp/25 tcp' -DisplayName 'pathsec transport.hub_to_edge:HQ-HC2>EDGE1:tcp/25 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '25' -RemoteAddress @('10.1.0.21') -LocalAddress @('192.0.2.25') -Description 'transport.hub_to_edge:HQ-HC2>EDGE1:tcp/25' | Out-Null
# transport.edge_to_edge:fabrikam>EDGE1:tcp/25
New-NetFirewallRule -Name 'pathsec transport.edge_to_edge:fabrikam>EDGE1:tcp/25 tcp' -DisplayName 'pathsec transport.edge_to_edge:fabrikam>EDGE1:tcp/25 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '25' -RemoteAddress @('198.51.100.0/28') -LocalAddress @('192.0.2.25') -Description 'transport.edge_to_edge:fabrikam>EDGE1:tcp/25' | Out-Null
# transport.edgesync:HQ-HC1>EDGE1:tcp/50389
New-NetFirewallRule -Name 'pathsec transport.edgesync:HQ-HC1>EDGE1:tcp/50389 tcp' -DisplayName 'pathsec transport.edgesync:HQ-HC1>EDGE1:tcp/50389 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '50389' -RemoteAddress @('10.1.0.20') -LocalAddress @('192.0.2.25') -Description 'transport.edgesync:HQ-HC1>EDGE1:tcp/50389' | Out-Null
# transport.edgesync:HQ-HC1>EDGE1:tcp/50636
New-NetFirewallRule -Name 'pathsec transport.edgesync:HQ-HC1>EDGE1:tcp/50636 tcp' -DisplayName 'pathsec transport.edgesync:HQ-HC1>EDGE1:tcp/50636 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '50636' -RemoteAddress @('10.1.0.20') -LocalAddress @('192.0.2.25') -Description 'transport.edgesync:HQ-HC1>EDGE1:tcp/50636' | Out-Null
# transport.edgesync:HQ-HC2>EDGE1:tcp/50389
New-NetFirewallRule -Name 'pathsec transport.edgesync:HQ-HC2>EDGE1:tcp/50389 tcp' -DisplayName 'pathsec transport.edgesync:HQ-HC2>EDGE1:tcp/50389 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '50389' -RemoteAddress @('10.1.0.21') -LocalAddress @('192.0.2.25') -Description 'transport.edgesync:HQ-HC2>EDGE1:tcp/50389' | Out-Null
# transport.edgesync:HQ-HC2>EDGE1:tcp/50636
New-NetFirewallRule -Name 'pathsec transport.edgesync:HQ-HC2>EDGE1:tcp/50636 tcp' -DisplayName 'pathsec transport.edgesync:HQ-HC2>EDGE1:tcp/50636 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '50636' -RemoteAddress @('10.1.0.21') -LocalAddress @('192.0.2.25') -Description 'transport.edgesync:HQ-HC2>EDGE1:tcp/50636' | Out-Null
