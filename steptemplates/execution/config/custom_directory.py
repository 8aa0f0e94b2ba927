"""The custom installation folder: the transformed package copied where the application runs.

Optionally purged first, keeping what the exclusion globs name. A purge never reaches outside
the folder: symlinks are removed as links, never followed, and a folder that holds the
extracted package, the home directory or the file-system root is refused.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from steptemplates import fsutil
from steptemplates.errors import StepsError
from steptemplates.globs import compile_glob

VARIABLE = "Octopus.Action.Package.CustomInstallationDirectory"


def check_folder(folder_text: str, extracted: Path) -> Path:
    """The folder as an absolute path, after the checks that make copying into it safe."""
    folder = Path(folder_text)
    if not folder.is_absolute():
        raise StepsError(
            f"{VARIABLE} '{folder_text}' is not an absolute path",
            hint="give the full path of the folder the application should be copied to",
        )
    folder = Path(os.path.normpath(folder))
    extracted = Path(os.path.normpath(extracted))
    if folder == extracted or folder in extracted.parents:
        raise StepsError(
            f"{VARIABLE} '{folder}' contains the extracted package ({extracted})",
            hint="choose a folder outside the applications directory",
        )
    if extracted in folder.parents:
        raise StepsError(
            f"{VARIABLE} '{folder}' is inside the extracted package ({extracted})",
            hint="choose a folder outside the applications directory",
        )
    return folder


def purge(folder: Path, exclusions: Sequence[str]) -> int:
    """Delete the folder's contents except what ``exclusions`` match; returns files removed."""
    _refuse_dangerous(folder)
    if not folder.exists():
        return 0
    if folder.is_symlink() or not folder.is_dir():
        raise StepsError(
            f"{VARIABLE} '{folder}' is not a directory; refusing to purge it",
            hint="remove it or point the variable at a directory",
        )
    patterns = [compile_glob(p.strip().rstrip("/")) for p in exclusions if p.strip()]
    return _purge_directory(folder, folder, patterns)


def _refuse_dangerous(folder: Path) -> None:
    home = Path.home()
    if folder == Path(folder.anchor) or folder == home or folder in home.parents:
        raise StepsError(
            f"refusing to purge {folder}: the purge would delete far more than an application",
            hint=f"set {VARIABLE} to the application's own folder",
        )


def _purge_directory(top: Path, directory: Path, patterns: list[re.Pattern[str]]) -> int:
    removed = 0
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        path = Path(entry.path)
        relative = path.relative_to(top).as_posix()
        if any(p.match(relative) for p in patterns):
            continue
        if entry.is_dir(follow_symlinks=False):
            removed += _purge_directory(top, path, patterns)
            if not any(path.iterdir()):
                path.rmdir()
            continue
        path.unlink()  # a file or a symlink: the link itself, never what it points to
        removed += 1
    return removed


def copy_package(extracted: Path, folder: Path) -> int:
    """Copy the extracted tree into ``folder`` (merging, overwriting); returns files copied."""
    folder.mkdir(parents=True, exist_ok=True)
    copied = 0
    for directory, dirs, files in os.walk(extracted):
        dirs.sort()
        target_dir = folder / Path(directory).relative_to(extracted)
        target_dir.mkdir(exist_ok=True)
        for name in files:
            source = Path(directory, name)
            target = target_dir / name
            if target.is_symlink() or (target.exists() and target.is_dir()):
                fsutil.remove_tree(target)
            shutil.copy2(source, target, follow_symlinks=False)
            copied += 1
    return copied
