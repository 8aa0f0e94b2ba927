"""`steps outdated` and `steps update`."""

from __future__ import annotations

import argparse

from steptemplates.cli.common import Command
from steptemplates.console import Console
from steptemplates.errors import StepsError


def _configure(parser: argparse.ArgumentParser) -> None:
    pass


def _handle(args: argparse.Namespace, console: Console) -> int:
    raise StepsError("not available yet")


OUTDATED = Command("outdated", "TODO", "TODO", _configure, _handle)
UPDATE = Command("update", "TODO", "TODO", _configure, _handle)
