"""Real archives for the package tests, built with zipfile and tarfile, and where they go."""

from __future__ import annotations

import io
import stat
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

MTIME = 1_700_000_000  # 2023-11-14, whole seconds so every format can hold it
_TAR_COMPRESSION = {
    "tar": "",
    "tar.gz": "gz",
    "tgz": "gz",
    "tar.bz2": "bz2",
    "tbz": "bz2",
    "tbz2": "bz2",
    "tar.xz": "xz",
    "txz": "xz",
}
ZIP_EXTENSIONS = ("zip", "nupkg")
TAR_EXTENSIONS = tuple(_TAR_COMPRESSION)


@dataclass(frozen=True)
class Member:
    """One archive entry. ``kind`` is file, dir, symlink, hardlink, chardev or fifo."""

    name: str
    data: bytes = b""
    mode: int = 0o644
    kind: str = "file"
    target: str = ""
    mtime: int = MTIME


def file(name: str, data: bytes | str = b"", mode: int = 0o644, mtime: int = MTIME) -> Member:
    return Member(name, data.encode() if isinstance(data, str) else data, mode, mtime=mtime)


def directory(name: str, mode: int = 0o755, mtime: int = MTIME) -> Member:
    return Member(name, mode=mode, kind="dir", mtime=mtime)


def symlink(name: str, target: str) -> Member:
    return Member(name, mode=0o777, kind="symlink", target=target)


def hardlink(name: str, target: str) -> Member:
    return Member(name, kind="hardlink", target=target)


def build(path: Path, members: list[Member]) -> Path:
    """Write ``members`` to ``path`` in the format its extension names."""
    extension = max(
        (e for e in (*TAR_EXTENSIONS, *ZIP_EXTENSIONS) if path.name.endswith("." + e)), key=len
    )
    if extension in ZIP_EXTENSIONS:
        return build_zip(path, members)
    return build_tar(path, members, _TAR_COMPRESSION[extension])


def build_zip(path: Path, members: list[Member]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in members:
            archive.writestr(_zip_info(member), member.target.encode() or member.data)
    return path


def _zip_info(member: Member) -> zipfile.ZipInfo:
    name = (
        member.name + "/" if member.kind == "dir" and not member.name.endswith("/") else member.name
    )
    info = zipfile.ZipInfo(name, date_time=time.localtime(member.mtime)[:6])
    info.create_system = 3
    info.compress_type = zipfile.ZIP_DEFLATED
    file_type = {
        "file": stat.S_IFREG,
        "dir": stat.S_IFDIR,
        "symlink": stat.S_IFLNK,
        "chardev": stat.S_IFCHR,
        "fifo": stat.S_IFIFO,
    }[member.kind]
    info.external_attr = (file_type | member.mode) << 16
    if member.kind == "dir":
        info.external_attr |= 0x10  # the MS-DOS directory flag, as zip tools set it
    return info


def build_tar(path: Path, members: list[Member], compression: str = "") -> Path:
    mode = f"w:{compression}" if compression else "w"
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as archive:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.mode = member.mode
            info.mtime = member.mtime
            info.type = {
                "file": tarfile.REGTYPE,
                "dir": tarfile.DIRTYPE,
                "symlink": tarfile.SYMTYPE,
                "hardlink": tarfile.LNKTYPE,
                "chardev": tarfile.CHRTYPE,
                "fifo": tarfile.FIFOTYPE,
            }[member.kind]
            info.linkname = member.target
            if member.kind == "chardev":
                info.devmajor, info.devminor = 1, 3
            if member.kind == "file":
                info.size = len(member.data)
                archive.addfile(info, io.BytesIO(member.data))
            else:
                archive.addfile(info)
    return path


def nuget_metadata(package_id: str = "Acme.Web", version: str = "1.2.3") -> list[Member]:
    """The files NuGet adds to every .nupkg beside the application."""
    nuspec = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">\n'
        f"  <metadata>\n    <id>{package_id}</id>\n    <version>{version}</version>\n"
        "    <authors>Acme</authors>\n  </metadata>\n</package>\n"
    )
    return [
        file("[Content_Types].xml", '<?xml version="1.0"?><Types/>'),
        file("_rels/.rels", '<?xml version="1.0"?><Relationships/>'),
        file(f"package/services/metadata/core-properties/{'ab' * 16}.psmdcp", "<coreProperties/>"),
        file(f"{package_id}.nuspec", nuspec),
    ]


@dataclass(frozen=True)
class Workspace:
    """Archives go in ``incoming``; extraction goes to ``destination`` under ``output``."""

    root: Path
    incoming: Path
    output: Path

    @property
    def destination(self) -> Path:
        return self.output / "webapp"

    def assert_untouched(self) -> None:
        """Nothing extracted, no partial directory, and nothing written beside either."""
        assert sorted(p.name for p in self.root.iterdir()) == ["incoming", "output"]
        assert list(self.output.iterdir()) == []
