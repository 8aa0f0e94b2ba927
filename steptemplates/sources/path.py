"""Templates in a local directory: used in place, never copied into the cache or hashed.

Like path dependencies in Cargo and uv, a path source is the user's own working copy; the
lock records where it is, and every run reads its current contents.
"""

from __future__ import annotations

from pathlib import Path

from steptemplates.errors import StepsError
from steptemplates.lockfile import LockedTemplate
from steptemplates.manifest import PathRequirement, TemplateRef
from steptemplates.sources import SourceContext
from steptemplates.templates import load_template


class PathSource:
    def __init__(self, context: SourceContext, manifest_dir: Path) -> None:
        self.context = context
        self.manifest_dir = manifest_dir

    def lock(self, ref: TemplateRef) -> LockedTemplate:
        requirement = ref.source
        assert isinstance(requirement, PathRequirement)
        if not requirement.resolved.is_dir():
            raise StepsError(
                f"template '{ref.name}': directory {requirement.path} does not exist",
                hint="fix 'path' in steps.toml",
            )
        load_template(requirement.resolved, origin=f"template '{ref.name}' ({requirement.path})")
        return LockedTemplate(name=ref.name, source="path", requested="path", path=requirement.path)

    def from_cache(self, entry: LockedTemplate) -> Path:
        return self.materialize(entry)

    def materialize(self, entry: LockedTemplate) -> Path:
        assert entry.path is not None
        directory = (self.manifest_dir / entry.path).resolve()
        if not directory.is_dir():
            raise StepsError(
                f"template '{entry.name}': directory {entry.path} does not exist",
                hint="fix 'path' in steps.toml",
            )
        return directory
