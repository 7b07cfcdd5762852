"""The Crawlee for Python peer: a PlaywrightCrawler collecting what `tagdraw crawl` collects.

Written the way the Crawlee docs suggest: a router with a default handler for the listing
(enqueue the post links and rel=next) and a POST handler that clicks ดูความเห็นเพิ่มเติม until
the button is gone, then extracts the record and pushes it to the default dataset, which is
exported to JSON lines at the end.

    python bench/peers/crawlee_spider.py START_URL --out items.jsonl --storage DIR [--concurrency 4] [--keep-storage]

Kept offline (this machine has no internet):
- the Public Suffix List (crawlee downloads it on first use of a registrable-domain check,
  blocking up to 5 s, then falls back to its bundled snapshot): pre-loaded from the snapshot;
- the browser fingerprint generator stays on (its data ships in the `apify_fingerprint_datapoints`
  package, no download), as a default user has it;
- storage goes to ``--storage`` (default crawlee writes ./storage in the working directory).
``--keep-storage`` leaves the request queue and dataset from the previous run (Crawlee's
persistence: ``purge_on_start=False``); every request already handled is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from crawlee import ConcurrencySettings  # noqa: E402
from crawlee._utils import public_suffix  # noqa: E402
from crawlee.configuration import Configuration  # noqa: E402
from crawlee.crawlers import (  # noqa: E402
    PlaywrightCrawler,
    PlaywrightCrawlingContext,
    PlaywrightPreNavCrawlingContext,
)
from crawlee.router import Router  # noqa: E402
from crawlee.storage_clients import FileSystemStorageClient  # noqa: E402

from peers.extract import LOAD_MORE_CSS, NEXT_LINK_CSS, parse_post  # noqa: E402
from scraper.browser import launch_kwargs  # noqa: E402

# Wait until the click's comments are in, or the button is gone (after the last page).
COMMENTS_GREW_JS = """
([before, selector]) => !document.querySelector(selector)
    || document.querySelectorAll('ol.comment-list > li.comment').length > before
"""


def stay_offline() -> None:
    """Load the Public Suffix List from crawlee's bundled snapshot instead of downloading it."""
    psl = public_suffix.public_suffix_list
    if "_rules" not in psl.__dict__:
        text = public_suffix.PUBLIC_SUFFIX_LIST_SNAPSHOT.read_text(encoding="utf-8")
        psl.__dict__["_rules"] = psl._parse_rules(text)


def build_router() -> Router[PlaywrightCrawlingContext]:
    router: Router[PlaywrightCrawlingContext] = Router()

    @router.default_handler
    async def listing(context: PlaywrightCrawlingContext) -> None:
        await context.enqueue_links(selector=".post-list a[href*='/posts/']", label="POST")
        await context.enqueue_links(selector=NEXT_LINK_CSS.split("::")[0], label="LISTING")

    @router.handler("LISTING")
    async def next_listing(context: PlaywrightCrawlingContext) -> None:
        await listing(context)

    @router.handler("POST")
    async def post(context: PlaywrightCrawlingContext) -> None:
        page = context.page
        status = context.response.status if context.response else 200
        if status == 200 and "/login" not in page.url:
            button = page.locator(LOAD_MORE_CSS)
            while await button.count():
                before = await page.locator("ol.comment-list > li.comment").count()
                await button.click()
                await page.wait_for_function(COMMENTS_GREW_JS, arg=[before, LOAD_MORE_CSS])
        record = parse_post(await page.content(), page.url, status)
        record["post_number"] = record["post_number"] or _number(context.request.url)
        await context.push_data(record)

    return router


def _number(url: str) -> int | None:
    from peers.extract import post_number_from_url

    return post_number_from_url(url)


async def crawl(start_url: str, out: Path, storage: Path, concurrency: int, keep: bool) -> int:
    stay_offline()
    config = Configuration(storage_dir=str(storage), purge_on_start=not keep)
    browser = launch_kwargs()
    headless = browser.pop("headless", True)
    crawler = PlaywrightCrawler(
        configuration=config,
        storage_client=FileSystemStorageClient(),
        request_handler=build_router(),
        browser_type="chromium",
        headless=headless,
        browser_launch_options=browser,
        concurrency_settings=ConcurrencySettings(
            min_concurrency=concurrency,
            desired_concurrency=concurrency,
            max_concurrency=concurrency,
        ),
        ignore_http_error_status_codes=[404],
        request_handler_timeout=timedelta(minutes=2),
        configure_logging=True,
        status_message_logging_interval=timedelta(seconds=30),
    )

    @crawler.pre_navigation_hook
    async def block_heavy(context: PlaywrightPreNavCrawlingContext) -> None:
        # Images, fonts and media, as tagdraw blocks them (Crawlee's own helper).
        await context.block_requests(
            extra_url_patterns=[".css", ".woff", ".woff2", ".mp4", ".jpg", ".png", ".svg"]
        )

    stats = await crawler.run([start_url])
    await crawler.export_data(str(out.with_suffix(".json")))
    items = json.loads(out.with_suffix(".json").read_text(encoding="utf-8") or "[]")
    with out.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(
        json.dumps(
            {
                "peer": "crawlee",
                "finished": stats.requests_finished,
                "failed": stats.requests_failed,
                "items": len(items),
            }
        ),
        flush=True,
    )
    return 0 if stats.requests_failed == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start_url")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--storage", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--keep-storage", action="store_true")
    args = parser.parse_args(argv)
    return asyncio.run(
        crawl(args.start_url, args.out, args.storage, args.concurrency, args.keep_storage)
    )


if __name__ == "__main__":
    raise SystemExit(main())
