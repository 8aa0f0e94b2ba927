from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from steptemplates.packages import ExtractResult, extract
from tests.packages.builders import (
    MTIME,
    TAR_EXTENSIONS,
    ZIP_EXTENSIONS,
    Workspace,
    build,
    build_tar,
    build_zip,
    directory,
    file,
    hardlink,
    nuget_metadata,
    symlink,
)

_FORMAT_OF = {
    "zip": "zip",
    "nupkg": "nupkg",
    "tar": "tar",
    "tar.gz": "tar.gz",
    "tgz": "tar.gz",
    "tar.bz2": "tar.bz2",
    "tbz": "tar.bz2",
    "tbz2": "tar.bz2",
    "tar.xz": "tar.xz",
    "txz": "tar.xz",
}
_APPLICATION = [
    directory("app"),
    file("app/web.config", "<configuration/>\n"),
    file("app/bin/Acme.dll", bytes(range(256)) * 40),
    file("deploy.sh", "#!/bin/sh\necho deployed\n", mode=0o755),
    file("scripts/nested/deeper/PostDeploy.sh", "echo post\n", mode=0o750, mtime=MTIME - 3600),
    directory("logs/empty"),
    directory("static", mode=0o555),
    file("static/site.css", "body {}\n", mode=0o444),
]


@pytest.mark.parametrize("extension", [*ZIP_EXTENSIONS, *TAR_EXTENSIONS])
def test_round_trip(workspace: Workspace, extension: str) -> None:
    members = [*_APPLICATION, *(nuget_metadata() if extension == "nupkg" else [])]
    archive = build(workspace.incoming / f"webapp.1.0.0.{extension}", members)

    result = extract(archive, workspace.destination)

    assert result == ExtractResult(file_count=5, format=_FORMAT_OF[extension])
    root = workspace.destination
    assert (root / "app/web.config").read_text() == "<configuration/>\n"
    assert (root / "app/bin/Acme.dll").read_bytes() == bytes(range(256)) * 40
    assert (root / "scripts/nested/deeper/PostDeploy.sh").read_text() == "echo post\n"
    assert (root / "logs/empty").is_dir() and list((root / "logs/empty").iterdir()) == []
    assert _mode(root / "deploy.sh") == 0o755
    assert _mode(root / "scripts/nested/deeper/PostDeploy.sh") == 0o750
    assert _mode(root / "static/site.css") == 0o444
    assert _mode(root / "static") == 0o755, "directories stay writable by their owner"
    assert (root / "deploy.sh").stat().st_mtime == MTIME
    assert (root / "scripts/nested/deeper/PostDeploy.sh").stat().st_mtime == MTIME - 3600
    assert (root / "logs/empty").stat().st_mtime == MTIME
    assert [p.name for p in workspace.output.iterdir()] == ["webapp"]


@pytest.mark.parametrize("extension", ["zip", "tar.gz"])
def test_relative_symlinks_inside_are_kept(workspace: Workspace, extension: str) -> None:
    members = [
        file("releases/1.0/app.txt", "one"),
        symlink("current", "releases/1.0"),
        symlink("releases/latest.txt", "1.0/app.txt"),
        symlink("dangling", "not-there-yet"),
    ]
    result = extract(
        build(workspace.incoming / f"webapp.1.0.0.{extension}", members), workspace.destination
    )

    root = workspace.destination
    assert result.file_count == 4
    assert os.readlink(root / "current") == "releases/1.0"
    assert (root / "current/app.txt").read_text() == "one"
    assert (root / "releases/latest.txt").read_text() == "one"
    assert os.readlink(root / "dangling") == "not-there-yet"


def test_tar_hard_link_to_an_earlier_file(workspace: Workspace) -> None:
    members = [file("bin/tool", "#!/bin/sh\n", mode=0o755), hardlink("bin/tool-alias", "bin/tool")]
    result = extract(
        build_tar(workspace.incoming / "webapp.1.0.0.tar", members), workspace.destination
    )

    root = workspace.destination
    assert result.file_count == 2
    assert (root / "bin/tool-alias").read_text() == "#!/bin/sh\n"
    assert (root / "bin/tool-alias").stat().st_ino == (root / "bin/tool").stat().st_ino


@pytest.mark.parametrize("extension", ["zip", "tar"])
def test_special_bits_are_dropped(workspace: Workspace, extension: str) -> None:
    members = [file("bin/setuid", "x", mode=0o4755), directory("shared", mode=0o3777)]
    extract(build(workspace.incoming / f"webapp.1.0.0.{extension}", members), workspace.destination)

    assert stat.S_IMODE((workspace.destination / "bin/setuid").stat().st_mode) == 0o755
    assert stat.S_IMODE((workspace.destination / "shared").stat().st_mode) == 0o777


def test_tar_with_dot_prefixed_names(workspace: Workspace) -> None:
    members = [directory("."), directory("./app"), file("./app/a.txt", "a")]
    result = extract(
        build_tar(workspace.incoming / "webapp.1.0.0.tgz", members, "gz"), workspace.destination
    )
    assert result.file_count == 1
    assert (workspace.destination / "app/a.txt").read_text() == "a"


def test_windows_separators_become_directories(workspace: Workspace) -> None:
    archive = build_zip(workspace.incoming / "webapp.1.0.0.zip", [file("app\\bin\\web.dll", "dll")])
    extract(archive, workspace.destination)
    assert (workspace.destination / "app/bin/web.dll").read_text() == "dll"


def test_zip_without_unix_attributes_gets_default_modes(workspace: Workspace) -> None:
    archive = workspace.incoming / "webapp.1.0.0.zip"
    with zipfile.ZipFile(archive, "w") as package:
        info = zipfile.ZipInfo("app/readme.txt", date_time=(2020, 1, 2, 3, 4, 6))
        info.create_system = 0  # made on Windows: no unix mode at all
        package.writestr(info, "hello")

    extract(archive, workspace.destination)

    umask = os.umask(0)
    os.umask(umask)
    readme = workspace.destination / "app/readme.txt"
    assert _mode(readme) == 0o666 & ~umask
    assert readme.stat().st_mtime == time.mktime((2020, 1, 2, 3, 4, 6, 0, 0, -1))


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_later_entry_replaces_an_earlier_symlink_instead_of_writing_through_it(
    workspace: Workspace,
) -> None:
    members = [
        file("real.txt", "original"),
        symlink("config.txt", "real.txt"),
        file("config.txt", "replacement"),
    ]
    extract(build_zip(workspace.incoming / "webapp.1.0.0.zip", members), workspace.destination)

    root = workspace.destination
    assert (root / "real.txt").read_text() == "original"
    assert not (root / "config.txt").is_symlink()
    assert (root / "config.txt").read_text() == "replacement"


def test_nupkg_skips_metadata_and_decodes_escaped_names(workspace: Workspace) -> None:
    members = [
        *nuget_metadata(),
        file("content/My%20File.txt", "spaced"),
        file("lib/net48/Acme%2BWeb.dll", "plus"),
        file("content/100%25.txt", "percent"),
        file("tools/package/keep.txt", "only the root package/ folder is NuGet's"),
    ]
    archive = build_zip(workspace.incoming / "Acme.Web.1.2.3.nupkg", members)

    result = extract(archive, workspace.destination)

    root = workspace.destination
    assert result == ExtractResult(file_count=4, format="nupkg")
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "content/100%.txt",
        "content/My File.txt",
        "lib/net48/Acme+Web.dll",
        "tools/package/keep.txt",
    ]
    assert (root / "content/My File.txt").read_text() == "spaced"


def test_zip_escapes_are_not_decoded_outside_nupkg(workspace: Workspace) -> None:
    extract(
        build_zip(workspace.incoming / "webapp.1.0.0.zip", [file("My%20File.txt", "x")]),
        workspace.destination,
    )
    assert (workspace.destination / "My%20File.txt").read_text() == "x"


def _source_tree(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "bin/start.sh").write_text("#!/bin/sh\necho start\n")
    os.chmod(root / "bin/start.sh", 0o755)
    (root / "conf/empty").mkdir(parents=True)
    (root / "conf/app.json").write_text('{"port": 8080}\n')
    (root / "data.bin").write_bytes(os.urandom(300_000))
    os.symlink("bin/start.sh", root / "start")
    for path in (root / "bin/start.sh", root / "conf/app.json", root / "data.bin"):
        os.utime(path, (MTIME, MTIME))
    return root


def _assert_same_tree(expected: Path, actual: Path) -> None:
    def listing(root: Path) -> list[tuple[str, str, int]]:
        rows = []
        for path in sorted(root.rglob("*")):
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            rows.append((str(path.relative_to(root)), kind, 0 if kind != "file" else _mode(path)))
        return rows

    assert listing(actual) == listing(expected)
    for path in expected.rglob("*"):
        twin = actual / path.relative_to(expected)
        if path.is_symlink():
            assert os.readlink(twin) == os.readlink(path)
        elif path.is_file():
            assert twin.read_bytes() == path.read_bytes()
            assert twin.stat().st_mtime == path.stat().st_mtime


@pytest.mark.skipif(shutil.which("zip") is None, reason="needs the zip command")
def test_zip_made_by_the_zip_command(workspace: Workspace) -> None:
    source = _source_tree(workspace.root / "source")
    archive = workspace.incoming / "webapp.1.0.0.zip"
    subprocess.run(["zip", "-q", "-r", "-y", str(archive), "."], cwd=source, check=True)

    result = extract(archive, workspace.destination)

    assert result.file_count == 4
    _assert_same_tree(source, workspace.destination)


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs the tar command")
@pytest.mark.parametrize(
    ("extension", "flag"), [("tar", ""), ("tar.gz", "z"), ("tbz2", "j"), ("txz", "J")]
)
def test_tar_made_by_the_tar_command(workspace: Workspace, extension: str, flag: str) -> None:
    source = _source_tree(workspace.root / "source")
    archive = workspace.incoming / f"webapp.1.0.0.{extension}"
    subprocess.run(["tar", f"-c{flag}f", str(archive), "-C", str(source), "."], check=True)

    result = extract(archive, workspace.destination)

    assert result.file_count == 4
    _assert_same_tree(source, workspace.destination)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)
