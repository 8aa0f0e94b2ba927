"""Which package a file holds, read from its name the way Calamari does (or its .nuspec).

Two name forms are understood:

- the Octopus package cache form ``<Id>@<S|M|O|L><Version>@<hex>.<ext>``, where the letter
  says which version format follows (SemVer, Maven, Octopus, lexicographic) and the hex
  run keeps cached copies apart; id and version are %-escaped in that form;
- the plain form ``<Id>.<Version>.<ext>``, where the version is the first dot-separated run
  that is a whole SemVer with at least major and minor (``Acme.Web.1.2.3-beta.4.zip``).

A .nupkg names itself in its .nuspec, which wins over the file name.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from steptemplates.errors import StepsError

_EXTENSIONS = (
    (".zip", "zip"),
    (".nupkg", "nupkg"),
    (".tar", "tar"),
    (".tar.gz", "tar.gz"),
    (".tgz", "tar.gz"),
    (".tar.bz2", "tar.bz2"),
    (".tbz", "tar.bz2"),
    (".tbz2", "tar.bz2"),
    (".tar.xz", "tar.xz"),
    (".txz", "tar.xz"),
)
ACCEPTED_EXTENSIONS = ", ".join(extension for extension, _ in _EXTENSIONS)
# Longest first, so "x.tar.gz" is matched as ".tar.gz" before anything shorter is tried.
_BY_LENGTH = sorted(_EXTENSIONS, key=lambda pair: -len(pair[0]))

_CACHED_NAME_RE = re.compile(r"(?P<id>[^@]+)@[SMOL](?P<version>[^@]+)@[0-9A-Fa-f]+")
_SEMVER_RE = re.compile(
    r"[0-9]+(?:\.[0-9]+)+"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?",
    re.ASCII,
)
_ACCEPTED_NAMES = "name it <Id>.<Version>.<ext> (Acme.Web.1.2.3.zip) or <Id>@S<Version>@<hex>.<ext>"


@dataclass(frozen=True)
class PackageIdentity:
    id: str
    version: str


def archive_format(path: Path) -> str | None:
    """The format its extension names: zip, nupkg, tar, tar.gz, tar.bz2, tar.xz; else None."""
    split = split_extension(path.name)
    return split[1] if split else None


def identify(path: Path) -> PackageIdentity:
    """The package id and version of an archive file, from its .nuspec or else its name."""
    split = split_extension(path.name)
    if split is None:
        raise StepsError(
            f"{path.name} is not a package file name: unknown extension",
            hint=f"use one of {ACCEPTED_EXTENSIONS}",
        )
    stem, format_name = split
    if format_name == "nupkg":
        from_nuspec = _identity_from_nuspec(path)
        if from_nuspec is not None:
            return from_nuspec
    identity = _identity_from_stem(stem)
    if identity is None:
        raise StepsError(
            f"{path.name}: cannot tell the package id and version from the file name",
            hint=_ACCEPTED_NAMES,
        )
    return identity


def _identity_from_stem(stem: str) -> PackageIdentity | None:
    """Id and version from a file name without its extension; None if it has no version."""
    cached = _CACHED_NAME_RE.fullmatch(stem)
    if cached:
        return PackageIdentity(unquote(cached["id"]), unquote(cached["version"]))
    parts = stem.split(".")
    for start in range(1, len(parts)):
        package_id, version = ".".join(parts[:start]), ".".join(parts[start:])
        if package_id and _SEMVER_RE.fullmatch(version):
            return PackageIdentity(package_id, version)
    return None


def split_extension(name: str) -> tuple[str, str] | None:
    lowered = name.lower()
    for extension, format_name in _BY_LENGTH:
        if lowered.endswith(extension) and len(name) > len(extension):
            return name[: -len(extension)], format_name
    return None


def _identity_from_nuspec(path: Path) -> PackageIdentity | None:
    try:
        with zipfile.ZipFile(path) as package:
            nuspecs = [
                name
                for name in package.namelist()
                if "/" not in name and name.lower().endswith(".nuspec")
            ]
            if not nuspecs:
                return None
            data = package.read(nuspecs[0])
    except OSError as error:
        raise StepsError(
            f"cannot read package {path}: {error.strerror or error}",
            hint="check the path and its permissions",
        ) from None
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise StepsError(
            f"{path.name} is not a valid zip archive ({error})",
            hint="build or download the package again",
        ) from None
    return _parse_nuspec(path.name, nuspecs[0], data)


def _parse_nuspec(package_name: str, nuspec_name: str, data: bytes) -> PackageIdentity:
    where = f"{package_name}: {nuspec_name}"
    # A nuspec never needs entities or the network; refusing both keeps hostile XML inert.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise StepsError(f"{where} is not valid XML ({error})", hint="fix the package") from None
    metadata = _child(root, "metadata") if etree.QName(root).localname == "package" else None
    if metadata is None:
        raise StepsError(f"{where} has no <package><metadata> element", hint="fix the package")
    values = {}
    for key in ("id", "version"):
        element = _child(metadata, key)
        text = (element.text or "").strip() if element is not None else ""
        if not text:
            raise StepsError(f"{where} has no <{key}> in <metadata>", hint="fix the package")
        values[key] = text
    return PackageIdentity(values["id"], values["version"])


def _child(parent: etree._Element, localname: str) -> etree._Element | None:
    """The first child element with this local name, whatever namespace the nuspec uses."""
    for child in parent:
        if isinstance(child.tag, str) and etree.QName(child).localname == localname:
            return child
    return None
