"""``tagdraw demo``: the whole job on a local replica, with no internet.

It starts the GotoKnow replica, creates (or refreshes) the ``demo`` campaign, crawls it
(plain HTTP, a sample proven in a real Chromium), computes the review suggestions, makes a
demo admin account, and starts the dashboard, printing where to sign in. Its warehouse is
``data/demo.duckdb`` unless ``--db`` or ``$TAGDRAW_DB`` names another, so a demo never mixes
with real campaigns.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.db import resolve_db_path, run
from warehouse.errors import UserError

DEMO_SLUG = "demo"
DEMO_ADMIN = "demo-admin"
DEMO_DB = Path("data/demo.duckdb")
_URL_PATTERN = re.compile(r"(http://127\.0\.0\.1:\d+)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo",
        help="the demo: local replica -> crawl -> suggestions -> dashboard",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--posts", type=int, default=300, help="posts on the replica (300)")
    demo.add_argument("--seed", type=int, default=7, help="replica seed (7)")
    demo.add_argument("--port", type=int, default=8501, help="dashboard port (8501)")
    demo.add_argument("--replica-port", type=int, default=0, help="replica port (a free one)")
    demo.add_argument("--faults", action="store_true", help="let the replica inject faults")
    demo.add_argument(
        "--check",
        action="store_true",
        help="stop once the dashboard answers (for tests and smoke checks)",
    )
    demo.set_defaults(func=demo_command)


@dataclass(frozen=True)
class DemoResult:
    db_path: Path
    replica_url: str
    dashboard_url: str
    admin_username: str
    admin_password: str
    posts: int
    comments: int


def demo_db_path(cli_db: str | None) -> Path:
    if cli_db or os.environ.get("TAGDRAW_DB"):
        return resolve_db_path(cli_db)
    return DEMO_DB


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tagdraw", *args]


@contextmanager
def _process(cmd: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _relay_output(proc: subprocess.Popen[str], label: str) -> threading.Thread:
    """Copy ``proc``'s output to ours, line by line, for as long as it runs. The demo waits
    on its servers for hours; a pipe nobody reads would stop a server once it filled (64 kB
    of Streamlit warnings or tracebacks would do)."""

    def copy() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip():
                print(f"[{label}] {line.rstrip()}", flush=True)

    thread = threading.Thread(target=copy, name=f"relay-{label}", daemon=True)
    thread.start()
    return thread


def _wait_for_url(proc: subprocess.Popen[str], timeout_s: float = 60) -> str:
    """Read the replica's start-up lines until it prints its URL."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip())
        match = _URL_PATTERN.search(line)
        if match:
            return match.group(1)
    raise UserError("the replica did not start: " + " | ".join(seen[-5:]))


def ensure_demo_campaign(db_path: Path, replica_url: str) -> None:
    """Create the demo campaign from the replica's own description, or point it at this
    replica's address (which changes from run to run)."""
    from warehouse.campaigns import create_campaign, list_campaigns, update_campaign

    with urllib.request.urlopen(f"{replica_url}/__admin/ground-truth", timeout=30) as response:
        truth = json.load(response)
    spec = truth["campaign"]

    def upsert(con: duckdb.DuckDBPyConnection) -> object:
        if any(c.slug == DEMO_SLUG for c in list_campaigns(con)):
            return update_campaign(con, DEMO_SLUG, site_url=replica_url, actor="demo")
        return create_campaign(
            con,
            DEMO_SLUG,
            title="ร่วมบันทึกการใช้สังคมออนไลน์ของหน่วยงานภาครัฐ (demo)",
            keywords=spec["keywords"],
            near_miss_tags=spec.get("near_miss_tags", []),
            opens_at=spec["opens"],
            closes_at=spec["closes"],
            prizes=4,
            alternates=2,
            prize_description="เงินสด 2,500 บาท",
            excluded_authors=spec.get("excluded_authors", []),
            announcement_post=spec.get("announcement_post"),
            site_url=replica_url,
            actor="demo",
        )

    run(upsert, db_path)


def ensure_demo_admin(db_path: Path) -> str:
    """A fresh password for the demo admin on every run (printed, never stored in clear)."""
    from warehouse import users

    password = secrets.token_urlsafe(9)

    def upsert(con: duckdb.DuckDBPyConnection) -> None:
        if users.get_user(con, DEMO_ADMIN) is None:
            users.add_user(
                con, DEMO_ADMIN, password, role="admin", display_name="Demo admin", actor="demo"
            )
        else:
            users.set_password(con, DEMO_ADMIN, password, actor="demo")

    run(upsert, db_path)
    return password


def demo_command(args: argparse.Namespace) -> int:
    from dashboard.launch import DashboardDidNotStart, dashboard_command, wait_until_healthy
    from scraper.crawl import run_crawl
    from warehouse.review import compute_suggestions

    db_path = demo_db_path(args.db)
    print(f"[demo] warehouse: {db_path}", flush=True)
    replica_cmd = _cli(
        "replica", "serve", "--port", str(args.replica_port),
        "--posts", str(args.posts), "--seed", str(args.seed),
    )  # fmt: skip
    if args.faults:
        replica_cmd.append("--faults")
    with _process(replica_cmd) as replica:
        replica_url = _wait_for_url(replica)
        _relay_output(replica, "replica")
        print(f"[demo] replica of GotoKnow at {replica_url}", flush=True)
        ensure_demo_campaign(db_path, replica_url)
        print(
            f"[demo] crawling campaign {DEMO_SLUG!r} (a sample checked in Chromium) ...", flush=True
        )
        summary = run_crawl(
            db_path, DEMO_SLUG, trigger="demo", unthrottled=True, progress=sys.stderr.isatty()
        )
        print(summary.format(), flush=True)
        review = compute_suggestions(db_path, DEMO_SLUG)
        print(f"[demo] suggestions: {review}", flush=True)
        password = ensure_demo_admin(db_path)
        dash_cmd, env = dashboard_command(db_path, host="127.0.0.1", port=args.port)
        with _process(dash_cmd, env=env) as dashboard:
            url = f"http://127.0.0.1:{args.port}"
            try:
                wait_until_healthy(url, dashboard)
            except DashboardDidNotStart as exc:
                raise UserError(str(exc)) from None
            print(
                "\n"
                f"  Dashboard:  {url}\n"
                f"  Sign in as: {DEMO_ADMIN}\n"
                f"  Password:   {password}\n"
                f"  Replica:    {replica_url}/posts?tag=สังคมออนไลน์\n"
                "\n  Ctrl-C stops the demo.\n",
                flush=True,
            )
            _relay_output(dashboard, "dashboard")
            if args.check:
                return 0
            try:
                dashboard.wait()
            except KeyboardInterrupt:
                print("[demo] stopping", flush=True)
    return 0
