"""PowerShell scripts (``.ps1``), run by PowerShell 7 (``pwsh``)."""

from steptemplates.execution.languages.base import Unsupported

LANGUAGE = Unsupported(
    syntax="powershell", extension=".ps1", executable="pwsh", install="install PowerShell 7"
)
