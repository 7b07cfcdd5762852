"""The ``tagdraw`` console script: one thin subcommand per library call.

Each part of the project registers its own subcommands (``register(subparsers)`` in the
modules listed in ``COMMAND_MODULES``); this module only parses, dispatches and turns
errors into one clear line.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from warehouse.errors import TagdrawError
from warehouse.thai import ThaiDateError

COMMAND_MODULES = (
    "warehouse.commands",  # campaign, entries, backup, restore
    "scraper.commands",  # crawl, schedule
    "warehouse.review.commands",  # review
    "warehouse.draw_commands",  # draw, export
    "dashboard.commands",  # dashboard, user
    "replica.commands",  # replica
    "warehouse.demo",  # demo
    "warehouse.publish_commands",  # publish
)


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
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from warehouse.logs import configure_logging

    configure_logging(verbose=args.verbose, quiet=bool(getattr(args, "quiet", False)))
    try:
        result = args.func(args)
    except (TagdrawError, ThaiDateError) as exc:
        print(f"tagdraw: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        print("tagdraw: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())
