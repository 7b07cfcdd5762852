"""The Campaigns page through AppTest on a real warehouse file: an admin creates and edits
campaigns; bad input is refused with the very message the CLI gives for it, and nothing is
written; a frozen campaign's rules cannot be edited; viewers and moderators see no
campaign editing and no crawl button."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from apptest_pages import goto, page_paths, page_titles
from streamlit.testing.v1 import AppTest

from dashboard import seed
from dashboard.shell import all_pages
from tagdraw.cli import main as tagdraw
from warehouse import users
from warehouse.audit import audit_entries
from warehouse.campaigns import find_campaign, freeze_campaign, list_campaigns
from warehouse.db import run
from warehouse.thai import BANGKOK

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PASSWORD = "password123"
NEW = "camp_f___new___"  # widget keys of the new-campaign form: NEW + field name


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("campaigns") / "template.duckdb"
    seed.ensure_campaign(path, "demo")
    seed.ensure_campaign(path, "locked")

    def setup(con) -> None:  # type: ignore[no-untyped-def]
        for name, role in (("viewer", "viewer"), ("mod", "moderator"), ("boss", "admin")):
            users.add_user(con, name, PASSWORD, role=role, actor="test")
        freeze_campaign(con, "locked", actor="test")

    run(setup, path)
    return path


@pytest.fixture
def warehouse_file(template: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(template, db_path)
    monkeypatch.setenv("TAGDRAW_DB", str(db_path))
    monkeypatch.delenv("TAGDRAW_DASHBOARD_DEMO_MODE", raising=False)
    return db_path


def _sign_in(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def _campaigns_page(username: str = "boss") -> AppTest:
    at = _sign_in(username)
    return goto(at, "campaigns")


def _new_form(at: AppTest) -> AppTest:
    at.selectbox(key="camp_pick").set_value("__new__").run()
    assert not at.exception, at.exception
    return at


def _fill(at: AppTest, prefix: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        key = prefix + name
        widget = (
            at.text_area(key=key)
            if name in ("keywords", "near_miss_tags", "excluded_authors")
            or name in ("prize_description", "contact_text")
            else at.text_input(key=key)
        )
        widget.input(value)


def _cli_message(db: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What ``tagdraw`` says on stderr for ``args`` (one line, after 'tagdraw: ')."""
    capsys.readouterr()
    code = tagdraw(["--db", str(db), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2, (code, err)
    assert err.startswith("tagdraw: "), err
    return err.removeprefix("tagdraw: ")


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


GOOD = {
    "slug": "book-week",
    "keywords": "สัปดาห์หนังสือ",
    "opens_at": "1 มกราคม 2569",
    "closes_at": "2569-01-31",
    "prizes": "3",
}


def test_admin_creates_a_campaign_with_thai_dates(warehouse_file: Path) -> None:
    at = _new_form(_campaigns_page())
    _fill(
        at,
        NEW,
        {
            **GOOD,
            "title": "ชวนอ่าน",
            "near_miss_tags": "หนังสือ\nอ่านหนังสือ",
            "excluded_authors": "@Organiser",
            "alternates": "2",
            "max_entries_per_author": "2",
            "announcement_post": "1234",
            "prize_description": "บัตรของขวัญ",
            "contact_text": "ติดต่อทางอีเมล",
            "contact_url": "mailto:team@example.org",
        },
    )
    at.run()
    # The date as typed reads back in the dashboard's era (Buddhist by default).
    assert any("31 มกราคม 2569 23:59" in c.value for c in at.caption), [c.value for c in at.caption]
    at.button(key="camp_create").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    campaign = run(lambda con: find_campaign(con, "book-week"), warehouse_file)
    assert campaign is not None
    assert campaign.opens_at == datetime(2026, 1, 1, 0, 0, tzinfo=BANGKOK)
    assert campaign.closes_at == datetime(2026, 1, 31, 23, 59, 59, tzinfo=BANGKOK)
    assert campaign.keywords == ("สัปดาห์หนังสือ",)
    assert campaign.near_miss_tags == ("หนังสือ", "อ่านหนังสือ")
    assert campaign.excluded_authors == ("organiser",)
    assert (campaign.prizes, campaign.alternates, campaign.max_entries_per_author) == (3, 2, 2)
    assert campaign.announcement_post == 1234
    assert campaign.contact_url == "mailto:team@example.org"
    assert campaign.site_url == "https://www.gotoknow.org"  # the default, as the CLI's
    created = run(
        lambda con: audit_entries(con, "book-week", action="campaign.create"), warehouse_file
    )
    assert [e.actor for e in created] == ["boss"]
    # The page now manages the new campaign, and its list shows it as closed (past).
    assert at.selectbox(key="camp_pick").value == "book-week"
    assert any("book-week" in str(df.value.to_dict()) for df in at.dataframe)


# (field values typed on the page, the same input on the command line)
REFUSALS = [
    ({"slug": "Book Week"}, ["campaign", "create", "Book Week"]),
    ({"prizes": "0"}, ["--prizes", "0"]),
    ({"prizes": "สาม"}, ["--prizes", "สาม"]),
    ({"opens_at": "31 กุมภาพันธ์ 2569"}, ["--opens", "31 กุมภาพันธ์ 2569"]),
    ({"closes_at": "2568-12-01"}, ["--closes", "2568-12-01"]),
    ({"alternates": "-1"}, ["--alternates", "-1"]),
    ({"site_url": "ftp://example.org"}, ["--site-url", "ftp://example.org"]),
    ({"contact_url": "javascript:alert(1)"}, ["--contact-url", "javascript:alert(1)"]),
    ({"excluded_authors": "two words"}, ["--exclude-author", "two words"]),
    ({"near_miss_tags": "สัปดาห์หนังสือ"}, ["--near-miss-tag", "สัปดาห์หนังสือ"]),
]


def _cli_create(overrides: list[str]) -> list[str]:
    """``campaign create`` with GOOD's values, one of them replaced as in ``overrides``."""
    if overrides[:2] == ["campaign", "create"]:
        slug, rest = overrides[2], []
    else:
        slug, rest = GOOD["slug"], overrides
    args = {
        "--keyword": GOOD["keywords"],
        "--opens": GOOD["opens_at"],
        "--closes": GOOD["closes_at"],
        "--prizes": GOOD["prizes"],
    }
    for flag, value in zip(rest[::2], rest[1::2], strict=True):
        args[flag] = value
    return ["campaign", "create", slug, *[x for pair in args.items() for x in pair]]


@pytest.mark.parametrize(("typed", "cli"), REFUSALS, ids=[next(iter(t)) for t, _ in REFUSALS])
def test_bad_input_is_refused_with_the_clis_message(
    warehouse_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    typed: dict[str, str],
    cli: list[str],
) -> None:
    expected = _cli_message(tmp_path / "cli.duckdb", _cli_create(cli), capsys)
    at = _new_form(_campaigns_page())
    _fill(at, NEW, {**GOOD, **typed})
    at.button(key="camp_create").click().run()
    assert not at.exception, at.exception
    assert expected in _texts(at), (expected, _texts(at))
    # Thai first: the refusal names the field in Thai (or says "not saved").
    assert at.error and at.error[0].value.startswith("บันทึกไม่ได้"), [e.value for e in at.error]
    slugs = [c.slug for c in run(list_campaigns, warehouse_file)]
    assert slugs == ["demo", "locked"], slugs


def test_missing_required_fields_are_named_in_thai(warehouse_file: Path) -> None:
    at = _new_form(_campaigns_page())
    _fill(at, NEW, {"slug": "empty-one"})
    at.button(key="camp_create").click().run()
    message = at.error[0].value
    assert message.startswith("บันทึกไม่ได้ ยังไม่ได้กรอก"), message
    for label in ("แท็กที่ใช้ส่งผลงาน", "เปิดรับ", "ปิดรับ", "จำนวนรางวัล"):
        assert label in message
    assert run(lambda con: find_campaign(con, "empty-one"), warehouse_file) is None


def test_admin_edits_a_campaign_and_the_change_is_audited(
    warehouse_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    at = _campaigns_page()
    # The page opens on the sidebar's campaign.
    assert at.selectbox(key="camp_pick").value == at.sidebar.selectbox(key="campaign").value
    at.selectbox(key="camp_pick").set_value("demo").run()
    prefix = "camp_f_demo_"
    # The stored window is shown in Buddhist era and saves back unchanged.
    before = run(lambda con: find_campaign(con, "demo"), warehouse_file)
    assert before is not None
    shown = at.text_input(key=prefix + "closes_at").value
    assert shown.startswith(str(before.closes_at.year + 543)), shown
    _fill(at, prefix, {"prizes": "5", "title": "ชื่อใหม่"})
    at.button(key="camp_save_demo").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    after = run(lambda con: find_campaign(con, "demo"), warehouse_file)
    assert after is not None
    assert (after.prizes, after.title) == (5, "ชื่อใหม่")
    assert (after.opens_at, after.closes_at) == (before.opens_at, before.closes_at)
    updates = run(lambda con: audit_entries(con, "demo", action="campaign.update"), warehouse_file)
    assert len(updates) == 1 and updates[0].actor == "boss"
    assert set(updates[0].details["changes"]) == {"prizes", "title"}

    # A bad edit: the CLI's message for the same edit, nothing written.
    seed.ensure_campaign(tmp_path / "cli.duckdb", "demo")
    expected = _cli_message(
        tmp_path / "cli.duckdb", ["campaign", "edit", "demo", "--alternates", "many"], capsys
    )
    _fill(at, prefix, {"alternates": "many"})
    at.button(key="camp_save_demo").click().run()
    assert expected in _texts(at), (expected, _texts(at))
    assert "จำนวนรายชื่อสำรอง" in at.error[0].value
    unchanged = run(lambda con: find_campaign(con, "demo"), warehouse_file)
    assert unchanged == after


def test_a_frozen_campaigns_rules_cannot_be_edited(
    warehouse_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    at = _campaigns_page()
    at.selectbox(key="camp_pick").set_value("locked").run()
    assert any("แก้ไขกติกาไม่ได้" in w.value for w in at.warning), [w.value for w in at.warning]
    before = run(lambda con: find_campaign(con, "locked"), warehouse_file)
    _fill(at, "camp_f_locked_", {"prizes": "9"})
    at.button(key="camp_save_locked").click().run()
    assert not at.exception, at.exception
    shutil.copy(warehouse_file, tmp_path / "cli.duckdb")  # the same frozen campaign
    expected = _cli_message(
        tmp_path / "cli.duckdb", ["campaign", "edit", "locked", "--prizes", "9"], capsys
    )
    assert "frozen" in expected
    assert expected in _texts(at), (expected, _texts(at))
    assert run(lambda con: find_campaign(con, "locked"), warehouse_file) == before
    assert not run(
        lambda con: audit_entries(con, "locked", action="campaign.update"), warehouse_file
    )


VIEW_PAGES = [p.key for p in all_pages() if not p.admin_only]


@pytest.mark.parametrize("username", ["viewer", "mod"])
def test_viewers_and_moderators_see_no_campaign_editing_and_no_crawl_button(
    warehouse_file: Path, username: str
) -> None:
    at = _sign_in(username)
    assert "จัดการแคมเปญ" not in page_titles(at), page_titles(at)
    assert len(page_paths(at)) == len(VIEW_PAGES), page_paths(at)
    for page in VIEW_PAGES:
        goto(at, page)
        keys = [str(getattr(b, "key", "") or "") for b in at.button]
        assert not [k for k in keys if k.startswith("camp_")], (page, keys)
        assert not [w for w in at.text_input if str(w.key or "").startswith("camp_f_")]


def test_the_page_works_with_no_campaigns_at_all(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(lambda con: users.add_user(con, "boss", PASSWORD, role="admin", actor="test"), db_path)
    monkeypatch.setenv("TAGDRAW_DB", str(db_path))
    monkeypatch.delenv("TAGDRAW_DASHBOARD_DEMO_MODE", raising=False)
    at = _campaigns_page()
    assert any("ยังไม่มีแคมเปญ" in i.value for i in at.info), [i.value for i in at.info]
    _fill(at, NEW, GOOD)
    at.button(key="camp_create").click().run()
    assert not at.exception, at.exception
    assert [c.slug for c in run(list_campaigns, db_path)] == ["book-week"]
