"""NuGet package ids and versions: what is valid, and the normalised forms feeds use."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from steptemplates.versions import Version, parse_version

MAX_ID_LENGTH = 100
# NuGet's own limit: every numeric part is a 32-bit signed integer.
_MAX_PART = 2**31 - 1
_ID_RE = re.compile(r"[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*", re.ASCII)
_NOT_ID_CHARACTERS_RE = re.compile(r"[^A-Za-z0-9_.-]+", re.ASCII)
_SEPARATOR_RUN_RE = re.compile(r"[.-]*-[.-]*|\.{2,}")

ID_RULES = (
    "an id is letters, digits and '_', in parts joined by single '.' or '-', "
    f"at most {MAX_ID_LENGTH} characters"
)


def id_problem(text: str) -> str | None:
    """Why ``text`` is not a valid NuGet package id, or None when it is one."""
    if not text:
        return "it is empty"
    if len(text) > MAX_ID_LENGTH:
        return f"it is longer than {MAX_ID_LENGTH} characters"
    if not _ID_RE.fullmatch(text):
        return ID_RULES
    return None


def id_from_name(name: str) -> str | None:
    """A valid id made from a template's name (``My template!`` -> ``My-template``), or None."""
    # Accents become their base letters rather than separators: "Déploy" -> "Deploy".
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = _NOT_ID_CHARACTERS_RE.sub("-", ascii_name)
    text = _SEPARATOR_RUN_RE.sub(lambda run: "-" if "-" in run[0] else ".", text)
    text = text.strip(".-")[:MAX_ID_LENGTH].rstrip(".-")
    return text if id_problem(text) is None else None


@dataclass(frozen=True)
class PackageVersion:
    """A package version in the forms NuGet needs: as written in the nuspec, and normalised."""

    version: Version

    @property
    def normalised(self) -> str:
        """``1.0`` -> ``1.0.0``, ``01.2.3.0`` -> ``1.2.3``; no build metadata (file names, URLs)."""
        return str(self.version)

    @property
    def full(self) -> str:
        """The normalised version with its build metadata, as the nuspec records it."""
        build = self.version.build
        return f"{self.normalised}+{build}" if build else self.normalised

    @property
    def lower(self) -> str:
        """The form in feed paths and version lists."""
        return self.normalised.lower()


def parse_package_version(text: str) -> PackageVersion:
    """Parse a package version; raises ValueError saying what is wrong."""
    version = parse_version(text.strip())
    if any(part > _MAX_PART for part in version.release):
        raise ValueError(f"{text!r} has a part larger than {_MAX_PART}")
    return PackageVersion(version)
