"""The public results site (``tagdraw publish``), built from a real crawl of the replica: the
files of each stage (collecting, frozen, drawn), what they hold and what they never hold,
the page's Content-Security-Policy, and the atomic rewrite. The page itself is driven in a
real Chromium by test_publish_browser.py, which reuses :func:`published_sites`.

Expected statuses come from the decisions this test makes itself and the post it disqualifies,
never from the code under test."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from replica.server import ReplicaServer
from replica.site import CLOSES, OPENS, build_site
from scraper.crawl import crawl_campaign
from tagdraw.cli import main as tagdraw
from warehouse.campaigns import create_campaign
from warehouse.db import connect, run
from warehouse.decisions import record_decision
from warehouse.draw import freeze, replace_winner, run_draw
from warehouse.entries import list_entries
from warehouse.publish import publish
from warehouse.thai import BANGKOK

SLUG = "publish-demo"
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_NAME = "<script>alert(2)</script> ผู้เขียน"
MODERATOR = "mod-private-somchai"
SECRET_NOTE = "private-note-do-not-publish-8841"
CONTACT_TEXT = "ติดต่อผู้จัดได้ที่อีเมล"
CONTACT_URL = "mailto:organisers@example.org"
RANDOMNESS_VALUE = "640632"
CRAWL = {
    "unthrottled": True,
    "request_timeout_s": 15.0,
    "retry_backoff_s": 0.05,
    "max_attempts": 6,
    "progress": False,
}


@dataclass
class Sites:
    root: Path
    db_path: Path
    collecting: Path
    frozen: Path
    drawn: Path
    # The test's own record: post -> status it decided ('pending' if left undecided).
    decided: dict[int, str]
    duplicate_of: dict[int, int]
    reasons: dict[int, str]
    pool: set[int]
    disqualified: int
    hostile_post: int
    certificate: dict[str, Any]
    candidates: set[int]

    def expected_status(self, post: int, stage: str) -> str:
        """counted / not_counted / pending, from the test's decisions alone."""
        status = self.decided[post]
        if stage == "collecting":
            return {"eligible": "counted", "pending": "pending"}.get(status, "not_counted")
        counted = post in self.pool and not (stage == "drawn" and post == self.disqualified)
        return "counted" if counted else "not_counted"


_CACHE: dict[Path, Sites] = {}


def published_sites(root: Path) -> Sites:
    """Crawl a replica, decide, publish while collecting, freeze, publish, draw, disqualify
    one winner, publish. Built once per test session (both test modules use it)."""
    if root not in _CACHE:
        _CACHE[root] = _build(root)
    return _CACHE[root]


def _build(root: Path) -> Sites:
    root.mkdir(parents=True, exist_ok=True)
    db_path = root / "tagdraw.duckdb"
    site = build_site(n_posts=60, seed=5)
    hostile = site.add_post(
        title=HOSTILE_TITLE,
        author_username="hostile.writer",
        author_name=HOSTILE_NAME,
        created_at=OPENS + timedelta(days=3),
    )
    truth = site.ground_truth()
    campaign = truth["campaign"]
    with ReplicaServer(site) as server:
        values = {
            "keywords": campaign["keywords"],
            "near_miss_tags": campaign["near_miss_tags"],
            "opens_at": campaign["opens"],
            "closes_at": campaign["closes"],
            "prizes": 3,
            "alternates": 3,
            "site_url": server.url,
            "announcement_post": campaign["announcement_post"],
            "excluded_authors": campaign["excluded_authors"],
            "title": "ร่วมบันทึกการใช้สังคมออนไลน์",
            "prize_description": "เงินสด 2,500 บาท",
            "contact_text": CONTACT_TEXT,
            "contact_url": CONTACT_URL,
        }
        run(lambda con: create_campaign(con, SLUG, **values), db_path)
        summary = asyncio.run(
            crawl_campaign(db_path, SLUG, failed_pages_dir=root / "failed", **CRAWL)
        )
        assert summary.status == "ok", summary.format()

    decided: dict[int, str] = {}
    duplicate_of: dict[int, int] = {}
    reasons: dict[int, str] = {}
    with connect(db_path) as con:
        entries = list_entries(con, SLUG)
        clean = [e.post_number for e in entries if not e.facts.reasons()]
        assert hostile in clean
        others = [n for n in clean if n != hostile]
        undecided = set(others[-2:])  # left pending, then out of the pool at the freeze
        duplicate, other = others[1], others[3]
        # Spam as the replica planted it (a moderator would catch it), and one more.
        spam = set(truth["labels"]["spam"]) | {others[2]}
        for entry in entries:
            n = entry.post_number
            rule = entry.facts.reasons()
            extra: dict[str, Any] = {}
            if n in undecided:
                decided[n] = "pending"
                continue
            if rule:
                status, extra = "ineligible", {"reason": rule[0]}
                reasons[n] = rule[0]
            elif n == duplicate:
                status, extra = "duplicate", {"duplicate_of": others[0]}
                duplicate_of[n] = others[0]
            elif n in spam:
                status = "spam"
            elif n == other:
                status, extra = "ineligible", {"reason": "other"}
            else:
                status = "eligible"
            record_decision(con, SLUG, n, status, decided_by=MODERATOR, note=SECRET_NOTE, **extra)
            decided[n] = status
    candidates = set(decided)
    out = root / "sites"
    out.mkdir()
    collecting, _ = publish(db_path, SLUG, out / "collecting")

    now = datetime.now(BANGKOK)
    with connect(db_path) as con:
        freeze(
            con,
            SLUG,
            actor=MODERATOR,
            randomness_source="สลากกินแบ่งรัฐบาล รางวัลที่ 1 งวดวันที่ 1 กันยายน 2556",
            randomness_due=now - timedelta(minutes=30),
            randomness_values=1,
            randomness_digits=6,
            leave_out_undecided=True,
            now=now - timedelta(hours=1),
        )
    frozen, _ = publish(db_path, SLUG, out / "frozen")
    with connect(db_path) as con:
        run_draw(con, SLUG, randomness=[RANDOMNESS_VALUE], actor=MODERATOR)
    with connect(db_path) as con:
        first = json.loads(
            con.execute("SELECT winners FROM draws WHERE campaign_slug = ?", [SLUG]).fetchone()[0]
        )[0]
        certificate = replace_winner(
            con, SLUG, first, reason="ไม่ได้ตอบรับภายในกำหนด", actor=MODERATOR
        )
    drawn, _ = publish(db_path, SLUG, out / "drawn")
    pool = {n for n, s in decided.items() if s == "eligible"}
    assert {r["post_number"] for r in certificate["ranking"]} == pool
    return Sites(
        root=root,
        db_path=db_path,
        collecting=collecting,
        frozen=frozen,
        drawn=drawn,
        decided=decided,
        duplicate_of=duplicate_of,
        reasons=reasons,
        pool=pool,
        disqualified=first,
        hostile_post=hostile,
        certificate=certificate,
        candidates=candidates,
    )


pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


def test_each_stage_writes_its_files(sites: Sites) -> None:
    assert sorted(p.name for p in sites.collecting.iterdir()) == ["entries.json", "index.html"]
    assert sorted(p.name for p in sites.frozen.iterdir()) == [
        "entries.json",
        "index.html",
        "pool.csv",
    ]
    assert sorted(p.name for p in sites.drawn.iterdir()) == [
        "certificate.json",
        "entries.json",
        "index.html",
        "pool.csv",
    ]
    pool_bytes = (sites.frozen / "pool.csv").read_bytes()
    assert pool_bytes == sites.certificate["pool"].encode("utf-8")  # byte for byte
    assert (sites.drawn / "pool.csv").read_bytes() == pool_bytes
    assert hashlib.sha256(pool_bytes).hexdigest() == sites.certificate["pool_hash"]
    assert json.loads((sites.drawn / "certificate.json").read_text("utf-8")) == sites.certificate
    # No temporary directories left beside the sites.
    assert sorted(p.name for p in sites.drawn.parent.iterdir()) == [
        "collecting",
        "drawn",
        "frozen",
    ]


def test_published_certificate_verifies_with_the_python_verifier(
    sites: Sites, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tagdraw(["draw", "verify", str(sites.drawn / "certificate.json")]) == 0
    assert capsys.readouterr().out.startswith("OK")


@pytest.mark.parametrize("stage", ["collecting", "frozen", "drawn"])
def test_entries_json_statuses_and_reasons(sites: Sites, stage: str) -> None:
    data = json.loads((getattr(sites, stage) / "entries.json").read_text("utf-8"))
    assert data["state"] == stage
    rows = {e["post_number"]: e for e in data["entries"]}
    assert set(rows) == sites.candidates
    for post, row in rows.items():
        assert row["status"] == sites.expected_status(post, stage), (post, row)
    for post, reason in sites.reasons.items():
        assert rows[post]["reason"] == reason
    for post, original in sites.duplicate_of.items():
        assert (rows[post]["reason"], rows[post]["duplicate_of"]) == ("duplicate", original)
    if stage != "collecting":
        for post in (n for n, s in sites.decided.items() if s == "pending"):
            assert rows[post]["reason"] == "left_out_undecided"
    if stage == "drawn":
        assert rows[sites.disqualified]["reason"] == "disqualified"
        assert data["draw"]["final_winners"] == sites.certificate["final_winners"]
    hostile = rows[sites.hostile_post]
    assert (hostile["title"], hostile["author_name"]) == (HOSTILE_TITLE, HOSTILE_NAME)
    assert data["campaign"]["contact_url"] == CONTACT_URL


def test_no_moderator_names_notes_or_suggestions_are_published(sites: Sites) -> None:
    for site in (sites.collecting, sites.frozen):
        for path in site.iterdir():
            text = path.read_text("utf-8")
            assert MODERATOR not in text, path
            assert SECRET_NOTE not in text, path
    for path in sites.drawn.iterdir():
        text = path.read_text("utf-8")
        assert SECRET_NOTE not in text, path
        assert "suggestion" not in text.lower(), path
    entries = json.loads((sites.drawn / "entries.json").read_text("utf-8"))["entries"]
    assert {key for e in entries for key in e} == {
        "post_number",
        "url",
        "title",
        "author_name",
        "created_at",
        "status",
        "reason",
        "duplicate_of",
    }


def _inline(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}(?: [^>]*)?>(.*?)</{tag}>", html, flags=re.S)


def test_page_is_self_contained_under_a_strict_csp(sites: Sites) -> None:
    html = (sites.drawn / "index.html").read_text("utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    scripts = [s for s in _inline(html, "script") if not s.startswith(("{", "null", '"'))]
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert directives["script-src"] == f"'sha256-{digest}'"
    style = _inline(html, "style")[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert directives["style-src"] == f"'sha256-{digest}'"
    # Nothing from another host: no src/href to http(s) in the markup around the data.
    assert not re.search(r'(src|href)="https?:', html)
    # The hostile title is only ever inside JSON, with its markup characters escaped.
    assert HOSTILE_TITLE not in html
    assert "<script>alert" not in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html


def test_republishing_swaps_the_whole_directory(sites: Sites, tmp_path: Path) -> None:
    target = tmp_path / "site"
    first, _ = publish(sites.db_path, SLUG, target)
    (target / "stale.txt").write_text("from an older site")
    second, _ = publish(sites.db_path, SLUG, target)
    assert first == second == target
    assert sorted(p.name for p in target.iterdir()) == [
        "certificate.json",
        "entries.json",
        "index.html",
        "pool.csv",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_refuses_to_replace_a_directory_that_is_not_a_site(
    sites: Sites, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "documents"
    target.mkdir()
    (target / "thesis.docx").write_text("precious")
    code = tagdraw(["--db", str(sites.db_path), "publish", SLUG, "--out", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert "not a published site" in err and err.count("\n") == 1
    assert [p.name for p in target.iterdir()] == ["thesis.docx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents"]


def test_cli_publish(sites: Sites, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "public"
    assert tagdraw(["--db", str(sites.db_path), "publish", SLUG, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{out}/index.html" in printed and "(drawn)" in printed
    assert (out / "certificate.json").is_file()
    code = tagdraw(["--db", str(sites.db_path), "publish", "no-such", "--out", str(out)])
    assert code == 2
    assert "Unknown campaign" in capsys.readouterr().err
    nowhere = tmp_path / "missing" / "site"
    code = tagdraw(["--db", str(sites.db_path), "publish", SLUG, "--out", str(nowhere)])
    assert code == 2
    assert "no directory" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()


def test_contact_settings_on_the_command_line(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--db", str(db_path), "campaign"]
    window = ["--keyword", "kw", "--opens", "2013-08-06", "--closes", "2013-08-31"]
    contact = ["--contact-text", "ถามได้ที่นี่", "--contact-url", "https://example.org/ask"]
    assert tagdraw([*base, "create", "c1", *window, "--prizes", "1", *contact]) == 0
    assert tagdraw([*base, "edit", "c1", "--contact-url", "javascript:alert(1)"]) == 2
    assert "contact URL" in capsys.readouterr().err
    assert tagdraw([*base, "show", "c1", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["contact_text"], shown["contact_url"]) == (
        "ถามได้ที่นี่",
        "https://example.org/ask",
    )
    assert tagdraw([*base, "edit", "c1", "--contact-url", ""]) == 0
    capsys.readouterr()
    assert tagdraw([*base, "show", "c1", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["contact_url"] is None


def test_dates_are_buddhist_era_in_thai(sites: Sites) -> None:
    data = json.loads((sites.collecting / "entries.json").read_text("utf-8"))
    opens = data["campaign"]["opens_at"]
    assert opens["iso"].startswith("2013-08-06T00:00:00+07:00")
    assert "2556" in opens["th"] and "2013" in opens["en"]
    assert CLOSES.year + 543 == int(re.search(r"\d{4}", data["campaign"]["closes_at"]["th"])[0])


def _draw_page_script(db_path: str, slug: str) -> None:
    # Runs as a Streamlit script: everything it needs is imported here.
    from pathlib import Path

    from dashboard.context import Ctx
    from dashboard.views.draw import render
    from warehouse.users import User

    user = User("boss", "Boss", "admin", False, None, None, None)
    render(Ctx(db_path=Path(db_path), user=user, campaign_slug=slug, lang="en"))


def test_draw_page_publish_action(sites: Sites, tmp_path: Path) -> None:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(
        _draw_page_script,
        kwargs={"db_path": str(sites.db_path), "slug": SLUG},
        default_timeout=120,
    ).run()
    assert not app.exception
    out = tmp_path / "from-dashboard"
    app.text_input(key="draw_pub_dir").set_value(str(out))
    app.button(key="draw_publish").click()
    app.run()
    assert not app.exception
    shown = [re.sub(r"\\(.)", r"\1", str(s.value)) for s in app.success]  # markdown-escaped
    assert f"Site written to {out}/index.html" in shown
    assert sorted(p.name for p in out.iterdir()) == [
        "certificate.json",
        "entries.json",
        "index.html",
        "pool.csv",
    ]
    assert (out / "pool.csv").read_bytes() == (sites.drawn / "pool.csv").read_bytes()


def test_schedule_refreshes_the_site_after_each_crawl(tmp_path: Path) -> None:
    from scraper.schedule import Scheduler

    db = tmp_path / "schedule.duckdb"
    site = build_site(n_posts=20, seed=9)
    campaign = site.ground_truth()["campaign"]
    public = tmp_path / "public"
    public.mkdir()
    with ReplicaServer(site) as server:
        values = {
            "keywords": campaign["keywords"],
            "opens_at": campaign["opens"],
            "closes_at": campaign["closes"],
            "prizes": 1,
            "site_url": server.url,
        }
        run(lambda con: create_campaign(con, "sched", **values), db)
        options = {k: v for k, v in CRAWL.items() if k != "progress"}
        scheduler = Scheduler(
            db, slugs=["sched"], publish_dir=public, crawl_options=options, interval_min=60
        )
        outcomes = scheduler.tick(now=CLOSES - timedelta(days=1))
        assert [o.status for o in outcomes] == ["ok"]
        first = json.loads((public / "sched" / "entries.json").read_text("utf-8"))
        assert first["last_crawl_at"] is not None
        listed = {e["post_number"] for e in first["entries"]}
        assert listed and listed <= {int(n) for n in site.ground_truth()["posts"]}
        added = site.add_post(title="บันทึกใหม่หลังรอบแรก", created_at=OPENS + timedelta(days=2))
        scheduler.tick(now=CLOSES - timedelta(days=1))
    second = json.loads((public / "sched" / "entries.json").read_text("utf-8"))
    assert {e["post_number"] for e in second["entries"]} == listed | {added}
    assert sorted(p.name for p in public.iterdir()) == ["sched"]


def test_readers_never_see_a_missing_or_half_written_site(sites: Sites, tmp_path: Path) -> None:
    import threading

    from warehouse.publish import public_data, write_site

    site = run(lambda con: public_data(con, SLUG), sites.db_path, read_only=True)
    target = tmp_path / "live"
    write_site(site, target)
    problems: list[str] = []
    reads = 0
    stop = threading.Event()

    def read_continuously() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                page = (target / "index.html").read_bytes()
                json.loads((target / "entries.json").read_bytes())
                if not page.rstrip().endswith(b"</html>"):
                    problems.append("index.html cut short")
            except (OSError, ValueError) as exc:
                problems.append(f"{type(exc).__name__}: {exc}")
            reads += 1

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for _ in range(40):
            write_site(site, target)
    finally:
        stop.set()
        reader.join()
    assert reads > 40
    assert problems == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live"]
