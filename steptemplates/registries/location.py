"""Where a configured registry's index is: a git repository, a URL on a web host, or a
directory. Declared as ``[registries.NAME]`` tables in steps.toml or the user config::

    [registries.platform]
    git = "https://git.example.com/platform/templates.git"
    subdir = "registry"            # the folder holding index.toml (default: the top)

    [registries.community]
    url = "https://templates.example.com/index.toml"

    [registries.local]
    path = "../templates/registry"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from steptemplates import tomlfile

KINDS = ("git", "url", "path")
_KEYS = (*KINDS, "subdir", "branch")


@dataclass(frozen=True)
class RegistryLocation:
    name: str
    kind: str  # one of KINDS
    location: str  # git URL, index URL, or the directory as written
    subdir: str = ""  # git: the folder holding index.toml
    branch: str | None = None  # git: the branch to read (default: the remote's HEAD)
    resolved: Path | None = None  # path: the directory, resolved against its file
    origin: str = ""  # the file that declared it

    def fields(self) -> dict[str, str]:
        """The table as written back to a file."""
        found = {self.kind: self.location}
        if self.subdir:
            found["subdir"] = self.subdir
        if self.branch:
            found["branch"] = self.branch
        return found

    def describe(self) -> str:
        where = self.location + (f" ({self.subdir})" if self.subdir else "")
        return f"{self.kind} {where}"


def from_table(
    table: tomlfile.Table | None, origin: str, base: Path
) -> dict[str, RegistryLocation]:
    """The ``[registries.NAME]`` tables of one file; paths are relative to ``base``."""
    if table is None:
        return {}
    return {name: _location(name, entry, origin, base) for name, entry in table.subtables()}


def _location(name: str, entry: tomlfile.Table, origin: str, base: Path) -> RegistryLocation:
    kinds = [kind for kind in KINDS if entry.raw(kind) is not None]
    if len(kinds) != 1:
        raise entry.error(
            None,
            f"registry '{name}' needs exactly one of 'git' (a repository URL), 'url' (an "
            "index.toml on a web host) or 'path' (a directory)",
        )
    kind = kinds[0]
    location = entry.required_string(kind)
    subdir = (entry.string("subdir") or "").strip("/")
    branch = entry.string("branch")
    if kind != "git" and (subdir or branch):
        raise entry.error(
            "subdir" if subdir else "branch",
            f"registry '{name}': 'subdir' and 'branch' apply to git registries",
        )
    entry.reject_unknown(_KEYS)
    resolved = (base / Path(location).expanduser()).resolve() if kind == "path" else None
    return RegistryLocation(name, kind, location, subdir, branch, resolved, origin)
