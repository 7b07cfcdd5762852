"""Opening one entry computes only that entry, and shows exactly what the whole campaign's
computation (``warehouse.entries.list_entries``) gives for it: every entry of a crawled
replica campaign, with the facts cache cold (the entry computed alone) and warm."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from replica_warehouse import SLUG, crawl_replica_campaign

from dashboard import queries
from replica.site import NEAR_MISS_TAG, Site
from warehouse.db import run
from warehouse.decisions import decision_history, record_decision
from warehouse.entries import Entry, list_entries


def _change_site(site: Site) -> None:
    truth = site.ground_truth()
    multi = truth["labels"]["multi_entry_authors"]
    posts = [n for numbers in multi.values() for n in numbers]
    edited, untagged, deleted = posts[0], posts[2], posts[-1]
    site.edit_post(edited, body_text=site.body_text(edited) + "\n\nแก้ไขหลังปิดรับ")
    site.edit_post(untagged, tags=[NEAR_MISS_TAG])
    site.delete_post(deleted)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("replica-entries")
    path = work / "template.duckdb"
    crawl_replica_campaign(
        path, work, n_posts=90, seed=5, change_site=_change_site, max_entries_per_author=1
    )

    def decide(con) -> None:  # type: ignore[no-untyped-def]
        numbers = [e.post_number for e in list_entries(con, SLUG)]
        for number in numbers[:6]:
            record_decision(con, SLUG, number, "eligible", decided_by="mod")
        record_decision(con, SLUG, numbers[0], "spam", decided_by="mod2")

    run(decide, path)
    return path


def _expected(db_path: Path) -> dict[int, Entry]:
    """The whole campaign's computation (not the code under test)."""
    return {e.post_number: e for e in run(lambda con: list_entries(con, SLUG), db_path)}


@pytest.mark.browser
@pytest.mark.slow
def test_every_entry_alone_equals_the_whole_campaign(crawled: Path, db_path: Path) -> None:
    shutil.copy(crawled, db_path)
    expected = _expected(db_path)
    facts = [e.facts for e in expected.values()]
    # The scenario exercises the facts that depend on other rows and on history.
    assert any(f.over_author_limit for f in facts) and any(f.author_entry_count > 1 for f in facts)
    assert any(f.keyword_removed for f in facts) and any(f.gone for f in facts)
    assert any(f.edited_after_close for f in facts) and any(f.organiser for f in facts)
    assert any(e.decision is not None for e in expected.values())

    queries._FACTS_CACHE.clear()  # nothing cached: every entry is computed alone

    def alone(con) -> dict[int, queries.EntryDetail | None]:  # type: ignore[no-untyped-def]
        return {n: queries.entry_detail(con, SLUG, n) for n in expected}

    details = run(alone, db_path)
    assert not queries._FACTS_CACHE, "opening an entry computed the whole campaign"
    for number, entry in expected.items():
        detail = details[number]
        assert detail is not None and detail.entry == entry, number
        assert detail.history == run(lambda con, n=number: decision_history(con, SLUG, n), db_path)

    # With the queue's facts cached, the same.
    run(lambda con: queries.review_queue(con, SLUG), db_path)
    assert queries._FACTS_CACHE
    cached = run(lambda con: {n: queries.entry_detail(con, SLUG, n) for n in expected}, db_path)
    assert {n: d.entry if d else None for n, d in cached.items()} == expected


@pytest.mark.browser
@pytest.mark.slow
def test_a_post_that_is_no_entry_opens_nothing(crawled: Path, db_path: Path) -> None:
    shutil.copy(crawled, db_path)
    expected = _expected(db_path)
    stored = {
        r[0]
        for r in run(lambda con: con.execute("SELECT post_number FROM posts").fetchall(), db_path)
    }
    others = sorted(stored - set(expected))
    assert others, "the replica stores posts that are not entries (near misses, announcement)"
    for cold in (True, False):
        if cold:
            queries._FACTS_CACHE.clear()
        else:
            run(lambda con: queries.entry_facts(con, SLUG), db_path)
        found = run(lambda con: [queries.entry_detail(con, SLUG, n) for n in others], db_path)
        assert found == [None] * len(others)


@pytest.mark.browser
@pytest.mark.slow
def test_cached_row_is_not_used_after_the_entry_changed(crawled: Path, db_path: Path) -> None:
    """A decision is read fresh; a stored change to the posts makes the cache stale."""
    shutil.copy(crawled, db_path)
    run(lambda con: queries.entry_facts(con, SLUG), db_path)
    number = next(iter(_expected(db_path)))
    run(lambda con: record_decision(con, SLUG, number, "spam", decided_by="m"), db_path)
    run(
        lambda con: con.execute("UPDATE posts SET gone = true WHERE post_number = ?", [number]),
        db_path,
    )
    detail = run(lambda con: queries.entry_detail(con, SLUG, number), db_path)
    assert detail is not None and detail.entry == _expected(db_path)[number]
    assert detail.entry.facts.gone and detail.entry.status == "spam"


def test_a_decision_keeps_the_cached_facts(db_path: Path) -> None:
    """Decisions are not inputs of the rule facts: after one, the next page view reuses the
    queue's cached facts instead of computing the whole campaign again."""
    from dashboard import actions, seed

    seed.ensure_campaign(db_path, "demo")
    info = seed.seed_small(db_path, "demo", n=8, hostile=False)
    run(lambda con: queries.entry_facts(con, "demo"), db_path)
    assert run(lambda con: queries.cached_entry_row(con, "demo", info["first"]), db_path)[0]
    run(
        lambda con: actions.decide(
            con, "demo", info["first"], "eligible", decided_by="m", shown_decision_id=None
        ),
        db_path,
    )
    cached, row = run(lambda con: queries.cached_entry_row(con, "demo", info["first"]), db_path)
    assert cached and row is not None and row["post_number"] == info["first"]
    # A change of the campaign's rules still makes the cache stale.
    run(lambda con: con.execute("UPDATE campaigns SET max_entries_per_author = 1"), db_path)
    assert not run(lambda con: queries.cached_entry_row(con, "demo", info["first"]), db_path)[0]
