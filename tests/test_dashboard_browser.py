"""End to end: the real ``tagdraw dashboard`` server, a real Chromium, a real warehouse.

Signs in, decides one entry by click, one by keyboard shortcut and two by selecting their
rows in the queue table, checks the warehouse, and checks that the hostile post shown on
the way ran no script.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_server import running_dashboard
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from dashboard import seed
from dashboard.launch import wait_until_run_finished
from warehouse import users
from warehouse.db import run
from warehouse.decisions import Decision, current_decisions

ROOT = Path(__file__).resolve().parent.parent
SLUG = "demo"
PASSWORD = "password123"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def dashboard_server(db_path: Path) -> Iterator[tuple[str, Path, dict]]:  # type: ignore[type-arg]
    seed.ensure_campaign(db_path, SLUG)
    info = seed.seed_small(db_path, SLUG, n=6, hostile=True)
    run(lambda con: users.add_user(con, "mod", PASSWORD, role="moderator", actor="test"), db_path)
    env = {k: v for k, v in os.environ.items() if k != "TAGDRAW_DASHBOARD_DEMO_MODE"}
    with running_dashboard(db_path, env) as url:
        yield url, db_path, info


def _wait_for_decision(db_path: Path, post: int, timeout: float = 30) -> Decision:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        decision = run(lambda con: current_decisions(con, SLUG), db_path).get(post)
        if decision is not None:
            return decision
        time.sleep(0.3)
    raise AssertionError(f"no decision for {post} within {timeout} s")


def test_sign_in_decide_by_click_and_by_shortcut(
    dashboard_server: tuple[str, Path, dict],  # type: ignore[type-arg]
    page,  # type: ignore[no-untyped-def]  # pytest-playwright
    artifacts_dir: Path,
) -> None:
    url, db_path, info = dashboard_server
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_default_timeout(45_000)
    page.goto(url)

    page.get_by_label("ชื่อผู้ใช้").fill("mod")
    page.get_by_label("รหัสผ่าน").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("คิวตรวจ").click()

    # The queue opens on the entry that most needs attention: the suggested duplicate.
    first = info["copy"]
    page.locator(f".st-key-decide_eligible_{first} button").click()
    decision = _wait_for_decision(db_path, first)
    assert (decision.status, decision.decided_by) == ("eligible", "mod")
    saved = page.locator('[data-testid="stAlert"]').filter(has_text="บันทึกแล้ว")
    saved.filter(has_text=f"#{first}").first.wait_for(state="visible")
    page.screenshot(path=str(artifacts_dir / "dashboard-after-click.png"), full_page=True)

    # Next comes the hostile post (strong spam suggestion): shown as text, decided by "S".
    hostile = info["hostile"]
    spam_button = page.locator(f".st-key-decide_spam_{hostile} button")
    spam_button.wait_for(state="visible")
    body = page.locator('[data-testid="stText"]').filter(has_text="<img src=x onerror=")
    body.first.wait_for(state="visible")
    wait_until_run_finished(page)
    page.locator("h3").first.click()  # focus out of any input so the shortcut reaches the app
    page.keyboard.press("s")
    decision = _wait_for_decision(db_path, hostile)
    assert (decision.status, decision.decided_by) == ("spam", "mod")
    saved.filter(has_text=f"#{hostile}").first.wait_for(state="visible")
    page.screenshot(path=str(artifacts_dir / "dashboard-after-shortcut.png"), full_page=True)

    # Hostile content stayed inert: no dialog, no flag set by any injected script.
    assert dialogs == []
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.locator("img[src='x']").count() == 0

    # Two rows ticked in the queue table (its canvas: the tick box is the first column; rows
    # and header are 35 px) and decided at once; the panel names them before the click.
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    picked = [
        int(page.locator(f'[data-testid="glide-cell-1-{row}"]').inner_text()) for row in (0, 1)
    ]
    assert not {first, hostile} & set(picked)  # decided entries went down the queue
    box = grid.bounding_box()
    assert box is not None
    # One tick at a time, each made once the page's run has finished and listed by the
    # panel before the next (a bulk decision applies to what the panel lists). Under heavy
    # load a tick can still be lost: the table shows the row ticked, the panel does not list
    # it (a known race, see docs/moderators.md). The moderator then unticks and ticks it
    # again, and so does this test, at most twice; the decision is checked either way.
    lost_ticks = 0
    for row in (0, 1):
        listed = ", ".join(f"#{n}" for n in picked[: row + 1])
        panel = page.get_by_text(f"รายการที่เลือก: {listed}", exact=True)
        tick_box = (box["x"] + 15, box["y"] + 35 * (row + 1) + 17)
        for attempt in range(3):
            wait_until_run_finished(page)
            if attempt and page.locator('tr[aria-selected="true"]').count() > row:
                page.mouse.click(*tick_box)  # untick the row the table shows ticked
                wait_until_run_finished(page)
            page.mouse.click(*tick_box)
            try:
                panel.wait_for(state="visible", timeout=15_000)
                break
            except PlaywrightTimeoutError:
                lost_ticks += 1
        else:
            raise AssertionError(f"the panel never listed {listed} after three ticks")
    print(f"ticks lost and made again: {lost_ticks}")
    wait_until_run_finished(page)
    page.locator(".st-key-bulk_status").click()
    page.get_by_role("option", name="สแปม").click()
    page.locator(".st-key-bulk_apply button").click()
    for number in picked:
        decision = _wait_for_decision(db_path, number)
        assert (decision.status, decision.decided_by) == ("spam", "mod")
    page.get_by_text("บันทึก 2 รายการ, ข้าม 0 รายการที่ถูกเปลี่ยน").wait_for(state="visible")
    # The selection did not move on to other rows: the panel goes once the page's run has
    # replaced what the previous run drew (the saved message can show before that).
    page.locator(".st-key-bulk_apply").wait_for(state="detached")
    wait_until_run_finished(page)
    assert page.locator(".st-key-bulk_apply").count() == 0
    assert set(run(lambda con: current_decisions(con, SLUG), db_path)) == {first, hostile, *picked}
    page.screenshot(path=str(artifacts_dir / "dashboard-after-bulk.png"), full_page=True)
