"""steps.lock entries for GitHub, NuGet and archive URL sources."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from steptemplates import lockfile
from steptemplates.errors import StepsError
from steptemplates.lockfile import LockedTemplate, Lockfile

SHA256 = "c" * 64
INTEGRITY = "sha256-" + "d" * 64
COMMIT = "e" * 40

NUGET = LockedTemplate(
    name="iis",
    source="nuget",
    requested="^1",
    url="https://feeds.example/v3/index.json",
    id="Acme.Templates.Iis",
    version="1.2.0",
    artifact="https://feeds.example/v3/flat/acme.templates.iis/1.2.0/acme.templates.iis.1.2.0.nupkg",
    file="acme.templates.iis.1.2.0.nupkg",
    sha256=SHA256,
    integrity=INTEGRITY,
)
ASSET = LockedTemplate(
    name="deploy",
    source="github",
    requested="^2",
    url="https://api.github.com",
    id="acme/deploy",
    asset="deploy-*.zip",
    version="2.1.0",
    tag="v2.1.0",
    artifact="https://api.github.com/repos/acme/deploy/releases/assets/7",
    file="deploy-2.1.0.zip",
    sha256=SHA256,
    integrity=INTEGRITY,
)
# GitHub's source archives are not byte-stable: pinned by commit and files, not by sha256.
SOURCE_ARCHIVE = LockedTemplate(
    name="web",
    source="github",
    requested="* (tags)",
    url="https://api.github.com",
    id="acme/web",
    version="1.0.0",
    tag="1.0.0",
    commit=COMMIT,
    artifact=f"https://api.github.com/repos/acme/web/tarball/{COMMIT}",
    file="web-1.0.0.tar.gz",
    integrity=INTEGRITY,
)
ARCHIVE_URL = LockedTemplate(
    name="tool",
    source="http",
    requested="url",
    url="https://dl.example/tool.tar.gz",
    artifact="https://dl.example/tool.tar.gz",
    file="tool.tar.gz",
    sha256=SHA256,
    integrity=INTEGRITY,
)


def test_feed_entries_round_trip(tmp_path: Path) -> None:
    entries = (NUGET, ASSET, SOURCE_ARCHIVE, ARCHIVE_URL)
    written = Lockfile({e.name: e for e in entries}, {"pkg": replace(NUGET, name="pkg")})
    path = tmp_path / "steps.lock"
    lockfile.write(path, written)

    assert lockfile.load(path) == written
    text = path.read_text()
    # Fields in a fixed order, so the lock diffs cleanly.
    block = text.split('name = "iis"')[1].split("\n\n")[0]
    keys = [line.split(" = ")[0] for line in block.strip().splitlines()]
    assert keys == [
        "source", "url", "id", "requested", "version", "artifact", "file", "sha256", "integrity",
    ]  # fmt: skip


def test_describe_names_the_feed_and_version() -> None:
    assert NUGET.describe() == "nuget:Acme.Templates.Iis@1.2.0"
    assert ASSET.describe() == "github:acme/deploy@v2.1.0"
    assert ARCHIVE_URL.describe() == "https://dl.example/tool.tar.gz"
    assert NUGET.pin == "1.2.0"


@pytest.mark.parametrize(
    ("entry", "removed", "expected"),
    [
        (NUGET, "id", "a nuget entry needs 'id'"),
        (NUGET, "artifact", "a nuget entry needs 'artifact' and 'file'"),
        (NUGET, "sha256", "'sha256' must be 64 lowercase hex digits"),
        (ASSET, "sha256", "'sha256' must be 64 lowercase hex digits"),
        (ARCHIVE_URL, "file", "a http entry needs 'artifact' and 'file'"),
        (SOURCE_ARCHIVE, "integrity", "'integrity' must be sha256- followed by 64 hex digits"),
        (ARCHIVE_URL, "url", "a http entry needs 'url'"),
    ],
)
def test_inconsistent_feed_entries_are_refused(
    tmp_path: Path, entry: LockedTemplate, removed: str, expected: str
) -> None:
    path = tmp_path / "steps.lock"
    lockfile.write(path, Lockfile({entry.name: entry}))
    text = "\n".join(
        line for line in path.read_text().splitlines() if not line.startswith(f"{removed} =")
    )
    path.write_text(text + "\n")
    with pytest.raises(StepsError) as raised:
        lockfile.load(path)
    assert f"template '{entry.name}': {expected}" in str(raised.value)


def test_a_bad_commit_in_a_source_archive_entry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "steps.lock"
    lockfile.write(path, Lockfile({"web": SOURCE_ARCHIVE}))
    path.write_text(path.read_text().replace(COMMIT, "main"))
    with pytest.raises(StepsError, match="'commit' must be a full 40-character SHA"):
        lockfile.load(path)
