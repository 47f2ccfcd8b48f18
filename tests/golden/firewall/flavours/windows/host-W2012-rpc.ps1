# pathsec: RPC dynamic port range of W2012 (KB 154596)
# PowerShell 1.0 and later; the .reg file does the same without PowerShell.
$principal = New-Object -TypeName Security.Principal.WindowsPrincipal -ArgumentList ([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Write-Host 'pathsec: run this script as an administrator.'
    exit 1
}
$ErrorActionPreference = 'Stop'
New-Item -Path 'HKLM:\Software\Microsoft\Rpc\Internet' -Force | Out-Null
New-ItemProperty -Path 'HKLM:\Software\Microsoft\Rpc\Internet' -Name 'Ports' -PropertyType MultiString -Value @('6005-6010') -Force | Out-Null
New-ItemProperty -Path 'HKLM:\Software\Microsoft\Rpc\Internet' -Name 'PortsInternetAvailable' -PropertyType String -Value 'Y' -Force | Out-Null
New-ItemProperty -Path 'HKLM:\Software\Microsoft\Rpc\Internet' -Name 'UseInternetPorts' -PropertyType String -Value 'Y' -Force | Out-Null
Write-Host 'RPC port range set; restart the server for it to take effect.'
