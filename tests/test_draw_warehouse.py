"""The draw over a real warehouse file: freeze, unfreeze, run, replace, and their refusals."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from warehouse import draw
from warehouse.audit import audit_entries
from warehouse.campaigns import create_campaign, get_campaign
from warehouse.db import connect
from warehouse.decisions import current_decisions, record_decision
from warehouse.errors import UserError
from warehouse.models import Post
from warehouse.store import mark_gone, store_posts
from warehouse.thai import BANGKOK

SLUG = "social-2013"
KEYWORD = "สังคมออนไลน์"
FIRST_POST = 545001
# (title, username, display name); some authors hold several entries.
POSTS = [
    ("การใช้สังคมออนไลน์ของหน่วยงานภาครัฐ", "Somchai", "สมชาย ใจดี"),
    ('=HYPERLINK("http://evil.example","คลิก")', "mallory", "มัลลอรี"),
    ("<script>alert('x')</script> & <b>ตัวหนา</b>", "Eve", "อีฟ <i>"),
    ("เฟซบุ๊กกับงานราชการ", "somchai", "สมชาย ใจดี"),
    ("+ลุ้นรางวัล -สังคมออนไลน์ @ทุกคน", "nok", "นก"),
    ("ไลน์กลุ่มของโรงเรียน", "kanya", "กันยา"),
    ("ทวิตเตอร์ในห้องสมุด", "preecha", "ปรีชา"),
    ("บล็อกกับการเรียนรู้", "malee", "มาลี"),
    ("สังคมออนไลน์ในชุมชน", "kanya", "กันยา"),
    ("ข่าวปลอมบนโซเชียล", "wit", "วิทย์"),
    ("เครือข่ายครูออนไลน์", "dao", "ดาว"),
    ("ความปลอดภัยบนสังคมออนไลน์", "ton", "ต้น"),
]


def seed_post(
    post_number: int, *, body: str | None = None, updated_at: datetime | None = None
) -> Post:
    """One of the seeded posts as the crawler stores it (``body``/``updated_at``: an edit)."""
    i = post_number - FIRST_POST
    title, username, name = POSTS[i]
    return Post(
        post_number=post_number,
        url=f"/posts/{post_number}",
        title=title,
        author_username=username,
        author_name=name,
        book_slug=None,
        created_at=datetime(2013, 8, 10, 9, 0, tzinfo=BANGKOK) + timedelta(hours=i),
        updated_at=updated_at,
        tags=(KEYWORD,),
        raw_tags=(KEYWORD,),
        body_text=body if body is not None else f"เนื้อหาบันทึก {i}",
        license_text=None,
        comment_count_declared=i,
    )


# The seeded posts were fetched the day after the campaign closed (2013-08-31, end of day).
AFTER_CLOSE = datetime(2013, 9, 1, tzinfo=BANGKOK)


def seed_campaign(db_path: Path, *, decide: bool = True, pending: int = 0) -> list[int]:
    """A campaign with the posts above; all eligible except one spam and ``pending`` left
    undecided (the last ones). Returns the post numbers."""
    posts = [seed_post(FIRST_POST + i) for i in range(len(POSTS))]
    numbers = [p.post_number for p in posts]
    with connect(db_path) as con:
        create_campaign(
            con,
            SLUG,
            title="ร่วมบันทึกการใช้สังคมออนไลน์",
            keywords=[KEYWORD],
            opens_at="2013-08-06",
            closes_at="2013-08-31",
            prizes=3,
            alternates=2,
            prize_description="เงินสด 2,500 บาท",
            site_url="https://www.gotoknow.org",
        )
        store_posts(con, posts, seen_at=AFTER_CLOSE)
        if decide:
            for number in numbers[: len(numbers) - pending]:
                if number == numbers[-1] and not pending:
                    record_decision(con, SLUG, number, "spam", decided_by="mod", note="โฆษณา")
                else:
                    record_decision(con, SLUG, number, "eligible", decided_by="mod")
    return numbers


def future(minutes: int = 60) -> datetime:
    return datetime.now(BANGKOK) + timedelta(minutes=minutes)


def freeze_and_run(db_path: Path, randomness: str = "123456/") -> dict:
    """Freeze with a due time in the near future, then run as if after it."""
    with connect(db_path) as con:
        pool = draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="สลากกินแบ่งรัฐบาล รางวัลที่ 1 งวด 1 กันยายน 2556",
            randomness_due=future(),
            randomness_digits=6,
        )
    with connect(db_path) as con:
        return draw.run_draw(
            con,
            SLUG,
            randomness=randomness,
            actor="admin",
            now=pool.randomness_due + timedelta(minutes=1),
        )


def test_freeze_records_the_pool_and_locks_decisions(db_path: Path) -> None:
    numbers = seed_campaign(db_path)
    due = future()
    with connect(db_path) as con:
        pool = draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="หวย 1 ก.ย.",
            randomness_due=due,
            randomness_digits=6,
        )
    # Eligible entries only (the spam one is out); author keys lower-cased.
    expected_rows = [(n, POSTS[i][1].lower()) for i, n in enumerate(numbers[:-1])]
    assert pool.pool_text == draw.pool_text(expected_rows)
    assert pool.pool_text.splitlines()[1] == f"{numbers[0]},somchai"
    assert pool.pool_hash == draw.pool_hash(pool.pool_text)
    assert pool.pool_size == len(numbers) - 1
    # The announcement says how many values the draw takes (one, unless told otherwise).
    assert (
        pool.randomness_source == "หวย 1 ก.ย. [1 value, 6 digits each]"
        and pool.randomness_due == due
    )
    assert pool.expected_values == 1 and pool.value_digits == 6
    with connect(db_path) as con:
        assert get_campaign(con, SLUG).frozen_at is not None
        with pytest.raises(UserError, match="frozen"):
            record_decision(con, SLUG, numbers[0], "spam", decided_by="mod")
        assert current_decisions(con, SLUG)[numbers[0]].status == "eligible"
        actions = [a.action for a in audit_entries(con, SLUG)]
        assert "campaign.freeze" in actions
        with pytest.raises(UserError, match="already frozen"):
            draw.freeze(
                con,
                SLUG,
                actor="admin",
                randomness_source="x",
                randomness_due=due,
                randomness_digits=6,
            )


def test_freeze_refuses_undecided_entries_unless_confirmed(db_path: Path) -> None:
    numbers = seed_campaign(db_path, pending=2)
    with connect(db_path) as con:
        plan = draw.plan_freeze(con, SLUG)
        assert [e.post_number for e in plan.undecided] == numbers[-2:]
        with pytest.raises(UserError, match=r"2 entries .* undecided") as refused:
            draw.freeze(
                con,
                SLUG,
                actor="admin",
                randomness_source="x",
                randomness_due=future(),
                randomness_digits=6,
            )
        assert str(numbers[-1]) in str(refused.value)
    with connect(db_path) as con:
        assert get_campaign(con, SLUG).frozen_at is None  # nothing was written
        pool = draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="x",
            randomness_due=future(),
            leave_out_undecided=True,
            randomness_digits=6,
        )
    assert pool.left_out == tuple(numbers[-2:])
    assert all(f"\n{n}," not in pool.pool_text for n in numbers[-2:])


def test_freeze_refuses_a_randomness_already_due(db_path: Path) -> None:
    seed_campaign(db_path)
    with connect(db_path) as con, pytest.raises(UserError, match="not in the future"):
        draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="x",
            randomness_due=future(-1),
            randomness_digits=6,
        )


def test_unfreeze_voids_the_announcement_and_unlocks_decisions(db_path: Path) -> None:
    numbers = seed_campaign(db_path)
    with connect(db_path) as con:
        draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="x",
            randomness_due=future(),
            randomness_digits=6,
        )
    with connect(db_path) as con, pytest.raises(UserError, match="why"):
        draw.unfreeze(con, SLUG, actor="admin", reason=" ")
    with connect(db_path) as con:
        voided = draw.unfreeze(con, SLUG, actor="admin", reason="a late complaint about 545003")
        assert voided is not None and voided.state == "voided"
        assert voided.void_reason == "a late complaint about 545003"
        record_decision(con, SLUG, numbers[2], "ineligible", reason="other", decided_by="mod")
        status = draw.draw_status(con, SLUG)
        assert status.pool is None and len(status.voided) == 1 and status.frozen_at is None
        assert any(a.action == "campaign.unfreeze" for a in audit_entries(con, SLUG))
        with pytest.raises(UserError, match="no frozen pool"):
            draw.run_draw(con, SLUG, randomness="1/", actor="admin", now=future(120))


def test_run_stores_a_verifiable_certificate_and_refuses_a_second_run(db_path: Path) -> None:
    seed_campaign(db_path)
    with connect(db_path) as con:
        pool = draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="หวย",
            randomness_due=future(),
            randomness_digits=6,
        )
    with connect(db_path) as con, pytest.raises(UserError, match="after it is published"):
        draw.run_draw(con, SLUG, randomness="123456/", actor="admin")
    with connect(db_path) as con:
        cert = draw.run_draw(
            con,
            SLUG,
            randomness=[" 123456 "],
            actor="admin",
            now=pool.randomness_due + timedelta(hours=1),
        )
    assert cert["randomness"] == "123456/"
    assert cert["pool_hash"] == pool.pool_hash and cert["pool"] == pool.pool_text
    assert (
        cert["sources"][0]["value"] == "123456"
        and cert["sources"][0]["source"] == "หวย [1 value, 6 digits each]"
    )
    assert (cert["prizes"], cert["alternates"], cert["one_prize_per_author"]) == (3, 2, True)
    assert draw.verify_certificate(cert).ok
    ranked = draw.rank(pool.pool_text, "123456/")
    assert (cert["winners"], cert["alternate_list"]) == draw.choose(ranked, 3, 2, True)
    with connect(db_path) as con:
        assert draw.get_certificate(con, SLUG) == cert
        with pytest.raises(UserError, match="already ran"):
            draw.run_draw(con, SLUG, randomness="999999/", actor="admin", now=future(999))
        with pytest.raises(UserError, match="has run"):
            draw.unfreeze(con, SLUG, actor="admin", reason="try again")
        assert [a.action for a in audit_entries(con, SLUG, action="draw.run")] == ["draw.run"]


def test_one_prize_per_author_in_a_real_draw(db_path: Path) -> None:
    seed_campaign(db_path)
    # Whatever the value, somchai and kanya (two entries each) win at most once.
    for value in ("1/", "2/", "3/"):
        with connect(db_path) as con:
            text = draw.plan_freeze(con, SLUG).pool_text
        winners, alternates = draw.choose(draw.rank(text, value), 3, 2, True)
        authors = dict((int(n), a) for n, a in (line.split(",") for line in text.splitlines()[1:]))
        chosen = [authors[n] for n in winners + alternates]
        assert len(chosen) == len(set(chosen)) == 5


def test_replace_uses_the_next_alternate_and_still_verifies(db_path: Path) -> None:
    seed_campaign(db_path)
    cert = freeze_and_run(db_path)
    loser = cert["winners"][1]
    with connect(db_path) as con, pytest.raises(UserError, match="holds no prize"):
        draw.replace_winner(con, SLUG, cert["alternate_list"][0], reason="x", actor="admin")
    with connect(db_path) as con:
        after = draw.replace_winner(con, SLUG, loser, reason="คัดลอกผลงาน", actor="admin")
    assert after["final_winners"][1] == cert["alternate_list"][0]
    assert after["winners"] == cert["winners"] and after["ranking"] == cert["ranking"]
    assert after["replacements"][0]["reason"] == "คัดลอกผลงาน"
    assert draw.verify_certificate(after).ok
    with connect(db_path) as con:
        assert draw.get_certificate(con, SLUG) == after
        assert current_decisions(con, SLUG)[loser].status == "ineligible"
        rows = con.execute(
            "SELECT prize_rank, disqualified, replacement FROM draw_replacements"
        ).fetchall()
        assert rows == [(2, loser, cert["alternate_list"][0])]
        assert audit_entries(con, SLUG, action="draw.replace")[0].details["disqualified"] == loser


def test_a_campaign_unfrozen_behind_the_draws_back_has_no_pool_in_force(db_path: Path) -> None:
    from warehouse.campaigns import unfreeze_campaign

    seed_campaign(db_path)
    with connect(db_path) as con:
        draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="x",
            randomness_due=future(),
            randomness_digits=6,
        )
        unfreeze_campaign(con, SLUG, actor="someone", reason="by hand")
        assert draw.current_pool(con, SLUG) is None
        with pytest.raises(UserError, match="no frozen pool"):
            draw.run_draw(con, SLUG, randomness="1/", actor="admin", now=future(120))
        pool = draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="y",
            randomness_due=future(),
            randomness_digits=6,
        )
        assert draw.current_pool(con, SLUG) == pool
        states = con.execute("SELECT state FROM draw_pools ORDER BY pool_id").fetchall()
        assert states == [("voided",), ("frozen",)]


def test_run_takes_the_canonical_value_and_only_the_announced_count(db_path: Path) -> None:
    """Any spelling of the published value draws the same; a different count or a value off
    the announced format is refused (the operator cannot pick among spellings)."""
    seed_campaign(db_path)
    with connect(db_path) as con:
        pool = draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="สลากกินแบ่งรัฐบาล รางวัลที่ 1",
            randomness_due=future(),
            randomness_values=1,
            randomness_digits=6,
        )
    assert pool.expected_values == 1 and pool.value_digits == 6
    after = pool.randomness_due + timedelta(minutes=1)
    with connect(db_path) as con:
        with pytest.raises(UserError, match="announced 1 value"):
            draw.run_draw(con, SLUG, randomness=["123456", "1"], actor="admin", now=after)
        with pytest.raises(UserError, match="6 digits"):
            draw.run_draw(con, SLUG, randomness=["0123456"], actor="admin", now=after)
        with pytest.raises(UserError, match="announced 1 value"):
            draw.run_draw(con, SLUG, randomness="123456/1/", actor="admin", now=after)
    with connect(db_path) as con:
        cert = draw.run_draw(con, SLUG, randomness=["๑๒๓๔๕๖\u00a0"], actor="admin", now=after)
    assert cert["randomness"] == "123456/" and cert["sources"][0]["value"] == "123456"
    assert cert["randomness_values"] == 1 and cert["randomness_digits"] == 6
    plain = draw.choose(draw.rank(pool.pool_text, "123456/"), 3, 2, True)
    assert (cert["winners"], cert["alternate_list"]) == plain
    assert draw.verify_certificate(cert).ok
    with connect(db_path) as con:
        assert draw.get_certificate(con, SLUG) == cert
        freeze_audit = audit_entries(con, SLUG, action="campaign.freeze")[0].details
        assert freeze_audit["randomness_values"] == 1 and freeze_audit["randomness_digits"] == 6


def test_the_freeze_always_fixes_the_value_format(db_path: Path) -> None:
    """Issue 17: without a fixed format, ``0123456`` and ``123456`` are two values (two sets of
    winners to choose from). The digits come from --value-digits or a named preset."""
    seed_campaign(db_path)
    with connect(db_path) as con:
        with pytest.raises(UserError, match="value-digits"):
            draw.freeze(con, SLUG, actor="admin", randomness_source="หวย", randomness_due=future())
        with pytest.raises(UserError, match="th-lottery-first-prize"):
            draw.freeze(
                con,
                SLUG,
                actor="admin",
                randomness_source="หวย",
                randomness_due=future(),
                source_preset="lottery",
            )
        with pytest.raises(UserError, match="preset"):
            draw.freeze(
                con,
                SLUG,
                actor="admin",
                randomness_source="หวย",
                randomness_due=future(),
                source_preset="th-lottery-first-prize",
                randomness_digits=7,
            )
        assert draw.current_pool(con, SLUG) is None
    with connect(db_path) as con:
        pool = draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="สลากกินแบ่งรัฐบาล งวด 1 ก.ย. 2556",
            randomness_due=future(),
            source_preset="th-lottery-first-prize",
        )
        freeze_audit = audit_entries(con, SLUG, action="campaign.freeze")[0].details
    assert (pool.expected_values, pool.value_digits) == (1, 6)
    assert pool.randomness_source.endswith("[1 value, 6 digits each]")
    assert freeze_audit["source_preset"] == "th-lottery-first-prize"
    after = pool.randomness_due + timedelta(minutes=1)
    # The spellings of issue 17: one value, or refused.
    for refused in (["0123456"], ["123,456"], ["123 456"], ["123\u200b456"], ["12345"]):
        with connect(db_path) as con, pytest.raises(UserError):
            draw.run_draw(con, SLUG, randomness=refused, actor="admin", now=after)
    with connect(db_path) as con:
        cert = draw.run_draw(con, SLUG, randomness=["𝟏𝟐𝟑𝟒𝟓𝟔"], actor="admin", now=after)
    assert cert["randomness"] == "123456/" and draw.verify_certificate(cert).ok
    plain = draw.choose(draw.rank(pool.pool_text, "123456/"), 3, 2, True)
    assert (cert["winners"], cert["alternate_list"]) == plain


def test_the_presets_are_a_table_with_their_format() -> None:
    preset = draw.SOURCE_PRESETS["th-lottery-first-prize"]
    assert (preset.values, preset.digits) == (1, 6)
    for name, item in draw.SOURCE_PRESETS.items():
        assert item.name == name and item.description and 1 <= item.digits <= 100


def test_unfreeze_is_refused_once_the_randomness_is_due(db_path: Path) -> None:
    seed_campaign(db_path)
    past = datetime.now(BANGKOK) - timedelta(days=2)
    with connect(db_path) as con:
        pool = draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="หวย",
            randomness_due=past + timedelta(days=1),
            now=past,
            randomness_digits=6,
        )
    with connect(db_path) as con, pytest.raises(UserError, match="may already be public"):
        draw.unfreeze(con, SLUG, actor="admin", reason="technical issue")
    with connect(db_path) as con:
        assert draw.current_pool(con, SLUG) == pool
        assert get_campaign(con, SLUG).frozen_at is not None
        assert not audit_entries(con, SLUG, action="campaign.unfreeze")
        # Just before the due time it is still allowed (the value cannot be known yet).
        before = pool.randomness_due - timedelta(minutes=1)
        assert draw.unfreeze(con, SLUG, actor="admin", reason="wrong date", now=before)


def test_the_certificate_lists_the_voided_pools(db_path: Path) -> None:
    seed_campaign(db_path)
    with connect(db_path) as con:
        first = draw.freeze(
            con,
            SLUG,
            actor="admin",
            randomness_source="หวย 16 ส.ค.",
            randomness_due=future(),
            randomness_digits=6,
        )
        draw.unfreeze(con, SLUG, actor="boss", reason="ประกาศวันผิด")
    cert = freeze_and_run(db_path)
    assert cert["voided_pools"] == [
        {
            "pool_hash": first.pool_hash,
            "randomness_source": first.randomness_source,
            "randomness_due": first.randomness_due.isoformat(),
            "frozen_at": first.frozen_at.isoformat(),
            "frozen_by": "admin",
            "voided_at": cert["voided_pools"][0]["voided_at"],
            "voided_by": "boss",
            "void_reason": "ประกาศวันผิด",
        }
    ]
    assert datetime.fromisoformat(cert["voided_pools"][0]["voided_at"]) >= first.frozen_at
    assert draw.verify_certificate(cert).ok


def _freeze(con, **options):  # type: ignore[no-untyped-def]
    return draw.freeze(
        con,
        SLUG,
        actor="admin",
        randomness_source="สลาก",
        randomness_due=future(),
        randomness_digits=6,
        **options,
    )


def test_freeze_refuses_a_pool_entry_not_seen_live_since_the_close(db_path: Path) -> None:
    """Issue 15: a post deleted after the close (or not fetched since) cannot slip into the
    pool unnoticed: refused, naming the posts, unless an admin accepts them with a reason."""
    numbers = seed_campaign(db_path)
    gone, stale = numbers[2], numbers[4]
    with connect(db_path) as con:
        mark_gone(con, [gone], "not_found", seen_at=datetime(2013, 9, 3, tzinfo=BANGKOK))
        # Fetched again, but only before the campaign closed.
        store_posts(con, [seed_post(stale)], seen_at=datetime(2013, 8, 31, 12, tzinfo=BANGKOK))
    with connect(db_path) as con, pytest.raises(UserError) as refused:
        _freeze(con)
    message = str(refused.value)
    assert "\n" not in message
    assert f"{gone} (gone" in message and f"{stale} (last fetched 2013-08-31" in message
    assert str(numbers[0]) not in message
    assert f"tagdraw crawl {SLUG} --verify" in message and "--accept-unverified" in message
    with connect(db_path) as con:
        assert draw.current_pool(con, SLUG) is None
        plan = draw.plan_freeze(con, SLUG)
        assert [(u.post_number, u.state) for u in plan.unverified] == [
            (gone, "gone"),
            (stale, "not_fetched_since_close"),
        ]
        with pytest.raises(UserError, match="reason"):
            _freeze(con, accept_unverified="  ")
    with connect(db_path) as con:
        pool = _freeze(con, accept_unverified="ตรวจด้วยตาแล้ว <b>ยังอยู่</b>")
        logged = audit_entries(con, SLUG, action="draw.accept_unverified")
    assert [(e["post_number"], e["reason"], e["accepted_by"]) for e in pool.unverified_entries] == [
        (gone, "ตรวจด้วยตาแล้ว <b>ยังอยู่</b>", "admin"),
        (stale, "ตรวจด้วยตาแล้ว <b>ยังอยู่</b>", "admin"),
    ]
    assert len(logged) == 1 and logged[0].actor == "admin"
    assert logged[0].details["post_numbers"] == [gone, stale]
    assert logged[0].details["reason"] == "ตรวจด้วยตาแล้ว <b>ยังอยู่</b>"
    with connect(db_path) as con:
        cert = draw.run_draw(
            con, SLUG, randomness="123456/", actor="admin", now=pool.randomness_due + timedelta(1)
        )
    assert [e["post_number"] for e in cert["unverified_entries"]] == [gone, stale]
    assert draw.verify_certificate(cert).ok  # an extra key does not break verify


def test_a_fully_verified_pool_records_no_unverified_entries(db_path: Path) -> None:
    seed_campaign(db_path)
    with connect(db_path) as con:
        assert draw.plan_freeze(con, SLUG).unverified == ()
        pool = _freeze(con, accept_unverified="not needed")
        assert pool.unverified_entries == ()
        assert audit_entries(con, SLUG, action="draw.accept_unverified") == []
    with connect(db_path) as con:
        cert = draw.run_draw(
            con, SLUG, randomness="123456/", actor="admin", now=pool.randomness_due + timedelta(1)
        )
    assert cert["unverified_entries"] == []


def test_winner_problems_name_a_winner_gone_or_edited_after_the_close(db_path: Path) -> None:
    seed_campaign(db_path)
    cert = freeze_and_run(db_path)
    first, second, third = cert["winners"]
    later = datetime(2013, 9, 10, tzinfo=BANGKOK)
    with connect(db_path) as con:
        assert draw.winner_problems(con, SLUG) == []
        mark_gone(con, [first], "not_found", seen_at=later)
        # Edited on the site after the close: the page says so (updated_at).
        edited = seed_post(second, body="แก้ไขแล้ว", updated_at=datetime(2013, 9, 5, tzinfo=BANGKOK))
        # Changed without an edit date: a version seen after the close with another hash.
        silent = seed_post(third, body="เปลี่ยนเงียบ ๆ")
        store_posts(con, [edited, silent], seen_at=later)
        problems = draw.winner_problems(con, SLUG)
    assert [(p.prize_rank, p.post_number, p.kind) for p in problems] == [
        (1, first, "gone"),
        (2, second, "edited_after_close"),
        (3, third, "edited_after_close"),
    ]
    assert all(p.detail and "\n" not in p.detail for p in problems)
    with connect(db_path) as con:
        draw.replace_winner(con, SLUG, first, reason="ลบบันทึกแล้ว", actor="admin")
        left = draw.winner_problems(con, SLUG)
        status = draw.draw_status(con, SLUG)
    assert [p.post_number for p in left] == [second, third]
    assert status.winner_problems == tuple(left)


def test_no_winner_problems_before_the_draw_or_for_an_unchanged_store(db_path: Path) -> None:
    seed_campaign(db_path)
    with connect(db_path) as con:
        assert draw.winner_problems(con, SLUG) == []
    cert = freeze_and_run(db_path)
    with connect(db_path) as con:
        # Fetched again after the close, unchanged: no problem.
        store_posts(
            con,
            [seed_post(n) for n in cert["winners"]],
            seen_at=datetime(2013, 9, 20, tzinfo=BANGKOK),
        )
        assert draw.winner_problems(con, SLUG) == []
