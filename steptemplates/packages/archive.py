"""Extracting a package: all of it, safely, into a directory that did not exist, or nothing.

Entries are written into a fresh sibling directory ``.<name>.partial-<hex>`` that is renamed
to the destination only once every entry is in place; any failure (a refused entry, a
corrupt archive, a full disk, Ctrl-C) removes it, so a deployment never sees half a package.

A package is refused as a whole when an entry would land outside the destination:

- absolute paths, drive letters and UNC paths; ``..`` that climbs out (``\\`` counts as
  ``/``, since packages made on Windows use it);
- symbolic links whose target is absolute or climbs out, and any entry whose real location
  (earlier symbolic links followed) is outside; every link is checked again at the end,
  because a later link can change where an earlier relative one leads;
- hard links (tar) to anything but a regular file extracted earlier from the same
  package; a hard link is made with ``link()`` and never follows a symbolic link;
- devices, FIFOs, sockets and other special files.

Unix permission bits are kept (setuid, setgid and sticky are dropped) and so are mtimes.
Directories always end up readable, writable and searchable by their owner. Zip entries
whose unix mode says symbolic link are links, their content the target. A .nupkg is a zip
without NuGet's own files (``[Content_Types].xml``, ``_rels/``, ``package/``, the root
.nuspec), its names %XX-decoded as OPC stores them.
"""

from __future__ import annotations

import errno
import functools
import lzma
import os
import posixpath
import re
import secrets
import stat
import struct
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import unquote

from steptemplates.errors import StepsError
from steptemplates.fsutil import remove_tree
from steptemplates.packages.identity import ACCEPTED_EXTENSIONS, archive_format

# Large reads and writes keep the per-entry Python cost small next to the I/O.
_CHUNK = 1024 * 1024
_FILE = "file"
_DIRECTORY = "directory"
_SYMLINK = "symlink"
_HARDLINK = "hardlink"
_SPECIAL_KINDS = {
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
}
_TAR_SPECIAL_KINDS = {
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "FIFO",
}
_TAR_MODES: dict[str, Literal["r:", "r:gz", "r:bz2", "r:xz"]] = {
    "tar": "r:",
    "tar.gz": "r:gz",
    "tar.bz2": "r:bz2",
    "tar.xz": "r:xz",
}
_ZIP_METHODS = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
_ZIP_UNIX_HOST = 3
_ZIP_EXTENDED_TIMESTAMP = 0x5455
# What a damaged archive raises while being read, depending on the format and where the
# damage is; none of them can come from writing, which happens outside the readers.
_READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    struct.error,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    tarfile.TarError,
)
_DRIVE_RE = re.compile(r"[A-Za-z]:")
_THROUGH_LINK = "would be written through a symbolic link to outside the extraction directory"
_LEADS_OUT = (
    "is a symbolic link to '{}', which leads outside the extraction directory through other links"
)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class ExtractResult:
    """``file_count`` counts regular files and links written; directories are not counted."""

    file_count: int
    format: str


@dataclass(frozen=True)
class _Entry:
    """One archive member, read but not yet written."""

    name: str  # as stored in the archive, for messages
    path: str  # normalised, relative to the extraction directory; "" is the directory itself
    kind: str  # _FILE, _DIRECTORY, _SYMLINK, _HARDLINK, or what special file it is
    mode: int | None = None  # permission bits; None leaves the umask default
    mtime: float | None = None
    target: str = ""  # of a link, as stored
    data: Callable[[], Iterator[bytes]] | None = None


class _UnsafeName(Exception):
    """An entry name that leads outside the extraction directory; the text says how."""


def extract(archive: Path, destination: Path) -> ExtractResult:
    """Extract ``archive`` into ``destination``, which must not exist yet."""
    format_name = archive_format(archive)
    if format_name is None:
        raise StepsError(
            f"cannot extract {archive.name}: unknown package format",
            hint=f"accepted formats are {ACCEPTED_EXTENSIONS}",
        )
    if os.path.lexists(destination):
        raise StepsError(
            f"cannot extract {archive.name} to {destination}: it already exists",
            hint="remove it or extract somewhere else",
        )
    try:
        handle = open(archive, "rb")  # noqa: SIM115 - closed below, after extraction
    except OSError as error:
        raise StepsError(
            f"cannot read package {archive}: {error.strerror or error}",
            hint="check the path and its permissions",
        ) from None
    with handle:
        return _extract_into_place(handle, archive.name, format_name, destination)


def _extract_into_place(
    handle: BinaryIO, archive_name: str, format_name: str, destination: Path
) -> ExtractResult:
    try:
        partial = _make_partial_directory(destination)
        try:
            tree = _Tree(partial, archive_name)
            for entry in _entries(handle, archive_name, format_name):
                tree.add(entry)
            tree.finish()
            os.rename(partial, destination)
        except BaseException:
            remove_tree(partial)
            raise
    except OSError as error:
        raise _cannot_extract(archive_name, destination, error) from None
    return ExtractResult(tree.file_count, format_name)


def _make_partial_directory(destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    while True:
        candidate = destination.parent / f".{destination.name}.partial-{secrets.token_hex(4)}"
        try:
            # Made with the usual mode (not mkdtemp's 0700): it becomes the destination.
            os.mkdir(candidate)
        except FileExistsError:
            continue
        return candidate


def _cannot_extract(archive_name: str, destination: Path, error: OSError) -> StepsError:
    where = f"cannot extract {archive_name} to {destination}"
    full = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}
    if error.errno in full:
        return StepsError(f"{where}: {full[error.errno]}", hint="free some space and deploy again")
    return StepsError(
        f"{where}: {error.strerror or error}",
        hint="check that the directory is writable and deploy again",
    )


def _entries(handle: BinaryIO, archive_name: str, format_name: str) -> Iterator[_Entry]:
    if format_name in ("zip", "nupkg"):
        return _zip_entries(handle, archive_name, nupkg=format_name == "nupkg")
    return _tar_entries(handle, archive_name, format_name)


# --- names ----------------------------------------------------------------------------------


def _normalise(name: str) -> str:
    """The entry's path relative to the extraction directory, without ``.``, ``..`` or ``\\``."""
    path = name.replace("\\", "/")
    if "\0" in path:
        raise _UnsafeName("has a NUL character in its name")
    if path.startswith("/") or _DRIVE_RE.match(path):
        raise _UnsafeName("has an absolute path")
    normal = posixpath.normpath(path)
    if normal == ".." or normal.startswith("../"):
        raise _UnsafeName("would be written outside the extraction directory")
    return "" if normal == "." else normal


def _link_target_problem(path: str, target: str) -> str | None:
    """Why a symbolic link at ``path`` to ``target`` is refused, judged on the names alone."""
    normal = target.replace("\\", "/")
    if not normal or "\0" in normal:
        return "is a symbolic link with an empty or invalid target"
    if normal.startswith("/") or _DRIVE_RE.match(normal):
        return f"is a symbolic link to '{target}', an absolute path"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), normal))
    if resolved == ".." or resolved.startswith("../"):
        return f"is a symbolic link to '{target}', which points outside the extraction directory"
    return None


def _refused(archive_name: str, entry_name: str, reason: str) -> StepsError:
    message = f"{archive_name}: entry '{entry_name}' {reason}"
    return StepsError(message, hint="the package is refused")


def _safe_path(archive_name: str, stored_name: str, name: str) -> str:
    try:
        return _normalise(name)
    except _UnsafeName as problem:
        raise _refused(archive_name, stored_name, str(problem)) from None


def _invalid(archive_name: str, kind: str, error: BaseException) -> StepsError:
    return StepsError(
        f"{archive_name} is not a valid {kind} archive ({_detail(error)})",
        hint="build or download the package again",
    )


def _corrupt(archive_name: str, detail: str) -> StepsError:
    return StepsError(
        f"{archive_name} is truncated or corrupt ({detail})",
        hint="build or download the package again",
    )


def _detail(error: BaseException) -> str:
    return str(error) or type(error).__name__


# --- writing --------------------------------------------------------------------------------


def _write_all(fd: int, chunk: bytes) -> None:
    view = memoryview(chunk)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class _Tree:
    """Writes entries under ``root``, refusing any whose real location is outside it."""

    def __init__(self, root: Path, archive_name: str) -> None:
        self.root = str(root)
        self.real_root = os.path.realpath(root)
        self.archive_name = archive_name
        self.file_count = 0
        self._made = {""}  # directories known to exist, relative to root
        self._directories: list[_Entry] = []
        self._symlinks: list[_Entry] = []

    def add(self, entry: _Entry) -> None:
        if not entry.path:
            if entry.kind != _DIRECTORY:
                raise self._refuse(entry, "has no file name")
            return
        # Only a symbolic link written earlier can make a clean name lead elsewhere, so the
        # costly real-path check is needed only once there is one.
        if self._symlinks and not self._inside(posixpath.dirname(entry.path)):
            raise self._refuse(entry, _THROUGH_LINK)
        if entry.kind == _FILE:
            self._file(entry)
        elif entry.kind == _DIRECTORY:
            self._make_directories(entry.path, entry)
            self._directories.append(entry)
        elif entry.kind == _SYMLINK:
            self._symlink(entry)
        elif entry.kind == _HARDLINK:
            self._hardlink(entry)
        else:
            raise self._refuse(
                entry, f"is a {entry.kind}; a package may hold only files, directories and links"
            )

    def finish(self) -> None:
        """Check every link again, then give directories their modes and mtimes."""
        for link in self._symlinks:
            if not self._inside(link.path):
                raise self._refuse(link, _LEADS_OUT.format(link.target))
        for directory in self._directories:
            path = os.path.join(self.root, directory.path)
            if directory.mode is not None:
                os.chmod(path, directory.mode | stat.S_IRWXU)
            if directory.mtime is not None:
                os.utime(path, (directory.mtime, directory.mtime))

    def _file(self, entry: _Entry) -> None:
        self._make_directories(posixpath.dirname(entry.path), entry)
        fd = self._create(os.path.join(self.root, entry.path), entry)
        try:
            if entry.data is not None:
                for chunk in entry.data():
                    _write_all(fd, chunk)
            if entry.mode is not None:
                os.fchmod(fd, entry.mode)
            if entry.mtime is not None:
                os.utime(fd, (entry.mtime, entry.mtime))
        finally:
            os.close(fd)
        self.file_count += 1

    def _create(self, path: str, entry: _Entry) -> int:
        mode = 0o600 if entry.mode is not None else 0o666
        try:
            return os.open(path, _CREATE_FLAGS, mode)
        except IsADirectoryError:
            raise self._refuse(entry, "is a file where an earlier entry made a directory") from None
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
        # An earlier entry left a symbolic link here: replace it, never write through it.
        os.unlink(path)
        return os.open(path, _CREATE_FLAGS, mode)

    def _make_directories(self, relative: str, entry: _Entry) -> None:
        if relative in self._made:
            return
        self._make_directories(posixpath.dirname(relative), entry)
        path = os.path.join(self.root, relative)
        try:
            os.mkdir(path)
        except FileExistsError:
            if not os.path.isdir(path):
                raise self._refuse(
                    entry, f"needs '{relative}' to be a directory, but an earlier entry is a file"
                ) from None
        self._made.add(relative)

    def _symlink(self, entry: _Entry) -> None:
        problem = _link_target_problem(entry.path, entry.target)
        if problem:
            raise self._refuse(entry, problem)
        self._make_directories(posixpath.dirname(entry.path), entry)
        path = os.path.join(self.root, entry.path)
        self._replace(path, entry, lambda: os.symlink(entry.target, path))
        self._symlinks.append(entry)
        if not self._inside(entry.path):
            raise self._refuse(entry, _LEADS_OUT.format(entry.target))
        self.file_count += 1

    def _hardlink(self, entry: _Entry) -> None:
        try:
            source_relative = _normalise(entry.target)
        except _UnsafeName:
            raise self._refuse(
                entry, f"is a hard link to '{entry.target}', outside the extraction directory"
            ) from None
        source = os.path.join(self.root, source_relative)
        if self._symlinks and not self._inside(posixpath.dirname(source_relative)):
            raise self._refuse(
                entry, f"is a hard link to '{entry.target}', outside the extraction directory"
            )
        if source_relative == entry.path or not _is_regular_file(source):
            reason = f"is a hard link to '{entry.target}', which is not a file extracted before it"
            raise self._refuse(entry, reason)
        self._make_directories(posixpath.dirname(entry.path), entry)
        path = os.path.join(self.root, entry.path)
        self._replace(path, entry, lambda: os.link(source, path, follow_symlinks=False))
        self.file_count += 1

    def _replace(self, path: str, entry: _Entry, make: Callable[[], None]) -> None:
        """Run ``make``; if an earlier file or link is in the way, replace it, never a directory."""
        try:
            make()
            return
        except FileExistsError:
            if os.path.isdir(path) and not os.path.islink(path):
                raise self._refuse(
                    entry, "is a link where an earlier entry made a directory"
                ) from None
        os.unlink(path)
        make()

    def _inside(self, relative: str) -> bool:
        real = os.path.realpath(os.path.join(self.root, relative))
        return real == self.real_root or real.startswith(self.real_root + os.sep)

    def _refuse(self, entry: _Entry, reason: str) -> StepsError:
        return _refused(self.archive_name, entry.name, reason)


def _is_regular_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


# --- zip and nupkg --------------------------------------------------------------------------


def _zip_entries(handle: BinaryIO, archive_name: str, *, nupkg: bool) -> Iterator[_Entry]:
    try:
        package = zipfile.ZipFile(handle)
    except _READ_ERRORS as error:
        raise _invalid(archive_name, "zip", error) from None
    with package:
        for info in package.infolist():
            # OPC escapes names with %XX; decode before judging where the entry lands.
            name = unquote(info.filename) if nupkg else info.filename
            path = _safe_path(archive_name, info.filename, name)
            if nupkg and _is_nuget_metadata(path):
                continue
            yield _zip_entry(package, info, archive_name, path)


def _is_nuget_metadata(path: str) -> bool:
    """NuGet's own files, which are not part of the application."""
    lowered = path.lower()
    top, _, rest = lowered.partition("/")
    if top in ("_rels", "package"):
        return True
    return not rest and (lowered == "[content_types].xml" or lowered.endswith(".nuspec"))


def _zip_entry(
    package: zipfile.ZipFile, info: zipfile.ZipInfo, archive_name: str, path: str
) -> _Entry:
    unix_mode = info.external_attr >> 16 if info.create_system == _ZIP_UNIX_HOST else 0
    file_type = stat.S_IFMT(unix_mode)
    mode = stat.S_IMODE(unix_mode) & 0o777 or None
    mtime = _zip_mtime(info)
    if info.is_dir() or file_type == stat.S_IFDIR:
        return _Entry(info.filename, path, _DIRECTORY, mode, mtime)
    if file_type not in (0, stat.S_IFREG, stat.S_IFLNK):
        kind = _SPECIAL_KINDS.get(file_type, "special file")
        return _Entry(info.filename, path, kind)
    if info.flag_bits & 0x1:
        raise _refused(archive_name, info.filename, "is encrypted; packages cannot be encrypted")
    if info.compress_type not in _ZIP_METHODS:
        reason = (
            f"uses compression method {info.compress_type}, which steps cannot read; "
            "repack it with deflate"
        )
        raise _refused(archive_name, info.filename, reason)
    if file_type == stat.S_IFLNK:
        target = b"".join(_zip_data(package, info, archive_name))
        return _Entry(info.filename, path, _SYMLINK, target=os.fsdecode(target))
    data = functools.partial(_zip_data, package, info, archive_name)
    return _Entry(info.filename, path, _FILE, mode, mtime, data=data)


def _zip_data(
    package: zipfile.ZipFile, info: zipfile.ZipInfo, archive_name: str
) -> Iterator[bytes]:
    try:
        with package.open(info) as source:
            # read() to the end makes zipfile check the CRC; a sized read might stop short.
            if info.file_size <= _CHUNK:
                yield source.read()
                return
            while chunk := source.read(_CHUNK):
                yield chunk
    except _READ_ERRORS as error:
        raise _corrupt(archive_name, f"entry '{info.filename}': {_detail(error)}") from None


def _zip_mtime(info: zipfile.ZipInfo) -> float | None:
    """The UTC mtime Info-ZIP keeps in an extra field, else the local time of the header."""
    extra = info.extra
    offset = 0
    while offset + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, offset)
        field = extra[offset + 4 : offset + 4 + size]
        if tag == _ZIP_EXTENDED_TIMESTAMP and len(field) >= 5 and field[0] & 0x1:
            return float(struct.unpack_from("<i", field, 1)[0])
        offset += 4 + size
    return _local_time(info.date_time)


@functools.lru_cache(maxsize=4096)
def _local_time(date_time: tuple[int, int, int, int, int, int]) -> float | None:
    try:
        return time.mktime((*date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return None


# --- tar ------------------------------------------------------------------------------------


def _tar_entries(handle: BinaryIO, archive_name: str, format_name: str) -> Iterator[_Entry]:
    try:
        archive = tarfile.open(fileobj=handle, mode=_TAR_MODES[format_name])  # noqa: SIM115
    except _READ_ERRORS as error:
        raise _invalid(archive_name, format_name, error) from None
    with archive:
        try:
            for member in archive:
                yield _tar_entry(archive, member, archive_name)
            _check_tar_end(archive, archive_name)
        except _READ_ERRORS as error:
            raise _corrupt(archive_name, _detail(error)) from None


def _tar_entry(archive: tarfile.TarFile, member: tarfile.TarInfo, archive_name: str) -> _Entry:
    path = _safe_path(archive_name, member.name, member.name)
    mode = member.mode & 0o777
    if member.isreg():
        data = functools.partial(_tar_data, archive, member, archive_name)
        return _Entry(member.name, path, _FILE, mode, member.mtime, data=data)
    if member.isdir():
        return _Entry(member.name, path, _DIRECTORY, mode, member.mtime)
    if member.issym():
        return _Entry(member.name, path, _SYMLINK, target=member.linkname)
    if member.islnk():
        return _Entry(member.name, path, _HARDLINK, target=member.linkname)
    kind = _TAR_SPECIAL_KINDS.get(member.type, f"special file (tar type {member.type!r})")
    return _Entry(member.name, path, kind)


def _tar_data(
    archive: tarfile.TarFile, member: tarfile.TarInfo, archive_name: str
) -> Iterator[bytes]:
    try:
        source = archive.extractfile(member)
        if source is None:
            return
        with source:
            while chunk := source.read(_CHUNK):
                yield chunk
    except _READ_ERRORS as error:
        raise _corrupt(archive_name, f"entry '{member.name}': {_detail(error)}") from None


def _check_tar_end(archive: tarfile.TarFile, archive_name: str) -> None:
    """Refuse a tar cut short between members, which tarfile takes for a complete one.

    tarfile stops quietly at a missing or damaged header after the first, so the
    end-of-archive block must be there; reading on to the end of the compressed stream also
    makes gzip, bzip2 and xz check their trailers.
    """
    stream = archive.fileobj
    if stream is None:
        return
    stream.seek(archive.offset)
    block = stream.read(tarfile.BLOCKSIZE)
    if block != bytes(tarfile.BLOCKSIZE):
        raise _corrupt(archive_name, "the end-of-archive marker is missing")
    while stream.read(_CHUNK):
        pass
