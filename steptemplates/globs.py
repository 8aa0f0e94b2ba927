"""File globs as Octopus writes them in target-file lists: ``*``, ``?``, ``**``, ``[...]``
and ``{a,b}``, matched case-insensitively, relative to a directory or absolute.

``config/*.json`` matches files directly in ``config``; ``**/*.config`` matches at any depth,
the top directory included; ``{appsettings,web}.json`` matches either name.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath


@functools.lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regular expression matching posix relative paths against ``pattern``."""
    return re.compile(_translate(pattern.replace("\\", "/")) + r"\Z", re.IGNORECASE | re.DOTALL)


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")  # zero or more whole directories
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(char))
                i += 1
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith(("!", "^"))
                body = body[1:] if negate else body
                out.append(f"[{'^' if negate else ''}{body.replace(chr(92), chr(92) * 2)}]")
                i = end + 1
        elif char == "{":
            end = _closing_brace(pattern, i)
            if end == -1:
                out.append(re.escape(char))
                i += 1
            else:
                options = _split_options(pattern[i + 1 : end])
                out.append("(?:" + "|".join(_translate(o) for o in options) + ")")
                i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def _closing_brace(pattern: str, start: int) -> int:
    depth = 0
    for index in range(start, len(pattern)):
        if pattern[index] == "{":
            depth += 1
        elif pattern[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _split_options(body: str) -> list[str]:
    options: list[str] = []
    current: list[str] = []
    depth = 0
    for char in body:
        if char == "," and depth == 0:
            options.append("".join(current))
            current = []
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        current.append(char)
    options.append("".join(current))
    return options


def matches(relative: str, pattern: str) -> bool:
    """Whether a posix relative path matches ``pattern``."""
    return compile_glob(pattern).match(relative) is not None


def glob_files(root: Path, pattern: str) -> list[Path]:
    """The files (not directories) under ``root`` that ``pattern`` names, sorted.

    An absolute pattern is matched from its own fixed leading directories. Symlinked
    directories are not followed, so a link to ``/`` cannot make a glob walk the disk.
    """
    pattern = pattern.strip().replace("\\", "/")
    if not pattern:
        return []
    base, rest = _fixed_prefix(root, pattern)
    if not rest:
        return [base] if base.is_file() else []
    regex = compile_glob(rest)
    found = [
        path
        for path, relative in _walk(base, deep="/" in rest or "**" in rest)
        if regex.match(relative)
    ]
    return sorted(found)


def _fixed_prefix(root: Path, pattern: str) -> tuple[Path, str]:
    """Split off the leading directories that hold no wildcard: where the walk starts."""
    parts = PurePosixPath(pattern).parts
    base = Path(parts[0]) if pattern.startswith("/") else root
    parts = parts[1:] if pattern.startswith("/") else parts
    fixed = 0
    while fixed < len(parts) - 1 and not _has_wildcard(parts[fixed]):
        fixed += 1
    for part in parts[:fixed]:
        base = base / part
    rest = "/".join(parts[fixed:])
    if rest and not _has_wildcard(rest):
        return base / rest, ""
    return base, rest


def _has_wildcard(part: str) -> bool:
    return any(c in part for c in "*?[{")


def _walk(base: Path, *, deep: bool) -> Iterator[tuple[Path, str]]:
    if not base.is_dir():
        return
    if not deep:
        for entry in os.scandir(base):
            if entry.is_file():
                yield Path(entry.path), entry.name
        return
    for directory, dirs, files in os.walk(base):
        dirs.sort()
        relative_dir = os.path.relpath(directory, base).replace(os.sep, "/")
        prefix = "" if relative_dir == "." else relative_dir + "/"
        for name in files:
            yield Path(directory, name), prefix + name


def glob_many(roots: Iterable[Path], pattern: str) -> list[Path]:
    """``pattern`` under each root (Octopus also searches ``Octopus.Action.AdditionalPaths``)."""
    seen: dict[Path, None] = {}
    for root in roots:
        for path in glob_files(root, pattern):
            seen.setdefault(path, None)
    return list(seen)


def split_lines(text: str) -> list[str]:
    """Octopus target lists: one glob per line; blank lines ignored."""
    return [line.strip() for line in text.splitlines() if line.strip()]
