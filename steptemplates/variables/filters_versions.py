"""The ``Version*`` filters, which read a version with Octopus.Versioning's lenient rules.

Octopus accepts far more than SemVer: an optional ``v``/``V``, one to four numeric parts (the
missing ones are 0), a pre-release tag split into a prefix and a counter at the first ``.``,
``-``, ``_`` or ``\\``, and ``+metadata``. Tags such as ``latest`` or ``19.0.0.Final`` parse too:
everything that is not a number becomes the pre-release tag.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from steptemplates.variables.filters_arguments import Filter, FilterRejected, needs_argument

_INT32_MAX = 2**31 - 1

# The same shape as Octopus.Versioning's parser, so the same (lazy) choices are made when a
# tag could be split more than one way. Whitespace around the numbers is tolerated because old
# Octopus releases were created with it. The numbers are ASCII digits: .NET's int.Parse refuses
# other digits, so such versions cannot be parsed there either.
_VERSION = re.compile(
    r"^\s*(?:"
    r"\s*(?P<prefix>v|V)?"
    r"\s*(?P<major>[0-9]+\b)\s*"
    r"(?:\.\s*(?P<minor>[0-9]+\b)\s*)?"
    r"(?:\.\s*(?P<patch>[0-9]+\b)\s*)?"
    r"(?:\.\s*(?P<revision>[0-9]+\b)\s*)?)?"
    r"(?:[.\-_\\])?"
    r"(?P<prerelease>(?P<prerelease_prefix>[A-Za-z0-9]*?)"
    r"(?:[.\-_\\](?P<prerelease_counter>[A-Za-z0-9.\-_\\]*?)?)?)?"
    r"(?:\+(?P<metadata>[A-Za-z0-9_\-.\\+]*?))?\s*$"
)


class VersionParseError(ValueError):
    """The text is not a version Octopus can read."""


@dataclass(frozen=True)
class OctopusVersion:
    major: int
    minor: int
    patch: int
    revision: int
    prerelease: str
    prerelease_prefix: str
    prerelease_counter: str
    metadata: str


def parse_octopus_version(text: str) -> OctopusVersion:
    """Parse ``text`` as Octopus does; raise VersionParseError when it cannot."""
    if not text.strip():
        raise VersionParseError("the version is empty")
    match = _VERSION.match(text)
    if match is None:
        raise VersionParseError(f"'{text}' is not a version")
    return OctopusVersion(
        major=_number(match, "major"),
        minor=_number(match, "minor"),
        patch=_number(match, "patch"),
        revision=_number(match, "revision"),
        prerelease=match.group("prerelease") or "",
        prerelease_prefix=match.group("prerelease_prefix") or "",
        prerelease_counter=match.group("prerelease_counter") or "",
        metadata=match.group("metadata") or "",
    )


def _number(match: re.Match[str], group: str) -> int:
    digits = match.group(group)
    if digits is None:
        return 0
    value = int(digits)
    if value > _INT32_MAX:
        # Octopus stores each part in a 32-bit int and refuses larger numbers.
        raise VersionParseError(f"the {group} part of the version is too large")
    return value


def _version_filter(name: str, part: Callable[[OctopusVersion], object]) -> Filter:
    def version_part(argument: str | None, options: Sequence[str]) -> str | None:
        text = needs_argument(name, argument)
        try:
            return str(part(parse_octopus_version(text)))
        except VersionParseError as error:
            raise FilterRejected(f"{name} could not read a version: {error}") from error

    return version_part


version_major = _version_filter("VersionMajor", lambda v: v.major)
version_minor = _version_filter("VersionMinor", lambda v: v.minor)
version_patch = _version_filter("VersionPatch", lambda v: v.patch)
version_revision = _version_filter("VersionRevision", lambda v: v.revision)
version_prerelease = _version_filter("VersionPreRelease", lambda v: v.prerelease)
version_prerelease_prefix = _version_filter(
    "VersionPreReleasePrefix", lambda v: v.prerelease_prefix
)
version_prerelease_counter = _version_filter(
    "VersionPreReleaseCounter", lambda v: v.prerelease_counter
)
version_metadata = _version_filter("VersionMetadata", lambda v: v.metadata)
