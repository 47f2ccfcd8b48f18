@echo off
rem pathsec rules: Windows Firewall of W2008R2, Windows Server 2008 R2, deployment Flavours
rem Windows Firewall with Advanced Security: netsh advfirewall firewall (KB 947709).
rem 11 flows (12 per-flow rules) to 7 rules
rem Run from an elevated command prompt on W2008R2: host-W2008R2.cmd
rem Inbound: the planned flows below; the default inbound action becomes block.
rem Inbound allow rules outside pathsec stay in force; review them with
rem   netsh advfirewall firewall show rule name=all dir=in
rem What netsh advfirewall cannot express here, and what this file does instead:
rem - rule groups (netsh cannot set them): every rule is named pathsec and a rerun
rem   deletes all rules of that name first;
rem - nothing else is widened: sources are remoteip, this host's addresses localip.
setlocal
net session >nul 2>&1
if errorlevel 1 goto :notadmin
netsh advfirewall firewall delete rule name=pathsec dir=in >nul 2>&1
rem r1: tcp 443 client_population to W2008R2; 2 flows
rem   client_access.owa:internet-users to W2008R2:tcp/443
rem   client_access.activesync:phones to W2008R2:tcp/443
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=443 localip=10.1.0.33,fd00:1::21 description="r1: client_access.owa:internet-users to W2008R2:tcp/443 client_access.activesync:phones to W2008R2:tcp/443" remoteip=203.0.113.0/24,2001:db8:ffff::/48
if errorlevel 1 goto :failed
rem r2: tcp 25,587 EDGE1 to W2008R2; 2 flows
rem   transport.edge_to_hub:EDGE1 to W2008R2:tcp/25
rem   transport.edge_to_hub:EDGE1 to W2008R2:tcp/587
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=25,587 localip=10.1.0.33,fd00:1::21 description="r2: transport.edge_to_hub:EDGE1 to W2008R2:tcp/25 transport.edge_to_hub:EDGE1 to W2008R2:tcp/587" remoteip=192.0.2.25,2001:db8:2::25
if errorlevel 1 goto :failed
rem r3: tcp RPC-EPMap (135) DC1_admins to W2008R2; 2 flows
rem   mailbox.mapi_access:DC1 to W2008R2:tcp/135
rem   mailbox.admin_remote_registry:admins to W2008R2:tcp/135
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=RPC-EPMap program="%%SystemRoot%%\system32\svchost.exe" service=rpcss localip=10.1.0.33 description="r3: mailbox.mapi_access:DC1 to W2008R2:tcp/135 mailbox.admin_remote_registry:admins to W2008R2:tcp/135" remoteip=10.1.0.10,10.1.9.0/26
if errorlevel 1 goto :failed
rem r4: tcp RPC (6005-6010) DC1_admins to W2008R2; 2 flows
rem   mailbox.mapi_access:DC1 to W2008R2:tcp/6005-6010
rem   mailbox.admin_remote_registry:admins to W2008R2:tcp/6005-6010
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=RPC localip=10.1.0.33 description="r4: mailbox.mapi_access:DC1 to W2008R2:tcp/6005-6010 mailbox.admin_remote_registry:admins to W2008R2:tcp/6005-6010" remoteip=10.1.0.10,10.1.9.0/26
if errorlevel 1 goto :failed
rem r5: udp 3343,5060-5062 DC1 to W2008R2; 2 flows
rem   mailbox.cluster:DC1 to W2008R2:udp/3343
rem   unified_messaging.pbx:DC1 to W2008R2:udp/5060-5062
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=udp localport=3343,5060-5062 localip=10.1.0.33 description="r5: mailbox.cluster:DC1 to W2008R2:udp/3343 unified_messaging.pbx:DC1 to W2008R2:udp/5060-5062" remoteip=10.1.0.10
if errorlevel 1 goto :failed
rem r6: tcp 1025-65535 BK1 to W2008R2; 1 flow
rem   mailbox.legacy_backup:BK1 to W2008R2:tcp/1025-65535
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=1025-65535 localip=10.1.0.33 description="r6: mailbox.legacy_backup:BK1 to W2008R2:tcp/1025-65535" remoteip=10.1.9.70
if errorlevel 1 goto :failed
rem r7: udp 1025-65535 BK1 to W2008R2; 1 flow
rem   mailbox.legacy_backup:BK1 to W2008R2:udp/1025-65535
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=udp localport=1025-65535 localip=10.1.0.33 description="r7: mailbox.legacy_backup:BK1 to W2008R2:udp/1025-65535" remoteip=10.1.9.70
if errorlevel 1 goto :failed
netsh advfirewall set allprofiles state on
if errorlevel 1 goto :failed
netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound
if errorlevel 1 goto :failed
echo pathsec: 7 rules written.
exit /b 0
:notadmin
echo pathsec: run this file from an elevated command prompt (Run as administrator).
exit /b 1
:failed
echo pathsec: netsh failed; fix the error above and run this file again.
exit /b 1
