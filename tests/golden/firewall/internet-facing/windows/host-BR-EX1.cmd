@echo off
rem pathsec rules: Windows Firewall of BR-EX1, Windows Server 2003, deployment Contoso Internet-facing
rem Windows Firewall of Windows Server 2003 SP1 and 2003 R2: netsh firewall.
rem 24 flows (24 per-flow rules) to 6 openings and allowed programs; the flows of each: host-BR-EX1.flows
rem Run as an administrator on BR-EX1: host-BR-EX1.cmd
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
rem REFUSED (1), not opened by this file:
rem   mailbox.rus_rpc_access:HQ-EX2003 to BR-EX1:tcp/6000-6999: RPC dynamic range 6000-6999: netsh firewall opens one port per opening and pathsec knows no single service executable for catalog path mailbox.rus_rpc_access; open it with IPsec filters (netsh ipsec static) or on the network firewall
setlocal
net session >nul 2>&1
if errorlevel 1 goto :notadmin
rem The Exchange 2007 programs: the install path Exchange setup recorded.
set "PATHSEC_EXBIN="
for /f "tokens=2,*" %%A in ('reg query "HKLM\SOFTWARE\Microsoft\Exchange\Setup" /v MsiInstallPath 2^>nul ^| find "REG_SZ"') do set "PATHSEC_EXBIN=%%Bbin"
if not defined PATHSEC_EXBIN goto :noexchange
rem r1: tcp 25; 2 flows
rem   transport.hub_to_hub:HQ-HC1 to BR-EX1:tcp/25
rem   operational.hub_legacy_smtp:HQ-EX2003 to BR-EX1:tcp/25
netsh firewall delete portopening protocol=TCP port=25 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=25 name="pathsec TCP 25" mode=ENABLE scope=CUSTOM addresses=10.1.0.20,10.1.0.50 profile=ALL
if errorlevel 1 goto :failed
rem r2: tcp 135; 3 flows
rem   mailbox.mapi_access:branch-users to BR-EX1:tcp/135
rem   mailbox.rus_rpc_access:HQ-EX2003 to BR-EX1:tcp/135
rem   mailbox.sa_legacy_listen:HQ-EX2003 to BR-EX1:tcp/135
netsh firewall delete portopening protocol=TCP port=135 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=135 name="pathsec TCP 135" mode=ENABLE scope=CUSTOM addresses=10.1.0.50,10.2.128.0/17 profile=ALL
if errorlevel 1 goto :failed
rem r3: tcp 80; 8 flows
rem   client_access.autodiscover:branch-users to BR-EX1:tcp/80
rem   client_access.availability_service:branch-users to BR-EX1:tcp/80
rem   client_access.owa:branch-users to BR-EX1:tcp/80
rem   client_access.outlook_anywhere:branch-users to BR-EX1:tcp/80
rem   client_access.cas_to_cas_activesync:HQ-HC1 to BR-EX1:tcp/80
rem   client_access.cas_to_cas_owa:HQ-HC1 to BR-EX1:tcp/80
rem   ... and 2 more in host-BR-EX1.flows
netsh firewall delete portopening protocol=TCP port=80 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=80 name="pathsec TCP 80" mode=ENABLE scope=CUSTOM addresses=10.1.0.20,10.2.128.0/17 profile=ALL
if errorlevel 1 goto :failed
rem r4: tcp 443; 8 flows
rem   client_access.autodiscover:branch-users to BR-EX1:tcp/443
rem   client_access.availability_service:branch-users to BR-EX1:tcp/443
rem   client_access.owa:branch-users to BR-EX1:tcp/443
rem   client_access.outlook_anywhere:branch-users to BR-EX1:tcp/443
rem   client_access.cas_to_cas_activesync:HQ-HC1 to BR-EX1:tcp/443
rem   client_access.cas_to_cas_owa:HQ-HC1 to BR-EX1:tcp/443
rem   ... and 2 more in host-BR-EX1.flows
netsh firewall delete portopening protocol=TCP port=443 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=443 name="pathsec TCP 443" mode=ENABLE scope=CUSTOM addresses=10.1.0.20,10.2.128.0/17 profile=ALL
if errorlevel 1 goto :failed
rem r5: RPC dynamic range of the Exchange Information Store (store.exe); 1 flow
rem   mailbox.mapi_access:branch-users to BR-EX1:tcp/6000-6999
netsh firewall delete allowedprogram program="%PATHSEC_EXBIN%\store.exe" profile=ALL >nul 2>&1
netsh firewall add allowedprogram program="%PATHSEC_EXBIN%\store.exe" name="pathsec RPC store.exe" mode=ENABLE scope=CUSTOM addresses=10.2.128.0/17 profile=ALL
if errorlevel 1 goto :failed
rem r6: RPC dynamic range of the Exchange System Attendant (mad.exe); 1 flow
rem   mailbox.sa_legacy_listen:HQ-EX2003 to BR-EX1:tcp/6000-6999
netsh firewall delete allowedprogram program="%PATHSEC_EXBIN%\mad.exe" profile=ALL >nul 2>&1
netsh firewall add allowedprogram program="%PATHSEC_EXBIN%\mad.exe" name="pathsec RPC mad.exe" mode=ENABLE scope=CUSTOM addresses=10.1.0.50 profile=ALL
if errorlevel 1 goto :failed
netsh firewall set opmode mode=ENABLE exceptions=ENABLE profile=ALL
if errorlevel 1 goto :failed
echo pathsec: 6 openings and allowed programs written.
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
