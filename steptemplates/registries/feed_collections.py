"""``steps registry build`` for templates published to feeds: a GitHub repository's releases
(or SemVer tags), one template; a NuGet feed's packages, one template per id.

The versions, with their dates and notes, are what the source offers (``releases``), as
``steps outdated`` sees them. What the index says about the template (description,
parameters, modules, format) comes from locking its newest stable version exactly and
loading it, as ``steps lock`` would: a feed's artifact is the only place the template is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from steptemplates import manifest
from steptemplates.errors import OfflineError, StepsError
from steptemplates.manifest import GitHubRequirement, NuGetRequirement, TemplateRef
from steptemplates.registries import discovery
from steptemplates.registries.index import IndexEntry, IndexSource, IndexVersion
from steptemplates.registries.registry_file import (
    GITHUB,
    FeedCollection,
    TemplateOverride,
)
from steptemplates.releases import Release, releases
from steptemplates.resolve import lock_and_load
from steptemplates.sources import SourceContext, needs_text
from steptemplates.templates import Template

# What to do with a version that cannot be listed: (what is wrong, what building does about it).
Report = Callable[[str, str], None]


@dataclass(frozen=True)
class FeedTemplate:
    """One template of a feed collection, as the index lists it."""

    entry: IndexEntry
    short_name: str  # before any override: what [collection.templates.NAME] names
    where: str  # the collection and the repository or id, for a duplicate's message


def index_feed_collection(
    collection: FeedCollection, registry_dir: Path, context: SourceContext, report: Report
) -> list[FeedTemplate]:
    """Every template of ``collection``; versions that do not load go to ``report``."""
    listed = []
    for ref in _refs(collection):
        found = _index_one(collection, ref, registry_dir, context, report)
        if found is not None:
            listed.append(found)
    return listed


def _refs(collection: FeedCollection) -> list[TemplateRef]:
    """The requirement each template of the collection is locked through. Prereleases are
    allowed: the index lists them, and a pin names the exact version anyway."""
    if collection.kind == GITHUB:
        github = GitHubRequirement(
            repo=collection.location,
            api_url=collection.api_url or manifest.github_api_url(),
            asset=collection.asset,
            subdir=collection.subdir,
            prereleases=True,
            from_tags=collection.from_tags,
        )
        return [TemplateRef(collection.location, github, template=collection.template)]
    return [
        TemplateRef(
            package_id,
            NuGetRequirement(
                feed=collection.location,
                package_id=package_id,
                subdir=collection.subdir,
                prereleases=True,
            ),
            template=collection.template,
        )
        for package_id in collection.ids
    ]


def _index_one(
    collection: FeedCollection,
    ref: TemplateRef,
    registry_dir: Path,
    context: SourceContext,
    report: Report,
) -> FeedTemplate | None:
    with _naming(collection):
        offered = _versions(collection, ref, releases(ref, context, registry_dir))
    loaded = _newest_that_loads(collection, ref, offered, registry_dir, context, report)
    if loaded is None:
        return None
    summary, template, kept = loaded
    short = collection.short_name(_own_name(collection, ref, template))
    override = collection.overrides.get(short, TemplateOverride())
    entry = IndexEntry(
        name=override.name or short,
        description=_first(override.description, template.description.strip()),
        category=_first(override.category, collection.category, template.category.strip()),
        source=_source(collection, ref),
        format=template.format,
        maintainers=override.maintainers or collection.maintainers,
        versions=tuple(_index_version(r, template if r is summary else None) for r in kept),
        parameters=discovery.summarise_parameters(template),
        modules=needs_text(template.modules),
    )
    return FeedTemplate(entry, short, f"{collection.origin} ({ref.name})")


def _versions(
    collection: FeedCollection, ref: TemplateRef, offered: list[Release]
) -> list[Release]:
    """The versions to list, newest first. A release GitHub flags as a pre-release while its
    tag reads as a stable version is left out: the index could not tell it from a stable one,
    and a range on it would find nothing to lock."""
    listed = [
        r
        for r in offered
        if r.parsed is not None and not (r.flagged_prerelease and not r.parsed.is_prerelease)
    ]
    if not listed:
        raise StepsError(
            f"{collection.origin}: {_nothing_offered(collection, ref)}",
            hint="publish a version first, or take it out of registry.toml",
        )
    return listed


def _nothing_offered(collection: FeedCollection, ref: TemplateRef) -> str:
    if collection.kind != GITHUB:
        return f"package {ref.name} has no versions in {collection.location}"
    if collection.from_tags:
        return f"{collection.shown} has no tags that read as versions"
    return f"{collection.shown} has no releases whose tag reads as a version"


def _newest_that_loads(
    collection: FeedCollection,
    ref: TemplateRef,
    offered: list[Release],
    registry_dir: Path,
    context: SourceContext,
    report: Report,
) -> tuple[Release, Template, list[Release]] | None:
    """The version the index describes the template by (the newest stable one that loads,
    else the newest that does), the template there, and the versions left to list: those
    tried and failed are reported and left out; older ones are not downloaded."""
    stable = [r for r in offered if not r.is_prerelease]
    trial = stable + [r for r in offered if r.is_prerelease]
    failed: list[Release] = []
    for release in trial:
        template = _load(collection, ref, release, registry_dir, context, report)
        if template is not None:
            return release, template, [r for r in offered if r not in failed]
        failed.append(release)
    return None


def _load(
    collection: FeedCollection,
    ref: TemplateRef,
    release: Release,
    registry_dir: Path,
    context: SourceContext,
    report: Report,
) -> Template | None:
    """``release`` locked exactly and loaded; None (reported) when it does not load."""
    source = ref.source
    assert isinstance(source, GitHubRequirement | NuGetRequirement)
    pinned = replace(ref, source=replace(source, version=f"=={release.version}"))
    try:
        _entry, loaded = lock_and_load(pinned, context, registry_dir)
    except OfflineError:
        raise
    except StepsError as error:
        report(f"{collection.origin}: {error.message}", f"{release.version} is left out")
        return None
    if not isinstance(loaded, Template):
        report(
            f"{collection.origin}: {ref.name} {release.version} holds a script module, "
            "not a template",
            f"{release.version} is left out",
        )
        return None
    return loaded


def _own_name(collection: FeedCollection, ref: TemplateRef, template: Template) -> str:
    """The template's name as a short name: a native template's ``name``; an Octopus JSON
    file's name without ``.json``, as git collections name them."""
    if template.format == discovery.OCTOPUS:
        own = discovery.slug(PurePosixPath(template.file).stem)
    else:
        own = discovery.slug(template.name)
    if not own:
        raise StepsError(
            f"{collection.origin}: {ref.name}: the name '{template.name}' gives no short name",
            hint="name the template with letters or digits",
        )
    return own


def _first(*values: str | None) -> str:
    return next((v for v in values if v is not None), "")


def _source(collection: FeedCollection, ref: TemplateRef) -> IndexSource:
    if collection.kind == GITHUB:
        return IndexSource(
            GITHUB,
            collection.location,
            subdir=collection.subdir,
            template=collection.template,
            asset=collection.asset,
            from_tags=collection.from_tags,
            api_url=collection.api_url,
        )
    return IndexSource(
        "nuget",
        collection.location,
        id=ref.name,
        subdir=collection.subdir,
        template=collection.template,
    )


def _index_version(release: Release, loaded: Template | None) -> IndexVersion:
    assert release.version is not None
    return IndexVersion(
        version=release.version,
        tag=release.tag,
        commit=release.commit,
        published=release.published,
        notes=(release.notes or "").strip(),
        template_version=loaded.version if loaded is not None else None,
    )


@contextlib.contextmanager
def _naming(collection: FeedCollection) -> Iterator[None]:
    """Put the collection's place in registry.toml in front of the source's errors, and
    point hints written for steps.toml at registry.toml."""
    try:
        yield
    except StepsError as error:
        if not error.message.startswith(collection.origin):
            error.message = f"{collection.origin}: {error.message}"
        if error.hint is None or "steps.toml" in error.hint:
            key = "'nuget' and 'ids'" if collection.kind != GITHUB else "'github'"
            error.hint = f"check the collection's {key} in registry.toml"
        raise
