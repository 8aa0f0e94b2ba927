"""Copying the files a script asked to keep into the run's artifact directory.

Names come from the script, so only a plain file name is ever used as a destination:
anything else is reduced to its last component.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from steptemplates.execution.script import ArtifactRequest


@dataclass(frozen=True)
class CollectedArtifact:
    """A copied file, or (``problem`` set) a request that could not be honoured."""

    name: str
    path: Path
    size: int
    problem: str | None = None


def collect_artifacts(
    requests: Iterable[ArtifactRequest], dest_dir: Path
) -> tuple[CollectedArtifact, ...]:
    """Copy each requested file into ``dest_dir`` under a safe name that is not yet taken."""
    requests = tuple(requests)
    if requests:
        dest_dir.mkdir(parents=True, exist_ok=True)
    return tuple(_collect(request, dest_dir) for request in requests)


def safe_name(name: str, fallback: str) -> str:
    """The last component of ``name`` (either slash), without control characters; else fallback."""
    for candidate in (name, fallback):
        plain = "".join(c for c in candidate if c.isprintable())
        last = PurePosixPath(plain.replace("\\", "/")).name
        if last not in ("", ".", ".."):
            return last
    return "artifact"


def _collect(request: ArtifactRequest, dest_dir: Path) -> CollectedArtifact:
    if not request.path.is_file():
        problem = f"artifact {request.name!r} not collected: no file {request.path}"
        return CollectedArtifact(request.name, request.path, 0, problem)
    try:
        return _copy(request.path, dest_dir, safe_name(request.name, request.path.name))
    except OSError as error:
        problem = f"artifact {request.name!r} not collected: {error.strerror}"
        return CollectedArtifact(request.name, request.path, 0, problem)


def _copy(source: Path, dest_dir: Path, name: str) -> CollectedArtifact:
    """Copy to ``name``, or ``stem-2.ext``, ``stem-3.ext``... if taken; never overwrites."""
    stem, suffix = _split(name)
    number = 1
    with source.open("rb") as reader:
        while True:
            target = dest_dir / (name if number == 1 else f"{stem}-{number}{suffix}")
            try:
                writer = target.open("xb")
            except FileExistsError:
                number += 1
                continue
            try:
                with writer:
                    shutil.copyfileobj(reader, writer)
            except OSError:
                target.unlink()
                raise
            return CollectedArtifact(target.name, target, target.stat().st_size)


def _split(name: str) -> tuple[str, str]:
    path = PurePosixPath(name)
    return (path.stem, path.suffix) if path.stem else (name, "")
