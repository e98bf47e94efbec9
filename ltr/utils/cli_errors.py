"""How every command-line tool ends: exit statuses, one-line errors, ``--debug`` for the traceback.

The rule for all ``atom-ebm`` commands: bad input (an argument, a missing or malformed file) is one line on stderr
naming the bad value and exit status 2, before any work is done; a failure while working is one line and exit
status 1; Ctrl+C is 130. The traceback is shown only with ``--debug``. Writing the rule once here keeps the tools
from drifting apart.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import traceback
from typing import Callable, Iterator, NoReturn, Sequence

OK = 0
RUNTIME_ERROR = 1
USAGE_ERROR = 2
INTERRUPTED = 130
#: Exception types that mean "the user gave something bad" (the project's tools raise these for bad input).
USER_ERRORS: tuple[type[Exception], ...] = (ValueError, FileNotFoundError)


class RuntimeFailure(RuntimeError):
    """An error raised while working (exit status 1), even when its type would say bad input (see ``working``)."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with a ``--debug`` flag whose errors are one line (exit status 2).

    argparse's own error output is the usage block plus the message; one line keeps bad arguments in line with
    every other user error.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_argument("--debug", action="store_true", help="show the traceback of an error")

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def one_line(error: BaseException) -> str:
    """The error's message on one line (its type name when it has none)."""
    return " ".join(str(error).split()) or type(error).__name__


def report(prog: str, error: BaseException, status: int, debug: bool) -> int:
    """Print ``prog: error: message`` (after the traceback with ``debug``) to stderr and return ``status``."""
    if debug:
        traceback.print_exception(type(error), error, error.__traceback__)
    print(f"{prog}: error: {one_line(error)}", file=sys.stderr)
    return status


@contextlib.contextmanager
def working() -> Iterator[None]:
    """Inside this block any error is a failure while working (exit status 1), a ``ValueError`` too.

    For the part of a tool that runs after its input was checked (tracking, writing results).
    """
    try:
        yield
    except USER_ERRORS as error:
        raise RuntimeFailure(one_line(error)) from error


def run_command(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
                body: Callable[[argparse.Namespace], int]) -> int:
    """Parse ``argv`` with ``parser`` (an ``ArgumentParser`` of this module) and return ``body(args)``'s status.

    ``--help`` returns 0 and a bad argument 2 (argparse has printed them); errors raised by ``body`` are reported
    by ``report``: ``USER_ERRORS`` with status 2, anything else with status 1, Ctrl+C with 130.
    """
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:
        return int(exit_request.code or OK)
    try:
        return body(args)
    except USER_ERRORS as error:
        return report(parser.prog, error, USAGE_ERROR, args.debug)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:  # anything else is a failure while working: one line, no traceback
        return report(parser.prog, error, RUNTIME_ERROR, args.debug)
