@echo off
rem pathsec rules: Windows Firewall of W2003R2, Windows Server 2003 R2, deployment Flavours
rem Windows Firewall of Windows Server 2003 SP1 and 2003 R2: netsh firewall.
rem 11 flows (12 per-flow rules) to 9 openings and allowed programs; the flows of each: host-W2003R2.flows
rem Run as an administrator on W2003R2: host-W2003R2.cmd
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
rem REFUSED (6), not opened by this file:
rem   client_access.owa:internet-users to W2003R2:tcp/443: IPv6 part refused: netsh firewall on Windows Server 2003 scopes openings by IPv4 addresses only
rem   transport.edge_to_hub:EDGE1 to W2003R2:tcp/25: IPv6 part refused: netsh firewall on Windows Server 2003 scopes openings by IPv4 addresses only
rem   transport.edge_to_hub:EDGE1 to W2003R2:tcp/587: IPv6 part refused: netsh firewall on Windows Server 2003 scopes openings by IPv4 addresses only
rem   mailbox.admin_remote_registry:admins to W2003R2:tcp/6005-6010: RPC dynamic range 6005-6010: netsh firewall opens one port per opening and pathsec knows no single service executable for catalog path mailbox.admin_remote_registry; open it with IPsec filters (netsh ipsec static) or on the network firewall
rem   mailbox.legacy_backup:BK1 to W2003R2:tcp/1025-65535: port range 1025-65535 (64511 ports): netsh firewall opens one port per opening; pathsec does not widen. Enforce this flow on the network firewall or a newer Windows
rem   mailbox.legacy_backup:BK1 to W2003R2:udp/1025-65535: port range 1025-65535 (64511 ports): netsh firewall opens one port per opening; pathsec does not widen. Enforce this flow on the network firewall or a newer Windows
setlocal
net session >nul 2>&1
if errorlevel 1 goto :notadmin
rem The Exchange 2007 programs: the install path Exchange setup recorded.
set "PATHSEC_EXBIN="
for /f "tokens=2,*" %%A in ('reg query "HKLM\SOFTWARE\Microsoft\Exchange\Setup" /v MsiInstallPath 2^>nul ^| find "REG_SZ"') do set "PATHSEC_EXBIN=%%Bbin"
if not defined PATHSEC_EXBIN goto :noexchange
rem r1: tcp 443; 2 flows
rem   client_access.owa:internet-users to W2003R2:tcp/443
rem   client_access.activesync:phones to W2003R2:tcp/443
netsh firewall delete portopening protocol=TCP port=443 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=443 name="pathsec TCP 443" mode=ENABLE scope=CUSTOM addresses=203.0.113.0/24 profile=ALL
if errorlevel 1 goto :failed
rem r2: tcp 25; 1 flow
rem   transport.edge_to_hub:EDGE1 to W2003R2:tcp/25
netsh firewall delete portopening protocol=TCP port=25 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=25 name="pathsec TCP 25" mode=ENABLE scope=CUSTOM addresses=192.0.2.25 profile=ALL
if errorlevel 1 goto :failed
rem r3: tcp 587; 1 flow
rem   transport.edge_to_hub:EDGE1 to W2003R2:tcp/587
netsh firewall delete portopening protocol=TCP port=587 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=587 name="pathsec TCP 587" mode=ENABLE scope=CUSTOM addresses=192.0.2.25 profile=ALL
if errorlevel 1 goto :failed
rem r4: tcp 135; 2 flows
rem   mailbox.mapi_access:DC1 to W2003R2:tcp/135
rem   mailbox.admin_remote_registry:admins to W2003R2:tcp/135
netsh firewall delete portopening protocol=TCP port=135 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=135 name="pathsec TCP 135" mode=ENABLE scope=CUSTOM addresses=10.1.0.10,10.1.9.0/26 profile=ALL
if errorlevel 1 goto :failed
rem r5: udp 3343; 1 flow
rem   mailbox.cluster:DC1 to W2003R2:udp/3343
netsh firewall delete portopening protocol=UDP port=3343 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=UDP port=3343 name="pathsec UDP 3343" mode=ENABLE scope=CUSTOM addresses=10.1.0.10 profile=ALL
if errorlevel 1 goto :failed
rem r6: udp 5060; 1 flow
rem   unified_messaging.pbx:DC1 to W2003R2:udp/5060-5062
netsh firewall delete portopening protocol=UDP port=5060 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=UDP port=5060 name="pathsec UDP 5060" mode=ENABLE scope=CUSTOM addresses=10.1.0.10 profile=ALL
if errorlevel 1 goto :failed
rem r7: udp 5061; 1 flow
rem   unified_messaging.pbx:DC1 to W2003R2:udp/5060-5062
netsh firewall delete portopening protocol=UDP port=5061 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=UDP port=5061 name="pathsec UDP 5061" mode=ENABLE scope=CUSTOM addresses=10.1.0.10 profile=ALL
if errorlevel 1 goto :failed
rem r8: udp 5062; 1 flow
rem   unified_messaging.pbx:DC1 to W2003R2:udp/5060-5062
netsh firewall delete portopening protocol=UDP port=5062 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=UDP port=5062 name="pathsec UDP 5062" mode=ENABLE scope=CUSTOM addresses=10.1.0.10 profile=ALL
if errorlevel 1 goto :failed
rem r9: RPC dynamic range of the Exchange Information Store (store.exe); 1 flow
rem   mailbox.mapi_access:DC1 to W2003R2:tcp/6005-6010
netsh firewall delete allowedprogram program="%PATHSEC_EXBIN%\store.exe" profile=ALL >nul 2>&1
netsh firewall add allowedprogram program="%PATHSEC_EXBIN%\store.exe" name="pathsec RPC store.exe" mode=ENABLE scope=CUSTOM addresses=10.1.0.10 profile=ALL
if errorlevel 1 goto :failed
netsh firewall set opmode mode=ENABLE exceptions=ENABLE profile=ALL
if errorlevel 1 goto :failed
echo pathsec: 9 openings and allowed programs written.
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
