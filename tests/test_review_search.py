"""The review page's search box through AppTest on a real warehouse file: ranked results
with the matching passage highlighted, the open entry's body highlighted, and scraped text
(a hostile title and body) shown only as escaped text with our <mark> the only markup."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from apptest_pages import goto
from streamlit.testing.v1 import AppTest

from dashboard import seed
from warehouse import users
from warehouse.db import run

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
SLUG = "demo"
PASSWORD = "password123"
# Markup that is ours: the wrapper div and <mark>; anything else must arrive escaped.
OUR_TAGS = re.compile(r"</?(div|mark)\b")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    path = tmp_path_factory.mktemp("search-app") / "template.duckdb"
    seed.ensure_campaign(path, SLUG)
    info = seed.seed_small(path, SLUG, n=12, hostile=True)
    run(lambda con: users.add_user(con, "mod", PASSWORD, role="moderator", actor="t"), path)
    return path, info


@pytest.fixture
def signed_in(
    template: tuple[Path, dict],  # type: ignore[type-arg]
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[AppTest, dict]:  # type: ignore[type-arg]
    shutil.copy(template[0], db_path)
    monkeypatch.setenv("TAGDRAW_DB", str(db_path))
    monkeypatch.delenv("TAGDRAW_DASHBOARD_DEMO_MODE", raising=False)
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.text_input(key="sign_in_username").input("mod")
    at.text_input(key="sign_in_password").input(PASSWORD)
    at.button[0].click().run()
    goto(at, "review")
    assert not at.exception, at.exception
    return at, template[1]


def _search(at: AppTest, text: str) -> AppTest:
    at.text_input(key="f_text").input(text).run()
    assert not at.exception, at.exception
    return at


def _only_our_markup(html: str) -> None:
    stripped = OUR_TAGS.sub("", html)
    assert "<" not in stripped, html


def test_search_shows_ranked_results_with_the_passage_marked(
    signed_in: tuple[AppTest, dict],  # type: ignore[type-arg]
) -> None:
    at, info = signed_in
    number = info["first"] + 3
    at = _search(at, f"หมายเลข {number}")  # in the body, after a run of unspaced Thai
    result_buttons = [b for b in at.button if (b.key or "").startswith("search_open_")]
    assert [b.key for b in result_buttons] == [f"search_open_{number}"]
    marked = [h.value for h in at.html if "<mark>" in h.value]
    assert any(f"<mark>หมายเลข {number}</mark>" in h for h in marked)
    # The queue is filtered the same way; opening the result shows its body marked.
    result_buttons[0].click().run()
    assert at.session_state["review_post"] == number
    assert any(f"<mark>หมายเลข {number}</mark>" in h.value for h in at.html)
    for h in at.html:
        _only_our_markup(h.value)
    # Ranked: the title match (the copy's title "สำเนา ...") first, then body-only matches.
    at = _search(at, "สำเนา")
    keys = [b.key for b in at.button if (b.key or "").startswith("search_open_")]
    assert keys == [f"search_open_{info['copy']}"]


def test_a_hostile_title_found_by_search_stays_text(
    signed_in: tuple[AppTest, dict],  # type: ignore[type-arg]
) -> None:
    at, info = signed_in
    at = _search(at, "window.__pwned")
    keys = [b.key for b in at.button if (b.key or "").startswith("search_open_")]
    assert keys == [f"search_open_{info['hostile']}"]
    title_html = [h.value for h in at.html if "pwned" in h.value]
    assert title_html, "the hostile title is shown"
    for h in at.html:
        _only_our_markup(h.value)
    assert any("&lt;script&gt;" in h and "<mark>" in h for h in title_html)
    # Open it: the body (hostile markup) marked but escaped.
    at.button(key=f"search_open_{info['hostile']}").click().run()
    assert not at.exception
    assert any("&lt;script&gt;<mark>window.__pwned</mark>" in h.value for h in at.html)
    for h in at.html:
        _only_our_markup(h.value)
    for element in at.markdown:
        assert not re.search(r"(?<!\\)<(script|img)", element.value), element.value
