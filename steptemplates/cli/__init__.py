"""The `steps` command line: argument parsing wired to one module per command.

Exit codes: 0 success; 2 an error steps reports (bad input, resolution, lock mismatch,
network); 3 an internal error (a bug: please report it); 124 a step timed out; 130
interrupted; otherwise `steps run` and `steps run-script` exit with the failed script's code.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from steptemplates import __version__
from steptemplates.cli import (
    cache_cmd,
    common,
    convert_cmd,
    deployments_cmd,
    exec_cmd,
    feed_cmd,
    init_cmd,
    lock_cmd,
    registry_cmd,
    render_cmd,
    run_cmd,
    search_cmd,
    secrets_cmd,
    show_cmd,
    update_cmd,
)
from steptemplates.console import Console
from steptemplates.errors import StepsError

EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a killed writer

_COMMANDS = (
    init_cmd.INIT,
    init_cmd.ADD,
    lock_cmd.LOCK,
    lock_cmd.SYNC,
    show_cmd.LIST,
    show_cmd.SHOW,
    update_cmd.OUTDATED,
    update_cmd.UPDATE,
    search_cmd.SEARCH,
    search_cmd.INFO,
    registry_cmd.REGISTRY,
    run_cmd.RUN,
    run_cmd.RUN_SCRIPT,
    exec_cmd.EXEC,
    run_cmd.DEPLOY_PACKAGE,
    deployments_cmd.DEPLOYMENTS,
    render_cmd.RENDER,
    cache_cmd.CACHE,
    secrets_cmd.SECRETS,
    feed_cmd.PACK, feed_cmd.PUBLISH,
    convert_cmd.IMPORT, convert_cmd.EXPORT,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="steps",
        description="Resolve, lock, cache and run versioned deployment step templates.",
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"steps {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
