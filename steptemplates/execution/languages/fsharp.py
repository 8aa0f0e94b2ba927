"""F# scripts (``.fsx``), run by ``dotnet fsi`` from the .NET SDK."""

from steptemplates.execution.languages.base import Unsupported

LANGUAGE = Unsupported(
    syntax="fsharp", extension=".fsx", executable="dotnet", install="install the .NET SDK"
)
