"""The one settings object. Every value can be set with an environment variable
prefixed ``TAGDRAW_`` (for example ``TAGDRAW_DB=/srv/tagdraw.duckdb``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

LIVE_SITE_URL = "https://www.gotoknow.org"
TIMEZONE = "Asia/Bangkok"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TAGDRAW_", extra="ignore")

    # Warehouse
    db: Path = Path("data/tagdraw.duckdb")
    lock_timeout_s: float = 60.0  # give up waiting for the database file after this long
    # Crawler
    site_url: str = LIVE_SITE_URL
    user_agent: str = "tagdraw/0.1 (+campaign entry collector; contact: the campaign organisers)"
    rate_per_s: float = 1.0  # requests per second to a remote site
    unthrottled_local: bool = False  # only honoured for 127.0.0.1 / localhost
    concurrency: int = 4
    request_timeout_s: float = 20.0
    max_attempts: int = 5
    retry_backoff_s: float = 1.0  # first retry waits about this long, doubling, with jitter
    max_retry_after_s: float = 300.0  # longest Retry-After the crawler honours before failing
    # New browser context after this many pages. The render checks' renderer process grows
    # about 1 MB per clicked-through post until its context closes (measured: 245 MB PSS
    # after 100 checks with 200 here, 52 MB with 25); a new context costs tens of ms.
    context_recycle_pages: int = 25
    write_batch_size: int = 500  # posts per write; a write also happens every 3 s
    # DuckDB's memory limit for the crawl's transactions, in MB. The checkpoint at the close
    # of each write holds the newest row groups and long strings of every table it rewrites
    # in buffer memory; capped here it spills to a temporary file instead (measured at 50,000
    # posts: the crawler's peak 181 MB with 64, 330 MB without a cap).
    crawl_db_memory_mb: int = 64
    failed_pages_dir: Path = Path("data/failed-pages")
    recheck_gone_after_h: float = 24.0  # a gone post still listed is fetched again after this
    # Every stored post of an open campaign is checked again at least this often (a
    # conditional request where the site sent validators), spread over the runs...
    revalidate_after_h: float = 24.0
    # ...with at most this many such checks in one run (the longest unchecked first).
    revalidate_per_run: int = 300
    # Browser
    chromium: str | None = None  # explicit executable; otherwise Playwright's, then system
    # Review: from this many posts the spam signals are computed in a second process
    # (a fresh interpreter) beside the duplicate search.
    review_parallel_from: int = 20_000
    # Scheduling and logs
    schedule_interval_min: float = 60.0
    crawl_after_close_days: int = 7
    log_dir: Path = Path("data/logs")
    # Dashboard
    dashboard_demo_mode: bool = False  # no sign-in; only when the operator asks for it
    dashboard_port: int = 8501
    # Single sign-on accepts only addresses in these domains (comma-separated). An identity
    # provider may vouch for anyone (every Google account, say), so without this list the
    # part before "@" would let a stranger in under a moderator's name.
    oidc_email_domains: str = ""
    # An identity provider that never sends the ``email_verified`` claim is refused unless
    # the operator trusts it to vouch for every address it issues (an explicit "false" is
    # always refused).
    oidc_trust_unverified: bool = False

    @property
    def oidc_domains(self) -> tuple[str, ...]:
        """The listed domains as given; ``warehouse.users.user_for_oidc`` normalises them."""
        return tuple(d for d in self.oidc_email_domains.split(",") if d.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
