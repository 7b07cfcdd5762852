from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import psutil
import pytest
from playwright.sync_api import sync_playwright

from scraper.browser import (
    LEAN_DISABLED_FEATURES,
    LEAN_ENABLED_FEATURES,
    find_browser,
    launch_sync,
)
from scraper.crawl import LOAD_MORE_LABEL, post_url
from scraper.fetch import Fetcher
from warehouse.settings import get_settings


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


def _chromium_processes() -> list[psutil.Process]:
    """This test process's Chromium processes (Playwright's driver, node, left out)."""
    found = []
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "node" not in Path(proc.exe()).name:
                found.append(proc)
    return found


def _switch_values(cmdline: list[str], switch: str) -> list[set[str]]:
    return [set(a.split("=", 1)[1].split(",")) for a in cmdline if a.startswith(f"{switch}=")]


@pytest.mark.browser
def test_the_launched_chromium_keeps_playwrights_features_and_drops_unused_processes() -> None:
    """Chromium reads only the last --disable-features and --enable-features: the launcher's
    must hold Playwright's own (passed before them) as well as the process-saving ones."""
    with sync_playwright() as pw:
        browser = launch_sync(pw)
        try:
            browser.new_page().set_content("<p>x</p>")
            main = next(
                p for p in _chromium_processes() if not any("--type=" in a for a in p.cmdline())
            )
            cmdline = main.cmdline()
        finally:
            browser.close()
    for switch, ours in (
        ("--disable-features", LEAN_DISABLED_FEATURES),
        ("--enable-features", LEAN_ENABLED_FEATURES),
    ):
        values = _switch_values(cmdline, switch)
        assert len(values) >= 2, f"Playwright's {switch} and ours: {cmdline}"
        missing = set().union(*values[:-1]) - values[-1]
        assert not missing, f"the last {switch} drops {sorted(missing)} passed before it"
        assert set(ours) <= values[-1]
    assert "--in-process-gpu" in cmdline and "--no-zygote" in cmdline


@pytest.mark.browser
def test_a_render_check_runs_in_three_chromium_processes(replica: Any) -> None:
    """A clicked render check as the crawl runs it: the browser, one renderer and the
    storage service; no zygotes, GPU, network-service, spare or omnibox processes."""
    server = replica(n_posts=30)
    number = max(
        (p for p in server.site.posts.values() if p.state == "public"),
        key=lambda p: p.n_comments,
    ).post_number
    counts: list[int] = []
    kinds: list[list[str]] = []

    async def check() -> int:
        async with (
            Fetcher(get_settings(), server.url, javascript=True) as fetcher,
            fetcher.slot() as slot,
        ):
            fetched = await fetcher.load_with_clicks(
                slot,
                post_url(server.url, number),
                lambda html, url, captured: len(captured),
                LOAD_MORE_LABEL,
            )
            procs = _chromium_processes()
            counts.append(len(procs))
            kinds.append(
                [
                    next((a for a in p.cmdline() if a.startswith("--type=")), "browser")
                    for p in procs
                ]
            )
            assert fetched.value is not None
            return fetched.value

    captured = asyncio.run(check())
    assert captured >= 1, "the check clicked and captured the comments calls"
    assert counts[0] <= 3, kinds[0]
    assert sorted(kinds[0]).count("--type=renderer") == 1, kinds[0]
