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


class ReplicaCampaign:
    """``with ReplicaCampaign(db, work) as rc: rc.crawl(); rc.site.edit_post(...);
    rc.crawl()``: campaign ``SLUG`` for a fresh replica site, served while in the block."""

    def __init__(
        self, db_path: Path, work_dir: Path, *, n_posts: int = 90, seed: int = 5, **campaign: Any
    ) -> None:
        self.db_path = db_path
        self.work_dir = work_dir
        self.site: Site = build_site(n_posts=n_posts, seed=seed)
        self.campaign = campaign
        self.server = ReplicaServer(self.site)

    def __enter__(self) -> ReplicaCampaign:
        self.server.__enter__()
        truth = self.site.ground_truth()["campaign"]
        values: dict[str, Any] = {
            "keywords": truth["keywords"],
            "near_miss_tags": truth["near_miss_tags"],
            "opens_at": truth["opens"],
            "closes_at": truth["closes"],
            "prizes": 4,
            "site_url": self.server.url,
            "announcement_post": truth["announcement_post"],
            "excluded_authors": truth["excluded_authors"],
            **self.campaign,
        }
        run(lambda con: create_campaign(con, SLUG, **values), self.db_path)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    def crawl(self, *, full: bool = False) -> None:
        """Crawl the campaign; ``full`` fetches every post again (an incremental crawl
        fetches only what the listing shows as changed, which a body edit is not)."""
        settings = {**FAST, "failed_pages_dir": self.work_dir / "failed"}
        summary = asyncio.run(crawl_campaign(self.db_path, SLUG, full=full, **settings))
        assert summary.exit_code == 0, summary.format()


def crawl_replica_campaign(
    db_path: Path,
    work_dir: Path,
    *,
    change_site: Callable[[Site], None] | None = None,
    **options: Any,
) -> Site:
    """Crawl a fresh replica campaign, apply ``change_site`` (if given) and crawl it all again.
    Returns the site as it is after the changes."""
    with ReplicaCampaign(db_path, work_dir, **options) as campaign:
        campaign.crawl()
        if change_site is not None:
            change_site(campaign.site)
            campaign.crawl(full=True)
    return campaign.site
