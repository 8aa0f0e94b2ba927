"""Finding templates across registries: ranked search, lookup by short name, and the
requirement ``steps add NAME[@RANGE]`` writes for a template found that way.

Ranking: every query word must match an entry somewhere. A word scores by where it
matches (name, then category, then description, then parameter names and labels) and how
(the whole field, a whole word of it, the start of a word, anywhere inside); an entry's
score is the sum of its words' best scores; ties go by name, then registry.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from steptemplates.errors import NoMatchingVersionError, StepsError
from steptemplates.registries.index import IndexEntry, RegistryIndex

if TYPE_CHECKING:
    from steptemplates.manifest import TemplateRef
    from steptemplates.registries.fetch import FetchedIndex
    from steptemplates.registries.location import RegistryLocation
    from steptemplates.sources import SourceContext

# Where a word matched, most telling first, and how; a word's score is the product.
FIELD_WEIGHTS = {"name": 8, "category": 4, "description": 2, "parameters": 1}
WHOLE, WORD, PREFIX, INSIDE = 4, 3, 2, 1

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_SHORT_NAME = re.compile(
    r"(?:(?P<registry>[A-Za-z0-9][A-Za-z0-9._-]*)/)?"
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)"
    r"(?:@(?P<version>.+))?"
)


@dataclass(frozen=True)
class SearchRow:
    """What search reads of an entry (kept apart: a registry of thousands of templates is
    searched without building every version and parameter record)."""

    name: str
    category: str
    description: str
    parameters: str  # parameter names (in words: "Webhook Url") and labels, one per line
    newest: str = ""  # the newest version listed
    branch: str = ""  # the branch followed, when no versions are listed


def rows_of(index: RegistryIndex) -> tuple[SearchRow, ...]:
    return tuple(
        SearchRow(
            entry.name,
            entry.category,
            entry.description,
            "\n".join(f"{_spaced(p.name)}\n{p.label}" for p in entry.parameters),
            entry.newest.version if entry.newest else "",
            entry.branch or "",
        )
        for entry in index.entries
    )


def _spaced(name: str) -> str:
    """``WebhookUrl`` as ``Webhook Url``: parameter names match word by word."""
    return " ".join(_WORDS.findall(name)) or name


@dataclass(frozen=True)
class Hit:
    registry: str
    row: SearchRow
    score: int


@dataclass(frozen=True)
class Found:
    """An entry looked up by name, with the index it came from."""

    fetched: FetchedIndex
    entry: IndexEntry
    qualified: bool  # looked up as REGISTRY/NAME

    @property
    def registry(self) -> str:
        return self.fetched.name

    @property
    def add_name(self) -> str:
        """How `steps add` names it: qualified when it was asked for that way."""
        return f"{self.registry}/{self.entry.name}" if self.qualified else self.entry.name


# --- search ------------------------------------------------------------------------------------


def search(
    indexes: Sequence[FetchedIndex], query: Iterable[str], *, limit: int | None = None
) -> list[Hit]:
    """The entries of ``indexes`` matching every word of ``query``, best first."""
    words = [_Word(w) for text in query for w in text.lower().split()]
    if not words:
        raise StepsError("give at least one word to search for")
    hits = []
    for fetched in indexes:
        for row in fetched.rows:
            score = _score(row, words)
            if score:
                hits.append(Hit(fetched.name, row, score))
    hits.sort(key=lambda hit: (-hit.score, hit.row.name, hit.registry))
    return hits[:limit] if limit is not None else hits


class _Word:
    """A query word, with the patterns telling how it matches a field's lowered text."""

    def __init__(self, text: str) -> None:
        self.text = text
        escaped = re.escape(text)
        self.at_start = re.compile(rf"(?<![a-z0-9]){escaped}")
        self.whole = re.compile(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])")

    def quality(self, lowered: str) -> int:
        """How well it matches ``lowered``, which holds it somewhere."""
        if lowered.strip() == self.text:
            return WHOLE
        if self.whole.search(lowered):
            return WORD
        if self.at_start.search(lowered):
            return PREFIX
        return INSIDE


def _score(row: SearchRow, words: Sequence[_Word]) -> int:
    # A cheap test first: most entries lack some word altogether.
    everything = f"{row.name}\n{row.category}\n{row.description}\n{row.parameters}".lower()
    if not all(word.text in everything for word in words):
        return 0
    fields = (
        (FIELD_WEIGHTS["name"], row.name.lower()),
        (FIELD_WEIGHTS["category"], row.category.lower()),
        (FIELD_WEIGHTS["description"], row.description.lower()),
        (FIELD_WEIGHTS["parameters"], row.parameters.lower()),
    )
    total = 0
    for word in words:
        best = max((weight * word.quality(text) for weight, text in fields if word.text in text))
        total += best
    return total


# --- lookup ------------------------------------------------------------------------------------


def lookup(name: str, indexes: Sequence[FetchedIndex]) -> Found:
    """The entry called ``name`` (``REGISTRY/NAME`` picks the registry): an error naming
    the candidates when several registries have it, suggesting close names when none does."""
    registry, _, short = name.rpartition("/")
    searched = indexes
    if registry:
        searched = [f for f in indexes if f.name == registry]
        if not searched:
            known = ", ".join(f.name for f in indexes) or "none could be read"
            raise StepsError(
                f"no registry named '{registry}' is configured (for '{name}')",
                hint=f"registries: {known}; see `steps registry list`",
            )
    found = [Found(f, e, bool(registry)) for f in searched if (e := f.index.entry(short))]
    if len(found) == 1:
        return found[0]
    if found:
        where = ", ".join(f.registry for f in found)
        picks = " or ".join(f"`{f.registry}/{short}`" for f in found)
        raise StepsError(
            f"template '{short}' is in several registries: {where}",
            hint=f"name the one you mean: {picks}",
        )
    raise StepsError(
        f"no template named '{name}' in {_searched(searched)}", hint=_close(short, searched)
    )


def _searched(indexes: Sequence[FetchedIndex]) -> str:
    names = [f"'{f.name}'" for f in indexes]
    return ("registry " if len(names) == 1 else "registries ") + ", ".join(names)


def _close(name: str, indexes: Sequence[FetchedIndex]) -> str:
    names = sorted({e.name for f in indexes for e in f.index.entries})
    # Names holding the one given (slack -> slack-notify) first, then similar spellings.
    holding = [n for n in names if name.lower() in n.lower()]
    similar = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    close = list(dict.fromkeys(holding + similar))[:3]
    if close:
        return "did you mean " + ", ".join(f"'{c}'" for c in close) + "?"
    return "search with `steps search WORDS`"


# --- the real source ---------------------------------------------------------------------------


def describe_source(found: Found) -> str:
    """Where the template really lives, as `steps add` will record it."""
    source = found.entry.source
    location = source.location
    if source.same_repository:
        location = found.fetched.repository or "(the registry's own repository)"
    text = {
        "git": location,
        "github": f"github:{location}",
        "nuget": f"nuget:{location}#{source.id}",
        "url": location,
    }[source.kind]
    if source.subdir:
        text += f" ({source.subdir})"
    if source.template:
        text += f" [{source.template}]"
    return text


# --- steps add NAME[@RANGE] --------------------------------------------------------------------


@dataclass(frozen=True)
class ShortName:
    """``[REGISTRY/]NAME[@RANGE]`` as `steps add` takes it."""

    name: str
    registry: str | None = None
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> ShortName | None:
        """The short name ``text`` is, or None when it does not look like one."""
        match = _SHORT_NAME.fullmatch(text)
        if match is None:
            return None
        return cls(match["name"], match["registry"], match["version"])

    @property
    def qualified(self) -> str:
        return f"{self.registry}/{self.name}" if self.registry else self.name


@dataclass(frozen=True)
class FromRegistry:
    """A short name resolved: the manifest entry to add, and the index entry behind it."""

    ref: TemplateRef
    found: Found
    version: str  # the range asked for, or the one chosen from the index ("" for a branch)


def resolve(
    short: ShortName,
    locations: Mapping[str, RegistryLocation],
    context: SourceContext,
    *,
    registry: str | None = None,
    version: str | None = None,
    prerelease: bool = False,
    name: str | None = None,
    refresh: bool = False,
) -> FromRegistry:
    """The real requirement for ``short`` through the configured registries (``registry``
    restricts them); unreadable registries are warned about on the context's console."""
    from steptemplates.registries import config, fetch
    from steptemplates.registries.refs import template_ref

    if short.registry and registry and short.registry != registry:
        raise StepsError(f"'{short.qualified}' names registry '{short.registry}', not '{registry}'")
    if short.version and version:
        raise StepsError(
            f"'{short.qualified}@{short.version}' already gives a version; drop --version"
        )
    chosen = config.select(locations, short.registry or registry)
    gathered = fetch.fetch_all(
        list(chosen.values()),
        context.cache.root,
        lambda: context,
        offline=context.offline,
        refresh=refresh,
    )
    for warning in gathered.warnings:
        context.console.warning(warning)
    found = lookup(short.qualified, gathered.indexes)
    wanted = short.version or version
    _check_listed(found, wanted, prerelease)
    ref = template_ref(
        found.entry,
        name=name,
        version=wanted,
        prerelease=prerelease,
        repository=found.fetched.repository,
        registry=found.registry,
    )
    chosen_range = getattr(ref.source, "version", None) or ""
    return FromRegistry(ref, found, chosen_range)


def _check_listed(found: Found, wanted: str | None, prerelease: bool) -> None:
    """A range must hold a version the index lists, checked before asking the source."""
    from steptemplates.versions import parse_range

    entry = found.entry
    if wanted is None:
        return
    if not entry.versions:
        raise StepsError(
            f"registry '{found.registry}': template '{entry.name}' has no versions (it "
            f"follows branch '{entry.branch or 'the default'}')",
            hint=f"add it without a version: steps add {found.add_name}",
        )
    try:
        wanted_range = parse_range(wanted)
    except ValueError as error:
        raise StepsError(f"{found.add_name}@{wanted}: {error}") from None
    listed = [v.parsed for v in entry.versions]
    if wanted_range.select(listed, prereleases=prerelease) is None:
        reason = wanted_range.describe_no_match(listed, prereleases=prerelease)
        raise StepsError(
            f"registry '{found.registry}': template '{entry.name}': {reason}",
            hint=f"see its versions with `steps info {found.add_name}`",
        )


def version_gone(resolved: FromRegistry, error: NoMatchingVersionError) -> StepsError:
    """The error for an index listing versions its template's source no longer has."""
    from steptemplates.sources import NoVersionInRange
    from steptemplates.versions import parse_range

    found, entry = resolved.found, resolved.found.entry
    wanted = parse_range(resolved.version or "*")
    listed = wanted.select([v.parsed for v in entry.versions], prereleases=True)
    what = f"{listed}" if listed is not None else f"a version in '{resolved.version}'"
    message = (
        f"registry '{found.registry}' lists template '{entry.name}' {what}, but its source "
        f"({describe_source(found)}) no longer has it"
    )
    available = error.available if isinstance(error, NoVersionInRange) else ()
    hint = "the index is out of date: ask its maintainers to run `steps registry build`"
    if available:
        hint += f"; or pick a version the source has: steps add {found.add_name}@{max(available)}"
    return StepsError(message, hint=hint)
