"""`steps exec`: run one template with parameters, without a project."""

from __future__ import annotations

import argparse

from steptemplates.cli.common import Command
from steptemplates.console import Console


def _configure(parser: argparse.ArgumentParser) -> None:
    pass


def _not_yet(args: argparse.Namespace, console: Console) -> int:
    raise NotImplementedError


EXEC = Command(
    "exec", "run one template with parameters, without a project", "", _configure, _not_yet
)
