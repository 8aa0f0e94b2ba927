"""``steps pack``: a template directory made into a reproducible ``<Id>.<Version>.nupkg``.

The template's files sit at the package root, so extracting the package (minus NuGet's own
parts) gives back the template directory. The same files, id and version always give the
same bytes: entries are sorted, timestamps fixed, modes reduced to executable or not, and
the names NuGet would make random are derived from the content.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from steptemplates.errors import StepsError
from steptemplates.fsutil import write_bytes_atomic
from steptemplates.nuget import ids, opc
from steptemplates.nuget.nuspec import Nuspec, to_xml
from steptemplates.templates import Template, load_template

TAGS = "steps-template"
# The earliest time a zip entry can hold: any fixed value would do, this one is obvious.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_UNIX_HOST = 3
_EXCLUDED_DIRECTORIES = frozenset({".git", ".steps", "__pycache__"})
# Top-level names extraction takes for NuGet's own parts, so a file there would be lost.
_RESERVED_DIRECTORIES = frozenset({"_rels", "package"})


@dataclass(frozen=True)
class ContentFile:
    path: str  # relative to the template directory, "/"-separated
    data: bytes
    executable: bool


def pack(
    directory: Path, out_dir: Path, *, version: str | None = None, package_id: str | None = None
) -> Path:
    """Pack the template in ``directory`` into ``out_dir``; returns the .nupkg's path."""
    template = load_template(directory)
    chosen_id = _choose_id(template, package_id, directory)
    chosen_version = _choose_version(version, directory)
    nuspec = Nuspec(
        id=chosen_id,
        version=chosen_version.full,
        authors=chosen_id,
        description=template.description.strip() or f"The step template {template.name}.",
        tags=TAGS,
    )
    data = build_package(nuspec, collect_files(directory))
    path = out_dir / f"{chosen_id}.{chosen_version.normalised}.nupkg"
    write_bytes_atomic(path, data)
    return path


def _choose_id(template: Template, package_id: str | None, directory: Path) -> str:
    if package_id is not None:
        problem = ids.id_problem(package_id)
        if problem:
            raise StepsError(
                f"cannot pack {directory}: invalid package id '{package_id}': {problem}",
                hint="pass a valid --id, such as Acme.Deploy-Web",
            )
        return package_id
    # The template format has no id of its own: the name stands in for it.
    derived = ids.id_from_name(template.name)
    if derived is None:
        raise StepsError(
            f"cannot pack {directory}: no package id can be made from the template name "
            f"'{template.name}'",
            hint="pass --id, such as --id Acme.Deploy-Web",
        )
    return derived


def _choose_version(version: str | None, directory: Path) -> ids.PackageVersion:
    # The template format has no version: it comes from tags or, here, from the command line.
    if version is None:
        raise StepsError(
            f"cannot pack {directory}: no version given", hint="pass --version, e.g. 1.0.0"
        )
    try:
        return ids.parse_package_version(version)
    except ValueError as error:
        raise StepsError(
            f"cannot pack {directory}: invalid version: {error}",
            hint="pass --version as 1.2.3, 1.2.3-beta.1 or 1.2.3.4",
        ) from None


# --- the template's files -------------------------------------------------------------------


def collect_files(root: Path) -> list[ContentFile]:
    """The files to pack, sorted; symbolic links and special files are refused."""
    files: list[ContentFile] = []
    for directory, subdirectories, names in os.walk(root):
        here = Path(directory).relative_to(root).as_posix()
        prefix = "" if here == "." else f"{here}/"
        subdirectories[:] = [d for d in subdirectories if not _excluded(prefix + d)]
        for name in [*subdirectories, *names]:
            relative = prefix + name
            if _excluded(relative):
                continue
            path = root / relative
            mode = path.lstat().st_mode
            _check_kind(root, relative, mode)
            if stat.S_ISREG(mode):
                _check_name(root, relative)
                files.append(ContentFile(relative, _read(root, path), bool(mode & 0o111)))
    files.sort(key=lambda file: file.path)
    _check_case_clashes(root, files)
    return files


def _read(root: Path, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise StepsError(
            f"cannot pack {root}: cannot read {path}: {error.strerror or error}",
            hint="check its permissions",
        ) from None


def _excluded(relative: str) -> bool:
    name = relative.rpartition("/")[2]
    if name in _EXCLUDED_DIRECTORIES:  # ".git" may be a file, in worktrees and submodules
        return True
    # An earlier pack written into the template directory is not part of the template.
    if "/" not in relative and name.lower().endswith(".nupkg"):
        return True
    return _is_editor_backup(name)


def _is_editor_backup(name: str) -> bool:
    vim_swap = name.startswith(".") and name.endswith((".swp", ".swo"))
    emacs = name.startswith(".#") or (len(name) > 1 and name.startswith("#") and name.endswith("#"))
    return name.endswith("~") or vim_swap or emacs


def _check_kind(root: Path, relative: str, mode: int) -> None:
    if stat.S_ISLNK(mode):
        raise StepsError(
            f"cannot pack {root}: '{relative}' is a symbolic link",
            hint="replace it with the file or directory it points to",
        )
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise StepsError(
            f"cannot pack {root}: '{relative}' is not a regular file or directory",
            hint="remove it from the template directory",
        )


def _check_name(root: Path, relative: str) -> None:
    top, _, rest = relative.lower().partition("/")
    problem = None
    if top in _RESERVED_DIRECTORIES or (
        not rest and (top == opc.CONTENT_TYPES_NAME.lower() or top.endswith(".nuspec"))
    ):
        problem = "is where a .nupkg keeps NuGet's own files"
    elif "\\" in relative:
        problem = "has a backslash in its name"
    elif any(part.endswith(".") for part in relative.split("/")):
        problem = "ends with a dot, which a .nupkg cannot hold"
    else:
        try:
            relative.encode("utf-8")
        except UnicodeEncodeError:
            problem = "has a name that is not valid UTF-8"
    if problem:
        raise StepsError(f"cannot pack {root}: '{relative}' {problem}", hint="rename it")


def _check_case_clashes(root: Path, files: list[ContentFile]) -> None:
    # Package part names are case-insensitive: README and readme would be one part.
    seen: dict[str, str] = {}
    for file in files:
        other = seen.setdefault(file.path.lower(), file.path)
        if other != file.path:
            raise StepsError(
                f"cannot pack {root}: '{other}' and '{file.path}' differ only in case",
                hint="rename one of them",
            )


# --- the package ----------------------------------------------------------------------------


def build_package(nuspec: Nuspec, files: list[ContentFile]) -> bytes:
    """The .nupkg bytes: the nuspec, the files, then the OPC parts."""
    nuspec_xml = to_xml(nuspec)
    nuspec_part = f"{nuspec.id}.nuspec"
    core_part = f"{opc.CORE_PROPERTIES_DIRECTORY}/{_content_digest(nuspec_xml, files)}.psmdcp"
    entries = [
        (nuspec_part, nuspec_xml, False),
        *((opc.part_name(file.path), file.data, file.executable) for file in files),
        (opc.RELATIONSHIPS_NAME, opc.relationships(nuspec_part, core_part), False),
        (core_part, opc.core_properties(nuspec), False),
    ]
    types = opc.content_types(name for name, _, _ in entries)
    entries.append((opc.CONTENT_TYPES_NAME, types, False))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, data, executable in entries:
            package.writestr(_entry(name, executable), data)
    return buffer.getvalue()


def _entry(name: str, executable: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    # Unix permissions in the high bits, which extraction (ours, unzip) restores.
    info.create_system = _ZIP_UNIX_HOST
    info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
    return info


def _content_digest(nuspec_xml: bytes, files: list[ContentFile]) -> str:
    """32 hex digits naming the core properties part (NuGet uses a random GUID there)."""
    digest = hashlib.sha256(nuspec_xml)
    for file in files:
        for field in (file.path.encode("utf-8"), b"x" if file.executable else b"-", file.data):
            digest.update(len(field).to_bytes(8, "big") + field)
    return digest.hexdigest()[:32]
