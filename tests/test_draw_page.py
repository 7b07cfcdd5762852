"""The dashboard's Draw page, driven through Streamlit's real script runner (AppTest) over a
real warehouse file: admin-only, freeze with confirmation, unfreeze, run, replace, downloads."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest
from test_draw_warehouse import SLUG, seed_campaign

from dashboard.i18n import t
from warehouse import draw
from warehouse.db import connect
from warehouse.thai import BANGKOK

POST = t("col_post_number", "en")  # the tables' header for post numbers


def page_script(db_path: str, role: str, lang: str, slug: str) -> None:
    # Runs as a Streamlit script: everything it needs is imported here.
    from pathlib import Path

    from dashboard.context import Ctx
    from dashboard.views.draw import render
    from warehouse.users import User

    user = User("boss", "Boss", role, False, None, None, None)
    render(Ctx(db_path=Path(db_path), user=user, campaign_slug=slug, lang=lang))


def page(db_path: Path, role: str = "admin", lang: str = "en") -> AppTest:
    app = AppTest.from_function(
        page_script,
        kwargs={"db_path": str(db_path), "role": role, "lang": lang, "slug": SLUG},
        default_timeout=60,
    )
    return app.run()


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_only_admins_see_the_draw(db_path: Path) -> None:
    seed_campaign(db_path)
    app = page(db_path, role="moderator")
    assert not app.exception
    assert "Admins only" in texts(app.error)
    assert not app.button


def test_freeze_unfreeze_run_replace_and_download(db_path: Path) -> None:
    numbers = seed_campaign(db_path, pending=1)
    app = page(db_path)
    assert not app.exception
    assert "1 entries are undecided" in texts(app.warning)
    assert app.dataframe[0].value[POST].tolist() == [numbers[-1]]
    app.text_input(key="draw_source").input("สลากกินแบ่งรัฐบาล 1 ก.ย.")
    app.number_input(key="draw_value_digits").set_value(6)
    app.button(key="draw_freeze").click().run()
    assert "undecided" in texts(app.error)  # not confirmed: refused
    with connect(db_path) as con:
        assert draw.current_pool(con, SLUG) is None
    app.checkbox(key="draw_leave_out").check()
    app.button(key="draw_freeze").click().run()
    assert not app.exception
    assert "Frozen" in texts(app.success)
    with connect(db_path) as con:
        pool = draw.current_pool(con, SLUG)
    assert pool is not None and pool.left_out == (numbers[-1],) and pool.frozen_by == "boss"
    assert (pool.expected_values, pool.value_digits) == (1, 6)
    assert pool.pool_hash in texts(app.code)
    assert "not due yet" in texts(app.info)

    app.text_input(key="draw_unfreeze_reason").input("ประกาศวันผิด")
    app.button(key="draw_unfreeze").click().run()
    assert "Unfrozen" in texts(app.success)
    with connect(db_path) as con:
        assert draw.current_pool(con, SLUG) is None
        # A freeze whose value is due in a moment, so that the page can run the draw.
        due = datetime.now(BANGKOK) + timedelta(seconds=1)
        draw.freeze(
            con,
            SLUG,
            actor="boss",
            randomness_source="สลาก",
            randomness_due=due,
            leave_out_undecided=True,
            randomness_digits=6,
        )
    time.sleep(max(0.0, (due - datetime.now(BANGKOK)).total_seconds()) + 0.1)

    app = page(db_path)
    app.text_area(key="draw_values").input("123456\n")
    app.button(key="draw_run").click().run()
    assert not app.exception
    assert "re-derives" in texts(app.success)
    with connect(db_path) as con:
        cert = draw.get_certificate(con, SLUG)
    assert cert is not None and cert["randomness"] == "123456/"
    assert app.dataframe[0].value[POST].tolist() == cert["winners"]
    labels = [b.label for b in app.get("download_button")]
    assert len(labels) == 10  # the pool + 9 exports
    assert "Winner list (CSV)" in labels and "Announcement (HTML)" in labels

    loser = cert["winners"][0]
    app.selectbox(key="draw_replace_target").select(loser)
    app.text_input(key="draw_replace_reason").input("ลอกผลงาน")
    app.button(key="draw_replace").click().run()
    assert not app.exception
    assert f"Replaced: {loser} → {cert['alternate_list'][0]}" in texts(app.success)
    with connect(db_path) as con:
        after = draw.get_certificate(con, SLUG)
    assert after["final_winners"][0] == cert["alternate_list"][0]
    assert draw.verify_certificate(after).ok
    assert "re-derives" in texts(app.success)


def test_thai_labels(db_path: Path) -> None:
    seed_campaign(db_path)
    app = page(db_path, lang="th")
    assert not app.exception
    assert app.header[0].value == "จับรางวัล"
    assert app.button(key="draw_freeze").label == "ล็อกรายชื่อ"


def real_ctx_script(db_path: str, slug: str) -> None:
    # The dashboard's own context object, as its Draw page hands it over.
    from pathlib import Path

    from dashboard.context import Ctx
    from dashboard.views.draw import render
    from warehouse.users import User

    admin = User("boss", "Boss", "admin", False, None, None, None)
    render(Ctx(db_path=Path(db_path), user=admin, campaign_slug=slug, lang="en"))


def test_with_the_dashboards_own_context(db_path: Path) -> None:
    seed_campaign(db_path)
    app = AppTest.from_function(
        real_ctx_script, kwargs={"db_path": str(db_path), "slug": SLUG}, default_timeout=60
    ).run()
    assert not app.exception
    app.text_input(key="draw_source").input("สลาก")
    app.button(key="draw_freeze").click().run()
    assert not app.exception
    assert "digits each published value" in texts(app.error)  # no format: refused
    with connect(db_path) as con:
        assert draw.current_pool(con, SLUG) is None
    app.selectbox(key="draw_source_preset").select("th-lottery-first-prize")
    app.button(key="draw_freeze").click().run()
    assert not app.exception
    assert "Frozen" in texts(app.success)
    with connect(db_path) as con:
        pool = draw.current_pool(con, SLUG)
    assert pool.frozen_by == "boss" and (pool.expected_values, pool.value_digits) == (1, 6)


def test_an_unverified_pool_needs_a_reason_and_winner_problems_are_shown(db_path: Path) -> None:
    """Issue 15 on the page: the entries not seen live since the close are listed; freezing
    needs a reason; after the draw, a winner whose post is gone is flagged for replacement."""
    from warehouse.store import mark_gone

    numbers = seed_campaign(db_path)
    gone = numbers[2]
    with connect(db_path) as con:
        mark_gone(con, [gone], "not_found", seen_at=datetime(2013, 9, 3, tzinfo=BANGKOK))
    app = page(db_path)
    assert not app.exception
    assert "not been seen live since the campaign closed" in texts(app.warning)
    assert gone in app.dataframe[0].value[POST].tolist()
    app.text_input(key="draw_source").input("สลาก")
    app.number_input(key="draw_value_digits").set_value(6)
    app.button(key="draw_freeze").click().run()
    assert not app.exception
    assert "crawl" in texts(app.error) and "verify" in texts(app.error)
    with connect(db_path) as con:
        assert draw.current_pool(con, SLUG) is None
    app.text_input(key="draw_accept_unverified").input("ตรวจด้วยตาแล้ว")
    app.button(key="draw_freeze").click().run()
    assert not app.exception
    assert "Frozen" in texts(app.success)
    with connect(db_path) as con:
        pool = draw.current_pool(con, SLUG)
        assert [
            (e["post_number"], e["reason"], e["accepted_by"]) for e in pool.unverified_entries
        ] == [(gone, "ตรวจด้วยตาแล้ว", "boss")]
        cert = draw.run_draw(
            con,
            SLUG,
            randomness="123456/",
            actor="boss",
            now=pool.randomness_due + timedelta(minutes=1),
        )
        winner = cert["winners"][1]
        mark_gone(con, [winner], "private", seen_at=datetime(2013, 9, 9, tzinfo=BANGKOK))
    app = page(db_path)
    assert not app.exception
    assert "need a decision" in texts(app.warning)
    problem_rows = next(d for d in app.dataframe if t("col_kind", "en") in d.value.columns).value
    assert problem_rows[POST].tolist() == [winner]
    assert problem_rows[t("col_kind", "en")].tolist() == ["gone"]
