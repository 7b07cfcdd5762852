"""Each exit code means one thing: a timer may treat 3 (this campaign's crawl is already
running) as success, so a warehouse held by another process must not exit 3 too.

Both cases run the real console script against a real DuckDB file held by a real second
process or by a live crawl lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scraper.errors import CrawlLocked
from scraper.locks import acquire_crawl_lock, release_crawl_lock
from warehouse.campaigns import create_campaign
from warehouse.db import run
from warehouse.errors import DatabaseBusy

TAGDRAW = Path(sys.executable).parent / "tagdraw"

# Opens the warehouse for writing (DuckDB: one writing process per file, which blocks every
# other opener), says so, and holds it until its stdin closes.
HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SELECT 1").fetchall()
print("holding", flush=True)
sys.stdin.read()
"""


def tagdraw(db_path: Path, *argv: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        TAGDRAW_LOCK_TIMEOUT_S="1",
        TAGDRAW_LOG_DIR=str(tmp_path / "logs"),
        TAGDRAW_RETRY_BACKOFF_S="0.05",
    )
    return subprocess.run(
        [str(TAGDRAW), "--db", str(db_path), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    run(
        lambda con: create_campaign(
            con,
            "demo",
            keywords=["สังคมออนไลน์"],
            opens_at="2013-08-06",
            closes_at="2013-08-31",
            prizes=2,
            site_url="http://127.0.0.1:9",  # nothing listens there
        ),
        path,
    )
    return path


@pytest.fixture
def held(db_path: Path) -> Iterator[Path]:
    """The warehouse file, held open for writing by another process."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield db_path
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


def test_the_two_busy_codes_differ() -> None:
    assert DatabaseBusy.exit_code != CrawlLocked.exit_code == 3


@pytest.mark.parametrize(
    "argv",
    [("campaign", "list"), ("user", "list"), ("crawl", "demo", "--quiet")],
    ids=["campaign list", "user list", "crawl"],
)
def test_a_warehouse_held_by_another_process_exits_busy(
    held: Path, argv: tuple[str, ...], tmp_path: Path
) -> None:
    result = tagdraw(held, *argv, tmp_path=tmp_path)
    assert result.returncode == DatabaseBusy.exit_code == 9, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"The warehouse {held} is locked by process" in result.stderr


def test_a_crawl_of_a_campaign_already_crawling_exits_3(db_path: Path, tmp_path: Path) -> None:
    lock = acquire_crawl_lock(db_path, "demo")  # this live test process holds it
    try:
        result = tagdraw(db_path, "crawl", "demo", "--quiet", tmp_path=tmp_path)
    finally:
        release_crawl_lock(db_path, lock)
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("\n") == 1
    assert "A crawl of campaign 'demo' is already running" in result.stderr
