# pathsec: RPC dynamic port range of 'HQ-MBX1' (KB 154596)
#Requires -RunAsAdministrator
$ErrorActionPreference = 'Stop'
New-Item -Path 'HKLM:\Software\Microsoft\Rpc\Internet' -Force | Out-Null
New-ItemProperty -Path 'HKLM:\Software\Microsoft\Rpc\Internet' -Name 'Ports' -PropertyType MultiString -Value @('6000-6999') -Force | Out-Null
New-ItemProperty -Path 'HKLM:\Software\Microsoft\Rpc\Internet' -Name 'PortsInternetAvailable' -PropertyType String -Value 'Y' -Force | Out-Null
New-ItemProperty -Path 'HKLM:\Software\Microsoft\Rpc\Internet' -Name 'UseInternetPorts' -PropertyType String -Value 'Y' -Force | Out-Null
Write-Host 'RPC port range set; restart the server for it to take effect.'
