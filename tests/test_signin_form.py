"""The sign-in throttle through the real sign-in form (AppTest over a real warehouse file).

The clock is moved by the test (``warehouse.signin.utc_now``) instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apptest_pages import goto, signed_in
from streamlit.testing.v1 import AppTest

from warehouse import users
from warehouse.audit import audit_entries
from warehouse.db import run

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PASSWORD = "password123"
BAD_LOGIN = "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    import warehouse.signin

    fake = Clock()
    monkeypatch.setattr(warehouse.signin, "utc_now", fake)
    return fake


@pytest.fixture
def warehouse_file(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    def accounts(con) -> None:  # type: ignore[no-untyped-def]
        users.add_user(con, "mod", PASSWORD, role="moderator", actor="test")
        users.add_user(con, "boss", PASSWORD, role="admin", actor="test")

    run(accounts, db_path)
    monkeypatch.setenv("TAGDRAW_DB", str(db_path))
    monkeypatch.delenv("TAGDRAW_DASHBOARD_DEMO_MODE", raising=False)
    return db_path


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def _submit(at: AppTest, username: str, password: str) -> str:
    """One press of the sign-in button; returns the error shown ('' if none)."""
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return " | ".join(e.value for e in at.error)


def _signed_in(at: AppTest) -> bool:
    return signed_in(at)


def test_twenty_five_wrong_passwords_then_the_right_one_does_not_sign_in(
    warehouse_file: Path, clock: Clock
) -> None:
    """The attack from the review: 25 wrong passwords in a row through the form, then the
    right one. Without a throttle the right one signs in at once."""
    at = _app()
    for attempt in range(25):
        _submit(at, "mod", f"wrong-{attempt}")
        assert not _signed_in(at)
    message = _submit(at, "mod", PASSWORD)
    assert not _signed_in(at)
    assert message and message != BAD_LOGIN


@pytest.mark.parametrize("username", ["mod", "nobody"])
def test_the_form_answers_the_same_whether_or_not_the_username_exists(
    warehouse_file: Path, clock: Clock, username: str
) -> None:
    at = _app()
    messages = [_submit(at, username, "wrong-password") for _ in range(4)]
    clock.advance(1)
    messages.append(_submit(at, username, "wrong-password"))
    messages.append(_submit(at, username, "wrong-password"))
    wait_1 = "ลงชื่อเข้าใช้ผิดหลายครั้ง โปรดรอ 1 วินาทีแล้วลองใหม่"
    wait_2 = "ลงชื่อเข้าใช้ผิดหลายครั้ง โปรดรอ 2 วินาทีแล้วลองใหม่"
    assert messages == [BAD_LOGIN, BAD_LOGIN, BAD_LOGIN, wait_1, BAD_LOGIN, wait_2]


def test_a_locked_username_is_audited_listed_and_an_admin_lifts_the_lock(
    warehouse_file: Path, clock: Clock
) -> None:
    db_path = warehouse_file
    at = _app()
    failures = 0
    while failures < 10:
        message = _submit(at, "mod", "wrong-password")
        if message == BAD_LOGIN:
            failures += 1
        else:
            clock.advance(60)  # longer than any delay before the lock
    locked = "ลงชื่อเข้าใช้ผิดหลายครั้งเกินไป ถูกระงับชั่วคราว ลองใหม่ใน 15 นาที หรือติดต่อผู้ดูแลระบบ"
    assert _submit(at, "mod", PASSWORD) == locked
    assert not _signed_in(at)
    audited = run(lambda con: audit_entries(con, action="sign_in_locked"), db_path)
    assert [(e.details["kind"], e.details["key"]) for e in audited] == [("username", "mod")]

    # An admin (same client: its own failures are below the client's lock) lifts it.
    clock.advance(60)
    admin = _app()
    _submit(admin, "boss", PASSWORD)
    assert _signed_in(admin)
    goto(admin, "users")
    (table,) = [d.value for d in admin.dataframe if "ชื่อผู้ใช้ / IP" in d.value.columns]
    assert list(table["ชื่อผู้ใช้ / IP"]) == ["mod"] and list(table["จำนวนครั้งที่ผิด"]) == [10]
    admin.button(key="lift_lock").click().run()
    assert not admin.exception, admin.exception
    assert not [d for d in admin.dataframe if "ชื่อผู้ใช้ / IP" in d.value.columns]
    assert "ไม่มีการระงับในขณะนี้" in [c.value for c in admin.caption]
    lifted = run(lambda con: audit_entries(con, action="sign_in_unlock"), db_path)
    assert [(e.actor, e.details["key"]) for e in lifted] == [("boss", "mod")]

    at = _app()
    assert _submit(at, "mod", PASSWORD) == ""
    assert _signed_in(at)
