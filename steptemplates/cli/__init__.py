"""The `steps` command line: argument parsing wired to one module per command.

Exit codes: 0 success; 2 an error steps reports (bad input, resolution, lock mismatch,
network); 3 an internal error (a bug: please report it); 124 a step timed out; 130
interrupted; otherwise `steps run` and `steps run-script` exit with the failed script's code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from steptemplates import __version__
from steptemplates.cli import common
from steptemplates.console import Console
from steptemplates.errors import StepsError

EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a killed writer

# Each command and the module that defines it, in the order `steps --help` lists them. A
# module is imported only when its command runs (or for help), so `steps search` does not
# pay for what `steps run` needs.
_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("init", "init_cmd", "INIT"),
    ("add", "init_cmd", "ADD"),
    ("lock", "lock_cmd", "LOCK"),
    ("sync", "lock_cmd", "SYNC"),
    ("list", "show_cmd", "LIST"),
    ("show", "show_cmd", "SHOW"),
    ("outdated", "update_cmd", "OUTDATED"),
    ("update", "update_cmd", "UPDATE"),
    ("search", "search_cmd", "SEARCH"),
    ("info", "search_cmd", "INFO"),
    ("registry", "registry_cmd", "REGISTRY"),
    ("run", "run_cmd", "RUN"),
    ("run-script", "run_cmd", "RUN_SCRIPT"),
    ("exec", "exec_cmd", "EXEC"),
    ("deploy-package", "run_cmd", "DEPLOY_PACKAGE"),
    ("deployments", "deployments_cmd", "DEPLOYMENTS"),
    ("render", "render_cmd", "RENDER"),
    ("cache", "cache_cmd", "CACHE"),
    ("secrets", "secrets_cmd", "SECRETS"),
    ("pack", "feed_cmd", "PACK"),
    ("publish", "feed_cmd", "PUBLISH"),
    ("import", "convert_cmd", "IMPORT"),
    ("export", "convert_cmd", "EXPORT"),
)


def command(name: str) -> common.Command:
    """The command called ``name`` (KeyError if there is none)."""
    module, attribute = next((m, a) for n, m, a in _COMMANDS if n == name)
    found: common.Command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    return found


def _chosen(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, when it names one; the top level has no option that
    takes a value, so it is the first word that is not an option."""
    word = next((arg for arg in argv if not arg.startswith("-")), None)
    return word if word in {name for name, _module, _attribute in _COMMANDS} else None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: with a command named, only that command is registered;
    otherwise (help, a typo) every command is, so help and suggestions list them all."""
    parser = argparse.ArgumentParser(
        prog="steps",
        description="Resolve, lock, cache and run versioned deployment step templates.",
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"steps {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    words = sys.argv[1:] if argv is None else argv
    chosen = _chosen(words)
    if chosen is None and "--version" in words:
        return parser  # answered before any command is looked at
    for name, _module, _attribute in _COMMANDS:
        if chosen is None or name == chosen:
            command(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    console = Console(verbose=args.verbose, quiet=args.quiet)
    try:
        code: int = args.handler(args, console)
        return code
    except StepsError as error:
        console.error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        console.error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`steps list | head`): stop quietly, as other tools do, and
        # keep Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception:
        console.error("internal error; please report it with the traceback below")
        sys.stderr.write(console.masker.mask(traceback.format_exc()))
        return EXIT_INTERNAL


__all__ = ["build_parser", "common", "main"]
