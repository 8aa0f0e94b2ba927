"""The git source through its library interface: keeping, re-resolving and materialising."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from steptemplates.cache import Cache
from steptemplates.console import Console
from steptemplates.errors import StepsError
from steptemplates.lockfile import Lockfile
from steptemplates.manifest import GitRequirement, Manifest, TemplateRef
from steptemplates.resolve import resolve
from steptemplates.sources import SourceContext, for_kind, lock_identity
from steptemplates.sources.git import GitSource
from tests.support.gitserver import SmartHttpServer, free_port
from tests.support.projects import OTHER, Catalog


def source(tmp_path: Path, *, offline: bool = False) -> GitSource:
    context = SourceContext(Cache(), Console(io.StringIO(), io.StringIO()), offline)
    git_source = for_kind("git", context, tmp_path)
    assert isinstance(git_source, GitSource)
    return git_source


def ref(url: str, **keys: str) -> TemplateRef:
    return TemplateRef("greet", GitRequirement(url=url, **keys))  # type: ignore[arg-type]


def test_lock_then_materialize(tmp_path: Path, catalog: Catalog) -> None:
    git_source = source(tmp_path)

    entry = git_source.lock(ref(catalog.repo.http_url, version="~1.2.0"))
    path = git_source.materialize(entry)

    assert (entry.version, entry.tag, entry.commit) == (
        "1.2.7",
        "v1.2.7",
        catalog.commits["v1.2.7"],
    )
    assert path == Cache().entry_path(entry.integrity or "")
    assert (path / "run.sh").read_text() == "echo greet v1.2.7\n"


def test_a_fitting_entry_is_kept_without_the_network(tmp_path: Path, catalog: Catalog) -> None:
    context = SourceContext(Cache(), Console(io.StringIO(), io.StringIO()))
    locked = source(tmp_path).lock(ref(catalog.repo.file_url, version="^1.0"))
    unreachable = f"http://127.0.0.1:{free_port()}/gone"
    moved = locked.__class__(**{**locked.__dict__, "url": unreachable})
    manifest = Manifest(
        tmp_path / "steps.toml", "p", {"greet": ref(unreachable, version="^1.0")}, (), {}
    )

    kept = resolve(manifest, Lockfile({"greet": moved}), context)

    assert kept.templates["greet"] is moved
    with pytest.raises(StepsError, match="cannot reach git repository"):
        resolve(manifest, Lockfile({"greet": moved}), context, upgrade=True)


@pytest.mark.parametrize(
    "changed",
    [{"version": "^1.1"}, {"subdir": OTHER}, {"version": "^1.0", "prereleases": True}],
)
def test_an_entry_that_no_longer_fits_is_resolved_again(
    tmp_path: Path, catalog: Catalog, changed: dict[str, object]
) -> None:
    url = catalog.repo.file_url
    previous = source(tmp_path).lock(ref(url, version="^1.0"))
    requirement = TemplateRef("greet", GitRequirement(url=url, **{"version": "^1.0", **changed}))  # type: ignore[arg-type]

    entry = source(tmp_path).lock(requirement)

    assert entry != previous
    assert {k: getattr(entry, k) or "" for k in lock_identity(requirement)} == lock_identity(
        requirement
    )


def test_offline_resolution_uses_the_saved_refs(
    tmp_path: Path, catalog: Catalog, git_http: SmartHttpServer
) -> None:
    url = catalog.repo.http_url
    online = source(tmp_path).lock(ref(url, version="^1.0"))
    before = git_http.requests

    offline = source(tmp_path, offline=True).lock(ref(url, version="^1.0", subdir=OTHER))

    assert git_http.requests == before
    assert offline.commit == online.commit
    assert offline.subdir == OTHER


def test_errors_name_the_template_once(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(StepsError) as raised:
        source(tmp_path).lock(ref(catalog.repo.file_url, tag="v9"))

    assert str(raised.value).startswith(
        f"template 'greet': tag 'v9' does not exist in {catalog.repo.file_url}; "
    )
