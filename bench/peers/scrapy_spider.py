"""The Scrapy + scrapy-playwright peer: the spider a Scrapy user would write for the same data.

Every page is rendered by Chromium through scrapy-playwright's download handler. A post
page gets one page method that clicks ดูความเห็นเพิ่มเติม until the button is gone (each
click runs the page's own script, which fetches the next comments page); the response
body Scrapy sees is then the final DOM, parsed with Scrapy's selectors (parsel).

    python bench/peers/scrapy_spider.py START_URL --out items.jsonl [--concurrency 4] [--cache DIR]

``--cache DIR`` turns on Scrapy's HTTPCACHE (``DummyPolicy``: everything cached is served
from disk, never revalidated). The cache sits in the downloader middlewares in front of
the Playwright download handler, so a second run with the same DIR sends no request at
all and re-emits the items from the stored rendered pages. That is Scrapy's "re-crawl";
it cannot see a new post or a new comment (it is a replay, not an incremental crawl).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import scrapy  # noqa: E402
from scrapy.crawler import CrawlerProcess  # noqa: E402
from scrapy.http import Response  # noqa: E402
from scrapy_playwright.page import PageMethod  # noqa: E402

from peers.extract import LOAD_MORE_CSS, listing_links, parse_post  # noqa: E402
from scraper.browser import BLOCKED_RESOURCE_TYPES, launch_kwargs  # noqa: E402

# Click the button until it is gone; after each click wait for the appended comments.
CLICK_ALL_COMMENTS_JS = """
async (selector) => {
  const count = () => document.querySelectorAll('ol.comment-list > li.comment').length;
  for (let guard = 0; guard < 1000; guard++) {
    const button = document.querySelector(selector);
    if (!button) return guard;
    const before = count();
    button.click();
    const started = Date.now();
    while (document.querySelector(selector) && count() <= before) {
      if (Date.now() - started > 30000) throw new Error('comments did not load');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  throw new Error('too many comment pages');
}
"""


def abort_heavy(request: Any) -> bool:
    return request.resource_type in BLOCKED_RESOURCE_TYPES


class PostsSpider(scrapy.Spider):
    name = "tagdraw_peer"

    def __init__(self, start_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url = start_url

    async def start(self):  # Scrapy >= 2.13
        yield scrapy.Request(self.start_url, meta={"playwright": True}, callback=self.parse)

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        posts, next_url = listing_links(response.text, response.url)
        for url in posts:
            yield scrapy.Request(
                url,
                callback=self.parse_post,
                meta={
                    "playwright": True,
                    "playwright_page_methods": [
                        PageMethod("evaluate", CLICK_ALL_COMMENTS_JS, LOAD_MORE_CSS)
                    ],
                    "post_url": url,
                },
            )
        if next_url:
            yield scrapy.Request(next_url, meta={"playwright": True}, callback=self.parse)

    def parse_post(self, response: Response) -> Iterator[dict[str, Any]]:
        record = parse_post(response.text, response.url, response.status)
        if record["post_number"] is None:
            record["post_number"] = parse_post("", response.meta["post_url"], 404)["post_number"]
        yield record


def settings(out: Path, concurrency: int, cache: Path | None) -> dict[str, Any]:
    browser = launch_kwargs()
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    config: dict[str, Any] = {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": browser,
        "PLAYWRIGHT_ABORT_REQUEST": abort_heavy,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": concurrency,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False,
        "HTTPERROR_ALLOWED_CODES": [404],
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "FEEDS": {str(out): {"format": "jsonlines", "encoding": "utf-8", "overwrite": True}},
    }
    if cache is not None:
        config.update(
            HTTPCACHE_ENABLED=True,
            HTTPCACHE_DIR=str(cache.resolve()),
            HTTPCACHE_EXPIRATION_SECS=0,
            HTTPCACHE_IGNORE_HTTP_CODES=[500, 502, 503, 504],
        )
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start_url")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args(argv)
    process = CrawlerProcess(settings(args.out, args.concurrency, args.cache))
    crawler = process.create_crawler(PostsSpider)
    process.crawl(crawler, start_url=args.start_url)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    errors = int(stats.get("log_count/ERROR", 0))
    print(
        json.dumps(
            {
                "peer": "scrapy",
                "items": stats.get("item_scraped_count", 0),
                "responses": stats.get("downloader/response_count", 0),
                "errors": errors,
                "cache_hits": stats.get("httpcache/hit", 0),
            }
        ),
        flush=True,
    )
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
