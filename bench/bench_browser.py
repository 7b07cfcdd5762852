"""Real-browser bench: what a moderator feels on the review page, with the real Streamlit
server over the bench warehouse (bench_dashboard.py builds it: 100k entries) and a real
Chromium driven by Playwright.

Signs in as a moderator, opens the review queue, then measures
- from pressing a decision shortcut (E) to the next entry shown;
- from pressing Enter in the search box to the ranked results shown (with the expected
  post among them).
Prints p50/p95 of each against its target, the server-side figures of bench_dashboard.py
beside them, and the machine's load.

Targets (p95): shortcut to next entry <= 700 ms; search to results <= 900 ms.

    .venv/bin/python bench/bench_browser.py [--db PATH] [--repeat 15] [--no-server-side]

Decisions made here are recorded in the warehouse (as user ``bench-browser``).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import duckdb  # noqa: E402
from bench_dashboard import TARGETS_MS as SERVER_TARGETS_MS  # noqa: E402
from bench_dashboard import machine_load, measure_server, percentile, report  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from dashboard import seed  # noqa: E402
from dashboard.launch import (  # noqa: E402
    DashboardDidNotStart,
    dashboard_command,
    wait_until_healthy,
    wait_until_run_finished,
)
from scraper.browser import launch_sync  # noqa: E402
from warehouse import users  # noqa: E402
from warehouse.db import run  # noqa: E402

USERNAME = "bench-browser"
PASSWORD = "bench-browser-password"
TARGETS_MS = {"shortcut to next entry shown": 700.0, "search to results shown": 900.0}
# The open entry's heading is its post number alone ("#545300"); the title is plain text below.
SHOWN_ENTRY = re.compile(r"^#(\d+)$")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_moderator(db: Path) -> None:
    def add(con: duckdb.DuckDBPyConnection) -> None:
        if users.get_user(con, USERNAME) is None:
            users.add_user(con, USERNAME, PASSWORD, role="moderator", actor="bench")

    run(add, db)


def start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    cmd, env = dashboard_command(db, port=port)
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", proc, timeout_s=120)
    except DashboardDidNotStart as exc:
        stop_server(proc)
        raise SystemExit(str(exc)) from None
    return proc


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)  # the group we started
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def shown_entry(page: Page) -> int:
    """The post number in the open entry's heading."""
    heading = page.locator("h3").filter(has_text=SHOWN_ENTRY).first
    heading.wait_for(state="visible")
    match = SHOWN_ENTRY.search(heading.inner_text())
    assert match is not None
    return int(match.group(1))


# A run of the dashboard over 100,000 entries on a busy machine can take long.
RUN_TIMEOUT_MS = 120_000


def summarise(label: str, times: list[float]) -> dict[str, float]:
    result = {"p50": statistics.median(times), "p95": percentile(times, 0.95), "max": max(times)}
    print(
        f"{label:<52} p50 {result['p50']:7.1f} ms   p95 {result['p95']:7.1f} ms"
        f"   max {result['max']:7.1f} ms",
        flush=True,
    )
    return result


def measure_browser(url: str, repeat: int, posts: int) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    with sync_playwright() as playwright:
        browser = launch_sync(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(url)
        page.get_by_label("ชื่อผู้ใช้").fill(USERNAME)
        page.get_by_label("รหัสผ่าน").fill(PASSWORD)
        page.get_by_role("button", name="เข้าสู่ระบบ").click()
        page.locator('[data-testid="stSidebar"]').get_by_text("คิวตรวจ").click()
        shown_entry(page)
        wait_until_run_finished(page, timeout_ms=RUN_TIMEOUT_MS)

        # Decision shortcut -> the next entry's heading.
        times = []
        for i in range(repeat + 1):
            before = shown_entry(page)
            page.locator("h3").first.click()  # focus out of inputs: the shortcut reaches the app
            started = time.perf_counter()
            page.keyboard.press("e")
            page.locator("h3").filter(has_text=SHOWN_ENTRY).filter(
                has_not_text=re.compile(rf"^#{before}$")
            ).first.wait_for(state="visible")
            elapsed = (time.perf_counter() - started) * 1000
            wait_until_run_finished(page, timeout_ms=RUN_TIMEOUT_MS)
            if i:  # the first one warms the server's caches
                times.append(elapsed)
        figures["shortcut to next entry shown"] = summarise(
            "browser: shortcut E to next entry shown", times
        )

        # Search box -> ranked results with the expected post.
        times = []
        box = page.get_by_label("ค้นหาข้อความ")
        for i in range(repeat + 1):
            number = seed.FIRST_POST + (1000 + i * 3917) % posts
            box.fill(f"บันทึกหมายเลข {number}")
            started = time.perf_counter()
            box.press("Enter")
            page.locator(f".st-key-search_open_{number}").wait_for(state="visible")
            elapsed = (time.perf_counter() - started) * 1000
            wait_until_run_finished(page, timeout_ms=RUN_TIMEOUT_MS)
            if i:
                times.append(elapsed)
        figures["search to results shown"] = summarise(
            "browser: Enter in search to results shown", times
        )
        browser.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/tagdraw-bench-dashboard.duckdb"))
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-server-side", action="store_true")
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"no warehouse at {args.db}: run bench/bench_dashboard.py first")
    ensure_moderator(args.db)
    posts = run(lambda con: con.execute("SELECT count(*) FROM posts").fetchall()[0][0], args.db)
    print("machine before:", machine_load(), flush=True)
    port = free_port()
    proc = start_server(args.db, port)
    try:
        figures = measure_browser(f"http://127.0.0.1:{port}", args.repeat, int(posts))
    finally:
        stop_server(proc)
    ok = report(figures, TARGETS_MS)
    if not args.no_server_side:
        print("server-side, same warehouse:")
        ok &= report(measure_server(args.db, args.repeat), SERVER_TARGETS_MS)
    print("machine after: ", machine_load())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
