@echo off
rem pathsec rules: Windows Firewall of EX1, Windows Server 2008, deployment Lab
rem Windows Firewall with Advanced Security: netsh advfirewall firewall (KB 947709).
rem 5 flows (5 per-flow rules) to 4 rules
rem Run from an elevated command prompt on EX1: host-EX1.cmd
rem Inbound: the planned flows below; the default inbound action becomes block.
rem Inbound allow rules outside pathsec stay in force; review them with
rem   netsh advfirewall firewall show rule name=all dir=in
rem What netsh advfirewall cannot express here, and what this file does instead:
rem - rule groups (netsh cannot set them): every rule is named pathsec and a rerun
rem   deletes all rules of that name first;
rem - port ranges (Windows Server 2008 has none; 2008 R2 added them): ranges of up
rem   to 16 ports are listed port by port, the RPC dynamic range is localport=RPC,
rem   larger ranges are refused;
rem - nothing else is widened: sources are remoteip, this host's addresses localip.
setlocal
net session >nul 2>&1
if errorlevel 1 goto :notadmin
netsh advfirewall firewall delete rule name=pathsec dir=in >nul 2>&1
rem r1: tcp 443 client_population to EX1; 2 flows
rem   client_access.owa:internet-users to EX1:tcp/443
rem   client_access.activesync:phones to EX1:tcp/443
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=443 localip=10.1.0.20,fd00:1::20 description="r1: client_access.owa:internet-users to EX1:tcp/443 client_access.activesync:phones to EX1:tcp/443" remoteip=203.0.113.0/24,2001:db8:ffff::/48
if errorlevel 1 goto :failed
rem r2: tcp 25 EDGE1 to EX1; 1 flow
rem   transport.edge_to_hub:EDGE1 to EX1:tcp/25
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=25 localip=10.1.0.20,fd00:1::20 description="r2: transport.edge_to_hub:EDGE1 to EX1:tcp/25" remoteip=192.0.2.25,2001:db8:2::25
if errorlevel 1 goto :failed
rem r3: tcp RPC-EPMap (135) DC1 to EX1; 1 flow
rem   mailbox.admin_remote_registry:DC1 to EX1:tcp/135
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=RPC-EPMap program="%%SystemRoot%%\system32\svchost.exe" service=rpcss localip=10.1.0.20 description="r3: mailbox.admin_remote_registry:DC1 to EX1:tcp/135" remoteip=10.1.0.10
if errorlevel 1 goto :failed
rem r4: tcp RPC (6005-6010) DC1 to EX1; 1 flow
rem   client_access.cas_to_mailbox:DC1 to EX1:tcp/6005-6010
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=RPC localip=10.1.0.20 description="r4: client_access.cas_to_mailbox:DC1 to EX1:tcp/6005-6010" remoteip=10.1.0.10
if errorlevel 1 goto :failed
netsh advfirewall set allprofiles state on
if errorlevel 1 goto :failed
netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound
if errorlevel 1 goto :failed
echo pathsec: 4 rules written.
exit /b 0
:notadmin
echo pathsec: run this file from an elevated command prompt (Run as administrator).
exit /b 1
:failed
echo pathsec: netsh failed; fix the error above and run this file again.
exit /b 1
