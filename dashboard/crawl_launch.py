"""Starting a campaign's crawl from the dashboard: ``tagdraw crawl`` in a process of its
own (a new session), never in Streamlit's script thread, so that closing the tab or
stopping the dashboard does not stop it. The page follows the run in the warehouse.

Two crawls of one campaign never run: the second process exits 3 at the campaign's crawl
lock (``scraper.locks``) and the page shows the first one's run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from warehouse.settings import get_settings


def crawl_argv(db_path: Path, slug: str) -> list[str]:
    """The command line of a dashboard-started crawl: recorded with trigger 'dashboard',
    and the review suggestions recomputed after it, as the scheduler does."""
    return [
        sys.executable,
        "-m",
        "tagdraw",
        "--db",
        str(db_path),
        "crawl",
        slug,
        "--trigger",
        "dashboard",
        "--review",
        "--quiet",
    ]


def crawl_log_path(slug: str) -> Path:
    """Where the crawl's output (its summary, or its one-line error) goes."""
    return Path(get_settings().log_dir) / f"dashboard-crawl-{slug}.log"


def start_crawl(db_path: Path, slug: str) -> int:
    """Start the crawl; returns its process id. It outlives this process."""
    log_path = crawl_log_path(slug)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            crawl_argv(db_path, slug),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    return process.pid
