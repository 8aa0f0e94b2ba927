"""Octopus's step-template format: an ActionTemplate exported as JSON (docs/octopus.md)."""

from __future__ import annotations

from pathlib import Path

from steptemplates.templates.model import ScriptModule, Template


def looks_like_json(path: Path) -> bool:
    """Whether ``path`` is an Octopus ActionTemplate or script-module JSON file (cheaply)."""
    raise NotImplementedError


def load(path: Path, root: Path, *, origin: str | None = None) -> Template:
    raise NotImplementedError


def load_module(path: Path, root: Path, *, origin: str | None = None) -> ScriptModule:
    raise NotImplementedError
