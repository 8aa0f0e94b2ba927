"""Entries that would land outside the destination refuse the whole package, leaving nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steptemplates.errors import StepsError
from steptemplates.packages import extract
from tests.packages.builders import (
    Member,
    Workspace,
    build,
    build_tar,
    build_zip,
    directory,
    file,
    hardlink,
    symlink,
)

_OUTSIDE = "would be written outside the extraction directory; the package is refused"
_ABSOLUTE = "has an absolute path; the package is refused"
# Zip and nupkg share the reader but not the name decoding; tar has its own reader.
_EXTENSIONS = ["zip", "nupkg", "tar.gz"]


def _refusal(workspace: Workspace, extension: str, members: list[Member]) -> str:
    archive = build(
        workspace.incoming / f"webapp.1.0.0.{extension}", [file("app/first.txt", "fine"), *members]
    )
    with pytest.raises(StepsError) as caught:
        extract(archive, workspace.destination)
    workspace.assert_untouched()
    return str(caught.value)


@pytest.mark.parametrize("extension", _EXTENSIONS)
@pytest.mark.parametrize(
    "name",
    [
        "../evil.txt",
        "app/../../evil.txt",
        "../../evil.txt",
        "..\\evil.txt",
        "app\\..\\..\\evil.txt",
        "..",
    ],
)
def test_climbing_out_is_refused(workspace: Workspace, extension: str, name: str) -> None:
    message = _refusal(workspace, extension, [file(name, "pwned")])
    assert message == f"webapp.1.0.0.{extension}: entry '{name}' {_OUTSIDE}"


@pytest.mark.parametrize("extension", _EXTENSIONS)
@pytest.mark.parametrize(
    "name",
    [
        "/tmp/evil.txt",
        "C:/evil.txt",
        "c:evil.txt",
        "C:\\Windows\\evil.txt",
        "\\\\server\\share\\evil.txt",
        "//server/share/evil.txt",
    ],
)
def test_absolute_paths_are_refused(workspace: Workspace, extension: str, name: str) -> None:
    message = _refusal(workspace, extension, [file(name, "pwned")])
    assert message == f"webapp.1.0.0.{extension}: entry '{name}' {_ABSOLUTE}"


def test_escaped_climb_in_nupkg_is_refused(workspace: Workspace) -> None:
    message = _refusal(workspace, "nupkg", [file("%2E%2E/evil.txt", "pwned")])
    assert message == f"webapp.1.0.0.nupkg: entry '%2E%2E/evil.txt' {_OUTSIDE}"


def test_nupkg_metadata_names_cannot_smuggle_a_climb(workspace: Workspace) -> None:
    message = _refusal(workspace, "nupkg", [file("_rels/../../evil.txt", "pwned")])
    assert message == f"webapp.1.0.0.nupkg: entry '_rels/../../evil.txt' {_OUTSIDE}"


@pytest.mark.parametrize("extension", ["zip", "tar", "tar.gz"])
@pytest.mark.parametrize("target", ["/etc", "/etc/passwd", "C:\\Windows"])
def test_symlink_to_an_absolute_path_is_refused(
    workspace: Workspace, extension: str, target: str
) -> None:
    message = _refusal(workspace, extension, [symlink("app/link", target)])
    assert message == (
        f"webapp.1.0.0.{extension}: entry 'app/link' is a symbolic link to '{target}', an absolute path; "
        "the package is refused"
    )


@pytest.mark.parametrize("extension", ["zip", "tar", "tar.gz"])
@pytest.mark.parametrize(
    "target", ["../../etc/passwd", "../..", "../../sibling", "inner/../../..", "..\\..\\x"]
)
def test_symlink_climbing_out_is_refused(workspace: Workspace, extension: str, target: str) -> None:
    message = _refusal(workspace, extension, [symlink("app/link", target)])
    assert message == (
        f"webapp.1.0.0.{extension}: entry 'app/link' is a symbolic link to '{target}', "
        "which points outside the extraction directory; the package is refused"
    )


@pytest.mark.parametrize("extension", ["zip", "tar.gz"])
def test_entry_through_a_symlinked_directory_never_reaches_outside(
    workspace: Workspace, extension: str
) -> None:
    outside = workspace.root / "outside"
    members = [symlink("app/link", str(outside)), file("app/link/evil.txt", "pwned")]
    archive = build(workspace.incoming / f"webapp.1.0.0.{extension}", members)
    outside.mkdir()
    with pytest.raises(StepsError, match="is a symbolic link to"):
        extract(archive, workspace.destination)
    assert list(outside.iterdir()) == []
    outside.rmdir()
    workspace.assert_untouched()


@pytest.mark.parametrize("extension", ["zip", "tar"])
def test_entry_written_through_chained_links_is_refused(
    workspace: Workspace, extension: str
) -> None:
    # Each link is harmless when it is made: "up" leads to the root while "here" is missing.
    # Once "here" points at the root, "up" climbs one level above it.
    members = [
        directory("step"),
        symlink("up", "here/step/../.."),
        symlink("here", "."),
        file("up/evil.txt", "pwned"),
    ]
    message = _refusal(workspace, extension, members)
    assert message == (
        f"webapp.1.0.0.{extension}: entry 'up/evil.txt' would be written through a symbolic link "
        "to outside the extraction directory; the package is refused"
    )


@pytest.mark.parametrize("extension", ["zip", "tar"])
def test_link_made_to_lead_outside_by_a_later_link_is_refused(
    workspace: Workspace, extension: str
) -> None:
    members = [directory("step"), symlink("up", "here/step/../.."), symlink("here", ".")]
    message = _refusal(workspace, extension, members)
    assert message == (
        f"webapp.1.0.0.{extension}: entry 'up' is a symbolic link to 'here/step/../..', which leads "
        "outside the extraction directory through other links; the package is refused"
    )


def test_symlink_through_an_earlier_link_is_checked_for_real(workspace: Workspace) -> None:
    # "inner/up" looks like it stays inside, but "inner" is the root itself.
    members = [symlink("inner", "."), symlink("inner/up", "..")]
    message = _refusal(workspace, "tar", members)
    assert message == (
        "webapp.1.0.0.tar: entry 'inner/up' is a symbolic link to '..', which leads outside the "
        "extraction directory through other links; the package is refused"
    )


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "..\\secret"])
def test_hard_link_to_outside_is_refused(workspace: Workspace, target: str) -> None:
    message = _refusal(workspace, "tar", [hardlink("app/passwd", target)])
    assert message == (
        f"webapp.1.0.0.tar: entry 'app/passwd' is a hard link to '{target}', outside the extraction "
        "directory; the package is refused"
    )


@pytest.mark.parametrize("target", ["app/missing.txt", "app", "app/first.txt/x"])
def test_hard_link_to_anything_but_an_earlier_file_is_refused(
    workspace: Workspace, target: str
) -> None:
    message = _refusal(workspace, "tar", [hardlink("app/alias", target)])
    assert message == (
        f"webapp.1.0.0.tar: entry 'app/alias' is a hard link to '{target}', which is not a file "
        "extracted before it; the package is refused"
    )


def test_hard_link_to_a_symlink_is_refused(workspace: Workspace) -> None:
    # Linking to a symbolic link would share wherever it leads; only regular files qualify.
    members = [symlink("lnk", "app/first.txt"), hardlink("alias", "lnk")]
    message = _refusal(workspace, "tar", members)
    assert "is a hard link to 'lnk', which is not a file extracted before it" in message


@pytest.mark.parametrize("extension", ["tar", "tar.xz"])
@pytest.mark.parametrize(("kind", "described"), [("chardev", "character device"), ("fifo", "FIFO")])
def test_special_files_in_tar_are_refused(
    workspace: Workspace, extension: str, kind: str, described: str
) -> None:
    message = _refusal(workspace, extension, [Member("dev/thing", kind=kind)])
    assert message == (
        f"webapp.1.0.0.{extension}: entry 'dev/thing' is a {described}; a package may hold only "
        "files, directories and links; the package is refused"
    )


@pytest.mark.parametrize(("kind", "described"), [("chardev", "character device"), ("fifo", "FIFO")])
def test_special_files_in_zip_are_refused(workspace: Workspace, kind: str, described: str) -> None:
    message = _refusal(workspace, "zip", [Member("dev/thing", kind=kind)])
    assert f"entry 'dev/thing' is a {described};" in message


def test_file_over_an_earlier_directory_is_refused(workspace: Workspace) -> None:
    message = _refusal(workspace, "tar", [directory("app/data"), file("app/data", "x")])
    assert message == (
        "webapp.1.0.0.tar: entry 'app/data' is a file where an earlier entry made a directory; "
        "the package is refused"
    )


def test_file_under_an_earlier_file_is_refused(workspace: Workspace) -> None:
    message = _refusal(workspace, "tar", [file("app/first.txt/inner.txt", "x")])
    assert message == (
        "webapp.1.0.0.tar: entry 'app/first.txt/inner.txt' needs 'app/first.txt' to be a directory, "
        "but an earlier entry is a file; the package is refused"
    )


def test_refusal_comes_even_after_many_good_entries(workspace: Workspace) -> None:
    members = [file(f"app/{i}.txt", str(i)) for i in range(200)] + [file("../late.txt", "pwned")]
    archive = build_zip(workspace.incoming / "webapp.1.0.0.zip", members)
    with pytest.raises(StepsError, match=r"entry '\.\./late\.txt' would be written outside"):
        extract(archive, workspace.destination)
    workspace.assert_untouched()


_PARTS = st.sampled_from(["..", ".", "a", "b", "", "C:", "\\", "..\\..", "%2e%2e"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(st.lists(_PARTS, min_size=1, max_size=5).map("/".join), min_size=1, max_size=4)
)
def test_whatever_the_names_nothing_lands_outside(tmp_path: Path, names: list[str]) -> None:
    case = Path(os.path.realpath(tmp_path)) / f"case-{len(list(tmp_path.iterdir()))}"
    (case / "incoming").mkdir(parents=True)
    (case / "output").mkdir()
    archive = build_tar(case / "incoming" / "webapp.1.0.0.tar", [file(name, "x") for name in names])
    destination = case / "output" / "webapp"
    try:
        extract(archive, destination)
    except StepsError:
        assert list((case / "output").iterdir()) == []
    else:
        for path in destination.rglob("*"):
            assert os.path.realpath(path).startswith(str(destination) + os.sep)
    assert sorted(p.name for p in case.iterdir()) == ["incoming", "output"]
    assert [p.name for p in (case / "output").iterdir()] in ([], ["webapp"])
