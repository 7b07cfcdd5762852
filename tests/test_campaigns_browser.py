"""Running a campaign from the browser, end to end: the real ``tagdraw dashboard`` server,
real Chromium, a real warehouse and the replica site over HTTP with faults on.

An admin creates a campaign (checking the keyword's listing first), presses "crawl now" and
watches the progress; a second session pressing the same button meanwhile sees that run
and starts none; the admin cancels mid-run, presses again, and the crawl resumes without
fetching a finished page again (counted at the replica); the entries reach the review
queue; a moderator and a viewer see no campaign editing and no crawl button.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crawl_truth import post_paths
from dashboard_server import running_dashboard
from waiting import wait_until

from dashboard import queries
from replica.server import FaultConfig, ReplicaServer
from replica.site import build_site
from scraper.listing import listing_url
from warehouse import crawl_ledger as ledger
from warehouse import users
from warehouse.db import run

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "password123"
SLUG = "book-week"
FORM = "camp_f___new___"  # widget keys of the new-campaign form: FORM + field name

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def setup(db_path: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    def accounts(con) -> None:  # type: ignore[no-untyped-def]
        for name, role in (("boss", "admin"), ("mod", "moderator"), ("viewer", "viewer")):
            users.add_user(con, name, PASSWORD, role=role, actor="test")

    run(accounts, db_path)
    site = build_site(n_posts=120, seed=21)
    faults = FaultConfig(seed=4, error_rate=0.03, truncate_rate=0.03, drop_rate=0.03)
    server = ReplicaServer(site, faults=faults).start()
    env = {k: v for k, v in os.environ.items() if k != "TAGDRAW_DASHBOARD_DEMO_MODE"}
    env.update(
        {
            # Inherited by the crawls the page starts: slow enough to cancel mid-run.
            "TAGDRAW_RATE_PER_S": "12",
            "TAGDRAW_RETRY_BACKOFF_S": "0.05",
            "TAGDRAW_LOG_DIR": str(tmp_path / "logs"),
            "TAGDRAW_FAILED_PAGES_DIR": str(tmp_path / "failed"),
        }
    )
    try:
        with running_dashboard(db_path, env) as url:
            yield {
                "url": url,
                "db": db_path,
                "site": site,
                "server": server,
                "logs": tmp_path / "logs",
            }
    finally:
        # A crawl the page started runs in its own session: stop it if a step failed.
        for r in run(lambda con: ledger.run_history(con, SLUG, 10), db_path, read_only=True):
            if r.status == "running" and r.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(r.pid, signal.SIGKILL)
        server.stop()


def _sign_in(page: Any, url: str, username: str) -> None:
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_label("ชื่อผู้ใช้").fill(username)
    page.get_by_label("รหัสผ่าน").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    page.locator('[data-testid="stSidebar"]').get_by_text("ภาพรวม").wait_for()


def _open_campaigns(page: Any) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text("จัดการแคมเปญ").click()
    page.get_by_role("heading", name="จัดการแคมเปญ").wait_for()


def _type(page: Any, key: str, value: str) -> None:
    """Type into a Streamlit text widget and commit it (Streamlit commits on blur)."""
    box = page.locator(f".st-key-{key}").locator("input, textarea").first
    box.fill(value)
    box.press("Tab")
    page.wait_for_timeout(300)


def _runs(db: Path) -> list[ledger.CrawlRun]:
    return run(lambda con: ledger.run_history(con, SLUG, 10), db, read_only=True)


@pytest.mark.timeout(900)
def test_an_admin_runs_a_campaign_from_the_browser(
    setup: dict[str, Any], browser: Any, artifacts_dir: Path
) -> None:
    url, db, site, server = setup["url"], setup["db"], setup["site"], setup["server"]
    truth = site.ground_truth()["campaign"]
    keyword = truth["keywords"][0]

    admin = browser.new_context(viewport={"width": 1300, "height": 1800}).new_page()
    _sign_in(admin, url, "boss")
    _open_campaigns(admin)
    # No campaign yet: the page opens on the new-campaign form.
    admin.get_by_text("ยังไม่มีแคมเปญ").first.wait_for()
    _type(admin, FORM + "slug", SLUG)
    _type(admin, FORM + "title", "สัปดาห์หนังสือ")
    _type(admin, FORM + "site_url", server.url)
    _type(admin, FORM + "keywords", keyword)
    _type(admin, FORM + "near_miss_tags", "\n".join(truth["near_miss_tags"]))
    _type(admin, FORM + "excluded_authors", "\n".join(truth["excluded_authors"]))
    _type(admin, FORM + "announcement_post", str(truth["announcement_post"]))
    _type(admin, FORM + "prizes", "4")
    # The window as a Thai organiser types it: Buddhist-era years.
    opens = truth["opens"][:10]
    closes = truth["closes"][:10]
    _type(admin, FORM + "opens_at", f"{int(opens[:4]) + 543}{opens[4:]}")
    _type(admin, FORM + "closes_at", f"{int(closes[:4]) + 543}{closes[4:]}")

    # The keyword's listing on the site, linked, and counted with one request.
    link = admin.get_by_role("link", name=re.compile("เปิดหน้ารายการแท็ก"))
    assert link.get_attribute("href") == listing_url(server.url, keyword)
    server.reset_hits()
    admin.get_by_role("button", name="นับบันทึกในหน้ารายการตอนนี้").click()
    shown = admin.get_by_text(re.compile(r"แสดง \d+ บันทึก")).first
    shown.wait_for()
    assert sum(server.hits().values()) == 1, server.hits()

    admin.locator(".st-key-camp_create button").click()
    admin.get_by_text(f"สร้างแคมเปญ {SLUG} แล้ว").wait_for()

    # A second admin session has the page open, idle, before the crawl starts.
    other = browser.new_context(viewport={"width": 1300, "height": 1400}).new_page()
    _sign_in(other, url, "boss")
    _open_campaigns(other)
    other_button = other.locator(f".st-key-camp_crawl_now_{SLUG} button")
    other_button.wait_for()

    # Crawl now: progress from the warehouse until the cancel.
    server.reset_hits()
    admin.locator(f".st-key-camp_crawl_now_{SLUG} button").click()
    admin.get_by_text("กำลังเก็บข้อมูล (รอบที่ 1)").wait_for()
    first_run = wait_until(lambda: next(iter(_runs(db)), None), 180, "the first run")
    assert first_run.trigger == "dashboard"
    admin.get_by_text(re.compile(r"\d+ จาก \d+")).first.wait_for()  # posts fetched of planned

    # The second session presses its button during the run: it is shown that run, and no
    # second crawl starts.
    other_button.click()
    other.get_by_text("กำลังเก็บข้อมูลแคมเปญนี้อยู่แล้ว").wait_for()
    other.get_by_text("กำลังเก็บข้อมูล (รอบที่ 1)").wait_for()
    other.locator(f".st-key-camp_crawl_now_{SLUG} button").wait_for(state="detached")
    assert [r.run_id for r in _runs(db)] == [first_run.run_id]
    admin.screenshot(path=str(artifacts_dir / "campaigns-page.png"), full_page=True)
    if os.environ.get("TAGDRAW_DOCS_SCREENSHOTS"):
        shutil.copy(artifacts_dir / "campaigns-page.png", ROOT / "docs" / "campaigns-page.png")

    # Cancel mid-run: the run ends 'partial' (ไม่ครบ) with the CLI's summary on the page.
    wait_until(lambda: len(post_paths(server.hits())) >= 30, 180, "30 post pages fetched")
    admin.locator(f".st-key-camp_cancel_{SLUG} button").click()
    admin.get_by_text("เก็บข้อมูลเสร็จ (รอบที่ 1): ไม่ครบ").wait_for(timeout=120_000)
    admin.get_by_text(re.compile("Stopped on request")).first.wait_for()
    other.get_by_text("เก็บข้อมูลเสร็จ (รอบที่ 1): ไม่ครบ").wait_for(timeout=120_000)
    first_hits = post_paths(server.hits())
    progress = run(lambda con: ledger.run_progress(con, first_run.run_id), db, read_only=True)
    assert progress is not None and progress.cancel_requested_by == "boss"
    assert progress.posts_planned is not None
    assert len(first_hits) < progress.posts_planned, "the cancel came too late to test"
    states = run(lambda con: ledger.frontier_states(con, SLUG), db, read_only=True)
    finished = {n for n, state in states.items() if state in ("done", "gone")}
    assert finished

    # Crawl now again: it resumes, and no finished page is fetched twice.
    server.reset_hits()
    admin.locator(f".st-key-camp_crawl_now_{SLUG} button").click()
    admin.get_by_text(re.compile(r"เก็บข้อมูลเสร็จ \(รอบที่ 2\): (ครบ|ไม่ครบ)")).wait_for(timeout=300_000)
    admin.get_by_text(re.compile("resumed run 1")).first.wait_for()
    resumed_hits = post_paths(server.hits())
    assert not finished & set(resumed_hits), "a finished page was fetched again"
    again = set(first_hits) & set(resumed_hits)
    # Asked again: only pages the first run had not finished (a post that answered "not
    # found" once waits for a second look).
    assert all(states.get(n) == "pending" for n in again), {n: states.get(n) for n in again}
    assert [r.trigger for r in _runs(db)] == ["dashboard", "dashboard"]
    assert sum(server.fault_counts().values()) > 0, "the faults did not fire"

    # Suggestions are recomputed after each crawl (the run is recorded first), and the
    # entries are in the review queue.
    log_path = setup["logs"] / f"dashboard-crawl-{SLUG}.log"
    wait_until(
        lambda: log_path.read_text(encoding="utf-8").count("review suggestions: ok") == 2,
        120,
        "the review after both crawls",
    )
    queue = run(lambda con: queries.review_queue(con, SLUG), db, read_only=True)
    assert queue.total > 50, queue.total
    admin.locator('[data-testid="stSidebar"]').get_by_text("คิวตรวจ").click()
    admin.get_by_text(f"พบ {queue.total} รายการ").first.wait_for()
    admin.screenshot(path=str(artifacts_dir / "campaigns-review-after-crawl.png"))

    # A moderator and a viewer: no Campaigns page, no crawl button anywhere.
    for name in ("mod", "viewer"):
        page = browser.new_context().new_page()
        _sign_in(page, url, name)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text("จัดการแคมเปญ").count() == 0
        for label in ("ภาพรวม", "คิวตรวจ", "ประวัติการเก็บข้อมูล"):
            sidebar.get_by_text(label).click()
            page.wait_for_timeout(800)
            assert page.get_by_role("button", name="เก็บข้อมูลตอนนี้").count() == 0
        page.context.close()
