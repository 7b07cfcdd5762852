"""``tagdraw campaign ...``: thin calls into warehouse.campaigns. Every bad input is one line
on stderr and a non-zero exit, with nothing written."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tagdraw.commands.common import cli_actor
from warehouse.campaigns import (
    Campaign,
    create_campaign,
    get_campaign,
    list_campaigns,
    prepare_campaign,
    update_campaign,
)
from warehouse.db import resolve_db_path, run
from warehouse.errors import UserError
from warehouse.thai import format_thai_date


def _none_or_text(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() in ("none", "") else value


def _add_campaign_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    # Numbers are read as text and checked by the library, so every mistake gets the
    # same kind of one-line message.
    parser.add_argument("--keyword", action="append", metavar="KW", help="entry tag (repeatable)")
    parser.add_argument("--opens", metavar="DATE", help="YYYY-MM-DD[THH:MM], Asia/Bangkok")
    parser.add_argument(
        "--closes", metavar="DATE", help="YYYY-MM-DD[THH:MM]; a date alone means 23:59:59"
    )
    parser.add_argument("--prizes", metavar="N", help="number of prizes (at least 1)")
    parser.add_argument("--alternates", metavar="M", help="number of alternates (default 0)")
    parser.add_argument("--site-url", metavar="URL", help="default https://www.gotoknow.org")
    parser.add_argument(
        "--announcement-post", metavar="N", help="post number of the announcement ('none' clears)"
    )
    parser.add_argument(
        "--exclude-author",
        action="append",
        metavar="USER",
        help="username that may not win (organisers, staff; repeatable)",
    )
    parser.add_argument("--title", metavar="T")
    parser.add_argument("--prize-description", metavar="TEXT")
    parser.add_argument(
        "--max-entries-per-author", metavar="N", help="count at most N entries per author"
    )
    parser.add_argument(
        "--near-miss-tag", action="append", metavar="T", help="tag crawled to find near misses"
    )
    parser.add_argument(
        "--crawl-after-close-days", metavar="N", help="keep re-crawling this many days"
    )
    parser.add_argument(
        "--contact-text", metavar="TEXT", help="public site: how to reach the organisers"
    )
    parser.add_argument("--contact-url", metavar="URL", help="public site: the organisers' link")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--allow-several-prizes-per-author",
        dest="one_prize_per_author",
        action="store_false",
        default=None,
        help="an author may win more than one prize",
    )
    group.add_argument(
        "--one-prize-per-author",
        dest="one_prize_per_author",
        action="store_true",
        default=None,
        help="an author wins at most one prize (the default)",
    )


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    """The campaign fields given on the command line."""
    mapping = {
        "keywords": args.keyword,
        "opens_at": args.opens,
        "closes_at": args.closes,
        "prizes": args.prizes,
        "alternates": args.alternates,
        "site_url": args.site_url,
        "announcement_post": args.announcement_post,
        "excluded_authors": args.exclude_author,
        "title": args.title,
        "prize_description": args.prize_description,
        "max_entries_per_author": args.max_entries_per_author,
        "near_miss_tags": args.near_miss_tag,
        "crawl_after_close_days": args.crawl_after_close_days,
        "one_prize_per_author": args.one_prize_per_author,
        "contact_text": args.contact_text,
        "contact_url": args.contact_url,
    }
    changes = {k: v for k, v in mapping.items() if v is not None}
    for key in ("announcement_post", "max_entries_per_author"):
        if key in changes:
            changes[key] = _none_or_text(changes[key])
    return changes


def _cmd_create(args: argparse.Namespace) -> int:
    changes = _changes(args)
    missing = [
        flag
        for flag, key in (
            ("--keyword", "keywords"),
            ("--opens", "opens_at"),
            ("--closes", "closes_at"),
            ("--prizes", "prizes"),
        )
        if key not in changes
    ]
    if missing:
        raise UserError(f"campaign create needs {', '.join(missing)}.")
    prepare_campaign(args.slug, **changes)  # bad input never creates a warehouse file
    actor = cli_actor()
    campaign = run(lambda con: create_campaign(con, args.slug, actor=actor, **changes), args.db)
    print(f"Created campaign {campaign.slug}: {_window(campaign)}")
    return 0


def _cmd_edit(args: argparse.Namespace) -> int:
    changes = _changes(args)
    if not changes:
        raise UserError("campaign edit: give at least one option to change (see --help).")
    actor = cli_actor()
    campaign = run(lambda con: update_campaign(con, args.slug, actor=actor, **changes), args.db)
    print(f"Updated campaign {campaign.slug}: {', '.join(sorted(changes))}")
    return 0


def _window(c: Campaign) -> str:
    return (
        f"{c.opens_at:%Y-%m-%d %H:%M} - {c.closes_at:%Y-%m-%d %H:%M:%S} (Asia/Bangkok), "
        f"keywords {', '.join(c.keywords)}, {c.prizes} prize(s), {c.alternates} alternate(s)"
    )


def _cmd_list(args: argparse.Namespace) -> int:
    db = resolve_db_path(args.db)
    campaigns = run(list_campaigns, db, read_only=True) if db.exists() else []
    if args.format == "json":
        print(json.dumps([c.to_json() for c in campaigns], ensure_ascii=False, indent=2))
        return 0
    if not campaigns:
        print("No campaigns yet. Create one with `tagdraw campaign create SLUG ...`.")
        return 0
    for c in campaigns:
        frozen = "  [frozen]" if c.frozen_at else ""
        print(f"{c.slug}  {_window(c)}{frozen}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    db = resolve_db_path(args.db)
    if not db.exists():
        raise UserError(f"No warehouse at {db}: create a campaign first.")
    c = run(lambda con: get_campaign(con, args.slug), db, read_only=True)
    if args.format == "json":
        print(json.dumps(c.to_json(), ensure_ascii=False, indent=2))
        return 0
    rows = [
        ("slug", c.slug),
        ("title", c.title or "-"),
        ("keywords", ", ".join(c.keywords)),
        ("near-miss tags", ", ".join(c.near_miss_tags) or "-"),
        ("opens", f"{c.opens_at.isoformat()}  ({format_thai_date(c.opens_at)})"),
        ("closes", f"{c.closes_at.isoformat()}  ({format_thai_date(c.closes_at)})"),
        ("prizes", f"{c.prizes}" + (f"  ({c.prize_description})" if c.prize_description else "")),
        ("alternates", str(c.alternates)),
        ("one prize per author", "yes" if c.one_prize_per_author else "no"),
        ("max entries per author", str(c.max_entries_per_author or "no limit")),
        ("excluded authors", ", ".join(c.excluded_authors) or "-"),
        ("announcement post", str(c.announcement_post or "-")),
        ("site", c.site_url),
        ("crawl after close", f"{c.crawl_after_close_days} day(s)"),
        ("frozen", c.frozen_at.isoformat() if c.frozen_at else "no"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``campaign`` to the ``tagdraw`` parser (the one-line parser errors are set for
    every parser in ``tagdraw.cli``)."""
    campaign = sub.add_parser("campaign", help="create, list, show, edit campaigns")
    actions = campaign.add_subparsers(dest="campaign_command", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create a campaign")
    create.add_argument("slug", metavar="SLUG", help="lowercase letters, digits, dashes")
    _add_campaign_options(create, creating=True)
    create.set_defaults(func=_cmd_create)

    edit = actions.add_parser("edit", help="change a campaign's options")
    edit.add_argument("slug", metavar="SLUG")
    _add_campaign_options(edit, creating=False)
    edit.set_defaults(func=_cmd_edit)

    listing = actions.add_parser("list", help="list campaigns")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.set_defaults(func=_cmd_list)

    show = actions.add_parser("show", help="show one campaign")
    show.add_argument("slug", metavar="SLUG")
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.set_defaults(func=_cmd_show)
