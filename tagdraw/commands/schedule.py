"""``tagdraw schedule``: the scheduler (``scraper.schedule.Scheduler``) on an interval or a
cron expression, or one round with ``--once``."""

from __future__ import annotations

import argparse

from scraper.schedule import Outcome, Scheduler
from tagdraw.commands.site_options import add_site_options, site_options_from


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tagdraw schedule`` to the parser (called from tagdraw.commands.crawl)."""
    parser = sub.add_parser(
        "schedule",
        help="crawl every open campaign on an interval or a cron schedule until stopped",
        description=(
            "Crawl every open campaign (from its opening until N days after its deadline) "
            "on an interval or a cron expression, and recompute review suggestions after "
            "each crawl. Runs until Ctrl-C or SIGTERM. A campaign another process is "
            "crawling is skipped (the warehouse lock), so overlapping runs are harmless."
        ),
    )
    when = parser.add_mutually_exclusive_group()
    when.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="MINUTES",
        help="minutes between rounds (default $TAGDRAW_SCHEDULE_INTERVAL_MIN, 60); "
        "the first round starts at once",
    )
    when.add_argument(
        "--cron",
        default=None,
        metavar="EXPR",
        help="a crontab expression in Asia/Bangkok time, e.g. '*/30 * * * *'",
    )
    parser.add_argument(
        "--campaign",
        action="append",
        default=[],
        metavar="SLUG",
        help="crawl only this campaign (repeatable; still only while it is open)",
    )
    parser.add_argument(
        "--once", action="store_true", help="one round now, then exit (1 if any crawl failed)"
    )
    parser.add_argument(
        "--after-close-days",
        type=int,
        default=None,
        metavar="N",
        help="keep crawling N days after the deadline (default: each campaign's own, 7)",
    )
    parser.add_argument(
        "--publish-dir",
        default=None,
        metavar="DIR",
        help="after each crawl, rewrite the campaign's public site in DIR/SLUG (tagdraw publish)",
    )
    add_site_options(parser)
    parser.set_defaults(func=schedule_command)


def schedule_command(args: argparse.Namespace) -> int:
    scheduler = Scheduler(
        args.db,
        interval_min=args.interval,
        cron=args.cron,
        slugs=args.campaign,
        after_close_days=args.after_close_days,
        crawl_options=site_options_from(args),
        publish_dir=args.publish_dir,
    )
    if args.once:
        outcomes = scheduler.run_once()
        for outcome in outcomes:
            print(_format_outcome(outcome))
        if not outcomes:
            print("no open campaigns to crawl")
        if scheduler.control.stopped:
            return 130
        return 0 if all(o.ok for o in outcomes) else 1
    scheduler.run_forever()
    return 0


def _format_outcome(outcome: Outcome) -> str:
    line = f"{outcome.slug}: {outcome.status}"
    if outcome.run_id is not None:
        line += f" (run {outcome.run_id}, {outcome.duration_s:.1f} s)"
    if outcome.status not in ("skipped", "error"):
        line += (
            f"; {outcome.posts_new} new, {outcome.posts_changed} changed, "
            f"{outcome.posts_gone} gone, {outcome.comments_new} new comments, "
            f"{outcome.errors} failed pages"
        )
    if outcome.suggestions:
        line += f"; suggestions {outcome.suggestions}"
    if outcome.message and outcome.status != "ok":
        line += f" — {outcome.message}"
    return line
