"""Versions from git tags: parsing, ordering, ranges and selection.

A tag is a version when it reads like ``v1.2.3``, ``1.2``, ``1.2.3.4``, ``1.2.3-beta.1``,
``1.2.3rc1`` or ``1.2.3+build.5``; other tags are skipped. Order is SemVer 2.0.0 precedence
with an optional fourth release part (as NuGet has), prerelease labels compared
case-insensitively and build metadata ignored.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, total_ordering

_IDENTIFIERS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_VERSION_RE = re.compile(
    rf"""
    [vV]?
    (?P<release>[0-9]+(?:\.[0-9]+){{0,3}})
    (?:
        -(?P<prerelease>{_IDENTIFIERS})
      | (?P<label>(?i:a|b|rc))(?P<number>[0-9]+)
    )?
    (?:\+(?P<build>{_IDENTIFIERS}))?
    """,
    re.VERBOSE | re.ASCII,
)
_WILDCARD_RE = re.compile(r"[vV]?(?P<prefix>[0-9]+(?:\.[0-9]+){0,2})\.[*xX]", re.ASCII)
_ANY = ("*", "x", "X")
# Two-character operators first, so ">=" is not read as ">" followed by "=1.2".
_OPERATORS = ("~=", "==", "!=", ">=", "<=", ">", "<", "^", "~")
_ACCEPTED = (
    "use 1.2.3 (exact), ^1.2 or ~1.2.3, comparisons such as >=1.2, <2 (a comma means and), "
    "~=1.2, 1.2.* or *"
)

_Key = tuple[tuple[int, ...], int, tuple[tuple[int, int, str], ...]]


def _padded(release: tuple[int, ...]) -> tuple[int, ...]:
    return release + (0,) * (4 - len(release))


def _normalised(release: tuple[int, ...]) -> tuple[int, ...]:
    """Three parts, or four when the fourth is not zero, so ``1.2`` and ``1.2.0.0`` agree."""
    release = release + (0,) * (3 - len(release))
    return release[:3] if len(release) == 4 and release[3] == 0 else release


@total_ordering
@dataclass(frozen=True, eq=False, repr=False)
class Version:
    """A release, optional prerelease identifiers and build metadata (ignored when comparing)."""

    release: tuple[int, ...]
    prerelease: tuple[int | str, ...] = ()
    build: str = ""

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    @cached_property
    def _key(self) -> _Key:
        # A stable release sorts above its prereleases; within identifiers, numbers sort
        # below words and a shorter list below a longer one it is a prefix of.
        identifiers = tuple(
            (0, part, "") if isinstance(part, int) else (1, 0, part.lower())
            for part in self.prerelease
        )
        return _padded(self.release), 0 if self.prerelease else 1, identifiers

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key == other._key

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key < other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __str__(self) -> str:
        text = ".".join(map(str, _normalised(self.release)))
        if self.prerelease:
            text += "-" + ".".join(map(str, self.prerelease))
        return text

    def __repr__(self) -> str:
        return f"Version({str(self) + ('+' + self.build if self.build else '')!r})"


def _parse_written(text: str) -> tuple[Version, int]:
    """The version and how many release parts were written (ranges need the count)."""
    match = _VERSION_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a version")
    parts = tuple(int(part) for part in match["release"].split("."))
    prerelease: tuple[int | str, ...] = ()
    if match["prerelease"]:
        prerelease = tuple(
            int(part) if part.isdigit() else part for part in match["prerelease"].split(".")
        )
    elif match["label"]:
        prerelease = (match["label"].lower(), int(match["number"]))
    version = Version(_normalised(parts), prerelease, match["build"] or "")
    return version, len(parts)


def parse_version(text: str) -> Version:
    """Parse a version such as ``v1.2.3-beta.1``; raises ValueError when ``text`` is not one."""
    return _parse_written(text)[0]


def version_from_tag(tag: str) -> Version | None:
    """The version a tag names, or None for tags that are not versions (``latest``)."""
    try:
        return parse_version(tag)
    except ValueError:
        return None


def tag_reader(pattern: str | None) -> Callable[[str], Version | None]:
    """How to read versions from tags: every tag that is a version by default, or with a
    pattern such as ``iis/v*`` (one ``*``, where the version is) only the tags it matches,
    for repositories that tag each template on its own. ValueError for a bad pattern."""
    if pattern is None:
        return version_from_tag
    if pattern.count("*") != 1:
        raise ValueError(f"tag pattern '{pattern}' needs exactly one '*', where the version is")
    prefix, suffix = pattern.split("*")

    def read(tag: str) -> Version | None:
        if len(tag) <= len(prefix) + len(suffix) or not tag.startswith(prefix):
            return None
        if not tag.endswith(suffix):
            return None
        return version_from_tag(tag[len(prefix) : len(tag) - len(suffix)])

    return read


_COMPARE: dict[str, Callable[[Version, Version], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class _Compare:
    op: str
    version: Version

    def matches(self, version: Version) -> bool:
        # 2.0.0-rc.1 sorts below 2.0.0 but belongs to the release `<2.0.0` keeps out
        # (pip and npm agree), unless the bound is itself a prerelease.
        if (
            self.op == "<"
            and version.is_prerelease
            and not self.version.is_prerelease
            and _padded(version.release) == _padded(self.version.release)
        ):
            return False
        return _COMPARE[self.op](version, self.version)


@dataclass(frozen=True)
class _Prefix:
    release: tuple[int, ...]
    negate: bool = False

    def matches(self, version: Version) -> bool:
        inside = _padded(version.release)[: len(self.release)] == self.release
        return inside != self.negate


_Constraint = _Compare | _Prefix


@dataclass(frozen=True)
class VersionRange:
    """A ``version = "..."`` requirement from steps.toml: every constraint must hold."""

    text: str
    constraints: tuple[_Constraint, ...]

    def __str__(self) -> str:
        return self.text

    @property
    def names_prerelease(self) -> bool:
        """Whether a comparator names a prerelease, which lets prereleases match at all."""
        return any(isinstance(c, _Compare) and c.version.is_prerelease for c in self.constraints)

    def matches(self, version: Version, *, prereleases: bool = False) -> bool:
        """Whether ``version`` is in range; prereleases need ``prereleases`` or a named one."""
        if version.is_prerelease and not (prereleases or self.names_prerelease):
            return False
        return all(c.matches(version) for c in self.constraints)

    def select(self, candidates: Iterable[Version], *, prereleases: bool = False) -> Version | None:
        """The highest candidate in range, or None."""
        matching = (v for v in candidates if self.matches(v, prereleases=prereleases))
        return max(matching, default=None)

    def nearest(
        self, candidates: Iterable[Version], *, limit: int = 5, prereleases: bool = False
    ) -> list[Version]:
        """Up to ``limit`` candidates closest to the range, ascending, for "did you mean" text.

        Closeness is position around the range's lower bound (its upper bound when it has
        none, the top of the list when it has neither), alternating below then above. Unless
        the range allows prereleases, only those with no stable version nearer the bound count.
        """
        pool = sorted(set(candidates))
        anchor = _anchor(self.constraints)
        split = len(pool) if anchor is None else bisect.bisect_left(pool, anchor)
        below, above = pool[:split][::-1], pool[split:]
        if not (prereleases or self.names_prerelease):
            below, above = _stable_or_in_gap(below), _stable_or_in_gap(above)
        pairs = itertools.zip_longest(below, above)
        ordered = [v for v in itertools.chain.from_iterable(pairs) if v is not None]
        return sorted(ordered[:limit])

    def describe_no_match(self, candidates: Iterable[Version], *, prereleases: bool = False) -> str:
        """Why ``select`` found nothing, as text callers prefix with the template and source."""
        available = set(candidates)
        if not available:
            return "no versions are available"
        held_back = sorted(
            v for v in available if v.is_prerelease and self.matches(v, prereleases=True)
        )
        if held_back:
            listed = ", ".join(map(str, held_back[-5:]))
            return (
                f"only prereleases match {self.text!r}: {listed} "
                "(allow them with prerelease = true)"
            )
        listed = ", ".join(map(str, self.nearest(available, prereleases=prereleases)))
        return f"no version matches {self.text!r}; nearest available: {listed}"


def _anchor(constraints: Iterable[_Constraint]) -> Version | None:
    lower: list[Version] = []
    upper: list[Version] = []
    for c in constraints:
        if isinstance(c, _Prefix):
            if not c.negate:
                lower.append(Version(_normalised(c.release)))
        elif c.op in ("==", ">=", ">"):
            lower.append(c.version)
        elif c.op in ("<", "<="):
            upper.append(c.version)
    if lower:
        return max(lower)
    return min(upper, default=None)


def _stable_or_in_gap(side: list[Version]) -> list[Version]:
    """Stable versions, and the prereleases met before the first of them (nearest first)."""
    first = next((i for i, v in enumerate(side) if not v.is_prerelease), len(side))
    return side[:first] + [v for v in side[first:] if not v.is_prerelease]


def _bumped(version: Version, index: int) -> Version:
    """The lowest release above every release sharing ``version``'s first ``index + 1`` parts."""
    parts = _padded(version.release)
    return Version(_normalised((*parts[:index], parts[index] + 1)))


def _parse_comparator(part: str) -> list[_Constraint]:
    part = part.strip()
    if not part:
        raise ValueError("a comparator between commas is empty")
    op = next((o for o in _OPERATORS if part.startswith(o)), "")
    operand = part[len(op) :].strip()
    if not operand:
        raise ValueError(f"{op!r} needs a version after it")

    wildcard = _WILDCARD_RE.fullmatch(operand)
    if wildcard or operand in _ANY:
        prefix = tuple(int(p) for p in wildcard["prefix"].split(".")) if wildcard else ()
        if not op:
            return [_Prefix(prefix)] if prefix else []
        if op in ("==", "!=") and prefix:
            return [_Prefix(prefix, negate=op == "!=")]
        raise ValueError(f"a wildcard works only on its own or after == or !=, not {op}")

    version, written = _parse_written(operand)
    if op in ("", "=="):
        return [_Compare("==", version)]
    if op in _COMPARE:
        return [_Compare(op, version)]
    if op == "~=":
        if written < 2:
            raise ValueError("~= needs at least two release parts, as in ~=1.2")
        return [_Compare(">=", version), _Prefix(_padded(version.release)[: written - 1])]
    if op == "^":
        # Cargo's rule: the leftmost non-zero part written may not change; all zeros pin
        # the last part written (^0.0 allows 0.0.x).
        written_parts = _padded(version.release)[:written]
        index = next((i for i, p in enumerate(written_parts) if p), written - 1)
        return [_Compare(">=", version), _Compare("<", _bumped(version, index))]
    # "~": patch-level changes when a minor part is written, minor-level otherwise.
    return [_Compare(">=", version), _Compare("<", _bumped(version, 1 if written > 1 else 0))]


def parse_range(text: str) -> VersionRange:
    """Parse a ``version = "..."`` value; raises ValueError naming the accepted forms."""
    try:
        if not text.strip():
            raise ValueError("it is empty")
        constraints = [c for part in text.split(",") for c in _parse_comparator(part)]
    except ValueError as error:
        raise ValueError(f"invalid version range {text!r}: {error}; {_ACCEPTED}") from None
    return VersionRange(text, tuple(constraints))


def caret_range_for(version: Version) -> str:
    """The range ``steps add`` writes for a newly added template: ``^1.2.3``, ``^0.2.3``."""
    return f"^{version}"
