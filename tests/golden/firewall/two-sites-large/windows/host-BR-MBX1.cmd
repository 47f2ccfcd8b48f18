@echo off
rem pathsec rules: Windows Firewall of BR-MBX1, Windows Server 2008, deployment Contoso Two Sites (HA)
rem Windows Firewall with Advanced Security: netsh advfirewall firewall (KB 947709).
rem 17 flows (17 per-flow rules) to 3 rules; the flows of each rule: host-BR-MBX1.flows
rem Run from an elevated command prompt on BR-MBX1: host-BR-MBX1.cmd
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
rem REFUSED (6), not opened by this file:
rem   mailbox.ccr_scr_seeding:HQ-MBX1 to BR-MBX1:tcp/1025-65535: port range 1025-65535 (64511 ports): Windows Server 2008 has no port ranges in firewall rules (2008 R2 added them); pathsec does not widen. Enforce this flow on the network firewall or upgrade the host to 2008 R2
rem   mailbox.ccr_scr_seeding:HQ-MBX1 to BR-MBX1:udp/1025-65535: port range 1025-65535 (64511 ports): Windows Server 2008 has no port ranges in firewall rules (2008 R2 added them); pathsec does not widen. Enforce this flow on the network firewall or upgrade the host to 2008 R2
rem   mailbox.ccr_scr_seeding:HQ-MBX2 to BR-MBX1:tcp/1025-65535: port range 1025-65535 (64511 ports): Windows Server 2008 has no port ranges in firewall rules (2008 R2 added them); pathsec does not widen. Enforce this flow on the network firewall or upgrade the host to 2008 R2
rem   mailbox.ccr_scr_seeding:HQ-MBX2 to BR-MBX1:udp/1025-65535: port range 1025-65535 (64511 ports): Windows Server 2008 has no port ranges in firewall rules (2008 R2 added them); pathsec does not widen. Enforce this flow on the network firewall or upgrade the host to 2008 R2
rem   mailbox.legacy_backup:BK1 to BR-MBX1:tcp/1025-65535: port range 1025-65535 (64511 ports): Windows Server 2008 has no port ranges in firewall rules (2008 R2 added them); pathsec does not widen. Enforce this flow on the network firewall or upgrade the host to 2008 R2
rem   mailbox.legacy_backup:BK1 to BR-MBX1:udp/1025-65535: port range 1025-65535 (64511 ports): Windows Server 2008 has no port ranges in firewall rules (2008 R2 added them); pathsec does not widen. Enforce this flow on the network firewall or upgrade the host to 2008 R2
setlocal
net session >nul 2>&1
if errorlevel 1 goto :notadmin
netsh advfirewall firewall delete rule name=pathsec dir=in >nul 2>&1
rem r1: tcp RPC-EPMap (135) hosts_4 to BR-MBX1; 7 flows
rem   transport.hub_to_mailbox_mapi:BR-HC1 to BR-MBX1:tcp/135
rem   mailbox.mapi_access:branch-users to BR-MBX1:tcp/135
rem   mailbox.availability_web_service:BR-HC1 to BR-MBX1:tcp/135
rem   mailbox.admin_remote_registry:admins to BR-MBX1:tcp/135
rem   mailbox.rus_rpc_access:HQ-EX2003 to BR-MBX1:tcp/135
rem   mailbox.sa_legacy_listen:HQ-EX2003 to BR-MBX1:tcp/135
rem   ... and 1 more in host-BR-MBX1.flows
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=RPC-EPMap program="%%SystemRoot%%\system32\svchost.exe" service=rpcss localip=10.2.0.31 description="r1: 7 flows (host-BR-MBX1.flows)" remoteip=10.1.0.50,10.2.0.20,10.2.128.0/17,10.9.0.64/26
if errorlevel 1 goto :failed
rem r2: tcp RPC (49152-65535) hosts_4 to BR-MBX1; 7 flows
rem   transport.hub_to_mailbox_mapi:BR-HC1 to BR-MBX1:tcp/49152-65535
rem   mailbox.mapi_access:branch-users to BR-MBX1:tcp/49152-65535
rem   mailbox.availability_web_service:BR-HC1 to BR-MBX1:tcp/49152-65535
rem   mailbox.admin_remote_registry:admins to BR-MBX1:tcp/49152-65535
rem   mailbox.rus_rpc_access:HQ-EX2003 to BR-MBX1:tcp/49152-65535
rem   mailbox.sa_legacy_listen:HQ-EX2003 to BR-MBX1:tcp/49152-65535
rem   ... and 1 more in host-BR-MBX1.flows
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=RPC localip=10.2.0.31 description="r2: 7 flows (host-BR-MBX1.flows)" remoteip=10.1.0.50,10.2.0.20,10.2.128.0/17,10.9.0.64/26
if errorlevel 1 goto :failed
rem r3: tcp 445 hosts_3 to BR-MBX1; 3 flows
rem   mailbox.ccr_scr_log_shipping:HQ-MBX1 to BR-MBX1:tcp/445
rem   mailbox.ccr_scr_log_shipping:HQ-MBX2 to BR-MBX1:tcp/445
rem   mailbox.admin_remote_smb:admins to BR-MBX1:tcp/445
netsh advfirewall firewall add rule name=pathsec dir=in action=allow enable=yes profile=any protocol=tcp localport=445 localip=10.2.0.31 description="r3: 3 flows (host-BR-MBX1.flows)" remoteip=10.1.0.31,10.1.0.32,10.9.0.64/26
if errorlevel 1 goto :failed
netsh advfirewall set allprofiles state on
if errorlevel 1 goto :failed
netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound
if errorlevel 1 goto :failed
echo pathsec: 3 rules written.
exit /b 0
:notadmin
echo pathsec: run this file from an elevated command prompt (Run as administrator).
exit /b 1
:failed
echo pathsec: netsh failed; fix the error above and run this file again.
exit /b 1
