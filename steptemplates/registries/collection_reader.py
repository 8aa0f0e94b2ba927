"""Reading a git collection's templates at the commits its versions and branch point to.

Each commit's files under the collection's ``subdir`` are extracted once, in one walk of its
tree, and each template is loaded once per commit however many tags point there: a
collection of hundreds of Octopus JSON files costs one extraction, not one per file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from steptemplates import git
from steptemplates.errors import StepsError
from steptemplates.registries import discovery
from steptemplates.registries.discovery import Candidate, Found
from steptemplates.registries.registry_file import Collection
from steptemplates.versions import Version


@dataclass(frozen=True)
class Release:
    """A tag the collection reads as a version."""

    tag: str
    version: Version
    template: str | None  # with a per-template pattern, the own name of the one it is for
    want: str  # the object to fetch: the tag object of an annotated tag, else the commit
    commit: str


class CollectionReader:
    """The templates of one collection at commits of its mirror; loading failures go to
    ``report`` (naming file and version) and leave the template out at that commit."""

    def __init__(
        self,
        mirror: Path,
        collection: Collection,
        scratch: Path,
        report: Callable[[str, str], None],
        shown: str,
    ) -> None:
        self.mirror = mirror
        self.collection = collection
        self.scratch = scratch
        self.report = report
        self.shown = shown
        self._candidates: dict[str, list[Candidate]] = {}
        self._loaded: dict[tuple[str, str], Found | None] = {}
        self._facts: dict[str, git.ObjectFacts] = {}

    def templates(self, commit: str, label: str, only: str | None = None) -> list[Found]:
        """The templates that load at ``commit`` (``label`` names it in messages: a tag or
        a branch); with ``only``, just the one whose own name that is."""
        root = self.scratch / commit
        found = []
        for candidate in self._find(commit):
            if only is not None and candidate.own_name not in (None, only):
                continue
            loaded = self._load(root, commit, candidate, label)
            if loaded is not None and (only is None or loaded.own_name == only):
                found.append(loaded)
        return found

    def facts(self, sha: str) -> git.ObjectFacts:
        """When a tag (or commit) was made and its message, read once."""
        if sha not in self._facts:
            self._facts[sha] = git.read_object(self.mirror, sha)
        return self._facts[sha]

    def _find(self, commit: str) -> list[Candidate]:
        if commit not in self._candidates:
            root = self.scratch / commit
            subdir = self.collection.subdir
            # A subdir missing at this commit means no templates there, not an error.
            with contextlib.suppress(git.MissingSubdirError):
                git.extract_tree(self.mirror, commit, subdir, root / subdir if subdir else root)
            self._candidates[commit] = discovery.find(root, subdir, self.collection.include)
        return self._candidates[commit]

    def _load(self, root: Path, commit: str, candidate: Candidate, label: str) -> Found | None:
        key = (commit, candidate.path)
        if key not in self._loaded:
            try:
                self._loaded[key] = discovery.load(root, candidate, f"{self.shown} at {label}")
            except StepsError as error:
                self.report(error.message, f"it is left out at {label}")
                self._loaded[key] = None
        return self._loaded[key]
