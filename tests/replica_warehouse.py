"""A small campaign built the way production builds one: the replica site served over real
HTTP, crawled by the real crawler (with its Chromium checks) into a real warehouse file,
then changed on the site and crawled again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from replica.server import ReplicaServer
from replica.site import Site, build_site
from scraper.crawl import crawl_campaign
from warehouse.campaigns import create_campaign
from warehouse.db import run

SLUG = "demo"
FAST: dict[str, Any] = {
    "unthrottled": True,
    "request_timeout_s": 15.0,
    "retry_backoff_s": 0.05,
    "max_attempts": 6,
    "progress": False,
}


def crawl_replica_campaign(
    db_path: Path,
    work_dir: Path,
    *,
    n_posts: int = 90,
    seed: int = 5,
    change_site: Callable[[Site], None] | None = None,
    **campaign: Any,
) -> Site:
    """Create campaign ``SLUG`` for a fresh replica site, crawl it, apply ``change_site`` to
    the site (if given) and crawl again. Returns the site as it is after the changes."""
    site = build_site(n_posts=n_posts, seed=seed)
    truth = site.ground_truth()["campaign"]
    with ReplicaServer(site) as server:
        values: dict[str, Any] = {
            "keywords": truth["keywords"],
            "near_miss_tags": truth["near_miss_tags"],
            "opens_at": truth["opens"],
            "closes_at": truth["closes"],
            "prizes": 4,
            "site_url": server.url,
            "announcement_post": truth["announcement_post"],
            "excluded_authors": truth["excluded_authors"],
            **campaign,
        }
        run(lambda con: create_campaign(con, SLUG, **values), db_path)
        settings = {**FAST, "failed_pages_dir": work_dir / "failed"}
        first = asyncio.run(crawl_campaign(db_path, SLUG, **settings))
        assert first.exit_code == 0, first.format()
        if change_site is not None:
            change_site(site)
            again = asyncio.run(crawl_campaign(db_path, SLUG, **settings))
            assert again.exit_code == 0, again.format()
    return site
