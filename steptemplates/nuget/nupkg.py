"""Reading a .nupkg to publish it: whole and undamaged, with one manifest naming it."""

from __future__ import annotations

import io
import lzma
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from steptemplates.errors import StepsError
from steptemplates.nuget import ids, nuspec
from steptemplates.nuget.nuspec import Nuspec

# What zipfile raises for a damaged archive, depending on where the damage is.
_DAMAGED = (EOFError, ValueError, struct.error, zlib.error, lzma.LZMAError, zipfile.BadZipFile)
_REPACK = "make the package again, for example with steps pack"


@dataclass(frozen=True)
class PackageFile:
    data: bytes
    nuspec: Nuspec
    nuspec_xml: bytes
    version: ids.PackageVersion


def read_package(path: Path) -> PackageFile:
    """The package at ``path``, checked: a zip whose entries are intact, a valid id and version."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise StepsError(
            f"cannot read package {path}: {error.strerror or error}",
            hint="check the path and its permissions",
        ) from None
    try:
        nuspec_name, nuspec_xml = _manifest(path, data)
    except _DAMAGED as error:
        raise StepsError(
            f"{path} is not a valid .nupkg ({str(error) or type(error).__name__})", hint=_REPACK
        ) from None
    manifest = nuspec.parse(nuspec_xml, f"{path}: {nuspec_name}")
    problem = ids.id_problem(manifest.id)
    if problem:
        raise StepsError(f"{path}: invalid package id '{manifest.id}': {problem}", hint=_REPACK)
    try:
        version = ids.parse_package_version(manifest.version)
    except ValueError as error:
        raise StepsError(f"{path}: invalid package version: {error}", hint=_REPACK) from None
    return PackageFile(data, manifest, nuspec_xml, version)


def _manifest(path: Path, data: bytes) -> tuple[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        damaged = package.testzip()
        if damaged is not None:
            raise StepsError(
                f"{path} is corrupt: entry '{damaged}' does not match its checksum", hint=_REPACK
            )
        names = [n for n in package.namelist() if "/" not in n and n.lower().endswith(".nuspec")]
        if len(names) != 1:
            found = "no .nuspec" if not names else f"{len(names)} .nuspec files"
            raise StepsError(f"{path} is not a valid .nupkg: {found} at its root", hint=_REPACK)
        return names[0], package.read(names[0])
