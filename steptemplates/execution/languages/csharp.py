"""C# scripts (``.csx``), run by ``dotnet-script``."""

from steptemplates.execution.languages.base import Unsupported

LANGUAGE = Unsupported(
    syntax="csharp",
    extension=".csx",
    executable="dotnet-script",
    install="install it with `dotnet tool install --global dotnet-script`",
)
