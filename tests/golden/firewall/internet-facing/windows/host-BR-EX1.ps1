# pathsec rules: Windows Firewall of 'BR-EX1', deployment 'Contoso Internet-facing'
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

# transport.hub_to_hub:HQ-HC1>BR-EX1:tcp/25
New-NetFirewallRule -Name 'pathsec transport.hub_to_hub:HQ-HC1>BR-EX1:tcp/25 tcp' -DisplayName 'pathsec transport.hub_to_hub:HQ-HC1>BR-EX1:tcp/25 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '25' -RemoteAddress @('10.1.0.20') -LocalAddress @('10.2.0.20') -Description 'transport.hub_to_hub:HQ-HC1>BR-EX1:tcp/25' | Out-Null
# mailbox.mapi_access:branch-users>BR-EX1:tcp/135
New-NetFirewallRule -Name 'pathsec mailbox.mapi_access:branch-users>BR-EX1:tcp/135 tcp' -DisplayName 'pathsec mailbox.mapi_access:branch-users>BR-EX1:tcp/135 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '135' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'mailbox.mapi_access:branch-users>BR-EX1:tcp/135' | Out-Null
# mailbox.mapi_access:branch-users>BR-EX1:tcp/6000-6999
New-NetFirewallRule -Name 'pathsec mailbox.mapi_access:branch-users>BR-EX1:tcp/6000-6999 tcp' -DisplayName 'pathsec mailbox.mapi_access:branch-users>BR-EX1:tcp/6000-6999 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '6000-6999' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'mailbox.mapi_access:branch-users>BR-EX1:tcp/6000-6999' | Out-Null
# mailbox.rus_rpc_access:HQ-EX2003>BR-EX1:tcp/135
New-NetFirewallRule -Name 'pathsec mailbox.rus_rpc_access:HQ-EX2003>BR-EX1:tcp/135 tcp' -DisplayName 'pathsec mailbox.rus_rpc_access:HQ-EX2003>BR-EX1:tcp/135 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '135' -RemoteAddress @('10.1.0.50') -LocalAddress @('10.2.0.20') -Description 'mailbox.rus_rpc_access:HQ-EX2003>BR-EX1:tcp/135' | Out-Null
# mailbox.rus_rpc_access:HQ-EX2003>BR-EX1:tcp/6000-6999
New-NetFirewallRule -Name 'pathsec mailbox.rus_rpc_access:HQ-EX2003>BR-EX1:tcp/6000-6999 tcp' -DisplayName 'pathsec mailbox.rus_rpc_access:HQ-EX2003>BR-EX1:tcp/6000-6999 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '6000-6999' -RemoteAddress @('10.1.0.50') -LocalAddress @('10.2.0.20') -Description 'mailbox.rus_rpc_access:HQ-EX2003>BR-EX1:tcp/6000-6999' | Out-Null
# mailbox.sa_legacy_listen:HQ-EX2003>BR-EX1:tcp/135
New-NetFirewallRule -Name 'pathsec mailbox.sa_legacy_listen:HQ-EX2003>BR-EX1:tcp/135 tcp' -DisplayName 'pathsec mailbox.sa_legacy_listen:HQ-EX2003>BR-EX1:tcp/135 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '135' -RemoteAddress @('10.1.0.50') -LocalAddress @('10.2.0.20') -Description 'mailbox.sa_legacy_listen:HQ-EX2003>BR-EX1:tcp/135' | Out-Null
# mailbox.sa_legacy_listen:HQ-EX2003>BR-EX1:tcp/6000-6999
New-NetFirewallRule -Name 'pathsec mailbox.sa_legacy_listen:HQ-EX2003>BR-EX1:tcp/6000-6999 tcp' -DisplayName 'pathsec mailbox.sa_legacy_listen:HQ-EX2003>BR-EX1:tcp/6000-6999 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '6000-6999' -RemoteAddress @('10.1.0.50') -LocalAddress @('10.2.0.20') -Description 'mailbox.sa_legacy_listen:HQ-EX2003>BR-EX1:tcp/6000-6999' | Out-Null
# client_access.autodiscover:branch-users>BR-EX1:tcp/80
New-NetFirewallRule -Name 'pathsec client_access.autodiscover:branch-users>BR-EX1:tcp/80 tcp' -DisplayName 'pathsec client_access.autodiscover:branch-users>BR-EX1:tcp/80 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '80' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'client_access.autodiscover:branch-users>BR-EX1:tcp/80' | Out-Null
# client_access.autodiscover:branch-users>BR-EX1:tcp/443
New-NetFirewallRule -Name 'pathsec client_access.autodiscover:branch-users>BR-EX1:tcp/443 tcp' -DisplayName 'pathsec client_access.autodiscover:branch-users>BR-EX1:tcp/443 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '443' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'client_access.autodiscover:branch-users>BR-EX1:tcp/443' | Out-Null
# client_access.availability_service:branch-users>BR-EX1:tcp/80
New-NetFirewallRule -Name 'pathsec client_access.availability_service:branch-users>BR-EX1:tcp/80 tcp' -DisplayName 'pathsec client_access.availability_service:branch-users>BR-EX1:tcp/80 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '80' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'client_access.availability_service:branch-users>BR-EX1:tcp/80' | Out-Null
# client_access.availability_service:branch-users>BR-EX1:tcp/443
New-NetFirewallRule -Name 'pathsec client_access.availability_service:branch-users>BR-EX1:tcp/443 tcp' -DisplayName 'pathsec client_access.availability_service:branch-users>BR-EX1:tcp/443 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '443' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'client_access.availability_service:branch-users>BR-EX1:tcp/443' | Out-Null
# client_access.owa:branch-users>BR-EX1:tcp/80
New-NetFirewallRule -Name 'pathsec client_access.owa:branch-users>BR-EX1:tcp/80 tcp' -DisplayName 'pathsec client_access.owa:branch-users>BR-EX1:tcp/80 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '80' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'client_access.owa:branch-users>BR-EX1:tcp/80' | Out-Null
# client_access.owa:branch-users>BR-EX1:tcp/443
New-NetFirewallRule -Name 'pathsec client_access.owa:branch-users>BR-EX1:tcp/443 tcp' -DisplayName 'pathsec client_access.owa:branch-users>BR-EX1:tcp/443 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '443' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'client_access.owa:branch-users>BR-EX1:tcp/443' | Out-Null
# client_access.outlook_anywhere:branch-users>BR-EX1:tcp/80
New-NetFirewallRule -Name 'pathsec client_access.outlook_anywhere:branch-users>BR-EX1:tcp/80 tcp' -DisplayName 'pathsec client_access.outlook_anywhere:branch-users>BR-EX1:tcp/80 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '80' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'client_access.outlook_anywhere:branch-users>BR-EX1:tcp/80' | Out-Null
# client_access.outlook_anywhere:branch-users>BR-EX1:tcp/443
New-NetFirewallRule -Name 'pathsec client_access.outlook_anywhere:branch-users>BR-EX1:tcp/443 tcp' -DisplayName 'pathsec client_access.outlook_anywhere:branch-users>BR-EX1:tcp/443 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '443' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'client_access.outlook_anywhere:branch-users>BR-EX1:tcp/443' | Out-Null
# client_access.cas_to_cas_activesync:HQ-HC1>BR-EX1:tcp/80
New-NetFirewallRule -Name 'pathsec client_access.cas_to_cas_activesync:HQ-HC1>BR-EX1:tcp/80 tcp' -DisplayName 'pathsec client_access.cas_to_cas_activesync:HQ-HC1>BR-EX1:tcp/80 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '80' -RemoteAddress @('10.1.0.20') -LocalAddress @('10.2.0.20') -Description 'client_access.cas_to_cas_activesync:HQ-HC1>BR-EX1:tcp/80' | Out-Null
# client_access.cas_to_cas_activesync:HQ-HC1>BR-EX1:tcp/443
New-NetFirewallRule -Name 'pathsec client_access.cas_to_cas_activesync:HQ-HC1>BR-EX1:tcp/443 tcp' -DisplayName 'pathsec client_access.cas_to_cas_activesync:HQ-HC1>BR-EX1:tcp/443 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '443' -RemoteAddress @('10.1.0.20') -LocalAddress @('10.2.0.20') -Description 'client_access.cas_to_cas_activesync:HQ-HC1>BR-EX1:tcp/443' | Out-Null
# client_access.cas_to_cas_owa:HQ-HC1>BR-EX1:tcp/80
New-NetFirewallRule -Name 'pathsec client_access.cas_to_cas_owa:HQ-HC1>BR-EX1:tcp/80 tcp' -DisplayName 'pathsec client_access.cas_to_cas_owa:HQ-HC1>BR-EX1:tcp/80 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '80' -RemoteAddress @('10.1.0.20') -LocalAddress @('10.2.0.20') -Description 'client_access.cas_to_cas_owa:HQ-HC1>BR-EX1:tcp/80' | Out-Null
# client_access.cas_to_cas_owa:HQ-HC1>BR-EX1:tcp/443
New-NetFirewallRule -Name 'pathsec client_access.cas_to_cas_owa:HQ-HC1>BR-EX1:tcp/443 tcp' -DisplayName 'pathsec client_access.cas_to_cas_owa:HQ-HC1>BR-EX1:tcp/443 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '443' -RemoteAddress @('10.1.0.20') -LocalAddress @('10.2.0.20') -Description 'client_access.cas_to_cas_owa:HQ-HC1>BR-EX1:tcp/443' | Out-Null
# client_access.outlook_oab_web:branch-users>BR-EX1:tcp/80
New-NetFirewallRule -Name 'pathsec client_access.outlook_oab_web:branch-users>BR-EX1:tcp/80 tcp' -DisplayName 'pathsec client_access.outlook_oab_web:branch-users>BR-EX1:tcp/80 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '80' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'client_access.outlook_oab_web:branch-users>BR-EX1:tcp/80' | Out-Null
# client_access.outlook_oab_web:branch-users>BR-EX1:tcp/443
New-NetFirewallRule -Name 'pathsec client_access.outlook_oab_web:branch-users>BR-EX1:tcp/443 tcp' -DisplayName 'pathsec client_access.outlook_oab_web:branch-users>BR-EX1:tcp/443 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '443' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'client_access.outlook_oab_web:branch-users>BR-EX1:tcp/443' | Out-Null
# unified_messaging.web_service:branch-users>BR-EX1:tcp/80
New-NetFirewallRule -Name 'pathsec unified_messaging.web_service:branch-users>BR-EX1:tcp/80 tcp' -DisplayName 'pathsec unified_messaging.web_service:branch-users>BR-EX1:tcp/80 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '80' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'unified_messaging.web_service:branch-users>BR-EX1:tcp/80' | Out-Null
# unified_messaging.web_service:branch-users>BR-EX1:tcp/443
New-NetFirewallRule -Name 'pathsec unified_messaging.web_service:branch-users>BR-EX1:tcp/443 tcp' -DisplayName 'pathsec unified_messaging.web_service:branch-users>BR-EX1:tcp/443 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '443' -RemoteAddress @('10.2.128.0/17') -LocalAddress @('10.2.0.20') -Description 'unified_messaging.web_service:branch-users>BR-EX1:tcp/443' | Out-Null
# operational.hub_legacy_smtp:HQ-EX2003>BR-EX1:tcp/25
New-NetFirewallRule -Name 'pathsec operational.hub_legacy_smtp:HQ-EX2003>BR-EX1:tcp/25 tcp' -DisplayName 'pathsec operational.hub_legacy_smtp:HQ-EX2003>BR-EX1:tcp/25 tcp' -Group 'pathsec' -Direction Inbound -Action Allow -Profile Any -Protocol TCP -LocalPort '25' -RemoteAddress @('10.1.0.50') -LocalAddress @('10.2.0.20') -Description 'operational.hub_legacy_smtp:HQ-EX2003>BR-EX1:tcp/25' | Out-Null
