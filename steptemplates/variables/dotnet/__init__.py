"""The .NET behaviours Octostache filters expose, one module each: numbers, dates, ``System.Uri``,
regular expressions and string rules.

Octostache hands values to .NET's ``TryParse`` and ``ToString(format)``, so templates written for
Octopus rely on .NET's format strings (``yyyy-MM-dd``, ``HH:mm``, ``N2``, ``#,##0.00``, ``O``).
These modules render them the way .NET does for the en-US culture (``$`` currency, ``M/d/yyyy``
short dates), which is what Octopus servers and the Octostache tests use.
"""


class DotnetFormatError(ValueError):
    """The format string is not one .NET accepts (.NET throws FormatException)."""
