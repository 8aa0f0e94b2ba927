"""The workspace each package test extracts in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packages.builders import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    incoming = tmp_path / "incoming"
    output = tmp_path / "output"
    incoming.mkdir()
    output.mkdir()
    return Workspace(tmp_path, incoming, output)
