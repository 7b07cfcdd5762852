"""``tagdraw crawl SLUG [--full]`` (a thin call into ``scraper.crawl.run_crawl``) and
``tagdraw schedule`` (``tagdraw.commands.schedule``)."""

from __future__ import annotations

import argparse
import logging
import sys

from scraper.options import COMMENTS_MODES, DEFAULT_COMMENTS_MODE
from tagdraw.commands import schedule
from tagdraw.commands.site_options import add_site_options, site_options_from

# Who started a crawl, as ``crawl_runs.trigger`` records it.
CRAWL_TRIGGERS = ("cli", "dashboard", "schedule")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``crawl`` and ``schedule`` to the ``tagdraw`` parser."""
    crawl = sub.add_parser(
        "crawl",
        help="collect every post (and comment) on the campaign's keyword listing",
        description=(
            "Collect every post carrying the campaign's keyword(s), with all comments, into "
            "the warehouse. Incremental by default (only new and changed posts are fetched, and "
            "every stored post checked again once every $TAGDRAW_REVALIDATE_AFTER_H hours); "
            "a killed crawl resumes where it stopped. Exit 0 when every listed post is stored "
            "or known gone; 1 when some pages failed for good (run again to resume)."
        ),
    )
    crawl.add_argument("slug", metavar="SLUG", help="the campaign")
    how = crawl.add_mutually_exclusive_group()
    how.add_argument(
        "--full", action="store_true", help="fetch every post page (catches silent edits)"
    )
    how.add_argument(
        "--verify",
        action="store_true",
        help="check every candidate entry again now (a conditional request where the site "
        "sent validators): finds posts deleted while the tag index still lists them",
    )
    add_site_options(crawl)
    crawl.add_argument(
        "--comments-mode",
        choices=tuple(COMMENTS_MODES),
        default=DEFAULT_COMMENTS_MODE,
        help="; ".join(f"{name}: {what}" for name, what in COMMENTS_MODES.items())
        + f" (default {DEFAULT_COMMENTS_MODE})",
    )
    crawl.add_argument(
        "--quiet", action="store_true", help="no progress bar or log lines; summary only"
    )
    crawl.add_argument(
        "--trigger",
        choices=CRAWL_TRIGGERS,
        default="cli",
        help="who started the crawl, as crawl_runs.trigger records it (default cli; the "
        "dashboard's 'crawl now' passes dashboard)",
    )
    crawl.add_argument(
        "--review",
        action="store_true",
        help="recompute the campaign's review suggestions after the crawl (as tagdraw "
        "schedule does), when the run stored pages (ok or partial)",
    )
    crawl.set_defaults(func=_crawl)

    schedule.register(sub)


def _crawl(args: argparse.Namespace) -> int:
    from scraper.crawl import run_crawl
    from scraper.schedule import CRAWL_STATUSES_WITH_SUGGESTIONS, recompute_suggestions
    from warehouse.db import resolve_db_path

    site_options = site_options_from(args)
    if not args.quiet:
        logging.basicConfig(
            level=logging.INFO if not sys.stderr.isatty() else logging.WARNING,
            format="%(asctime)s %(levelname)s %(message)s",
            stream=sys.stderr,
        )
    summary = run_crawl(
        args.db,
        args.slug,
        full=args.full,
        verify=args.verify,
        trigger=args.trigger,
        progress=not args.quiet,
        comments_mode=args.comments_mode,
        **site_options,
    )
    print(summary.format())
    if args.review and summary.status in CRAWL_STATUSES_WITH_SUGGESTIONS:
        state = recompute_suggestions(resolve_db_path(args.db), args.slug)
        print(f"  review suggestions: {state}")
    return summary.exit_code
