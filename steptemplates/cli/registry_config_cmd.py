"""`steps registry add`, `list` and `remove`."""

from __future__ import annotations

import argparse

from steptemplates.cli.common import Action
from steptemplates.console import Console
from steptemplates.errors import StepsError


def _configure(parser: argparse.ArgumentParser) -> None:
    pass


def _handle(args: argparse.Namespace, console: Console) -> int:
    raise StepsError("not available yet")


ADD = Action("add", "TODO", "TODO", _configure, _handle)
LIST = Action("list", "TODO", "TODO", _configure, _handle)
REMOVE = Action("remove", "TODO", "TODO", _configure, _handle)
