"""The sign-in throttle in the library, over a real warehouse file, with the clock given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warehouse import signin, users
from warehouse.audit import audit_entries
from warehouse.db import run
from warehouse.errors import UserError

PASSWORD = "password123"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def accounts(db_path: Path) -> Path:
    def setup(con) -> None:  # type: ignore[no-untyped-def]
        users.add_user(con, "mod", PASSWORD, role="moderator", actor="root")
        users.add_user(con, "boss", PASSWORD, role="admin", actor="root")

    run(setup, db_path)
    return db_path


def _try(
    db_path: Path, username: str, password: str, at: datetime, client: str = "10.0.0.1"
) -> signin.SignInOutcome:
    return run(lambda con: signin.sign_in(con, username, password, client=client, now=at), db_path)


def test_policy_delays_double_and_cap() -> None:
    policy = signin.USERNAME_POLICY
    assert [policy.delay_after(n).total_seconds() for n in range(11)] == [
        0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60,
    ]  # fmt: skip
    assert policy.lock_after == 10 and policy.window == timedelta(minutes=15)
    assert policy.lock_for == timedelta(minutes=15)
    assert signin.CLIENT_POLICY.delay_after(9) == timedelta(0)
    assert signin.CLIENT_POLICY.delay_after(10) == timedelta(seconds=1)


@pytest.mark.parametrize("username", ["mod", "no-such-user"])
def test_repeated_failures_wait_longer_and_answers_do_not_depend_on_the_account(
    accounts: Path, username: str
) -> None:
    """The same sequence of answers for an account and for a name that is none."""
    seen = []
    for _ in range(3):
        outcome = _try(accounts, username, "wrong-password", T0)
        seen.append((outcome.checked, outcome.retry_after_s, outcome.locked))
    # Too early: refused without checking, even with the right password, and not counted.
    for password in ("wrong-password", PASSWORD, PASSWORD):
        outcome = _try(accounts, username, password, T0 + timedelta(milliseconds=500))
        assert outcome.user is None
        seen.append((outcome.checked, outcome.retry_after_s, outcome.locked))
    outcome = _try(accounts, username, "wrong-password", T0 + timedelta(seconds=1))
    seen.append((outcome.checked, outcome.retry_after_s, outcome.locked))
    outcome = _try(accounts, username, PASSWORD, T0 + timedelta(seconds=2.5))
    seen.append((outcome.checked, outcome.retry_after_s, outcome.locked))
    assert seen == [
        (True, 0, False),
        (True, 0, False),
        (True, 0, False),
        (False, 1, False),
        (False, 1, False),
        (False, 1, False),
        (True, 0, False),  # the 4th failure: the next attempt waits 2 s
        (False, 1, False),  # 0.5 s left, rounded up
    ]
    # After the wait the right password works, and the username's slate is clean again.
    outcome = _try(accounts, username, PASSWORD, T0 + timedelta(seconds=3))
    assert (outcome.user is not None) == (username == "mod")
    if username == "mod":
        again = _try(accounts, "mod", "wrong-password", T0 + timedelta(seconds=3))
        assert again.checked  # no delay: the failures were cleared by the sign-in


def _fail_until_locked(db_path: Path, username: str, start: datetime, client: str) -> datetime:
    """Ten failures, each as soon as the throttle allows; returns the time of the last."""
    at = start
    for _ in range(10):
        outcome = _try(db_path, username, "wrong-password", at, client)
        if not outcome.checked:
            at += timedelta(seconds=outcome.retry_after_s)
            outcome = _try(db_path, username, "wrong-password", at, client)
        assert outcome.checked
    return at


def test_ten_failures_in_fifteen_minutes_lock_the_username_for_fifteen_minutes(
    accounts: Path,
) -> None:
    last = _fail_until_locked(accounts, "mod", T0, "10.0.0.1")
    assert last - T0 < timedelta(minutes=15)
    # Locked: the right password from another client is refused, for 15 minutes.
    locked = _try(accounts, "mod", PASSWORD, last + timedelta(minutes=1), client="10.0.0.2")
    assert (locked.user, locked.checked, locked.locked) == (None, False, True)
    assert locked.retry_after_s == 14 * 60
    lock = run(lambda con: signin.active_locks(con, last), accounts)
    assert [(x.kind, x.key, x.failures) for x in lock] == [("username", "mod", 10)]
    audited = run(lambda con: audit_entries(con, action="sign_in_locked"), accounts)
    assert [(e.actor, e.details["kind"], e.details["key"]) for e in audited] == [
        ("system", "username", "mod")
    ]
    # Other usernames from another client are not affected.
    assert _try(accounts, "boss", PASSWORD, last, client="10.0.0.2").user is not None
    # After the lock, a fresh start: the failures that caused it no longer count.
    after = last + timedelta(minutes=15, seconds=1)
    assert run(lambda con: signin.active_locks(con, after), accounts) == []
    assert _try(accounts, "mod", PASSWORD, after, client="10.0.0.2").user is not None


def test_failures_older_than_the_window_do_not_count(accounts: Path) -> None:
    at = T0
    for _ in range(3):
        _try(accounts, "mod", "wrong-password", at)
    at += timedelta(minutes=15, seconds=1)
    assert _try(accounts, "mod", "wrong-password", at).checked
    assert _try(accounts, "mod", "wrong-password", at).checked  # 2 in the window: no delay


def test_one_client_trying_many_usernames_is_slowed_and_locked(accounts: Path) -> None:
    at = T0
    for i in range(10):
        assert _try(accounts, f"guess{i}", "wrong-password", at).checked
    early = _try(accounts, "guess-next", "wrong-password", at)
    assert (early.checked, early.retry_after_s) == (False, 1)
    assert _try(accounts, "mod", PASSWORD, at, client="10.9.9.9").user is not None  # others fine
    for i in range(10, 20):
        outcome = _try(accounts, f"guess{i}", "wrong-password", at)
        if not outcome.checked:
            at += timedelta(seconds=outcome.retry_after_s)
            outcome = _try(accounts, f"guess{i}", "wrong-password", at)
        assert outcome.checked
    locks = run(lambda con: signin.active_locks(con, at), accounts)
    assert [(x.kind, x.key, x.failures) for x in locks] == [("client", "10.0.0.1", 20)]
    refused = _try(accounts, "mod", PASSWORD, at + timedelta(minutes=5))
    assert (refused.user, refused.locked) == (None, True)


def test_an_admin_lifts_a_lock_and_it_is_audited(accounts: Path) -> None:
    last = _fail_until_locked(accounts, "mod", T0, "10.0.0.1")
    (lock,) = run(lambda con: signin.active_locks(con, last), accounts)
    with pytest.raises(users.ActorNotAllowed):
        run(lambda con: signin.lift_lock(con, lock.lock_id, actor="mod", now=last), accounts)
    run(lambda con: signin.lift_lock(con, lock.lock_id, actor="boss", now=last), accounts)
    assert run(lambda con: signin.active_locks(con, last), accounts) == []
    with pytest.raises(UserError, match="no longer in force"):
        run(lambda con: signin.lift_lock(con, lock.lock_id, actor="boss", now=last), accounts)
    audited = run(lambda con: audit_entries(con, action="sign_in_unlock"), accounts)
    assert [(e.actor, e.details["key"]) for e in audited] == [("boss", "mod")]
    # Lifted: the right password works at once, from another client.
    assert _try(accounts, "mod", PASSWORD, last, client="10.0.0.2").user is not None


def test_huge_and_odd_usernames_are_counted_without_error(accounts: Path) -> None:
    for name in ("x" * 100_000, "MOD ", "ม็อด", "'; DROP TABLE users; --", ""):
        outcome = _try(accounts, name, "wrong-password", T0)
        assert outcome.user is None
    keys = run(
        lambda con: con.execute(
            "SELECT key FROM signin_failures WHERE kind = 'username' ORDER BY key"
        ).fetchall(),
        accounts,
    )
    assert sorted(k for (k,) in keys) == sorted(
        ["x" * 200, "mod", "ม็อด", "'; drop table users; --"]
    )
    assert run(lambda con: users.get_user(con, "mod"), accounts) is not None
