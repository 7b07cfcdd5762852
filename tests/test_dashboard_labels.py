"""Every table header and chart label on every page is an i18n label, in Thai and English.

Renders each page with AppTest as an admin over seeded warehouses (the review state: entries,
suggestions, decisions, crawl runs with errors, a sign-in lock; and the draw state: a frozen,
voided, drawn and replaced pool with a winner problem) and fails on any dataframe column or
chart axis, legend or tooltip title that is a raw identifier (``post_number``,
``duration_s``) or not one of dashboard/i18n.py's labels in the page's language."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from apptest_pages import goto
from streamlit.testing.v1 import AppTest
from test_draw_warehouse import SLUG as DRAW_SLUG
from test_draw_warehouse import seed_campaign

from dashboard import seed
from dashboard.i18n import LABELS
from warehouse import draw, signin, users
from warehouse.db import connect, run
from warehouse.decisions import record_decision
from warehouse.store import mark_gone
from warehouse.thai import BANGKOK

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PASSWORD = "password123"
PAGES = ("overview", "review", "duplicates", "audit", "crawls", "draw", "users")
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def _add_admin_and_runs(con: Any, slug: str) -> None:
    users.add_user(con, "boss", PASSWORD, role="admin", actor="test")
    users.add_user(con, "viewer", PASSWORD, role="viewer", actor="test")
    con.execute(
        "INSERT INTO crawl_runs (campaign_slug, mode, status, started_at, finished_at, "
        "errors, duration_s, post_pages, requests, posts_new) VALUES "
        "(?, 'full', 'ok', now() - INTERVAL 2 HOUR, now() - INTERVAL 1 HOUR, 0, 3600, 13, 20, 13), "
        "(?, 'incremental', 'partial', now() - INTERVAL 10 MINUTE, now(), 1, 60, 2, 4, 0)",
        [slug, slug],
    )
    latest = con.execute("SELECT max(run_id) FROM crawl_runs").fetchall()[0][0]
    con.execute(
        'INSERT INTO crawl_errors (run_id, url, kind, error, http_status, permanent, "at") '
        "VALUES (?, '/posts/1', 'post', 'HTTP 503', 503, false, now())",
        [latest],
    )
    # Ten failures a minute apart lock the username: the Users page's table of locks.
    start = signin.utc_now() - timedelta(minutes=11)
    for minute in range(10):
        when = start + timedelta(seconds=61 * minute)
        signin.sign_in(con, "ghost", "wrong", client="10.0.0.9", now=when)
    assert signin.active_locks(con)


@pytest.fixture(scope="module")
def review_state(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The warehouse, and a decided entry (opened by its link for its history table)."""
    path = tmp_path_factory.mktemp("labels") / "review.duckdb"
    seed.ensure_campaign(path, "demo")
    info = seed.seed_small(path, "demo", n=12, hostile=False)

    def prepare(con: Any) -> None:
        _add_admin_and_runs(con, "demo")
        # The entry the review page opens first gets a decision history.
        record_decision(con, "demo", info["copy"], "spam", decided_by="boss")

    run(prepare, path)
    return path, info["copy"]


@pytest.fixture(scope="module")
def draw_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("labels") / "draw.duckdb"
    seed_campaign(path)
    with connect(path) as con:
        _add_admin_and_runs(con, DRAW_SLUG)
        due = datetime.now(BANGKOK) + timedelta(minutes=5)
        source = "สลากกินแบ่งรัฐบาล"
        draw.freeze(
            con,
            DRAW_SLUG,
            actor="boss",
            randomness_source=source,
            randomness_due=due,
            randomness_digits=6,
        )
        draw.unfreeze(con, DRAW_SLUG, actor="boss", reason="วันประกาศผิด")
        pool = draw.freeze(
            con,
            DRAW_SLUG,
            actor="boss",
            randomness_source=source,
            randomness_due=due,
            randomness_digits=6,
        )
        cert = draw.run_draw(
            con,
            DRAW_SLUG,
            randomness="123456/",
            actor="boss",
            now=pool.randomness_due + timedelta(minutes=1),
        )
        draw.replace_winner(con, DRAW_SLUG, cert["winners"][0], reason="ลอก", actor="boss")
        mark_gone(con, [cert["winners"][1]], "private", seen_at=datetime.now(BANGKOK))
    return path


def _signed_in(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str) -> AppTest:
    tmp_path.mkdir(parents=True, exist_ok=True)
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(db, copy)
    monkeypatch.setenv("TAGDRAW_DB", str(copy))
    monkeypatch.delenv("TAGDRAW_DASHBOARD_DEMO_MODE", raising=False)
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.text_input(key="sign_in_username").input("boss")
    at.text_input(key="sign_in_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    if lang != "th":
        at.sidebar.radio(key="lang").set_value(lang).run()
    return at


def _chart_labels(spec: dict[str, Any], datasets: dict[str, list[str]]) -> list[str]:
    """What a reader sees of a Vega-Lite chart: axis and legend titles (a field's name when
    no title is given), tooltip titles, and the legend's entries (the color field's values)."""
    found: list[str] = []
    for layer in [spec, *spec.get("layer", []), *spec.get("vconcat", []), *spec.get("hconcat", [])]:
        if layer is not spec:
            found += _chart_labels(layer, datasets)
            continue
        for channel, encoding in (spec.get("encoding") or {}).items():
            for item in encoding if isinstance(encoding, list) else [encoding]:
                if not isinstance(item, dict):
                    continue
                title = item.get("title", item.get("field"))
                if title not in (None, "", " "):
                    found.append(str(title))
                if channel == "color" and item.get("field"):
                    found += datasets.get(str(item["field"]), [])
    return found


def _labels_on_page(at: AppTest) -> list[tuple[str, str]]:
    """(where, label) for every table header and chart label on the page."""
    found = [
        ("table " + str(frame.key or i), str(column))
        for i, frame in enumerate(at.dataframe)
        for column in frame.value.columns
    ]
    for chart in at.get("vega_lite_chart") + at.get("arrow_vega_lite_chart"):
        proto = chart.proto
        columns: dict[str, list[str]] = {}
        for named in getattr(proto, "datasets", []):
            table = pa.ipc.open_stream(named.data.data).read_all()
            for name in table.column_names:
                columns.setdefault(name, []).extend(str(v) for v in table[name].to_pylist())
        if proto.HasField("data") and proto.data.data:
            table = pa.ipc.open_stream(proto.data.data).read_all()
            for name in table.column_names:
                columns.setdefault(name, []).extend(str(v) for v in table[name].to_pylist())
        spec = json.loads(proto.spec)
        found += [("chart", label) for label in _chart_labels(spec, columns)]
    return found


def _bad_labels(at: AppTest, lang: str) -> list[tuple[str, str]]:
    known = {pair[1 if lang == "en" else 0] for pair in LABELS.values()}
    return [
        (where, label)
        for where, label in _labels_on_page(at)
        if label not in known or SNAKE_CASE.match(label)
    ]


@pytest.mark.parametrize("lang", ["th", "en"])
def test_every_table_and_chart_label_is_translated(
    review_state: tuple[Path, int],
    draw_state: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
) -> None:
    bad: dict[str, list[tuple[str, str]]] = {}
    seen = 0
    review_db, decided = review_state
    for state, pages in ((review_db, PAGES), (draw_state, ("draw",))):
        at = _signed_in(state, tmp_path / state.stem, monkeypatch, lang)
        for page in pages:
            if page == "review":
                at.query_params["post"] = str(decided)
            at = goto(at, page)
            if page == "crawls":  # the run with an error, for its error table
                at.selectbox(key="crawl_run_pick").set_value(
                    at.selectbox(key="crawl_run_pick").options[0]
                )
                at.run()
            assert not at.exception, (page, at.exception)
            seen += len(_labels_on_page(at))
            problems = _bad_labels(at, lang)
            if problems:
                bad[f"{state.stem}/{page}"] = problems
    assert seen > 40  # the pages did show their tables and charts
    assert not bad, bad
