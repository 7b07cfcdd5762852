"""Rule decisions and stored suggestions over a real warehouse file, fed with the replica's
ground truth as a complete crawl would store it."""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from replica.site import build_site
from tagdraw.cli import main as tagdraw
from warehouse.db import connect, run
from warehouse.decisions import current_decisions, decision_history, record_decision
from warehouse.models import Post
from warehouse.review import (
    compute_suggestions,
    entries_report,
    list_duplicate_clusters,
    list_near_misses,
    list_suggestions,
    service,
)
from warehouse.review.ground_truth import store_ground_truth
from warehouse.review.model import ReviewPost
from warehouse.review.near_miss import untagged_mentions
from warehouse.review.rules import PostVersion, describe_edit
from warehouse.store import store_posts
from warehouse.thai import BANGKOK

SLUG = "online"


@functools.lru_cache(maxsize=1)
def _gt() -> dict[str, Any]:
    return build_site(150, 11).ground_truth()


@pytest.fixture
def stored(db_path: Path) -> dict[str, Any]:
    gt = _gt()
    with connect(db_path) as con:
        store_ground_truth(con, gt, SLUG, max_entries_per_author=1)
    return gt


def _decisions(db_path: Path) -> dict[int, Any]:
    return run(lambda con: current_decisions(con, SLUG), db_path, read_only=True)


def _count_decisions(db_path: Path) -> int:
    return run(lambda con: con.execute("SELECT count(*) FROM decisions").fetchone()[0], db_path)


def test_every_rule_case_decided_with_its_reason(db_path: Path, stored: dict[str, Any]) -> None:
    labels = stored["labels"]
    summary = compute_suggestions(db_path, SLUG)
    print(f"\n[rules] {summary}")
    decisions = _decisions(db_path)
    listed = set(stored["listed"])
    expected: dict[int, str] = {}
    for reason, numbers in (
        ("early", labels["early"]),
        ("late", labels["late"]),
        ("organiser", labels["organiser"]),
        ("gone", [n for n in labels["deleted"] + labels["private"] if n in listed]),
    ):
        assert numbers, f"the replica planted no {reason} case"
        for n in numbers:
            expected[n] = reason
    for n, reason in sorted(expected.items()):
        d = decisions.get(n)
        assert d is not None, f"post {n} ({reason}) got no decision"
        assert (d.status, d.reason, d.source, d.decided_by) == (
            "ineligible",
            reason,
            "rule",
            "rules",
        )
    # Nothing else was decided by the rules.
    assert set(decisions) == set(expected)
    assert summary.rule_decisions == len(expected)
    print(f"[rules] {len(expected)} rule cases right: {sorted(set(expected.values()))}")

    suggestions = run(lambda con: list_suggestions(con, SLUG), db_path, read_only=True)
    # Edited after the deadline: a suggestion for a moderator, not a decision.
    for n in labels["edited_after_close"]:
        kinds = {s.evidence.get("rule") for s in suggestions.get(n, []) if s.kind == "rule"}
        assert "edited_after_close" in kinds, n
    # Over the author limit (1 here): every entry after an author's first counted one.
    over = {
        n
        for n, items in suggestions.items()
        for s in items
        if s.kind == "rule" and s.evidence.get("rule") == "over_author_limit"
    }
    entries = run(lambda con: service.list_entries(con, SLUG), db_path, read_only=True)
    by_author: dict[str, list[tuple[str, int]]] = {}
    for e in entries:
        f = e.facts
        if f.tagged and f.in_window and not f.gone and e.author_key:
            by_author.setdefault(e.author_key, []).append((e.created_at.isoformat(), e.post_number))
    expected_over = {n for items in by_author.values() for _t, n in sorted(items)[1:]}
    assert expected_over and over == expected_over
    multi = stored["labels"]["multi_entry_authors"]
    assert any(len(v) > 1 for v in multi.values())


def test_second_run_writes_nothing_and_moderators_win(
    db_path: Path, stored: dict[str, Any]
) -> None:
    # A moderator deciding between the review's read and its write is not overwritten.
    data = run(lambda con: service.read_review_input(con, SLUG), db_path)
    plan = service.plan_review(data)
    target = plan.decisions[0].post_number
    with connect(db_path) as con:
        record_decision(con, SLUG, target, "eligible", decided_by="mod", note="organisers agreed")
    summary = service.ReviewSummary(SLUG)
    run(
        lambda con: service.write_review(con, SLUG, plan, summary, datetime.now(BANGKOK)),
        db_path,
    )
    assert (summary.rule_decisions, summary.rule_decisions_skipped) == (len(plan.decisions) - 1, 1)
    assert _decisions(db_path)[target].decided_by == "mod"

    # Running again writes no decision: nothing changed.
    before = _count_decisions(db_path)
    again = compute_suggestions(db_path, SLUG)
    assert (again.rule_decisions, again.rule_decisions_skipped) == (0, 0)
    assert _count_decisions(db_path) == before
    latest = _decisions(db_path)[target]
    assert (latest.status, latest.source, latest.decided_by) == ("eligible", "moderator", "mod")

    # A moderator overriding a rule decision later is left alone too.
    late = stored["labels"]["late"][0]
    assert _decisions(db_path)[late].source == "rule"
    with connect(db_path) as con:
        record_decision(con, SLUG, late, "eligible", decided_by="mod2")
    assert compute_suggestions(db_path, SLUG).rule_decisions == 0
    assert _decisions(db_path)[late].decided_by == "mod2"
    assert _count_decisions(db_path) == before + 1


def test_keyword_removed_then_restored(db_path: Path, stored: dict[str, Any]) -> None:
    compute_suggestions(db_path, SLUG)
    number = next(
        n
        for n in stored["listed"]
        if n not in _decisions(db_path) and stored["posts"][str(n)]["state"] == "public"
    )
    p = stored["posts"][str(number)]
    base = Post(
        post_number=number,
        url=p["url"],
        title=p["title"],
        author_username=p["author_username"],
        author_name=p["author_name"],
        book_slug=p["book_slug"],
        created_at=datetime.fromisoformat(p["created_at"]),
        updated_at=datetime.fromisoformat(p["created_at"]) + timedelta(hours=1),
        tags=("facebook",),
        raw_tags=("Facebook",),
        body_text=p["body_text"],
        license_text=None,
        comment_count_declared=p["comment_count_declared"],
    )
    seen = datetime.fromisoformat(stored["campaign"]["closes"]) + timedelta(days=2)
    with connect(db_path) as con:
        store_posts(con, [base], seen_at=seen)
    compute_suggestions(db_path, SLUG)
    d = _decisions(db_path)[number]
    assert (d.status, d.reason, d.source) == ("ineligible", "untagged", "rule")
    assert "removed" in (d.note or "")
    # Tag put back: the rule stops applying and its decision goes back to pending.
    with connect(db_path) as con:
        store_posts(
            con,
            [replace(base, tags=tuple(p["tags"]), raw_tags=tuple(p["raw_tags"]))],
            seen_at=seen + timedelta(hours=1),
        )
    compute_suggestions(db_path, SLUG)
    history = run(lambda con: decision_history(con, SLUG, number), db_path, read_only=True)
    assert [h.status for h in history][-2:] == ["ineligible", "pending"]
    assert history[-1].source == "rule"


def test_edited_after_close_says_what_changed(db_path: Path, stored: dict[str, Any]) -> None:
    closes = datetime.fromisoformat(stored["campaign"]["closes"])
    number = next(
        n
        for n in stored["listed"]
        if stored["posts"][str(n)]["state"] == "public"
        and n not in stored["labels"]["late"] + stored["labels"]["early"]
        and not stored["posts"][str(n)]["updated_at"]
    )
    p = stored["posts"][str(number)]
    post = Post(
        post_number=number,
        url=p["url"],
        title=p["title"],
        author_username=p["author_username"],
        author_name=p["author_name"],
        book_slug=p["book_slug"],
        created_at=datetime.fromisoformat(p["created_at"]),
        updated_at=None,
        tags=tuple(p["tags"]),
        raw_tags=tuple(p["raw_tags"]),
        body_text=p["body_text"],
        license_text=None,
        comment_count_declared=p["comment_count_declared"],
    )
    edited = replace(
        post,
        title=p["title"] + " (แก้ไข)",
        body_text=p["body_text"] + "\n\nเพิ่มเติมหลังปิดรับ: ขอบคุณทุกท่านที่อ่านค่ะ",
        updated_at=closes + timedelta(days=3),
    )
    with connect(db_path) as con:
        # The first crawl stored this post after close; pretend an earlier one saw it before.
        con.execute("DELETE FROM post_versions WHERE post_number = ?", [number])
        con.execute("DELETE FROM posts WHERE post_number = ?", [number])
        store_posts(con, [post], seen_at=closes - timedelta(days=1))
        store_posts(con, [edited], seen_at=closes + timedelta(days=4))
    compute_suggestions(db_path, SLUG)
    items = run(lambda con: list_suggestions(con, SLUG), db_path, read_only=True)[number]
    rule = next(s for s in items if s.evidence.get("rule") == "edited_after_close")
    assert rule.evidence["known"] is True
    assert rule.evidence["title"]["after"].endswith("(แก้ไข)")
    assert rule.evidence["body"]["inserted"] >= 30
    assert "title changed" in rule.why and "body +" in rule.why
    assert number not in _decisions(db_path)  # a flag for a moderator, not a decision


def test_stored_suggestions_clusters_near_misses_and_entries_lines(
    db_path: Path, stored: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    compute_suggestions(db_path, SLUG)
    with connect(db_path, read_only=True) as con:
        suggestions = list_suggestions(con, SLUG)
        clusters = list_duplicate_clusters(con, SLUG)
        misses = list_near_misses(con, SLUG)
        report = entries_report(con, SLUG)
    labels = stored["labels"]
    listed = set(stored["listed"])
    for original, copy, _kind in labels["duplicate_pairs"]:
        if copy in listed:
            dups = [s for s in suggestions.get(copy, []) if s.kind == "duplicate"]
            assert any(s.duplicate_of == original for s in dups), copy
            assert dups[0].evidence["passages"]
    assert any(
        copy in c["members"] and c["original"] == original
        for c in clusters
        for original, copy, _ in labels["duplicate_pairs"]
    )
    for n in labels["spam"]:
        if n in listed:
            assert any(s.kind == "spam" for s in suggestions.get(n, [])), n
    assert {m.post_number for m in misses if m.kind == "untagged_post"} >= set(labels["near_miss"])
    answers = {m.comment_id for m in misses if m.kind == "thread_answer"}
    assert answers and answers <= set(labels["announcement_thread_answers"])
    # Replaced, not appended, on every run.
    compute_suggestions(db_path, SLUG)
    count = run(
        lambda con: con.execute(
            "SELECT count(*) FROM suggestions WHERE campaign_slug = ?", [SLUG]
        ).fetchone()[0],
        db_path,
    )
    assert count == sum(len(v) for v in suggestions.values())

    by_number = {line["post_number"]: line for line in report}
    for line in report:
        assert {
            "post_number",
            "status",
            "reasons",
            "suggestions",
            "title",
            "author",
            "url",
            "created_at",
            "facts",
        } <= set(line)
        assert line["status"] in ("pending", "eligible", "duplicate", "spam", "ineligible")
    early = labels["early"][0]
    assert by_number[early]["status"] == "ineligible" and by_number[early]["reasons"][0] == "early"

    # The CLI prints the same lines, one JSON object per line, and filters by status.
    assert (
        tagdraw(
            ["--db", str(db_path), "entries", SLUG, "--format", "json", "--status", "ineligible"]
        )
        == 0
    )
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines and all(x["status"] == "ineligible" for x in lines)
    assert {x["post_number"] for x in lines} == {
        n for n, x in by_number.items() if x["status"] == "ineligible"
    }
    assert tagdraw(["--db", str(db_path), "review", "suggest", SLUG]) == 0
    assert "0 rule decisions written" in capsys.readouterr().out
    assert tagdraw(["--db", str(db_path), "entries", SLUG, "--status", "maybe"]) == 2
    assert "Unknown status" in capsys.readouterr().err


def test_an_edit_names_tags_added_or_removed_not_the_same_tag_written_in_another_case() -> None:
    closes = datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)
    before = PostVersion(1, closes - timedelta(days=1), "t", "b", ("ICT", "สังคมออนไลน์"), None)
    after = PostVersion(2, closes + timedelta(days=1), "t", "b", ("ict", "อื่น"), None)
    change = describe_edit([before, after], closes)
    assert (change["tags_added"], change["tags_removed"]) == (["อื่น"], ["สังคมออนไลน์"])


def test_a_tag_written_in_another_case_is_no_near_miss() -> None:
    def review_post(n: int, tags: tuple[str, ...]) -> ReviewPost:
        return ReviewPost(n, f"u{n}", None, "ICT ในโรงเรียน", "ใช้ ICT ทุกวัน", tags)

    found = untagged_mentions([review_post(1, ("Ict",)), review_post(2, ("อื่น",))], ["ict"])
    assert [n.post_number for n in found] == [2]
