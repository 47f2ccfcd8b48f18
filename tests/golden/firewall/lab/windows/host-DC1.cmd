@echo off
rem pathsec rules: Windows Firewall of DC1, Windows Server 2003, deployment Lab
rem Windows Firewall of Windows Server 2003 SP1 and 2003 R2: netsh firewall.
rem 2 flows (2 per-flow rules) to 2 openings and allowed programs; the flows of each: host-DC1.flows
rem Run as an administrator on DC1: host-DC1.cmd
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
rem r1: tcp 3268; 1 flow
rem   transport.hub_ad_access:EX1 to DC1:tcp/3268
netsh firewall delete portopening protocol=TCP port=3268 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=TCP port=3268 name="pathsec TCP 3268" mode=ENABLE scope=CUSTOM addresses=10.1.0.20 profile=ALL
if errorlevel 1 goto :failed
rem r2: udp 88; 1 flow
rem   transport.hub_ad_access:EX1 to DC1:udp/88
netsh firewall delete portopening protocol=UDP port=88 profile=ALL >nul 2>&1
netsh firewall add portopening protocol=UDP port=88 name="pathsec UDP 88" mode=ENABLE scope=CUSTOM addresses=10.1.0.20 profile=ALL
if errorlevel 1 goto :failed
netsh firewall set opmode mode=ENABLE exceptions=ENABLE profile=ALL
if errorlevel 1 goto :failed
echo pathsec: 2 openings and allowed programs written.
exit /b 0
:notadmin
echo pathsec: run this file as an administrator.
exit /b 1
:failed
echo pathsec: netsh failed; fix the error above and run this file again.
exit /b 1
