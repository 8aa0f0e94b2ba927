"""Repositories that tag each template on its own: `tags = "iis/v*"` reads only that series."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from steptemplates.versions import parse_version, tag_reader
from tests.support.gitserver import ServedRepo
from tests.support.projects import Steps


def test_a_tag_pattern_reads_the_version_where_the_star_is() -> None:
    read = tag_reader("iis/v*")
    assert read("iis/v1.2.0") == parse_version("1.2.0")
    assert read("iis/v2.0.0-beta.1") == parse_version("2.0.0-beta.1")
    assert read("web/v3.0.0") is None
    assert read("iis/v") is None
    assert read("iis/vnext") is None
    assert tag_reader("release-*-final")("release-1.4-final") == parse_version("1.4")
    assert tag_reader(None)("v1.0") == parse_version("1.0")
    with pytest.raises(ValueError, match="exactly one"):
        tag_reader("iis/v")


@pytest.fixture
def monorepo(remote_repo: Callable[[str], ServedRepo]) -> ServedRepo:
    repo = remote_repo("monorepo")
    for name, version, also in (
        ("iis", "1.0.0", "web/v5.0.0"),
        ("iis", "1.1.0", None),
        ("iis", "2.0.0", "web/v6.0.0"),
    ):
        repo.write(f"{name}/steptemplate.toml", _template(name, version))
        repo.write(f"{name}/run.sh", f"echo {name} {version}\n")
        repo.write("web/steptemplate.toml", _template("web", "x"))
        repo.write("web/run.sh", "echo web\n")
        repo.commit(f"{name} {version}")
        repo.tag(f"{name}/v{version}", message=f"{name} {version}")
        if also:
            repo.tag(also)
    return repo


def _template(name: str, version: str) -> str:
    return (
        f'name = "{name}"\ndescription = "{version}"\n[script]\nsyntax = "bash"\nfile = "run.sh"\n'
    )


def test_a_git_source_locks_the_newest_tag_of_its_series(
    monorepo: ServedRepo, steps: Steps
) -> None:
    steps.ok("init")
    steps.manifest.write_text(
        steps.manifest.read_text()
        + f'\n[templates.iis]\ngit = "{monorepo.git_url}"\nsubdir = "iis"\n'
        'version = "^1"\ntags = "iis/v*"\n'
    )
    steps.ok("lock")
    lock = steps.lock_path.read_text()
    assert 'tag = "iis/v1.1.0"' in lock and 'version = "1.1.0"' in lock
    assert 'requested = "^1 tags=iis/v*"' in lock

    # Without the pattern, web/v6.0.0 would be the newest version of everything.
    text = steps.manifest.read_text().replace('version = "^1"', 'version = "*"')
    steps.manifest.write_text(text)
    steps.ok("lock")
    assert 'tag = "iis/v2.0.0"' in steps.lock_path.read_text()


def test_a_bad_tag_pattern_is_a_manifest_error(monorepo: ServedRepo, steps: Steps) -> None:
    steps.ok("init")
    steps.manifest.write_text(
        steps.manifest.read_text()
        + f'\n[templates.iis]\ngit = "{monorepo.file_url}"\nversion = "^1"\ntags = "iis/v"\n'
    )
    error = steps.fails("lock").error
    assert "steps.toml:" in error and "tags" in error and "exactly one '*'" in error
