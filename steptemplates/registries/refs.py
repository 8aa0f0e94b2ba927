"""An index entry as a manifest requirement: what ``steps add NAME`` writes and what the
catalogue loads to show a template's script. The result always names the real source, so
steps.toml and steps.lock never depend on the registry afterwards."""

from __future__ import annotations

from steptemplates import manifest
from steptemplates.errors import StepsError
from steptemplates.manifest import (
    GitHubRequirement,
    GitRequirement,
    HttpRequirement,
    NuGetRequirement,
    Requirement,
    TemplateRef,
)
from steptemplates.registries.index import IndexEntry
from steptemplates.versions import caret_range_for


def template_ref(
    entry: IndexEntry,
    *,
    name: str | None = None,
    version: str | None = None,
    prerelease: bool = False,
    repository: str | None = None,
    registry: str = "",
) -> TemplateRef:
    """The manifest entry for ``entry``: ``version`` is a range (default: a caret range on
    the newest version listed, or the listed branch when there are none). ``repository`` is
    the git URL of the registry's own repository, which ``git = "."`` stands for."""
    if version is None:
        newest = entry.newest
        version = caret_range_for(newest.parsed) if newest is not None else None
        prerelease = prerelease or bool(newest and newest.parsed.is_prerelease)
    requirement = _requirement(entry, version, prerelease, repository, registry)
    return TemplateRef(name or entry.name, requirement, "template", entry.source.template)


def _requirement(
    entry: IndexEntry,
    version: str | None,
    prerelease: bool,
    repository: str | None,
    registry: str,
) -> Requirement:
    source = entry.source
    if source.kind == "git":
        url = source.location
        if source.same_repository:
            if repository is None:
                raise StepsError(
                    f"registry '{registry}': template '{entry.name}' lives in the registry's "
                    "own git repository, but the registry was not read from git",
                    hint="add the registry by its git URL (steps registry add NAME GIT-URL)",
                )
            url = repository
        branch = entry.branch if version is None else None
        return GitRequirement(
            url=url,
            subdir=source.subdir,
            version=version,
            branch=branch,
            prereleases=prerelease,
            tags=source.tags if version is not None else None,
        )
    if source.kind == "github":
        return GitHubRequirement(
            repo=source.location,
            api_url=(source.api_url or manifest.github_api_url()).rstrip("/"),
            asset=source.asset,
            subdir=source.subdir,
            version=version,
            prereleases=prerelease,
            from_tags=source.from_tags,
            api_url_written=source.api_url,
        )
    if source.kind == "nuget":
        assert source.id is not None
        return NuGetRequirement(
            feed=source.location,
            package_id=source.id,
            subdir=source.subdir,
            version=version,
            prereleases=prerelease,
        )
    return HttpRequirement(url=source.location, subdir=source.subdir)
