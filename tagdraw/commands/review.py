"""``tagdraw review ...`` and ``tagdraw entries SLUG``: thin calls into
``warehouse.review``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from warehouse.db import run
from warehouse.decisions import STATUSES
from warehouse.errors import UserError


def _suggest(args: argparse.Namespace) -> int:
    from warehouse.review import compute_suggestions

    summary = compute_suggestions(args.db, args.slug)
    if args.json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
    else:
        print(summary)
    return 0


def _near_misses(args: argparse.Namespace) -> int:
    from warehouse.review import list_near_misses

    misses = run(lambda con: list_near_misses(con, args.slug), args.db, read_only=True)
    for m in misses:
        where = f"post {m.post_number}" if m.post_number else f"comment {m.comment_id}"
        who = m.author_key or m.author_name or "guest"
        print(f"{m.kind:<14} {where:<18} {who:<20} {m.why}")
    if not misses:
        print("no near misses (run `tagdraw review suggest SLUG` after a crawl)")
    return 0


def _table_line(entry: dict[str, Any]) -> str:
    kinds = ",".join(sorted({s["kind"] for s in entry["suggestions"]})) or "-"
    reasons = ",".join(entry["reasons"]) or "-"
    title = entry["title"] if len(entry["title"]) <= 40 else entry["title"][:39] + "…"
    author = entry["author"] or "?"
    return (
        f"{entry['post_number']:<10} {entry['status']:<10} {reasons:<28} {kinds:<24} "
        f"{author:<18} {title}"
    )


def _entries(args: argparse.Namespace) -> int:
    from warehouse.review import entries_report

    if args.status is not None and args.status not in STATUSES:
        raise UserError(f"Unknown status {args.status!r}; use one of: {', '.join(STATUSES)}.")
    lines = run(
        lambda con: entries_report(con, args.slug, status=args.status), args.db, read_only=True
    )
    try:
        _print_entries(lines, args.format)
    except BrokenPipeError:  # `tagdraw entries ... | head`: the reader has had enough
        sys.stderr.close()
    return 0


def _print_entries(lines: list[dict[str, Any]], fmt: str) -> None:
    out = sys.stdout
    if fmt == "json":
        for entry in lines:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        out.flush()
        return
    header = {
        "post_number": "post",
        "status": "status",
        "reasons": ["reasons"],
        "suggestions": [{"kind": "suggestions"}],
        "author": "author",
        "title": "title",
    }
    out.write(_table_line(header) + "\n")
    for entry in lines:
        out.write(_table_line(entry) + "\n")
    out.flush()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``review`` and ``entries`` to the ``tagdraw`` parser."""
    review = sub.add_parser(
        "review", help="compute duplicate, spam, rule and near-miss suggestions"
    )
    actions = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    suggest = actions.add_parser(
        "suggest",
        help="recompute a campaign's suggestions and apply the automatic rule decisions",
    )
    suggest.add_argument("slug", metavar="SLUG")
    suggest.add_argument("--json", action="store_true", help="print the summary as JSON")
    suggest.set_defaults(func=_suggest)
    near = actions.add_parser(
        "near-misses", help="list people to reach: untagged posts and thread answers"
    )
    near.add_argument("slug", metavar="SLUG")
    near.set_defaults(func=_near_misses)

    entries = sub.add_parser(
        "entries", help="list a campaign's candidate entries with status, reasons, suggestions"
    )
    entries.add_argument("slug", metavar="SLUG")
    entries.add_argument(
        "--format", choices=("json", "table"), default="table", help="json = one object a line"
    )
    entries.add_argument(
        "--status",
        metavar="S",
        default=None,
        help=f"only entries with status S ({', '.join(STATUSES)})",
    )
    entries.set_defaults(func=_entries)
