"""Damaged archives, a full disk and Ctrl-C: one-line errors, and nothing left behind."""

from __future__ import annotations

import errno
import os
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.packages import archive as archive_module
from steptemplates.packages import extract
from tests.packages.builders import TAR_EXTENSIONS, Workspace, build, build_tar, build_zip, file

_AGAIN = "; build or download the package again"


def _package(workspace: Workspace, extension: str, files: int = 6) -> Path:
    # Random contents do not compress, so a cut lands in the data rather than in padding.
    members = [file(f"app/part{i}.bin", os.urandom(40_000)) for i in range(files)]
    return build(workspace.incoming / f"webapp.1.0.0.{extension}", members)


def _failure(workspace: Workspace, archive: Path) -> str:
    with pytest.raises(StepsError) as caught:
        extract(archive, workspace.destination)
    workspace.assert_untouched()
    message = str(caught.value)
    assert "\n" not in message
    return message


def _cut(path: Path, keep: int) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:keep])


@pytest.mark.parametrize("extension", ["zip", "nupkg"])
@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.99])
def test_truncated_zip(workspace: Workspace, extension: str, fraction: float) -> None:
    archive = _package(workspace, extension)
    _cut(archive, int(archive.stat().st_size * fraction))
    message = _failure(workspace, archive)
    assert re.fullmatch(
        rf"webapp\.1\.0\.0\.{extension} is not a valid zip archive \(.+\){_AGAIN}", message
    )


def test_zip_with_damaged_data_fails_its_crc(workspace: Workspace) -> None:
    archive = build_zip(
        workspace.incoming / "webapp.1.0.0.zip",
        [file("app/a.txt", "a" * 1000), file("app/b.txt", "b" * 50_000)],
    )
    data = bytearray(archive.read_bytes())
    # Entries are stored deflated; flip a byte inside the second entry's compressed data.
    offset = data.index(b"app/b.txt") + len("app/b.txt") + 10
    data[offset] ^= 0xFF
    archive.write_bytes(bytes(data))
    message = _failure(workspace, archive)
    assert message.startswith("webapp.1.0.0.zip is truncated or corrupt (entry 'app/b.txt': ")
    assert message.endswith(_AGAIN)


def test_stored_zip_with_damaged_data_fails_its_crc(workspace: Workspace) -> None:
    import zipfile

    archive = workspace.incoming / "webapp.1.0.0.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as package:
        package.writestr("app/config.json", '{"name": "value"}')
    archive.write_bytes(archive.read_bytes().replace(b'"value"', b'"VALUE"', 1))
    message = _failure(workspace, archive)
    assert message == (
        "webapp.1.0.0.zip is truncated or corrupt (entry 'app/config.json': Bad CRC-32 for file "
        f"'app/config.json'){_AGAIN}"
    )


@pytest.mark.parametrize("extension", TAR_EXTENSIONS)
def test_tar_cut_in_the_middle(workspace: Workspace, extension: str) -> None:
    archive = _package(workspace, extension)
    _cut(archive, archive.stat().st_size // 2)
    message = _failure(workspace, archive)
    # bzip2 checks whole 900 kB blocks, and this package fits in the first: the damage shows
    # as soon as tarfile reads the first header.
    problem = "is not a valid tar.bz2 archive" if "b" in extension else "is truncated or corrupt"
    assert re.fullmatch(
        rf"webapp\.1\.0\.0\.{re.escape(extension)} {problem} \(.+\){_AGAIN}", message
    )


@pytest.mark.parametrize("extension", ["tar.gz", "tgz", "tar.bz2", "tar.xz"])
def test_compressed_tar_missing_only_its_last_bytes(workspace: Workspace, extension: str) -> None:
    archive = _package(workspace, extension)
    _cut(archive, archive.stat().st_size - 4)
    message = _failure(workspace, archive)
    assert message.startswith(f"webapp.1.0.0.{extension} is truncated or corrupt (")


def test_plain_tar_cut_between_members(workspace: Workspace) -> None:
    # tarfile alone would report this as a complete archive of the first two files.
    archive = build_tar(
        workspace.incoming / "webapp.1.0.0.tar",
        [file("a.txt", "a" * 512), file("b.txt", "b" * 512), file("c.txt", "c")],
    )
    with tarfile.open(archive) as complete:
        third = complete.getmember("c.txt").offset
    _cut(archive, third)
    message = _failure(workspace, archive)
    assert (
        message
        == f"webapp.1.0.0.tar is truncated or corrupt (the end-of-archive marker is missing){_AGAIN}"
    )


def test_plain_tar_with_a_damaged_header_after_the_first(workspace: Workspace) -> None:
    archive = build_tar(
        workspace.incoming / "webapp.1.0.0.tar", [file("a.txt", "a" * 512), file("b.txt", "b")]
    )
    data = bytearray(archive.read_bytes())
    data[1024 : 1024 + 100] = b"\xff" * 100  # the name field of the second header
    archive.write_bytes(bytes(data))
    message = _failure(workspace, archive)
    assert message.startswith("webapp.1.0.0.tar is truncated or corrupt (")


@pytest.mark.parametrize(
    ("extension", "kind"),
    [
        ("zip", "zip"),
        ("nupkg", "zip"),
        ("tar", "tar"),
        ("tgz", "tar.gz"),
        ("tbz", "tar.bz2"),
        ("txz", "tar.xz"),
    ],
)
@pytest.mark.parametrize("content", [b"", b"this is not an archive at all\n" * 40])
def test_not_an_archive(workspace: Workspace, extension: str, kind: str, content: bytes) -> None:
    archive = workspace.incoming / f"webapp.1.0.0.{extension}"
    archive.write_bytes(content)
    message = _failure(workspace, archive)
    assert re.fullmatch(
        rf"webapp\.1\.0\.0\.{extension} is not a valid {re.escape(kind)} archive \(.+\){_AGAIN}",
        message,
    )


def test_plain_tar_named_as_gzip(workspace: Workspace) -> None:
    archive = build_tar(
        workspace.incoming / "webapp.1.0.0.tar.gz", [file("a.txt", "a")], compression=""
    )
    message = _failure(workspace, archive)
    assert message == f"webapp.1.0.0.tar.gz is not a valid tar.gz archive (not a gzip file){_AGAIN}"


def _fail_on_write(monkeypatch: pytest.MonkeyPatch, after: int, error: BaseException) -> list[int]:
    """Make the nth write of file data raise ``error``; returns the list of writes done."""
    done: list[int] = []
    real: Callable[[int, bytes], None] = archive_module._write_all

    def write(fd: int, chunk: bytes) -> None:
        if len(done) == after:
            raise error
        real(fd, chunk)
        done.append(len(chunk))

    monkeypatch.setattr(archive_module, "_write_all", write)
    return done


# A real full disk cannot be arranged here without a dedicated small file system, so the
# write path is made to fail the way the kernel reports it.
@pytest.mark.parametrize("extension", ["zip", "tar.gz"])
def test_disk_full_midway_leaves_nothing(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, extension: str
) -> None:
    archive = _package(workspace, extension)
    writes = _fail_on_write(monkeypatch, 3, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    message = _failure(workspace, archive)
    assert len(writes) == 3, "some files were written before the disk filled up"
    assert message == (
        f"cannot extract webapp.1.0.0.{extension} to {workspace.destination}: no space left on device; "
        "free some space and deploy again"
    )


def test_other_write_errors_name_the_reason(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _package(workspace, "zip")
    _fail_on_write(monkeypatch, 1, OSError(errno.EIO, os.strerror(errno.EIO)))
    message = _failure(workspace, archive)
    assert message == (
        f"cannot extract webapp.1.0.0.zip to {workspace.destination}: Input/output error; "
        "check that the directory is writable and deploy again"
    )


@pytest.mark.parametrize("extension", ["zip", "tar"])
def test_interrupt_midway_leaves_nothing(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, extension: str
) -> None:
    archive = _package(workspace, extension)
    _fail_on_write(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        extract(archive, workspace.destination)
    workspace.assert_untouched()


def test_existing_destination_is_left_alone(workspace: Workspace) -> None:
    archive = _package(workspace, "zip")
    workspace.destination.mkdir()
    (workspace.destination / "keep.txt").write_text("mine")
    with pytest.raises(StepsError) as caught:
        extract(archive, workspace.destination)
    assert str(caught.value) == (
        f"cannot extract webapp.1.0.0.zip to {workspace.destination}: it already exists; "
        "remove it or extract somewhere else"
    )
    assert [p.name for p in workspace.output.iterdir()] == ["webapp"]
    assert [p.name for p in workspace.destination.iterdir()] == ["keep.txt"]


def test_existing_empty_destination_is_also_refused(workspace: Workspace) -> None:
    workspace.destination.mkdir()
    with pytest.raises(StepsError, match="it already exists"):
        extract(_package(workspace, "tar"), workspace.destination)


def test_unknown_format(workspace: Workspace) -> None:
    archive = workspace.incoming / "webapp.1.0.0.rar"
    archive.write_bytes(b"Rar!")
    message = _failure(workspace, archive)
    assert message == (
        "cannot extract webapp.1.0.0.rar: unknown package format; accepted formats are .zip, "
        ".nupkg, .tar, .tar.gz, .tgz, .tar.bz2, .tbz, .tbz2, .tar.xz, .txz"
    )


def test_missing_archive(workspace: Workspace) -> None:
    archive = workspace.incoming / "webapp.1.0.0.zip"
    message = _failure(workspace, archive)
    assert (
        message
        == f"cannot read package {archive}: No such file or directory; check the path and its permissions"
    )


def test_destination_parent_is_created(workspace: Workspace) -> None:
    archive = _package(workspace, "zip", files=1)
    destination = workspace.output / "deep" / "er" / "webapp"
    assert extract(archive, destination).file_count == 1
    assert (destination / "app/part0.bin").stat().st_size == 40_000


def test_encrypted_zip_entry_is_refused(workspace: Workspace) -> None:
    archive = build_zip(workspace.incoming / "webapp.1.0.0.zip", [file("app/secret.txt", "x")])
    data = bytearray(archive.read_bytes())
    # Set the "encrypted" flag in both the local header and the central directory record.
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.index(signature)
        data[start + flag_offset] |= 0x1
    archive.write_bytes(bytes(data))
    message = _failure(workspace, archive)
    assert message == (
        "webapp.1.0.0.zip: entry 'app/secret.txt' is encrypted; packages cannot be encrypted; "
        "the package is refused"
    )


def test_unsupported_zip_compression_is_refused(workspace: Workspace) -> None:
    archive = build_zip(workspace.incoming / "webapp.1.0.0.zip", [file("app/big.dat", "x" * 100)])
    data = bytearray(archive.read_bytes())
    # Claim Deflate64 (method 9) in the local header and the central directory record.
    for signature, method_offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = data.index(signature)
        data[start + method_offset : start + method_offset + 2] = (9).to_bytes(2, "little")
    archive.write_bytes(bytes(data))
    message = _failure(workspace, archive)
    assert message == (
        "webapp.1.0.0.zip: entry 'app/big.dat' uses compression method 9, which steps cannot "
        "read; repack it with deflate; the package is refused"
    )
