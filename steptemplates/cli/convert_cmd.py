"""`steps import` and `steps export`: Octopus JSON <-> the native template layout."""

from __future__ import annotations

import argparse

from steptemplates.cli.common import Command
from steptemplates.console import Console


def _configure(parser: argparse.ArgumentParser) -> None:
    pass


def _not_yet(args: argparse.Namespace, console: Console) -> int:
    raise NotImplementedError


IMPORT = Command("import", "convert an Octopus step template JSON file", "", _configure, _not_yet)
EXPORT = Command(
    "export", "write a template as Octopus step template JSON", "", _configure, _not_yet
)
