@echo off
rem pathsec rules: Windows Firewall of HQ-MBX1, Windows Server 2003, deployment Contoso Two Sites (HA)
rem Windows Firewall of Windows Server 2003 SP1 and 2003 R2: netsh firewall.
rem 35 flows (38 per-flow rules) to 8 openings and allowed programs; the flows of each: host-HQ-MBX1.flows
rem Run as an administrator on HQ-MBX1: host-HQ-MBX1.cmd
rem Inbound: the planned flows below, and the exceptions already enabled on the
rem server (review them: netsh firewall show state verbose=ENABLE).
rem A rerun deletes and adds each opening again; openings an earlier run made for
rem ports no longer planned stay: netsh firewall show portopening lists them.
rem What netsh firewall cannot express, and what this file does instead:
rem - local addresses: every opening applies to all addresses of this host;
rem - port ranges: one port per opening; the RPC dynamic range is opened as an allowed
rem   program (the service executable: every port it listens on, TCP and UDP, from the
rem   scope); other ranges of more than 16 ports are refused;
rem - IPv6: custom scopes list IPv4 addresses only; IPv6 parts of flows are refused;
rem - one opening per protocol and port: flows to a port share its opening (scope = all
rem   their sources); outbound rules and rule groups do not exist.
rem REFUSED (8), not opened by this file:
rem   mailbox.ccr_scr_seeding:BR-MBX1 to HQ-MBX1:tcp/1025-65535: port range 1025-65535 (64511 ports): netsh firewall opens one port per opening; pathsec does not widen. Enforce this flow on the network firewall or a newer Windows
rem   mailbox.ccr_scr_seeding:BR-MBX1 to HQ-MBX1:udp/1025-65535: port range 1025-65535 (64511 ports): netsh firewall opens one port per opening; pathsec does not widen. Enforce this flow on the network firewall or a newer Windows
rem   mailbox.ccr_scr_seeding:HQ-MBX2 to HQ-MBX1:tcp/1025-65535: port range 1025-65535 (64511 ports): netsh firewall opens one port per opening; pathsec does not widen. Enforce this flow on the network firewall or a newer Windows
rem   mailbox.ccr_scr_seeding:HQ-MBX2 to HQ-MBX1:udp/1025-65535: port range 1025-65535 (64511 ports): netsh firewall opens one port per opening; pathsec does not widen. Enforce this flow on the network firewall or a newer Windows
rem   mailbox.legacy_backup:BK1 to HQ-MBX1:tcp/1025-65535: port range 1025-65535 (64511 ports): netsh firewall opens one port per opening; pathsec does not widen. Enforce this flow on the network firewall or a newer Windows
rem   mailbox.legacy_backup:BK1 to HQ-MBX1:udp/1025-65535: port range 1025-65535 (64511 ports): netsh firewall opens one port per opening; pathsec does not widen. Enforce this flow on the network firewall or a newer Windows
rem   mailbox.admin_remote_registry:admins to HQ-MBX1:tcp/6000-6999: RPC dynamic range 6000-6999: netsh firewall opens one port per opening and pathsec knows no single service executable for catalog path mailbox.admin_remote_registry; open it with IPsec filters (netsh ipsec static) or on the network firewall
rem   mailbox.rus_rpc_access:HQ-EX2003 to HQ-MBX1:tcp/6000-6999: RPC dynamic range 6000-6999: netsh firewall opens one port per opening and pathsec knows no single service executable for catalog path mailbox.rus_rpc_access; open it with IPsec filters (netsh ipsec static) or on the network firewall
setlocal
net session >nul 2>&1
if errorlevel 1 goto :notadmin
rem The Exchange 2007 programs: the install path Exchange setup recorded.
set "PATHSEC_EXBIN="
for /f "tokens=2,*" %%A in ('reg query "HKLM\SOFTWARE\Microsoft\Exchange\Setup" /v MsiInstallPath 2^>nul ^| find "REG_SZ"') do set "PATHSEC_EXBIN=%%Bbin"
if not defined PATHSEC_EXBIN goto :noexchange
rem r1: tcp 135; 13 flows
rem   transport.hub_to_mailbox_mapi:HQ-HC1 to HQ-MBX1:tcp/135
rem   transport.hub_to_mailbox_mapi:HQ-HC2 to HQ-MBX1:tcp/135
rem   mailbox.cluster:HQ-MBX2 to HQ-MBX1:tcp/135
rem   mailbox.mapi_access:hq-users to HQ-MBX1:tcp/135
rem   mailbox.availability_web_service:HQ-HC1 to HQ-MBX1:tcp/135
rem   mailbox.availability_web_service:HQ-HC2 to HQ-MBX1:tcp/135
rem   ... and 7 more in host-HQ-MBX1.flows
netsh firewall delete portopening protocol=TCP port=135 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=135 name="pathsec TCP 135" mode=ENABLE scope=CUSTOM addresses=10.1.0.20/31,10.1.0.32,10.1.0.40,10.1.0.50,10.1.128.0/17,10.9.0.64/26 profile=ALL
if errorlevel 1 goto :failed
rem r2: tcp 445; 3 flows
rem   mailbox.ccr_scr_log_shipping:BR-MBX1 to HQ-MBX1:tcp/445
rem   mailbox.ccr_scr_log_shipping:HQ-MBX2 to HQ-MBX1:tcp/445
rem   mailbox.admin_remote_smb:admins to HQ-MBX1:tcp/445
netsh firewall delete portopening protocol=TCP port=445 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=445 name="pathsec TCP 445" mode=ENABLE scope=CUSTOM addresses=10.1.0.32,10.2.0.31,10.9.0.64/26 profile=ALL
if errorlevel 1 goto :failed
rem r3: udp 3343; 1 flow
rem   mailbox.cluster:HQ-MBX2 to HQ-MBX1:udp/3343
netsh firewall delete portopening protocol=UDP port=3343 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=UDP port=3343 name="pathsec UDP 3343" mode=ENABLE scope=CUSTOM addresses=10.1.0.32 profile=ALL
if errorlevel 1 goto :failed
rem r4: tcp 80; 1 flow
rem   mailbox.webdav:hq-users to HQ-MBX1:tcp/80
netsh firewall delete portopening protocol=TCP port=80 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=80 name="pathsec TCP 80" mode=ENABLE scope=CUSTOM addresses=10.1.128.0/17 profile=ALL
if errorlevel 1 goto :failed
rem r5: tcp 443; 1 flow
rem   mailbox.webdav:hq-users to HQ-MBX1:tcp/443
netsh firewall delete portopening protocol=TCP port=443 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=443 name="pathsec TCP 443" mode=ENABLE scope=CUSTOM addresses=10.1.128.0/17 profile=ALL
if errorlevel 1 goto :failed
rem r6: RPC dynamic range of the Exchange Information Store (store.exe); 9 flows
rem   transport.hub_to_mailbox_mapi:HQ-HC1 to HQ-MBX1:tcp/6000-6999
rem   transport.hub_to_mailbox_mapi:HQ-HC2 to HQ-MBX1:tcp/6000-6999
rem   mailbox.mapi_access:hq-users to HQ-MBX1:tcp/6000-6999
rem   mailbox.availability_web_service:HQ-HC1 to HQ-MBX1:tcp/6000-6999
rem   mailbox.availability_web_service:HQ-HC2 to HQ-MBX1:tcp/6000-6999
rem   mailbox.outlook_oab_rpc:hq-users to HQ-MBX1:tcp/6000-6999
rem   ... and 3 more in host-HQ-MBX1.flows
netsh firewall delete allowedprogram program="%PATHSEC_EXBIN%\store.exe" profile=ALL >nul 2>&1
netsh firewall add allowedprogram program="%PATHSEC_EXBIN%\store.exe" name="pathsec RPC store.exe" mode=ENABLE scope=CUSTOM addresses=10.1.0.20/31,10.1.0.40,10.1.128.0/17 profile=ALL
if errorlevel 1 goto :failed
rem r7: RPC dynamic range of the Cluster service (clussvc.exe); 1 flow
rem   mailbox.cluster:HQ-MBX2 to HQ-MBX1:tcp/6000-6999
netsh firewall delete allowedprogram program="%SystemRoot%\Cluster\clussvc.exe" profile=ALL >nul 2>&1
netsh firewall add allowedprogram program="%SystemRoot%\Cluster\clussvc.exe" name="pathsec RPC clussvc.exe" mode=ENABLE scope=CUSTOM addresses=10.1.0.32 profile=ALL
if errorlevel 1 goto :failed
rem r8: RPC dynamic range of the Exchange System Attendant (mad.exe); 1 flow
rem   mailbox.sa_legacy_listen:HQ-EX2003 to HQ-MBX1:tcp/6000-6999
netsh firewall delete allowedprogram program="%PATHSEC_EXBIN%\mad.exe" profile=ALL >nul 2>&1
netsh firewall add allowedprogram program="%PATHSEC_EXBIN%\mad.exe" name="pathsec RPC mad.exe" mode=ENABLE scope=CUSTOM addresses=10.1.0.50 profile=ALL
if errorlevel 1 goto :failed
netsh firewall set opmode mode=ENABLE exceptions=ENABLE profile=ALL
if errorlevel 1 goto :failed
echo pathsec: 8 openings and allowed programs written.
exit /b 0
:notadmin
echo pathsec: run this file as an administrator.
exit /b 1
:failed
echo pathsec: netsh failed; fix the error above and run this file again.
exit /b 1
:noexchange
echo pathsec: no Exchange 2007 here (no MsiInstallPath); nothing changed.
exit /b 1
