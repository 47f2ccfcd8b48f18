# Collect-PathsecInventory.ps1: pathsec's inventory collector for Exchange Server 2007.
#
# Run it in the Exchange Management Shell of an Exchange 2007 server (PowerShell 1.0 or 2.0,
# .NET 2.0; nothing else is needed), as an account with the Exchange View-Only Administrator
# role (Get-ClusteredMailboxServerStatus and WMI also need local administrator rights on the
# servers they ask):
#
#     .\Collect-PathsecInventory.ps1 -OutDir C:\pathsec-inventory
#
# It only reads: Exchange cmdlets (Get-ExchangeServer, Get-MailboxServer,
# Get-ClusteredMailboxServerStatus, Get-StorageGroup, Get-EdgeSubscription, Get-UMServer,
# Get-UMDialPlan, Get-UMIPGateway, Get-UMHuntGroup, Get-ReceiveConnector, Get-SendConnector,
# Get-OrganizationConfig), Active Directory sites, subnets and domain controllers through
# System.DirectoryServices.ActiveDirectory, DNS, and WMI (Win32_OperatingSystem,
# Win32_NetworkAdapterConfiguration) on every server. It writes one CSV file per source into
# OutDir (UTF-8; several values in one cell are separated by '|'), plus Errors.csv with what
# could not be read. Copy the folder to the machine with pathsec and run:
#
#     pathsec import exchange pathsec-inventory -o deployment.yaml
#
# A script copied from another computer may be blocked by the execution policy: open its
# Properties in Explorer and choose Unblock, or run Set-ExecutionPolicy RemoteSigned.
# Written in PowerShell 1.0 syntax on purpose (no try/catch, no splatting, no -join):
# `python -m pathsec.inventory.ps1check` checks that.

param([string]$OutDir = 'pathsec-inventory')

$CollectorVersion = '1'
$script:Problems = @()

function Add-Problem([string]$StepName, [string]$StepTarget, [string]$StepMessage) {
    $text = $StepMessage.Replace("`r", ' ').Replace("`n", ' ')
    $script:Problems += New-Record @('Step', 'Target', 'Message') @($StepName, $StepTarget, $text)
    Write-Warning ($StepName + ' ' + $StepTarget + ': ' + $text)
}

# One output row: a PSObject with string properties in the given order.
function New-Record([string[]]$Names, [object[]]$Values) {
    $record = New-Object PSObject
    for ($i = 0; $i -lt $Names.Length; $i++) {
        $value = $Values[$i]
        if ($null -eq $value) { $value = '' }
        Add-Member -InputObject $record -MemberType NoteProperty -Name $Names[$i] -Value ([string]$value)
    }
    $record
}

# Several values in one cell, separated by '|' (address spaces contain ';').
function Join-Values($Values) {
    $parts = @()
    foreach ($value in @($Values)) {
        if ($null -ne $value) {
            $text = [string]$value
            if ($text.Length -gt 0) { $parts += $text }
        }
    }
    [string]::Join('|', [string[]]$parts)
}

# Runs a script block; a terminating error becomes a line of Errors.csv and the run goes on.
# (PowerShell 1.0 has no try/catch: a trap in a function continues after the failed statement.)
function Invoke-Step([string]$StepName_, [string]$StepTarget_, [scriptblock]$StepBlock_) {
    $ErrorActionPreference = 'Stop'
    trap {
        Add-Problem $StepName_ $StepTarget_ ([string]$_)
        continue
    }
    & $StepBlock_
}

# Writes records as CSV; with no records, the header alone (Export-Csv would write nothing).
function Save-Records($Records, [string[]]$Names, [string]$FileName) {
    $path = Join-Path $OutDir $FileName
    $rows = @($Records)
    if ($rows.Length -eq 0) {
        $header = '"' + [string]::Join('","', $Names) + '"'
        Set-Content -Path $path -Value $header -Encoding UTF8
    }
    else {
        $rows | Export-Csv -Path $path -NoTypeInformation -Encoding UTF8
    }
    Write-Host ('wrote ' + $path + ' (' + $rows.Length + ' rows)')
}

# The addresses a host name resolves to in DNS.
function Resolve-Addresses([string]$HostName) {
    $found = @()
    if ($HostName.Length -eq 0) { return '' }
    $entries = Invoke-Step 'dns' $HostName { [System.Net.Dns]::GetHostAddresses($HostName) }
    foreach ($entry in @($entries)) {
        if ($null -ne $entry) { $found += $entry.IPAddressToString }
    }
    Join-Values $found
}

if (-not (Test-Path $OutDir)) {
    [void](New-Item -ItemType Directory -Path $OutDir)
}
[void][System.Reflection.Assembly]::LoadWithPartialName('System.DirectoryServices')

# --- Exchange servers -------------------------------------------------------------------
$ExchangeNames = @('Name', 'Fqdn', 'Domain', 'Site', 'ServerRole', 'AdminDisplayVersion',
    'Edition', 'IsExchange2007OrLater')
$exchangeRows = @()
$exchangeServers = @(Invoke-Step 'Get-ExchangeServer' '' { Get-ExchangeServer })
foreach ($s in $exchangeServers) {
    if ($null -eq $s) { continue }
    $exchangeRows += New-Record $ExchangeNames @($s.Name, $s.Fqdn, $s.Domain, $s.Site,
        $s.ServerRole, $s.AdminDisplayVersion, $s.Edition, $s.IsExchange2007OrLater)
}
Save-Records $exchangeRows $ExchangeNames 'ExchangeServer.csv'

# --- Mailbox servers, clusters, storage groups -----------------------------------------
$MailboxNames = @('Name', 'ClusteredStorageType', 'RedundantMachines')
$ClusterNames = @('Identity', 'ClusteredMailboxServerName', 'State', 'OperationalMachines',
    'FailedResources')
$mailboxRows = @()
$clusterRows = @()
$clusterNodes = @()
foreach ($m in @(Invoke-Step 'Get-MailboxServer' '' { Get-MailboxServer })) {
    if ($null -eq $m) { continue }
    $storage = [string]$m.ClusteredStorageType
    $mailboxRows += New-Record $MailboxNames @($m.Name, $storage, (Join-Values $m.RedundantMachines))
    if ($storage -eq 'NonShared' -or $storage -eq 'Shared') {
        $cmsDomain = ''
        foreach ($row in $exchangeRows) { if ($row.Name -eq $m.Name) { $cmsDomain = $row.Domain } }
        foreach ($node in @($m.RedundantMachines)) {
            if ($null -ne $node) { $clusterNodes += New-Record @('Node', 'Domain') @($node, $cmsDomain) }
        }
        $cmsName = [string]$m.Name
        $status = Invoke-Step 'Get-ClusteredMailboxServerStatus' $cmsName {
            Get-ClusteredMailboxServerStatus -Identity $cmsName
        }
        foreach ($c in @($status)) {
            if ($null -eq $c) { continue }
            $clusterRows += New-Record $ClusterNames @($c.Identity, $c.ClusteredMailboxServerName,
                $c.State, (Join-Values $c.OperationalMachines), (Join-Values $c.FailedResources))
        }
    }
}
Save-Records $mailboxRows $MailboxNames 'MailboxServer.csv'
Save-Records $clusterRows $ClusterNames 'ClusteredMailboxServerStatus.csv'

$StorageGroupNames = @('Server', 'Name', 'StandbyMachines')
$storageRows = @()
foreach ($g in @(Invoke-Step 'Get-StorageGroup' '' { Get-StorageGroup })) {
    if ($null -eq $g) { continue }
    $standby = @()
    foreach ($entry in @($g.StandbyMachines)) {
        if ($null -eq $entry) { continue }
        if ($null -ne $entry.NodeName) { $standby += [string]$entry.NodeName }
        else { $standby += [string]$entry }
    }
    $storageRows += New-Record $StorageGroupNames @($g.Server, $g.Name, (Join-Values $standby))
}
Save-Records $storageRows $StorageGroupNames 'StorageGroup.csv'

# --- Edge subscriptions, Unified Messaging ----------------------------------------------
$EdgeNames = @('Name', 'Site', 'Domain')
$edgeRows = @()
foreach ($e in @(Invoke-Step 'Get-EdgeSubscription' '' { Get-EdgeSubscription })) {
    if ($null -eq $e) { continue }
    $edgeRows += New-Record $EdgeNames @($e.Name, $e.Site, $e.Domain)
}
Save-Records $edgeRows $EdgeNames 'EdgeSubscription.csv'

$UMServerNames = @('Name', 'Status', 'DialPlans')
$umRows = @()
foreach ($u in @(Invoke-Step 'Get-UMServer' '' { Get-UMServer })) {
    if ($null -eq $u) { continue }
    $umRows += New-Record $UMServerNames @($u.Name, $u.Status, (Join-Values $u.DialPlans))
}
Save-Records $umRows $UMServerNames 'UMServer.csv'

$DialPlanNames = @('Name', 'VoIPSecurity')
$dialPlanRows = @()
foreach ($d in @(Invoke-Step 'Get-UMDialPlan' '' { Get-UMDialPlan })) {
    if ($null -eq $d) { continue }
    $dialPlanRows += New-Record $DialPlanNames @($d.Name, $d.VoIPSecurity)
}
Save-Records $dialPlanRows $DialPlanNames 'UMDialPlan.csv'

$GatewayNames = @('Name', 'Address', 'Port', 'Status', 'OutcallsAllowed', 'ResolvedAddresses')
$gatewayRows = @()
foreach ($gw in @(Invoke-Step 'Get-UMIPGateway' '' { Get-UMIPGateway })) {
    if ($null -eq $gw) { continue }
    $address = [string]$gw.Address
    $gatewayRows += New-Record $GatewayNames @($gw.Name, $address, $gw.Port, $gw.Status,
        $gw.OutcallsAllowed, (Resolve-Addresses $address))
}
Save-Records $gatewayRows $GatewayNames 'UMIPGateway.csv'

$HuntGroupNames = @('Name', 'UMDialPlan', 'UMIPGateway', 'PilotIdentifier')
$huntRows = @()
foreach ($h in @(Invoke-Step 'Get-UMHuntGroup' '' { Get-UMHuntGroup })) {
    if ($null -eq $h) { continue }
    $huntRows += New-Record $HuntGroupNames @($h.Name, $h.UMDialPlan, $h.UMIPGateway,
        $h.PilotIdentifier)
}
Save-Records $huntRows $HuntGroupNames 'UMHuntGroup.csv'

# --- Connectors (kept for configuration checks) -----------------------------------------
$ReceiveNames = @('Identity', 'Server', 'Name', 'Bindings', 'RemoteIPRanges', 'AuthMechanism',
    'PermissionGroups', 'Fqdn', 'Enabled', 'RequireTLS')
$receiveRows = @()
foreach ($r in @(Invoke-Step 'Get-ReceiveConnector' '' { Get-ReceiveConnector })) {
    if ($null -eq $r) { continue }
    $receiveRows += New-Record $ReceiveNames @($r.Identity, $r.Server, $r.Name,
        (Join-Values $r.Bindings), (Join-Values $r.RemoteIPRanges), $r.AuthMechanism,
        $r.PermissionGroups, $r.Fqdn, $r.Enabled, $r.RequireTLS)
}
Save-Records $receiveRows $ReceiveNames 'ReceiveConnector.csv'

$SendNames = @('Identity', 'Name', 'AddressSpaces', 'SmartHosts', 'SourceTransportServers',
    'SmartHostAuthMechanism', 'RequireTLS', 'DNSRoutingEnabled', 'Port', 'Enabled',
    'DomainSecureEnabled')
$sendRows = @()
foreach ($c in @(Invoke-Step 'Get-SendConnector' '' { Get-SendConnector })) {
    if ($null -eq $c) { continue }
    $sendRows += New-Record $SendNames @($c.Identity, $c.Name, (Join-Values $c.AddressSpaces),
        (Join-Values $c.SmartHosts), (Join-Values $c.SourceTransportServers),
        $c.SmartHostAuthMechanism, $c.RequireTLS, $c.DNSRoutingEnabled, $c.Port, $c.Enabled,
        $c.DomainSecureEnabled)
}
Save-Records $sendRows $SendNames 'SendConnector.csv'

# --- Active Directory: forest, sites, subnets, domain controllers -----------------------
$forest = Invoke-Step 'Forest' '' { [System.DirectoryServices.ActiveDirectory.Forest]::GetCurrentForest() }
$SiteNames = @('Name')
$SubnetNames = @('Name', 'Site', 'Location')
$DCNames = @('Name', 'Domain', 'Site', 'IPAddress', 'OSVersion', 'IsGlobalCatalog')
$siteRows = @()
$subnetRows = @()
$dcRows = @()
if ($null -ne $forest) {
    foreach ($site in @($forest.Sites)) {
        if ($null -eq $site) { continue }
        $siteRows += New-Record $SiteNames @($site.Name)
        foreach ($subnet in @($site.Subnets)) {
            if ($null -eq $subnet) { continue }
            $subnetRows += New-Record $SubnetNames @($subnet.Name, $site.Name, $subnet.Location)
        }
    }
    foreach ($domain in @($forest.Domains)) {
        if ($null -eq $domain) { continue }
        foreach ($dc in @($domain.DomainControllers)) {
            if ($null -eq $dc) { continue }
            $dcName = [string]$dc.Name
            $facts = Invoke-Step 'DomainController' $dcName {
                New-Record $DCNames @($dcName, $domain.Name, $dc.SiteName, $dc.IPAddress,
                    $dc.OSVersion, $dc.IsGlobalCatalog())
            }
            if ($null -eq $facts) { $facts = New-Record $DCNames @($dcName, $domain.Name) }
            $dcRows += $facts
        }
    }
}
Save-Records $siteRows $SiteNames 'AdSite.csv'
Save-Records $subnetRows $SubnetNames 'AdSubnet.csv'
Save-Records $dcRows $DCNames 'DomainController.csv'

# --- Each server's addresses and Windows version (WMI, else DNS) ------------------------
$HostNames = @('Name', 'Queried', 'Source', 'IPAddresses', 'DnsAddresses', 'OSCaption',
    'OSVersion', 'CSDVersion', 'WmiStatus')
$targets = @()
foreach ($row in $exchangeRows) {
    $storage = ''
    foreach ($m in $mailboxRows) { if ($m.Name -eq $row.Name) { $storage = $m.ClusteredStorageType } }
    if ($storage -ne 'NonShared' -and $storage -ne 'Shared') {
        $targets += New-Record @('Name', 'Queried', 'Source') @($row.Name, $row.Fqdn, 'exchange')
    }
}
foreach ($node in $clusterNodes) {
    $fqdn = $node.Node
    if ($node.Domain.Length -gt 0) { $fqdn = $node.Node + '.' + $node.Domain }
    $targets += New-Record @('Name', 'Queried', 'Source') @($node.Node, $fqdn, 'cluster-node')
}
foreach ($dc in $dcRows) {
    $targets += New-Record @('Name', 'Queried', 'Source') @($dc.Name, $dc.Name, 'domain-controller')
}
$hostRows = @()
foreach ($t in $targets) {
    $queried = $t.Queried
    if ($queried.Length -eq 0) { $queried = $t.Name }
    $os = Invoke-Step 'Win32_OperatingSystem' $queried {
        Get-WmiObject -Class Win32_OperatingSystem -ComputerName $queried
    }
    $addresses = @()
    $status = 'failed'
    if ($null -ne $os) {
        $status = 'ok'
        $adapters = Invoke-Step 'Win32_NetworkAdapterConfiguration' $queried {
            Get-WmiObject -Class Win32_NetworkAdapterConfiguration -ComputerName $queried -Filter 'IPEnabled = TRUE'
        }
        foreach ($adapter in @($adapters)) {
            if ($null -eq $adapter) { continue }
            foreach ($ip in @($adapter.IPAddress)) { $addresses += $ip }
        }
    }
    $caption = ''
    $version = ''
    $servicePack = ''
    if ($null -ne $os) {
        $caption = $os.Caption
        $version = $os.Version
        $servicePack = $os.CSDVersion
    }
    $hostRows += New-Record $HostNames @($t.Name, $queried, $t.Source, (Join-Values $addresses),
        (Resolve-Addresses $queried), $caption, $version, $servicePack, $status)
}
Save-Records $hostRows $HostNames 'ServerHost.csv'

# --- What was collected, and what failed -------------------------------------------------
$organization = ''
$org = Invoke-Step 'Get-OrganizationConfig' '' { Get-OrganizationConfig }
if ($null -ne $org) { $organization = $org.Name }
$forestName = ''
if ($null -ne $forest) { $forestName = $forest.Name }
$domainName = ''
$current = Invoke-Step 'Domain' '' { [System.DirectoryServices.ActiveDirectory.Domain]::GetCurrentDomain() }
if ($null -ne $current) { $domainName = $current.Name }
$CollectorNames = @('CollectorVersion', 'PowerShellVersion', 'Collected', 'Organization', 'Forest',
    'Domain')
$collected = (Get-Date).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")
$about = New-Record $CollectorNames @($CollectorVersion, $Host.Version, $collected, $organization,
    $forestName, $domainName)
Save-Records @($about) $CollectorNames 'Collector.csv'
Save-Records $script:Problems @('Step', 'Target', 'Message') 'Errors.csv'

Write-Host ''
Write-Host ('pathsec inventory written to ' + (Resolve-Path $OutDir) + ' (' + $script:Problems.Length + ' problems).')
Write-Host 'Copy the folder to the machine with pathsec and run:'
Write-Host ('    pathsec import exchange ' + (Split-Path -Leaf $OutDir) + ' -o deployment.yaml')
