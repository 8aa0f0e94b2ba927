"""Templates and packages in a local directory or file: used in place, never copied into the
cache or hashed.

Like path dependencies in Cargo and uv, a path source is the user's own working copy; the
lock records where it is, and every run reads its current contents. A package path may be
an archive (its name carries its id and version) or a directory.
"""

from __future__ import annotations

from pathlib import Path

from steptemplates.errors import StepsError
from steptemplates.lockfile import LockedTemplate
from steptemplates.manifest import PathRequirement, TemplateRef
from steptemplates.sources import SourceContext, load_entry


class PathSource:
    def __init__(
        self, context: SourceContext, manifest_dir: Path, entry_kind: str = "template"
    ) -> None:
        self.context = context
        self.manifest_dir = manifest_dir
        self.entry_kind = entry_kind

    def lock(self, ref: TemplateRef) -> LockedTemplate:
        requirement = ref.source
        assert isinstance(requirement, PathRequirement)
        self._check(ref.name, requirement.path, requirement.resolved)
        if self.entry_kind == "package":
            _check_package(ref.name, requirement.path, requirement.resolved)
        else:
            origin = f"{self.entry_kind} '{ref.name}' ({requirement.path})"
            load_entry(requirement.resolved, self.entry_kind, ref.template, origin)
        return LockedTemplate(
            name=ref.name,
            source="path",
            requested="path",
            path=requirement.path,
            version=requirement.version,
            template=ref.template,
        )

    def from_cache(self, entry: LockedTemplate) -> Path:
        return self.materialize(entry)

    def materialize(self, entry: LockedTemplate) -> Path:
        assert entry.path is not None
        resolved = (self.manifest_dir / entry.path).resolve()
        self._check(entry.name, entry.path, resolved)
        return resolved

    def _check(self, name: str, written: str, resolved: Path) -> None:
        if self.entry_kind != "package" and not resolved.is_dir():
            raise StepsError(
                f"{self.entry_kind} '{name}': directory {written} does not exist",
                hint="fix 'path' in steps.toml",
            )
        if not resolved.exists():
            raise StepsError(
                f"package '{name}': {written} does not exist",
                hint="build the package first, or fix 'path' in steps.toml",
            )


def _check_package(name: str, written: str, resolved: Path) -> None:
    """An archive must say which package and version it is; a directory needs nothing."""
    if resolved.is_dir():
        return
    from steptemplates.packages.identity import archive_format, identify

    if archive_format(resolved) is None:
        raise StepsError(
            f"package '{name}': {written} is not a package archive",
            hint="use a .zip, .nupkg, .tar, .tar.gz, .tgz, .tar.bz2 or .tar.xz file, "
            "or a directory",
        )
    identify(resolved)
