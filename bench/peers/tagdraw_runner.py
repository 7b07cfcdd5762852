"""tagdraw itself, as the benchmark runs it: ``scraper.crawl.run_crawl`` on one campaign.

    python bench/peers/tagdraw_runner.py --db W.duckdb --site-url URL --keyword KW \
        [--concurrency 4] [--full] [--rate R]

The first call creates the campaign in the (temporary) warehouse; a second call on the
same warehouse is tagdraw's incremental re-crawl. Unthrottled: the site is 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scraper.crawl import run_crawl  # noqa: E402
from warehouse.campaigns import create_campaign, find_campaign  # noqa: E402
from warehouse.db import run  # noqa: E402

SLUG = "bench"


def ensure_campaign(db: Path, site_url: str, keyword: str) -> None:
    def create(con) -> None:  # type: ignore[no-untyped-def]
        if find_campaign(con, SLUG) is None:
            create_campaign(
                con,
                SLUG,
                keywords=[keyword],
                opens_at="2013-08-06",
                closes_at="2013-08-31",
                prizes=4,
                site_url=site_url,
            )

    run(create, db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--site-url", required=True)
    parser.add_argument("--keyword", required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--full", action="store_true")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="requests/s (default: unthrottled, 127.0.0.1)"
    )
    args = parser.parse_args(argv)
    ensure_campaign(args.db, args.site_url, args.keyword)
    summary = run_crawl(
        args.db,
        SLUG,
        full=args.full,
        trigger="bench",
        progress=False,
        concurrency=args.concurrency,
        **(
            {"unthrottled": False, "unthrottled_local": False, "rate_per_s": args.rate}
            if args.rate > 0
            else {"unthrottled": True}
        ),
    )
    brief = {
        k: v
        for k, v in asdict(summary).items()
        if k not in ("posts_gone", "comment_mismatches", "errors", "messages")
    }
    brief["errors"] = len(summary.errors)
    brief["first_errors"] = summary.errors[:3]
    print(json.dumps(brief, default=str), flush=True)
    return summary.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
