"""The one registry of eligibility rules (warehouse.rules): every place that names a rule
reads it, so a rule added there shows up in entries, the review queue, the reason codes
and both languages' labels."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dashboard import queries
from dashboard.i18n import t
from warehouse import rules
from warehouse.campaigns import create_campaign
from warehouse.db import connect, run
from warehouse.decisions import record_decision
from warehouse.entries import RuleFacts, list_entries
from warehouse.errors import UserError
from warehouse.models import Post
from warehouse.publish import public_status
from warehouse.review.rules import rule_outcome
from warehouse.store import store_posts
from warehouse.thai import BANGKOK

SLUG = "rules"
KW = "สังคมออนไลน์"
IN = datetime(2013, 8, 20, 10, 0, tzinfo=BANGKOK)


def _post(n: int, author: str, *, created: datetime = IN, **changes: object) -> Post:
    values: dict[str, object] = {
        "post_number": n,
        "url": f"/posts/{n}",
        "title": f"บันทึก {n}",
        "author_username": author,
        "author_name": author.title(),
        "book_slug": None,
        "created_at": created,
        "updated_at": None,
        "tags": (KW,),
        "raw_tags": ("#" + KW,),
        "body_text": "เนื้อหา",
        "license_text": None,
        "comment_count_declared": 0,
    }
    values.update(changes)
    return Post(**values)  # type: ignore[arg-type]


@pytest.fixture
def warehouse(db_path: Path) -> Path:
    """Posts that each break one rule: 1 keeps them all, 2 is early, 3 is late, 4 had its
    keyword removed, 5 has a one-letter title."""
    crawl = datetime(2013, 8, 25, tzinfo=BANGKOK)
    with connect(db_path) as con:
        create_campaign(
            con,
            SLUG,
            keywords=["#" + KW],
            opens_at="2013-08-06",
            closes_at="2013-08-31",
            prizes=1,
        )
        store_posts(
            con,
            [
                _post(1, "alice"),
                _post(2, "bob", created=datetime(2013, 8, 1, tzinfo=BANGKOK)),
                _post(3, "carol", created=datetime(2013, 9, 2, tzinfo=BANGKOK)),
                _post(4, "dave"),
                _post(5, "erin", title="ก"),
            ],
            seen_at=crawl,
        )
        store_posts(con, [_post(4, "dave", tags=("อื่น",))], seen_at=crawl + timedelta(days=1))
    return db_path


def _queue_flags(db_path: Path) -> dict[int, tuple[tuple[str, ...], int]]:
    """post -> (the rule flags the queue shows, the queue's rule_count)."""

    def read(con: object) -> dict[int, tuple[tuple[str, ...], int]]:
        base = queries.queue_base(con, SLUG).to_pylist()  # type: ignore[arg-type]
        counts = {r["post_number"]: r["rule_count"] for r in base}
        page = queries.review_queue(con, SLUG, page_size=500)  # type: ignore[arg-type]
        return {r.post_number: (r.rule_reasons, counts[r.post_number]) for r in page.rows}

    return run(read, db_path)


def test_queue_rule_count_counts_every_rule_flag(warehouse: Path) -> None:
    flags = _queue_flags(warehouse)
    assert flags[1] == ((), 0)
    assert flags[2] == (("early",), 1)
    assert flags[3] == (("late",), 1)
    # A removed keyword is two problems the queue shows: no tag now, and it was taken off.
    assert flags[4][0] == ("untagged", "keyword_removed")
    assert flags[4][1] == 2
    for shown, count in flags.values():
        assert count == len(shown)


@pytest.fixture
def short_title(monkeypatch: pytest.MonkeyPatch) -> rules.Rule:
    """One registry entry more: a title under three characters makes an entry ineligible."""
    rule = rules.Rule(
        "short_title",
        "ชื่อบันทึกสั้นเกินไป",
        "title too short",
        rules.Fact("short_title", "coalesce(length(p.title) < 3, false)"),
        settles=9,
        note="its title is too short",
    )
    monkeypatch.setattr(rules, "RULES", (*rules.RULES, rule))
    return rule


def test_a_rule_added_in_one_registry_entry_shows_everywhere(
    warehouse: Path, short_title: rules.Rule
) -> None:
    entries = {e.post_number: e for e in run(lambda con: list_entries(con, SLUG), warehouse)}
    # Entries: the fact is computed, and gives its reason.
    assert entries[5].facts.short_title is True
    assert entries[5].facts.reasons() == ["short_title"]
    assert entries[5].to_json()["facts"]["short_title"] is True
    assert entries[5].to_json()["rule_reasons"] == ["short_title"]
    assert not any(e.facts.short_title for n, e in entries.items() if n != 5)
    assert entries[2].facts.reasons() == ["early"]  # the other rules still hold
    # The same fact when the dashboard computes one entry alone.
    alone = run(lambda con: queries.computed_entry_row(con, SLUG, 5), warehouse)
    assert alone is not None and alone["short_title"] is True
    # Automatic decisions.
    outcome = rule_outcome(entries[5].facts)
    assert outcome is not None and outcome.reason == "short_title"
    assert outcome.note == "Rule: its title is too short."
    # The review queue's flags and counts.
    flags = _queue_flags(warehouse)
    assert flags[5] == (("short_title",), 1)
    assert flags[1] == ((), 0)
    # A reason code a decision may record, and the public site shows.
    assert "short_title" in rules.reason_codes()
    decision = run(
        lambda con: record_decision(
            con, SLUG, 5, "ineligible", reason="short_title", decided_by="mod"
        ),
        warehouse,
    )
    entry = replace(entries[5], decision=decision, status=decision.status)
    assert public_status(entry, None) == ("not_counted", "short_title", None)
    # Both languages' labels.
    assert t("reason_short_title", "th") == "ชื่อบันทึกสั้นเกินไป"
    assert t("reason_short_title", "en") == "title too short"


def test_without_the_added_rule_its_code_is_unknown(warehouse: Path) -> None:
    with pytest.raises(UserError, match="Unknown reason 'short_title'"):
        run(
            lambda con: record_decision(
                con, SLUG, 5, "ineligible", reason="short_title", decided_by="mod"
            ),
            warehouse,
        )
    assert t("reason_short_title", "en") == "reason_short_title"


def test_every_rule_has_both_labels_and_a_distinct_code() -> None:
    codes = rules.rule_codes()
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert t(f"reason_{code}", "th") != f"reason_{code}"
        assert t(f"reason_{code}", "en") != f"reason_{code}"
    # A refinement names a rule that exists and is not itself a reason code.
    for rule in rules.rules():
        if rule.refines is not None:
            assert rule.refines in codes and rule.code not in rules.reason_codes()


def test_automatic_decision_reason_order_and_refined_note() -> None:
    values = {f.name: False for f in rules.facts()} | {"tagged": True, "author_entry_count": 1}
    organiser_early_removed = values | {
        "organiser": True,
        "early": True,
        "tagged": False,
        "keyword_removed": True,
    }
    outcome = rule_outcome(RuleFacts(tuple(organiser_early_removed.items())))
    assert outcome is not None
    assert outcome.reason == "organiser"  # the most lasting first
    assert outcome.reasons == ("organiser", "early", "untagged")
    assert outcome.note == (
        "Rule: written by an organiser or an excluded author; written before the campaign "
        "opened; the campaign keyword was removed from its tags."
    )
    # Edits after the close and the per-author limit are a moderator's call.
    judged = values | {"edited_after_close": True, "over_author_limit": True}
    assert rule_outcome(RuleFacts(tuple(judged.items()))) is None
