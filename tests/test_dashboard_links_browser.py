"""In a real Chromium: scraped URLs, e-mail addresses and bidi controls on the review page
(and the admin-set display name in the sidebar) are plain text, never links."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_dashboard_browser import PASSWORD, dashboard_server  # noqa: F401  (fixture)

from warehouse.db import run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "Login again at https://evil.example/login or www.evil.example \u202e1234"
AUTHOR = "help@evil.example"
DISPLAY_NAME = "Mod [click](https://evil.example) www.evil.example"


def test_scraped_urls_are_not_links_in_the_browser(
    dashboard_server: tuple[str, Path, dict],  # type: ignore[type-arg]  # noqa: F811
    page,  # type: ignore[no-untyped-def]  # pytest-playwright
    artifacts_dir: Path,
) -> None:
    url, db_path, info = dashboard_server

    def make_hostile(con) -> None:  # type: ignore[no-untyped-def]
        con.execute(
            "UPDATE posts SET title = ?, author_name = ?, raw_tags = ? WHERE post_number = ?",
            [TITLE, AUTHOR, ["www.evil.example"], info["copy"]],
        )
        con.execute("UPDATE users SET display_name = ? WHERE username = 'mod'", [DISPLAY_NAME])

    run(make_hostile, db_path)
    page.set_default_timeout(45_000)
    page.goto(url)
    page.get_by_label("ชื่อผู้ใช้").fill("mod")
    page.get_by_label("รหัสผ่าน").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Mod [click](https://evil.example) www.evil.example").wait_for()
    sidebar.get_by_text("คิวตรวจ").click()
    # The review page opens on the entry with the hostile title (the suggested duplicate).
    title = page.locator('[data-testid="stText"]').filter(has_text="Login again at")
    title.first.wait_for(state="visible")
    page.locator('[data-testid="stText"]').filter(has_text=AUTHOR).first.wait_for()
    page.screenshot(path=str(artifacts_dir / "dashboard-scraped-links.png"), full_page=True)

    hrefs = page.evaluate("() => [...document.querySelectorAll('a')].map(a => a.href)")
    assert not [h for h in hrefs if "evil" in h], hrefs
    shown = title.first.inner_text()
    assert "https://evil.example/login" in shown and "[U+202E]1234" in shown
    assert "\u202e" not in page.locator("body").inner_text()
