"""The dashboard's library layer (queries, actions, safe text) on a real warehouse file."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from dashboard import actions, queries, seed
from dashboard.textview import highlight_html, md_escape
from warehouse.campaigns import freeze_campaign
from warehouse.db import run
from warehouse.decisions import StaleDecision, current_decisions, decision_history
from warehouse.errors import UserError
from warehouse.thai import BANGKOK

SLUG = "demo"


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    path = tmp_path_factory.mktemp("dash") / "template.duckdb"
    seed.ensure_campaign(path, SLUG)
    info = seed.seed_small(path, SLUG, n=30, hostile=False)
    return path, info


@pytest.fixture
def seeded(seeded_template: tuple[Path, dict], db_path: Path) -> tuple[Path, dict]:  # type: ignore[type-arg]
    shutil.copy(seeded_template[0], db_path)
    return db_path, seeded_template[1]


def test_queue_orders_by_attention_and_pages(seeded: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    db_path, info = seeded
    page = run(lambda con: queries.review_queue(con, SLUG, page_size=10), db_path)
    assert page.total == 31 and page.pages == 4 and len(page.rows) == 10
    # Undecided entries with the strongest suggestion first.
    assert [r.post_number for r in page.rows[:2]] == [info["copy"], info["spam"]]
    assert page.rows[0].top_kind == "duplicate" and page.rows[0].top_score == pytest.approx(0.99)
    last = run(lambda con: queries.review_queue(con, SLUG, page=4, page_size=10), db_path)
    assert len(last.rows) == 1
    seen = {
        r.post_number
        for p in range(1, 5)
        for r in run(
            lambda con, p=p: queries.review_queue(con, SLUG, page=p, page_size=10), db_path
        ).rows
    }
    assert len(seen) == 31

    # A decided entry moves behind the undecided ones.
    run(
        lambda con: actions.decide(
            con,
            SLUG,
            info["copy"],
            "duplicate",
            decided_by="mod",
            shown_decision_id=None,
            duplicate_of=info["original"],
        ),
        db_path,
    )
    page = run(lambda con: queries.review_queue(con, SLUG, page_size=50), db_path)
    assert page.rows[0].post_number == info["spam"]
    assert page.rows[-1].post_number == info["copy"] and page.rows[-1].status == "duplicate"


def test_queue_filters(seeded: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    db_path, info = seeded

    def q(**kw: object) -> queries.QueuePage:
        return run(lambda con: queries.review_queue(con, SLUG, queries.QueueFilters(**kw)), db_path)

    assert [r.post_number for r in q(kinds=("spam",)).rows] == [info["spam"]]
    assert q(kinds=("none",)).total == 29
    assert [r.post_number for r in q(author="copycat").rows] == [info["copy"]]
    assert [r.post_number for r in q(author="นักลอก").rows] == [info["copy"]]
    assert [r.post_number for r in q(text="สำเนา").rows] == [info["copy"]]
    assert q(text=f"บันทึกหมายเลข {info['first'] + 3} ").total == 1  # body text
    assert q(statuses=("eligible",)).total == 0
    assert q(statuses=("pending",)).total == 31
    assert q(date_from=date(2013, 8, 6), date_to=date(2013, 8, 6)).total >= 1
    assert q(date_from=date(2013, 9, 1)).total == 0
    # Past the end: empty rows, but the total is still right.
    past = run(lambda con: queries.review_queue(con, SLUG, page=99), db_path)
    assert past.rows == [] and past.total == 31


def test_entry_detail_matches_warehouse_entry(seeded: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    from warehouse.entries import get_entry

    db_path, info = seeded
    detail = run(lambda con: queries.entry_detail(con, SLUG, info["copy"]), db_path)
    reference = run(lambda con: get_entry(con, SLUG, info["copy"]), db_path)
    assert detail is not None and reference is not None
    assert detail.entry == reference
    assert detail.suggestions[0].kind == "duplicate"
    assert detail.suggestions[0].duplicate_of == info["original"]
    assert "passages" in detail.suggestions[0].evidence
    assert detail.body_text.startswith(seed._PARAGRAPHS[0][:3]) or detail.body_text
    assert detail.site_url == "http://127.0.0.1:9"
    original = run(lambda con: queries.entry_detail(con, SLUG, info["original"]), db_path)
    assert original is not None and original.comments_total == 2 and len(original.comments) == 2
    assert run(lambda con: queries.entry_detail(con, SLUG, 1), db_path) is None


def test_decide_stale_undo_and_history(seeded: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    db_path, info = seeded
    post = info["first"] + 2
    first = run(
        lambda con: actions.decide(
            con, SLUG, post, "eligible", decided_by="a", shown_decision_id=None
        ),
        db_path,
    )
    # A second moderator who still saw "no decision" is told, and nothing is written.
    with pytest.raises(StaleDecision) as stale:
        run(
            lambda con: actions.decide(
                con, SLUG, post, "spam", decided_by="b", shown_decision_id=None
            ),
            db_path,
        )
    assert stale.value.current is not None and stale.value.current.decision_id == first.decision_id
    second = run(
        lambda con: actions.decide(
            con,
            SLUG,
            post,
            "ineligible",
            decided_by="b",
            shown_decision_id=first.decision_id,
            reason="late",
            note="checked the date",
        ),
        db_path,
    )
    # Undo restores what the latest decision replaced.
    undone = run(
        lambda con: actions.undo(
            con, SLUG, post, decided_by="b", shown_decision_id=second.decision_id
        ),
        db_path,
    )
    assert undone.status == "eligible" and undone.supersedes == second.decision_id
    again = run(
        lambda con: actions.undo(
            con, SLUG, post, decided_by="b", shown_decision_id=undone.decision_id
        ),
        db_path,
    )
    assert again.status == "ineligible" and again.reason == "late"
    with pytest.raises(StaleDecision):
        run(
            lambda con: actions.undo(
                con, SLUG, post, decided_by="b", shown_decision_id=undone.decision_id
            ),
            db_path,
        )
    history = run(lambda con: decision_history(con, SLUG, post), db_path)
    assert [d.status for d in history] == ["eligible", "ineligible", "eligible", "ineligible"]
    # Undo of the only decision goes back to pending.
    other = info["first"] + 4
    d = run(
        lambda con: actions.decide(
            con, SLUG, other, "spam", decided_by="a", shown_decision_id=None
        ),
        db_path,
    )
    back = run(
        lambda con: actions.undo(con, SLUG, other, decided_by="a", shown_decision_id=d.decision_id),
        db_path,
    )
    assert back.status == "pending"


def test_bulk_and_keep_original(seeded: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    db_path, info = seeded
    a, b, c = info["first"] + 10, info["first"] + 11, info["first"] + 12
    run(
        lambda con: actions.decide(con, SLUG, c, "spam", decided_by="x", shown_decision_id=None),
        db_path,
    )
    result = run(
        lambda con: actions.decide_many(
            con,
            SLUG,
            [
                actions.DecisionRequest(a, None),
                actions.DecisionRequest(b, None),
                actions.DecisionRequest(c, None),
            ],  # c changed since shown
            "ineligible",
            decided_by="mod",
            reason="organiser",
        ),
        db_path,
    )
    assert [d.post_number for d in result.saved] == [a, b] and result.stale == [c]
    current = run(lambda con: current_decisions(con, SLUG), db_path)
    assert current[a].status == "ineligible" and current[a].reason == "organiser"
    assert current[c].status == "spam"

    clusters, total = run(lambda con: queries.duplicate_clusters(con, SLUG), db_path)
    assert total == 1 and clusters[0].original.post_number == info["original"]
    assert [m.post_number for m in clusters[0].copies] == [info["copy"]]
    assert clusters[0].copies[0].passages and clusters[0].original.passages
    copies = [actions.DecisionRequest(m.post_number, m.decision_id) for m in clusters[0].copies]
    kept = run(
        lambda con: actions.keep_original(con, SLUG, info["original"], copies, decided_by="mod"),
        db_path,
    )
    assert len(kept.saved) == 1
    current = run(lambda con: current_decisions(con, SLUG), db_path)
    assert current[info["copy"]].status == "duplicate"
    assert current[info["copy"]].duplicate_of == info["original"]
    assert info["original"] not in current  # the original is left alone


def test_frozen_campaign_refuses_decisions(seeded: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    db_path, info = seeded
    run(lambda con: freeze_campaign(con, SLUG, actor="admin"), db_path)
    with pytest.raises(UserError, match="frozen"):
        run(
            lambda con: actions.decide(
                con, SLUG, info["first"], "eligible", decided_by="m", shown_decision_id=None
            ),
            db_path,
        )
    assert run(lambda con: queries.entry_detail(con, SLUG, info["first"]), db_path).campaign_frozen


def test_overview_crawl_health_and_audit(seeded: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    db_path, info = seeded
    now = datetime.now(BANGKOK)

    def add_runs(con) -> None:  # type: ignore[no-untyped-def]
        for i, (status, errors, hours_ago) in enumerate(
            [("ok", 0, 30), ("ok", 1, 20), ("ok", 0, 12), ("partial", 9, 1)]
        ):
            started = now - timedelta(hours=hours_ago)
            con.execute(
                "INSERT INTO crawl_runs (campaign_slug, mode, status, started_at, finished_at, "
                "errors, duration_s, post_pages) VALUES (?, 'incremental', ?, ?, ?, ?, ?, ?)",
                [SLUG, status, started, started + timedelta(minutes=5), errors, 300.0 + i, 10],
            )

    run(add_runs, db_path)
    run(
        lambda con: actions.decide(
            con, SLUG, info["spam"], "spam", decided_by="mod", shown_decision_id=None
        ),
        db_path,
    )
    # The seeded campaign closed in 2013: still "crawled" only if we pretend it is open.
    run(
        lambda con: con.execute(
            "UPDATE campaigns SET closes_at = ? WHERE slug = ?", [now + timedelta(days=1), SLUG]
        ),
        db_path,
    )
    data = run(lambda con: queries.overview(con, SLUG), db_path)
    assert data.total == 31 and data.by_status["spam"] == 1 and data.undecided == 30
    assert sum(n for _, n in data.per_day) == 31
    # Crawl health comes from warehouse.health (the scheduler part's definitions).
    assert data.health.last_run is not None and data.health.last_run.status == "partial"
    assert data.health.stale and data.health.error_trend_rising
    assert data.suggestion_counts == {"duplicate": 1, "spam": 1}
    errors = run(lambda con: queries.crawl_errors(con, data.health.last_run.run_id), db_path)
    assert errors == []

    rows = run(
        lambda con: queries.audit_rows(
            con, queries.AuditFilters(campaign_slug=SLUG, action="decision")
        ),
        db_path,
    )
    assert len(rows) == 1 and rows[0]["actor"] == "mod"
    assert (
        run(lambda con: queries.audit_rows(con, queries.AuditFilters(actor="nobody")), db_path)
        == []
    )
    data_csv = queries.csv_bytes(
        [*rows, {"audit_id": 0, "actor": '=HYPERLINK("x")', "action": "x", "details": "ไทย"}],
        ["audit_id", "at", "actor", "action", "details"],
    )
    assert data_csv.startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(data_csv.decode("utf-8-sig"))))
    assert parsed[0] == ["audit_id", "at", "actor", "action", "details"]
    assert parsed[2][2].startswith("'=") and parsed[2][4] == "ไทย"


def test_hostile_text_stays_inert() -> None:
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)"> [a](javascript:x) ![i](http://e/x.png) **b** $x$ :red[r]'
    html_out = highlight_html(hostile + " shared passage here", ["shared passage here", "<script>"])
    assert "<script>" not in html_out and "<img" not in html_out
    assert "&lt;script&gt;" in html_out and "&lt;img src=x onerror=" in html_out
    assert html_out.count("<mark>") == 2  # our markup only: both passages, escaped inside
    assert "<mark>&lt;script&gt;</mark>" in html_out
    # Passages from normalised text still match text with zero-width characters and newlines.
    assert "<mark>" in highlight_html("ab\u200bc  de\n\nf", ["abc de f"])
    escaped = md_escape(hostile)
    for raw in ("<script>", "](", "![", "**", "$x$", ":red["):
        assert raw not in escaped
