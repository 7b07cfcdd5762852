from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from scraper.browser import find_browser, launch_sync


def test_a_browser_is_chosen_once() -> None:
    assert find_browser() is find_browser()
    assert find_browser().source in {"settings", "playwright", "system"}


@pytest.mark.browser
def test_the_launcher_starts_a_real_chromium() -> None:
    with sync_playwright() as pw:
        browser = launch_sync(pw)
        try:
            page = browser.new_page()
            page.set_content("<h1>ทดสอบ</h1>")
            assert page.inner_text("h1") == "ทดสอบ"
            assert browser.version
        finally:
            browser.close()
