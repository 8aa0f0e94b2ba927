"""Resolution bookkeeping: what changed between two locks, and credentials by remote."""

from __future__ import annotations

from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.lockfile import LockedTemplate, Lockfile
from steptemplates.manifest import GitRequirement, Manifest, PathRequirement, TemplateRef
from steptemplates.resolve import changes, git_auth, resolve
from steptemplates.sources import GitAuth

COMMIT = "c" * 40


def entry(name: str, **fields: str) -> LockedTemplate:
    values = {"requested": "^1", "url": "u", "version": "1.0.0", "tag": "v1.0.0", **fields}
    return LockedTemplate(name, "git", commit=COMMIT, **values)  # type: ignore[arg-type]


def test_changes_describe_what_moved() -> None:
    old = Lockfile({"kept": entry("kept"), "gone": entry("gone"), "moved": entry("moved")})
    new = Lockfile(
        {
            "kept": entry("kept"),
            "moved": entry("moved", version="1.1.0", tag="v1.1.0"),
            "added": LockedTemplate("added", "path", "path", path="../x"),
        }
    )

    assert [c.describe() for c in changes(old, new)] == [
        "added added (../x)",
        "removed gone 1.0.0",
        "updated moved 1.0.0 -> 1.1.0",
    ]


def test_a_change_that_keeps_the_pin_says_what_changed() -> None:
    old = Lockfile({"a": entry("a")})
    new = Lockfile({"a": entry("a", requested="^1.0", subdir="x")})

    assert [c.describe() for c in changes(old, new)] == [
        "updated a 1.0.0 (requested '^1' -> '^1.0')"
    ]
    assert changes(None, Lockfile({})) == []


def manifest_of(**sources: GitRequirement | PathRequirement) -> Manifest:
    templates = {name: TemplateRef(name, source) for name, source in sources.items()}
    return Manifest(Path("/p/steps.toml"), "p", templates, (), {})


def test_git_auth_is_collected_by_remote() -> None:
    manifest = manifest_of(
        a=GitRequirement(url="https://a", token_env="A_TOKEN"),
        b=GitRequirement(url="https://b", username="me"),
        c=GitRequirement(url="https://c"),
        d=PathRequirement("d", Path("/d")),
    )

    assert git_auth(manifest) == {
        "https://a": GitAuth("A_TOKEN", None),
        "https://b": GitAuth(None, "me"),
    }


def test_upgrading_a_template_the_manifest_lacks() -> None:
    with pytest.raises(StepsError) as raised:
        resolve(manifest_of(), None, None, upgrade=frozenset({"b", "a"}))  # type: ignore[arg-type]

    assert (
        str(raised.value)
        == "cannot upgrade a, b: not a template, package or script module in steps.toml; "
        "see `steps list`"
    )
