"""`steps search` and `steps info`."""

from __future__ import annotations

import argparse

from steptemplates.cli.common import Command
from steptemplates.console import Console
from steptemplates.errors import StepsError


def _configure(parser: argparse.ArgumentParser) -> None:
    pass


def _handle(args: argparse.Namespace, console: Console) -> int:
    raise StepsError("not available yet")


SEARCH = Command("search", "TODO", "TODO", _configure, _handle)
INFO = Command("info", "TODO", "TODO", _configure, _handle)
