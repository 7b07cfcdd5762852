"""The Streamlit app through AppTest, per page and role, on a real warehouse file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from apptest_pages import goto, page_paths, page_titles, signed_in
from streamlit.testing.v1 import AppTest

from dashboard import seed
from warehouse import users
from warehouse.db import run
from warehouse.decisions import current_decisions, decision_history, record_decision
from warehouse.settings import get_settings

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
SLUG = "demo"
PASSWORD = "password123"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    path = tmp_path_factory.mktemp("app") / "template.duckdb"
    seed.ensure_campaign(path, SLUG)
    info = seed.seed_small(path, SLUG, n=12, hostile=True)

    def add_users(con) -> None:  # type: ignore[no-untyped-def]
        for name, role in (("viewer", "viewer"), ("mod", "moderator"), ("boss", "admin")):
            users.add_user(con, name, PASSWORD, role=role, actor="test")
        con.execute(
            "INSERT INTO crawl_runs (campaign_slug, mode, status, started_at, finished_at, "
            "errors, duration_s, post_pages) VALUES "
            "(?, 'full', 'ok', now() - INTERVAL 2 HOUR, now() - INTERVAL 1 HOUR, 0, 3600, 13), "
            "(?, 'incremental', 'partial', now() - INTERVAL 10 MINUTE, now(), 4, 60, 2)",
            [SLUG, SLUG],
        )

    run(add_users, path)
    return path, info


@pytest.fixture
def warehouse_file(
    template: tuple[Path, dict],  # type: ignore[type-arg]
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Path, dict]:  # type: ignore[type-arg]
    shutil.copy(template[0], db_path)
    monkeypatch.setenv("TAGDRAW_DB", str(db_path))
    monkeypatch.delenv("TAGDRAW_DASHBOARD_DEMO_MODE", raising=False)
    return db_path, template[1]


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def _sign_in(username: str, password: str = PASSWORD) -> AppTest:
    at = _app()
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def _goto(at: AppTest, page: str) -> AppTest:
    return goto(at, page)


def _all_text(at: AppTest) -> str:
    parts = []
    for kind in (
        "markdown",
        "caption",
        "text",
        "subheader",
        "header",
        "title",
        "info",
        "warning",
        "error",
        "success",
    ):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts)


def test_not_signed_in_sees_only_the_sign_in_form(warehouse_file: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    at = _app()
    assert [t.key for t in at.text_input] == ["sign_in_username", "sign_in_password"]
    assert len(at.dataframe) == 0 and len(at.metric) == 0
    assert not signed_in(at)
    assert "สังคมออนไลน์" not in _all_text(at)  # no campaign data
    # A wrong password gets a message and still nothing else.
    at = _sign_in("mod", "wrong-password")
    assert at.error and at.error[0].value == "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"
    assert not signed_in(at)


def test_viewer_reads_but_cannot_decide(warehouse_file: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    db_path, _ = warehouse_file
    at = _sign_in("viewer")
    assert page_titles(at) == [
        "ภาพรวม",
        "คิวตรวจ",
        "ผลงานซ้ำ",
        "บันทึกการทำงาน",
        "ประวัติการเก็บข้อมูล",
    ]
    assert at.metric  # overview counts
    at = _goto(at, "review")
    assert at.dataframe  # the queue
    assert not [b for b in at.button if (b.key or "").startswith("decide_")]
    assert any("ดูได้อย่างเดียว" in i.value for i in at.info)
    assert run(lambda con: current_decisions(con, SLUG), db_path) == {}


def test_moderator_decides_undoes_and_is_told_when_stale(
    warehouse_file: tuple[Path, dict],  # type: ignore[type-arg]
) -> None:
    db_path, info = warehouse_file
    at = _goto(_sign_in("mod"), "review")
    assert "จับรางวัล" not in page_titles(at)
    first = at.session_state["review_post"]
    assert first == info["copy"]  # strongest suggestion first
    # Duplicate of the suggested original, pre-filled from the evidence.
    assert at.number_input(key=f"dup_of_{first}").value == info["original"]
    at.button(key=f"decide_duplicate_{first}").click().run()
    assert not at.exception
    current = run(lambda con: current_decisions(con, SLUG), db_path)
    assert current[first].status == "duplicate" and current[first].decided_by == "mod"
    assert current[first].duplicate_of == info["original"]
    assert at.success and f"#{first}" in at.success[0].value
    nxt = at.session_state["review_post"]
    assert nxt != first

    # Another moderator decides the shown entry meanwhile: the click is refused and said so.
    run(lambda con: record_decision(con, SLUG, nxt, "spam", decided_by="other"), db_path)
    at.text_input(key=f"note_{nxt}").input("looks fine")
    at.button(key=f"decide_eligible_{nxt}").click().run()
    assert at.warning and "ถูกเปลี่ยนระหว่างที่คุณดูอยู่" in at.warning[0].value
    history = run(lambda con: decision_history(con, SLUG, nxt), db_path)
    assert [d.decided_by for d in history] == ["other"]
    # The latest is shown now, and deciding again works.
    assert any("other" in m.value for m in at.text)
    at.button(key=f"decide_eligible_{nxt}").click().run()
    history = run(lambda con: decision_history(con, SLUG, nxt), db_path)
    assert [(d.decided_by, d.status) for d in history] == [("other", "spam"), ("mod", "eligible")]

    # Undo = a new decision restoring the previous status.
    at.selectbox(key="review_post").set_value(nxt).run()
    at.button(key=f"undo_{nxt}").click().run()
    history = run(lambda con: decision_history(con, SLUG, nxt), db_path)
    assert [d.status for d in history] == ["spam", "eligible", "spam"]

    # Ineligible needs a reason code: the chosen one is stored.
    post = info["first"] + 3
    at.selectbox(key="review_post").set_value(post).run()
    at.selectbox(key=f"inel_reason_{post}").set_value("late").run()
    at.button(key=f"decide_ineligible_{post}").click().run()
    current = run(lambda con: current_decisions(con, SLUG), db_path)
    assert current[post].status == "ineligible" and current[post].reason == "late"


def test_a_demoted_or_disabled_account_cannot_act_while_the_page_still_trusts_it(
    warehouse_file: tuple[Path, dict],  # type: ignore[type-arg]
) -> None:
    """The sidebar's account is re-read only every RECHECK_USER_S; every write checks the
    account itself, in its own transaction."""
    db_path, _ = warehouse_file
    at = _goto(_sign_in("mod"), "review")
    post = at.session_state["review_post"]
    run(lambda con: users.set_role(con, "mod", "viewer", actor="test"), db_path)
    at.button(key=f"decide_eligible_{post}").click().run()
    assert not at.exception, at.exception
    assert any("ผู้ตรวจ" in c.value for c in at.sidebar.text)  # the cached role, still
    assert run(lambda con: decision_history(con, SLUG, post), db_path) == []
    assert any("'mod' may not do this" in e.value for e in at.error)

    at = _goto(_sign_in("boss"), "users")
    run(lambda con: users.set_disabled(con, "boss", True, actor="test"), db_path)
    at.selectbox(key="edit_user").set_value("viewer").run()
    at.selectbox(key="edit_role").set_value("admin").run()
    at.button(key="edit_role_save").click().run()
    assert not at.exception, at.exception
    viewer = run(lambda con: users.get_user(con, "viewer"), db_path)
    assert viewer is not None and viewer.role == "viewer"
    assert any("'boss' may not do this" in e.value for e in at.error)


def _select_rows(at: AppTest, rows: list[int]) -> list[int]:
    """Select queue rows as a click in the table would; returns their post numbers."""
    key = at.session_state["queue_selection"][0]
    numbers = [int(n) for n in at.dataframe(key=key).value.iloc[rows, 0]]
    at.session_state[key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    return numbers


def test_moderator_decides_a_selection_at_once(
    warehouse_file: tuple[Path, dict],  # type: ignore[type-arg]
) -> None:
    db_path, _ = warehouse_file
    at = _goto(_sign_in("mod"), "review")
    assert not [b for b in at.button if b.key == "bulk_apply"]  # nothing selected yet
    numbers = _select_rows(at, [0, 2, 3])
    assert any(all(f"#{n}" in c.value for n in numbers) for c in at.caption)  # listed
    at.selectbox(key="bulk_status").set_value("ineligible").run()
    at.selectbox(key="bulk_reason").set_value("late").run()
    at.text_input(key="bulk_note").input("posted after the deadline").run()
    # Someone else decides one of them after the panel was shown: skipped and said so.
    run(lambda con: record_decision(con, SLUG, numbers[1], "eligible", decided_by="other"), db_path)
    at.button(key="bulk_apply").click().run()
    assert not at.exception, at.exception
    current = run(lambda con: current_decisions(con, SLUG), db_path)
    assert {n: (d.status, d.reason, d.decided_by, d.note) for n, d in current.items()} == {
        numbers[0]: ("ineligible", "late", "mod", "posted after the deadline"),
        numbers[1]: ("eligible", None, "other", None),
        numbers[2]: ("ineligible", "late", "mod", "posted after the deadline"),
    }
    assert at.warning and at.warning[0].value == "บันทึก 2 รายการ, ข้าม 1 รายการที่ถูกเปลี่ยน"
    # The decided rows moved in the queue: the selection is gone, not moved onto others.
    assert not [b for b in at.button if b.key == "bulk_apply"]
    assert not any("ล้างการเลือก" in i.value for i in at.info)  # a finished bulk is no loss


def test_a_selection_never_moves_to_rows_nobody_selected(
    warehouse_file: tuple[Path, dict],  # type: ignore[type-arg]
) -> None:
    db_path, _ = warehouse_file
    at = _goto(_sign_in("mod"), "review")
    numbers = _select_rows(at, [0, 1])
    assert [b for b in at.button if b.key == "bulk_apply"]
    # Another moderator decides the first selected entry: it drops down the queue, and the
    # selected positions would now hold other entries.
    run(lambda con: record_decision(con, SLUG, numbers[0], "spam", decided_by="other"), db_path)
    at.run()
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.key == "bulk_apply"]
    dropped = "คิวเปลี่ยนไประหว่างที่เลือกไว้ 2 รายการ จึงล้างการเลือก โปรดเลือกใหม่"
    assert [i.value for i in at.info if "ล้างการเลือก" in i.value] == [dropped]  # said, once
    at.run()
    assert not any("ล้างการเลือก" in i.value for i in at.info)
    assert set(run(lambda con: current_decisions(con, SLUG), db_path)) == {numbers[0]}


AUTH_SECRETS = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret",
    "client_id": "tagdraw",
    "client_secret": "test-client-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def _oidc_app(monkeypatch: pytest.MonkeyPatch, domains: str, user: dict) -> AppTest:  # type: ignore[type-arg]
    """The app with single sign-on configured and the identity provider's answer given (the
    provider's own redirect dance is Streamlit's st.login, not ours)."""
    monkeypatch.setenv("TAGDRAW_OIDC_EMAIL_DOMAINS", domains)
    get_settings.cache_clear()
    at = AppTest.from_file(APP, default_timeout=180)
    at.secrets["auth"] = AUTH_SECRETS
    at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def test_single_sign_on_maps_an_allowed_address_to_our_account(
    warehouse_file: tuple[Path, dict],  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db_path, _ = warehouse_file
    try:
        # Not yet signed in: the password form and the single sign-on button.
        at = _oidc_app(monkeypatch, "example.org", {"is_logged_in": False})
        assert [b.key for b in at.button][-1] == "oidc_login"
        assert [t.key for t in at.text_input] == ["sign_in_username", "sign_in_password"]
        assert not signed_in(at)

        identity = {"is_logged_in": True, "email": "mod@example.org", "email_verified": True}
        at = _oidc_app(monkeypatch, "example.org", identity)
        assert signed_in(at)
        assert any("mod · ผู้ตรวจ" in c.value for c in at.sidebar.text)
        assert "จับรางวัล" not in page_titles(at)  # our role, not the provider's

        # The same name at another domain, or unverified, gets nothing but the message.
        no_account = "ยังไม่มีบัญชีสำหรับอีเมลนี้ ติดต่อผู้ดูแลระบบ"
        for stranger in (
            {"is_logged_in": True, "email": "boss@gmail.com", "email_verified": True},
            {"is_logged_in": True, "email": "boss@example.org", "email_verified": False},
        ):
            at = _oidc_app(monkeypatch, "example.org", stranger)
            assert [e.value for e in at.error] == [no_account]
            assert not signed_in(at) and not at.dataframe
            at.run()  # a refusal is audited once, not on every rerun
            assert [e.value for e in at.error] == [no_account]

        # Configured without the domain list: nobody gets in, and the operator is told why.
        at = _oidc_app(monkeypatch, "", identity)
        assert "TAGDRAW_OIDC_EMAIL_DOMAINS" in at.error[0].value
        assert not signed_in(at)
        at = _oidc_app(monkeypatch, "", {"is_logged_in": False})
        assert not [b for b in at.button if b.key == "oidc_login"]
        assert "TAGDRAW_OIDC_EMAIL_DOMAINS" in at.warning[0].value
    finally:
        get_settings.cache_clear()

    audited = run(
        lambda con: con.execute(
            "SELECT actor, action, details->>'email' FROM audit_log "
            "WHERE details->>'method' = 'oidc' ORDER BY audit_id"
        ).fetchall(),
        db_path,
    )
    assert audited == [
        ("mod", "sign_in", "mod@example.org"),
        ("boss", "sign_in_failed", "boss@gmail.com"),
        ("boss", "sign_in_failed", "boss@example.org"),
    ]


@pytest.mark.parametrize("claim", ["false", "False", None])
def test_single_sign_on_refuses_an_unverified_or_missing_email_verified_claim(
    warehouse_file: tuple[Path, dict],  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
    claim: str | None,
) -> None:
    identity: dict[str, object] = {"is_logged_in": True, "email": "boss@example.org"}
    if claim is not None:
        identity["email_verified"] = claim
    monkeypatch.delenv("TAGDRAW_OIDC_TRUST_UNVERIFIED", raising=False)
    try:
        at = _oidc_app(monkeypatch, "example.org", identity)
        assert not signed_in(at)
        assert [e.value for e in at.error] == ["ยังไม่มีบัญชีสำหรับอีเมลนี้ ติดต่อผู้ดูแลระบบ"]
        if claim is None:  # the operator may trust a provider that never sends the claim
            monkeypatch.setenv("TAGDRAW_OIDC_TRUST_UNVERIFIED", "1")
            at = _oidc_app(monkeypatch, "example.org", identity)
            assert signed_in(at)
    finally:
        get_settings.cache_clear()


def test_admin_sees_every_page(warehouse_file: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    at = _sign_in("boss")
    # Written out here, not read from the app: the admin's pages in menu order.
    pages = ["review", "duplicates", "audit", "crawls", "draw", "users", "campaigns"]
    assert page_paths(at) == ["", *pages]
    for page in ("overview", *pages):
        at = _goto(at, page)
        assert not at.error, (page, [e.value for e in at.error])
    at = _goto(at, "crawls")
    runs = at.dataframe[0].value.to_string()
    # The stored codes (partial, incremental, ok, full) are shown as their Thai labels.
    assert "ไม่ครบ" in runs and "เฉพาะที่เปลี่ยน" in runs and "ครบ" in runs
    assert not {"partial", "incremental", "ok", "full"} & set(runs.split())
    at = _goto(at, "users")
    assert at.dataframe and "viewer" in at.dataframe[0].value.to_string()
    at = _goto(at, "audit")
    assert at.download_button
    assert "sign_in" in at.dataframe[0].value.to_string()
    # English labels on request.
    at.sidebar.radio(key="lang").set_value("en").run()
    assert at.header[0].value == "Audit log"


def test_hostile_content_is_inert_text(warehouse_file: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    db_path, info = warehouse_file
    at = _goto(_sign_in("boss"), "review")
    at.selectbox(key="review_post").set_value(info["hostile"]).run()
    assert not at.exception
    # The title is shown as plain text (a literal "<script>", no markdown link or bold).
    assert any(t.value == seed.HOSTILE_TITLE for t in at.text)
    assert all("<script" not in m.value for m in at.subheader)
    # The body is plain text (st.text), shown whole or clipped, never as markdown/HTML.
    bodies = [t.value for t in at.text if "onerror" in t.value]
    assert any(body.startswith('<img src=x onerror="window.__pwned') for body in bodies)
    unescaped = re.compile(r"(?<!\\)<(script|img)")
    for element in at.markdown:
        assert not unescaped.search(element.value), element.value
    for element in at.html:
        assert "<script" not in element.value and "<img" not in element.value
    # The page stays usable: decide the hostile entry.
    at.button(key=f"decide_spam_{info['hostile']}").click().run()
    assert run(lambda con: current_decisions(con, SLUG), db_path)[info["hostile"]].status == "spam"


LINKY = "https://evil.example/login"
HOSTILE_LINK_TITLE = f"Login again at {LINKY} or www.evil.example, help@evil.example \u202e1234"
HOSTILE_NAME = "Admin www.evil.example \u202e(support)"
# Markdown-rendering elements: a scraped string in any of them could become a live link
# (GFM's autolink literals ignore backslash escapes: they match the rendered text).
MARKDOWN_KINDS = (
    "markdown", "caption", "subheader", "header", "title", "info", "warning", "error", "success",
)  # fmt: skip


def _markdown_values(at: AppTest) -> list[str]:
    values = [str(e.value) for kind in MARKDOWN_KINDS for e in getattr(at, kind)]
    values += [str(e.value) for kind in MARKDOWN_KINDS for e in getattr(at.sidebar, kind)]
    values += [str(e.label) for e in at.expander] + [str(e.label) for e in at.tabs]
    return values


def _link_free(values: list[str]) -> None:
    for value in values:
        plain = value.replace("\\", "")  # what a renderer sees after the escapes
        for trigger in ("evil.example", "evil\\.example", "\u202e"):
            assert trigger not in plain, value


def test_scraped_urls_and_bidi_controls_never_reach_markdown(
    warehouse_file: tuple[Path, dict],  # type: ignore[type-arg]
) -> None:
    db_path, info = warehouse_file

    def make_hostile(con) -> None:  # type: ignore[no-untyped-def]
        for number in (info["hostile"], info["original"]):
            con.execute(
                "UPDATE posts SET title = ?, author_name = ?, raw_tags = ? WHERE post_number = ?",
                [HOSTILE_LINK_TITLE, HOSTILE_NAME, ["www.evil.example"], number],
            )
        con.execute("UPDATE comments SET author_name = ?", ["mallory@evil.example"])
        con.execute("UPDATE campaigns SET title = ?", [f"Prize draw {LINKY}"])
        con.execute("UPDATE users SET display_name = ? WHERE username = 'boss'", [HOSTILE_NAME])

    run(make_hostile, db_path)
    at = _sign_in("boss")
    _link_free(_markdown_values(at))  # the overview, with the sidebar's display name
    assert any("Admin www.evil.example" in t.value for t in at.sidebar.text)
    assert any(LINKY in t.value for t in at.text)  # the campaign title, as text
    for number in (info["hostile"], info["original"]):
        at = _goto(at, "review")
        at.selectbox(key="review_post").set_value(number).run()
        assert not at.exception, at.exception
        _link_free(_markdown_values(at))
        shown = "\n".join(t.value for t in at.text)
        assert LINKY in shown and "www.evil.example" in shown
        assert "\u202e" not in shown and "[U+202E]" in shown  # visible, not reordering
        cells = [str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel()]
        assert any("[U+202E]1234" in c for c in cells)  # the queue table, too
        assert not any("\u202e" in c for c in cells)
    at = _goto(at, "duplicates")
    _link_free(_markdown_values(at))
    assert any(LINKY in t.value for t in at.text)
    at = _goto(at, "audit")
    _link_free(_markdown_values(at))


def test_duplicates_page_highlights_and_keeps_original(
    warehouse_file: tuple[Path, dict],  # type: ignore[type-arg]
) -> None:
    db_path, info = warehouse_file
    at = _goto(_sign_in("mod"), "duplicates")
    assert len(at.html) == 2 and all("<mark>" in h.value for h in at.html)
    at.button(key=f"keep_original_{info['original']}").click().run()
    current = run(lambda con: current_decisions(con, SLUG), db_path)
    assert current[info["copy"]].status == "duplicate"
    assert current[info["copy"]].duplicate_of == info["original"]


def test_demo_mode_needs_no_sign_in_and_says_so(
    warehouse_file: tuple[Path, dict],  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TAGDRAW_DASHBOARD_DEMO_MODE", "1")
    at = _app()
    for page in ("overview", "review", "audit"):
        at = _goto(at, page)
        assert at.warning and "โหมดสาธิต" in at.warning[0].value


def test_a_link_to_an_entry_opens_it_after_sign_in(warehouse_file: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    """/review?post=N: before sign-in the address shows only the sign-in form and keeps its
    query; after sign-in it opens entry N, and the address follows the open entry."""
    _, info = warehouse_file
    linked = info["spam"]
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["post"] = str(linked)
    at = goto(at, "review")
    assert [t.key for t in at.text_input] == ["sign_in_username", "sign_in_password"]
    assert not at.dataframe and not signed_in(at)
    at.text_input(key="sign_in_username").input("viewer")
    at.text_input(key="sign_in_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.header[0].value == "คิวตรวจ"
    assert at.session_state["review_post"] == linked
    assert any(s.value == f"#{linked}" for s in at.subheader)
    assert at.query_params["post"] == str(linked) and at.query_params["campaign"] == SLUG
    # Opening another entry puts its number in the address, ready to copy.
    other = info["original"]
    at.selectbox(key="review_post").set_value(other).run()
    assert at.query_params["post"] == str(other)
    assert any(s.value == f"#{other}" for s in at.subheader)


def test_a_link_to_a_post_outside_the_campaign_says_so(warehouse_file: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    at = _sign_in("mod")
    at.query_params["post"] = "999"
    at = goto(at, "review")
    assert "ไม่พบบันทึก #999 ในแคมเปญ demo" in " ".join(w.value for w in at.warning)
    assert at.session_state["review_post"] != 999
    assert at.query_params["post"] == str(at.session_state["review_post"])


def test_a_viewer_gets_no_admin_page_by_typing_its_address(
    warehouse_file: tuple[Path, dict],
) -> None:  # type: ignore[type-arg]
    at = _sign_in("viewer")
    assert page_paths(at) == ["", "review", "duplicates", "audit", "crawls"]
    for address in ("draw", "users"):
        at = goto(at, address)
        assert at.header[0].value == "ภาพรวม"  # Streamlit falls back to the default page
        assert not at.get("download_button") and not at.text_input


def test_pages_without_campaigns(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty warehouse: the Users and Audit pages work; the others say there are none."""
    run(lambda con: users.add_user(con, "boss", PASSWORD, role="admin", actor="test"), db_path)
    monkeypatch.setenv("TAGDRAW_DB", str(db_path))
    monkeypatch.delenv("TAGDRAW_DASHBOARD_DEMO_MODE", raising=False)
    at = _sign_in("boss")
    for page in ("overview", "review", "duplicates", "crawls", "draw"):
        at = goto(at, page)
        assert [i.value for i in at.info] == ["ยังไม่มีแคมเปญ สร้างด้วยคำสั่ง tagdraw campaign create"]
    at = goto(at, "users")
    assert at.header[0].value == "ผู้ใช้" and at.dataframe
    at = goto(at, "audit")
    assert at.header[0].value == "บันทึกการทำงาน" and at.download_button
