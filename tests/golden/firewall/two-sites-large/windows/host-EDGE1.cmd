@echo off
rem pathsec rules: Windows Firewall of EDGE1, Windows Server 2003, deployment Contoso Two Sites (HA)
rem Windows Firewall of Windows Server 2003 SP1 and 2003 R2: netsh firewall.
rem 7 flows (7 per-flow rules) to 3 openings and allowed programs; the flows of each: host-EDGE1.flows
rem Run as an administrator on EDGE1: host-EDGE1.cmd
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
setlocal
net session >nul 2>&1
if errorlevel 1 goto :notadmin
rem r1: tcp 25; 3 flows
rem   transport.hub_to_edge:HQ-HC1 to EDGE1:tcp/25
rem   transport.hub_to_edge:HQ-HC2 to EDGE1:tcp/25
rem   transport.edge_to_edge:fabrikam to EDGE1:tcp/25
netsh firewall delete portopening protocol=TCP port=25 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=25 name="pathsec TCP 25" mode=ENABLE scope=CUSTOM addresses=10.1.0.20/31,198.51.100.0/28 profile=ALL
if errorlevel 1 goto :failed
rem r2: tcp 50389; 2 flows
rem   transport.edgesync:HQ-HC1 to EDGE1:tcp/50389
rem   transport.edgesync:HQ-HC2 to EDGE1:tcp/50389
netsh firewall delete portopening protocol=TCP port=50389 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=50389 name="pathsec TCP 50389" mode=ENABLE scope=CUSTOM addresses=10.1.0.20/31 profile=ALL
if errorlevel 1 goto :failed
rem r3: tcp 50636; 2 flows
rem   transport.edgesync:HQ-HC1 to EDGE1:tcp/50636
rem   transport.edgesync:HQ-HC2 to EDGE1:tcp/50636
netsh firewall delete portopening protocol=TCP port=50636 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=50636 name="pathsec TCP 50636" mode=ENABLE scope=CUSTOM addresses=10.1.0.20/31 profile=ALL
if errorlevel 1 goto :failed
netsh firewall set opmode mode=ENABLE exceptions=ENABLE profile=ALL
if errorlevel 1 goto :failed
echo pathsec: 3 openings and allowed programs written.
exit /b 0
:notadmin
echo pathsec: run this file as an administrator.
exit /b 1
:failed
echo pathsec: netsh failed; fix the error above and run this file again.
exit /b 1
