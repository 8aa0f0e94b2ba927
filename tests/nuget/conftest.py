"""Template directories to pack and packs to publish, built on disk for each test."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from steptemplates.nuget.pack import pack

TEMPLATE = """\
name = "{name}"
description = \"\"\"
{description}
\"\"\"

[script]
syntax = "bash"
file = "run.sh"
"""

# What a packed template holds: path -> (content, executable).
FILES = {
    "run.sh": ("#!/bin/sh\necho deployed\n", True),
    "files/with space.txt": ("spaced\n", False),
    "files/100%.txt": ("percent\n", False),
    "tools/helper": ("#!/bin/sh\necho help\n", True),
    ".hidden.conf": ("hidden = true\n", False),
}
# What is left out of a pack.
JUNK = (".git/config", ".steps/state", "__pycache__/x.pyc", "run.sh~", ".run.sh.swp", "old.nupkg")


def make_template(
    root: Path, *, name: str = "Deploy Web", description: str = "Deploys the web site."
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "steptemplate.toml").write_text(
        TEMPLATE.format(name=name, description=description), encoding="utf-8"
    )
    for relative, (content, executable) in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        os.chmod(path, 0o755 if executable else 0o644)
    return root


def template_contents() -> dict[str, tuple[bytes, bool]]:
    """Every file a pack of ``make_template`` must hold, with its executable bit."""
    contents = {path: (text.encode(), executable) for path, (text, executable) in FILES.items()}
    template = TEMPLATE.format(name="Deploy Web", description="Deploys the web site.")
    contents["steptemplate.toml"] = (template.encode(), False)
    return contents


@pytest.fixture
def template(tmp_path: Path) -> Path:
    root = make_template(tmp_path / "template")
    for relative in JUNK:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not part of the template\n", encoding="utf-8")
    return root


PackFactory = Callable[..., Path]


@pytest.fixture
def packed(tmp_path: Path) -> PackFactory:
    """``packed("Acme.Web", "1.0.0", description=...)``: a fresh template packed into dist/."""
    counter = iter(range(1_000_000))

    def make(package_id: str, version: str, *, description: str = "A template.") -> Path:
        root = make_template(tmp_path / f"src-{next(counter)}", description=description)
        return pack(root, tmp_path / "dist", version=version, package_id=package_id)

    return make
