"""In a real Chromium against the real ``tagdraw dashboard`` server: every page has its own
address, the back button returns to the previous page, /review?post=N opens entry N (after
sign-in), and a viewer neither sees nor reaches the admin pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_dashboard_browser import PASSWORD, dashboard_server  # noqa: F401  (fixture)

from warehouse import users
from warehouse.db import run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Each page's address and the heading it shows first.
HEADINGS = {
    "": "ภาพรวม",
    "review": "คิวตรวจ",
    "duplicates": "กลุ่มผลงานซ้ำ",
    "audit": "บันทึกการทำงาน",
    "crawls": "ประวัติการเก็บข้อมูล",
    "draw": "จับรางวัล",
    "users": "ผู้ใช้",
}


def _sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("ชื่อผู้ใช้").fill(username)
    page.get_by_label("รหัสผ่าน").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="ออกจากระบบ").wait_for()


def _heading(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.locator('[data-testid="stMain"] h2').filter(
        has_text=re.compile(f"^{re.escape(text)}$")
    ).first.wait_for(state="visible")


def _nav(page):  # type: ignore[no-untyped-def]
    return page.locator('[data-testid="stSidebarNav"]')


def test_pages_have_addresses_links_and_history(
    dashboard_server: tuple[str, Path, dict],  # type: ignore[type-arg]  # noqa: F811
    page,  # type: ignore[no-untyped-def]  # pytest-playwright
    artifacts_dir: Path,
) -> None:
    url, db_path, info = dashboard_server

    def add_users(con) -> None:  # type: ignore[no-untyped-def]
        users.add_user(con, "boss", PASSWORD, role="admin", actor="test")
        users.add_user(con, "viewer", PASSWORD, role="viewer", actor="test")

    run(add_users, db_path)
    page.set_default_timeout(45_000)

    # Each address opens its page (a fresh load is a new session: sign in first).
    for path, heading in HEADINGS.items():
        page.goto(f"{url}/{path}")
        _sign_in(page, "boss")
        _heading(page, heading)
        assert page.url.split("?")[0].rstrip("/") == f"{url}/{path}".rstrip("/"), page.url

    # Moving through the navigation changes the address; back returns to the last page.
    _nav(page).get_by_role("link", name="คิวตรวจ").click()
    _heading(page, "คิวตรวจ")
    page.wait_for_url(re.compile(r"/review(\?|$)"))
    _nav(page).get_by_role("link", name="ประวัติการเก็บข้อมูล").click()
    _heading(page, "ประวัติการเก็บข้อมูล")
    page.wait_for_url(re.compile(r"/crawls(\?|$)"))
    page.go_back()
    page.wait_for_url(re.compile(r"/review(\?|$)"))
    _heading(page, "คิวตรวจ")

    # A link to an entry, as a colleague sends it: sign-in first, then that entry.
    linked = info["spam"]
    page.goto(f"{url}/review?post={linked}")
    _sign_in(page, "boss")
    _heading(page, "คิวตรวจ")
    page.locator("h3").filter(has_text=re.compile(f"^#{linked}$")).wait_for(state="visible")
    assert f"post={linked}" in page.url
    page.screenshot(path=str(artifacts_dir / "dashboard-entry-link.png"), full_page=True)

    # A viewer: no Draw or Users in the navigation, and not by typing the address either.
    page.goto(url)
    _sign_in(page, "viewer")
    _heading(page, "ภาพรวม")
    _nav(page).get_by_role("link", name="คิวตรวจ").wait_for()
    names = _nav(page).get_by_role("link").all_inner_texts()
    assert "จับรางวัล" not in names and "ผู้ใช้" not in names, names
    for path in ("draw", "users"):
        page.goto(f"{url}/{path}")
        _sign_in(page, "viewer")
        _heading(page, "ภาพรวม")  # Streamlit opens the default page instead
        assert not page.locator("h2").filter(has_text=HEADINGS[path]).count()
        assert not page.get_by_role("button", name="ล็อกรายชื่อ").count()
