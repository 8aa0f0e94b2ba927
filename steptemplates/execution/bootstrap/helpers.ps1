# Helper functions for PowerShell step scripts, with the names and output of Octopus
# Calamari's. The powershell language writes this file, followed by the lines that load the
# step's variables and modules and dot-source its script, as the bootstrap that pwsh
# dot-sources. It must run on PowerShell 7 on any platform.

$ErrorActionPreference = 'Stop'
# Calamari pins the argument passing of PowerShell 7.2 and earlier, which scripts written
# for Octopus expect when they call native programs.
$PSNativeCommandArgumentPassing = 'Legacy'

function Convert-ServiceMessageValue([string]$value) {
    [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($value))
}

function Set-OctopusVariable([string]$name, [string]$value, [switch]$sensitive) {
    $message = "##octopus[setVariable name='$(Convert-ServiceMessageValue $name)'" +
        " value='$(Convert-ServiceMessageValue $value)'"
    if ($sensitive) {
        $message += " sensitive='$(Convert-ServiceMessageValue 'True')'"
    }
    Write-Host "$message]"
}

function New-OctopusArtifact {
    [CmdletBinding()]
    param(
        [Parameter(Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)]
        [Alias('fullname', 'path')]
        [string]$fullpath,
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = $true)]
        [string]$name = ''
    )
    process {
        # Relative to the current location, which Set-Location may have moved.
        $resolved = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($fullpath)
        $resolved = [System.IO.Path]::GetFullPath($resolved)
        $length = 0
        if (Test-Path -LiteralPath $resolved -PathType Leaf) {
            $length = (Get-Item -LiteralPath $resolved -Force).Length
        }
        else {
            Write-Verbose "There is no file at '$fullpath' right now. Writing the service message just in case the file is available when the artifacts are collected at a later point in time."
        }
        # Not $name itself: a value bound once would stick for the next piped item.
        $artifactName = $name
        if (-not $artifactName) {
            $artifactName = [System.IO.Path]::GetFileName($resolved)
        }
        $lengthText = $length.ToString([System.Globalization.CultureInfo]::InvariantCulture)
        Write-Verbose "Artifact $artifactName will be collected from $resolved after this step completes"
        Write-Host ("##octopus[createArtifact path='$(Convert-ServiceMessageValue $resolved)'" +
            " name='$(Convert-ServiceMessageValue $artifactName)'" +
            " length='$(Convert-ServiceMessageValue $lengthText)']")
    }
}

function Fail-Step([string]$message) {
    if ($message) {
        Write-Host "##octopus[resultMessage message='$(Convert-ServiceMessageValue $message)']"
    }
    exit -1
}

function Update-Progress {
    [CmdletBinding()]
    param(
        [Parameter(Position = 0)][int]$percentage,
        [Parameter(Position = 1, ValueFromPipeline = $true)][string]$message
    )
    process {
        Write-Host ("##octopus[progress percentage='$(Convert-ServiceMessageValue $percentage)'" +
            " message='$(Convert-ServiceMessageValue $message)']")
    }
}

# The overrides below put each message between a mode change and a return to the default
# mode, as Calamari's do; piped messages share one pair.

function Write-Verbose {
    [CmdletBinding()]
    param([Parameter(Position = 0, ValueFromPipeline = $true)][AllowEmptyString()][string]$message)
    begin { Write-Host '##octopus[stdout-verbose]' }
    process { Write-Host $message }
    end { Write-Host '##octopus[stdout-default]' }
}

function Write-Debug {
    [CmdletBinding()]
    param([Parameter(Position = 0, ValueFromPipeline = $true)][AllowEmptyString()][string]$message)
    process { Write-Verbose $message }
}

function Write-Highlight {
    [CmdletBinding()]
    param([Parameter(Position = 0, ValueFromPipeline = $true)][AllowEmptyString()][string]$message)
    begin { Write-Host '##octopus[stdout-highlight]' }
    process { Write-Host $message }
    end { Write-Host '##octopus[stdout-default]' }
}

function Write-Wait {
    [CmdletBinding()]
    param([Parameter(Position = 0, ValueFromPipeline = $true)][AllowEmptyString()][string]$message)
    begin { Write-Host '##octopus[stdout-wait]' }
    process { Write-Host $message }
    end { Write-Host '##octopus[stdout-default]' }
}

function Write-Warning {
    [CmdletBinding()]
    param([Parameter(Position = 0, ValueFromPipeline = $true)][AllowEmptyString()][string]$message)
    begin { Write-Host '##octopus[stdout-warning]' }
    process {
        # -WarningAction SilentlyContinue still silences a warning, as with the cmdlet.
        if ($WarningPreference -ne 'SilentlyContinue') { Write-Host $message }
    }
    end { Write-Host '##octopus[stdout-default]' }
}

function ConvertFrom-OctopusField([string]$field) {
    [System.Text.Encoding]::Unicode.GetString([Convert]::FromBase64String($field))
}

# Reads the values file (steptemplates/execution/languages/base.py describes it) and deletes
# it at once; fills $OctopusParameters, declares the script's variables, and outputs the
# script's parameters.
function Initialize-OctopusScript([string]$valuesFile) {
    $lines = [System.IO.File]::ReadAllLines($valuesFile)
    Remove-Item -LiteralPath $valuesFile -Force
    $parameters = [System.Collections.Generic.Dictionary[string, string]]::new(
        [System.StringComparer]::OrdinalIgnoreCase)
    Set-Variable -Scope Global -Name OctopusParameters -Value $parameters
    $arguments = [System.Collections.Generic.List[string]]::new()
    foreach ($line in $lines) {
        $fields = $line.Split(' ')
        if ($fields[0] -eq 'variable') {
            $parameters[(ConvertFrom-OctopusField $fields[1])] = ConvertFrom-OctopusField $fields[2]
        }
        elseif ($fields[0] -eq 'local') {
            # The first variable to claim a name keeps it, and automatic and preference
            # variables are never replaced.
            $key = ConvertFrom-OctopusField $fields[1]
            if (-not (Test-Path "variable:global:$key")) {
                Set-Variable -Scope Global -Name $key -Value $parameters[(ConvertFrom-OctopusField $fields[2])]
            }
        }
        elseif ($fields[0] -eq 'parameter') {
            $arguments.Add((ConvertFrom-OctopusField $fields[1]))
        }
    }
    $arguments.ToArray()
}

function Import-OctopusScriptModule([string]$moduleName, [string]$moduleFile) {
    try {
        Write-Verbose "Importing Script Module '$moduleName' from '$moduleFile'"
        Import-Module -Global -DisableNameChecking -Name $moduleFile
    }
    catch {
        [Console]::Error.WriteLine("Failed to import Script Module '$moduleName' from '$moduleFile'")
        Write-OctopusError $_
        exit 1
    }
}

# An error record as Calamari reports it; every part checked, as the script may have turned
# on strict mode.
function Write-OctopusError($record) {
    [Console]::Error.WriteLine("$($record.CategoryInfo.Category): $($record.Exception.Message)")
    if ($null -ne $record.InvocationInfo) {
        [Console]::Error.WriteLine([string]$record.InvocationInfo.PositionMessage)
    }
    if ($record.ScriptStackTrace) {
        [Console]::Error.WriteLine([string]$record.ScriptStackTrace)
    }
    if ($null -ne $record.ErrorDetails) {
        [Console]::Error.WriteLine([string]$record.ErrorDetails.Message)
    }
}
