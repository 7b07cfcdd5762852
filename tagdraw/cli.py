"""The ``tagdraw`` console script: one thin subcommand per library call.

Each command group has its module in ``tagdraw.commands`` (``register(subparsers)``, listed
in ``COMMAND_GROUPS``); this module only parses, dispatches and turns errors into one clear
line with the exit code the README's table documents. Nothing
reaches the user as a traceback: an error no command expected is still one line, and its
traceback goes to the log file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import NoReturn

from tagdraw import demo
from tagdraw.commands import (
    backup,
    campaign,
    crawl,
    dashboard,
    draw,
    export,
    publish,
    replica,
    review,
    user,
)
from warehouse.campaigns import validate_slug
from warehouse.errors import TagdrawError, describe_failure
from warehouse.thai import ThaiDateError

# In the order ``tagdraw --help`` lists them.
COMMAND_GROUPS = (
    campaign,  # campaign
    backup,  # backup, restore, check
    crawl,  # crawl, schedule
    review,  # review, entries
    draw,  # draw
    export,  # export
    user,  # user
    dashboard,  # dashboard
    replica,  # replica
    demo,  # demo
    publish,  # publish
)


def _all_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases share a parser
                yield from _all_parsers(child)


def _one_line_errors(parser: argparse.ArgumentParser) -> None:
    """argparse prints usage plus the error; we print one line (usage stays in --help)."""

    def error(message: str) -> NoReturn:
        print(f"{parser.prog}: {' '.join(message.split())} (see --help)", file=sys.stderr)
        raise SystemExit(2)

    # argparse has no hook for the error format; overriding it on this one parser is simplest.
    parser.error = error  # type: ignore[method-assign]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tagdraw",
        description="Collect, review and fairly draw GotoKnow prize-campaign entries.",
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help="warehouse file (default: $TAGDRAW_DB, then ./data/tagdraw.duckdb)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug log lines (see $TAGDRAW_LOG_DIR)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.register(sub)
    for each in _all_parsers(parser):
        _one_line_errors(each)
    return parser


def _argument_problem(value: str) -> str | None:
    """Why an argument cannot be used as text at all, or None."""
    if "\0" in value:  # no real command line holds one; a file name cannot
        return "holds a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 arrive as lone surrogates
        return "is not UTF-8 text"
    return None


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


def _log_traceback(exc: BaseException, command: str) -> None:
    """The traceback of an unexpected error, to the log file only (stderr keeps one line)."""
    logger = logging.getLogger("tagdraw.cli")
    record = logger.makeRecord(
        logger.name,
        logging.ERROR,
        __file__,
        0,
        "unexpected error in `tagdraw %s`",
        (command,),
        (type(exc), exc, exc.__traceback__),
    )
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    for position, value in enumerate(arguments, start=1):
        problem = _argument_problem(value)
        if problem is not None:
            shown = ascii(value.encode("utf-8", "surrogateescape"))[:60]
            print(f"tagdraw: argument {position} ({shown}) {problem}", file=sys.stderr)
            return 2
    parser = build_parser()
    args = parser.parse_args(arguments)
    from warehouse.logs import configure_logging

    # A log handler that cannot write (a full disk) must not print a traceback.
    logging.raiseExceptions = False
    configure_logging(verbose=args.verbose, quiet=bool(getattr(args, "quiet", False)))
    try:
        if isinstance(getattr(args, "slug", None), str):
            # A slug no campaign can have is refused before any file is opened.
            validate_slug(args.slug)
        result = args.func(args)
    except (TagdrawError, ThaiDateError) as exc:
        print(f"tagdraw: {_one_line(str(exc))}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        print("tagdraw: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last resort: one line and a documented code, never a traceback
        failure = describe_failure(exc)
        _log_traceback(exc, str(args.command))
        print(f"tagdraw: {failure}", file=sys.stderr)
        return failure.exit_code
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())
