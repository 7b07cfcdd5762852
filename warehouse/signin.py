"""Password sign-in with a throttle, per typed username and per client.

Each failed sign-in is counted for the username typed (whether or not it exists, so the
answers never tell which names are accounts) and for the client it came from. After a few
failures within the window, the next attempt must wait, twice as long after each further
failure; an attempt that comes too early is refused without checking the password (and
is not counted). Enough failures lock the username or client for a while; the lock is
audited, listed on the dashboard's Users page, and an admin may lift it. A successful
sign-in clears its username's failures (not its client's: one good account must not buy a
client fresh guesses at others).

The clock is ``utc_now`` (tests move it); times are stored as TIMESTAMPTZ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from warehouse.audit import audit
from warehouse.errors import UserError
from warehouse.thai import BANGKOK
from warehouse.users import Role, User, authenticate, require_actor

KINDS = ("username", "client")
_MAX_KEY = 200  # a typed username or client address longer than this is cut for the key
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class ThrottlePolicy:
    """``free_failures`` failures within ``window`` cost nothing; from then on each failure
    makes the next attempt wait ``first_delay`` doubled per further failure (at most
    ``max_delay``); ``lock_after`` failures lock for ``lock_for``."""

    free_failures: int
    lock_after: int
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(seconds=60)

    def delay_after(self, failures: int) -> timedelta:
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 30)
        return min(self.first_delay * (2**doublings), self.max_delay)


# One person mistyping: 3 free failures, then 1 s, 2 s, ... 60 s; the 10th failure within
# 15 minutes locks the username for 15 minutes.
USERNAME_POLICY = ThrottlePolicy(free_failures=3, lock_after=10)
# A client address may be shared by a whole office (NAT, proxy), so it gets more room, but
# it also stops one machine trying many usernames.
CLIENT_POLICY = ThrottlePolicy(free_failures=10, lock_after=20)
POLICIES = {"username": USERNAME_POLICY, "client": CLIENT_POLICY}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SignInOutcome:
    """``user`` when signed in. Otherwise ``checked`` says whether the password was checked
    (and was wrong); when it was not, ``retry_after_s`` says how long to wait and
    ``locked`` whether a lock (not just a delay) is why."""

    user: User | None
    checked: bool
    retry_after_s: int = 0
    locked: bool = False


@dataclass(frozen=True)
class SignInLock:
    lock_id: int
    kind: str
    key: str
    failures: int
    locked_at: datetime
    locked_until: datetime
    lifted_at: datetime | None
    lifted_by: str | None


def throttle_keys(username: str | None, client: str | None) -> list[tuple[str, str]]:
    """The (kind, key) pairs one attempt counts against."""
    keys = [("client", (client or "unknown").strip()[:_MAX_KEY] or "unknown")]
    name = (username or "").strip().lower()[:_MAX_KEY]
    if name:
        keys.append(("username", name))
    return keys


_LOCK_COLUMNS = "lock_id, kind, key, failures, locked_at, locked_until, lifted_at, lifted_by"


def _lock_from_row(row: tuple[Any, ...]) -> SignInLock:
    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(BANGKOK) if value is not None else None

    return SignInLock(
        lock_id=int(row[0]),
        kind=row[1],
        key=row[2],
        failures=int(row[3]),
        locked_at=row[4].astimezone(BANGKOK),
        locked_until=row[5].astimezone(BANGKOK),
        lifted_at=local(row[6]),
        lifted_by=row[7],
    )


def _latest_lock(con: duckdb.DuckDBPyConnection, kind: str, key: str) -> SignInLock | None:
    row = con.execute(
        f"SELECT {_LOCK_COLUMNS} FROM signin_locks WHERE kind = ? AND key = ? "
        "ORDER BY lock_id DESC LIMIT 1",
        [kind, key],
    ).fetchone()
    return _lock_from_row(row) if row else None


def _failures(
    con: duckdb.DuckDBPyConnection, kind: str, key: str, now: datetime, since: datetime | None
) -> tuple[int, datetime | None]:
    """How many failures count now (within the window, after the latest lock), and the
    latest of them."""
    start = now - POLICIES[kind].window
    if since is not None and since > start:
        start = since
    row = con.execute(
        "SELECT count(*), max(failed_at) FROM signin_failures "
        "WHERE kind = ? AND key = ? AND failed_at > ?",
        [kind, key, start],
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def _wait(
    con: duckdb.DuckDBPyConnection, kind: str, key: str, now: datetime
) -> tuple[timedelta, bool, int]:
    """(how long this key must still wait, whether it is locked, failures counted)."""
    lock = _latest_lock(con, kind, key)
    if lock is not None and lock.lifted_at is None and lock.locked_until > now:
        return lock.locked_until - now, True, lock.failures
    count, latest = _failures(con, kind, key, now, lock.locked_at if lock else None)
    if latest is None:
        return timedelta(0), False, count
    ready = latest + POLICIES[kind].delay_after(count)
    return max(ready - now, timedelta(0)), False, count


def _seconds(delta: timedelta) -> int:
    """Whole seconds, rounded up: "wait 0 s" would invite an attempt that is refused."""
    micro = delta // timedelta(microseconds=1)
    return max(1, -(-micro // 1_000_000))


def sign_in(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    *,
    client: str | None,
    now: datetime | None = None,
) -> SignInOutcome:
    """Check a password sign-in against the throttle, then the password.

    ``client`` identifies where the attempt came from (the dashboard passes the
    connection's IP address). Answers are the same whether or not the username exists.
    """
    when = now if now is not None else utc_now()
    keys = throttle_keys(username, client)
    waits = [_wait(con, kind, key, when) for kind, key in keys]
    longest = max(wait for wait, _, _ in waits)
    if longest > timedelta(0):
        locked = any(is_locked for _, is_locked, _ in waits)
        return SignInOutcome(None, checked=False, retry_after_s=_seconds(longest), locked=locked)

    user = authenticate(con, username, password)
    if user is not None:
        con.execute(
            "DELETE FROM signin_failures WHERE kind = 'username' AND key = ?", [user.username]
        )
        return SignInOutcome(user, checked=True)

    con.execute(
        "DELETE FROM signin_failures WHERE failed_at <= ?",
        [when - max(p.window for p in POLICIES.values())],
    )
    for (kind, key), (_, _, count) in zip(keys, waits, strict=True):
        con.execute(
            "INSERT INTO signin_failures (kind, key, failed_at) VALUES (?, ?, ?)",
            [kind, key, when],
        )
        policy = POLICIES[kind]
        if count + 1 >= policy.lock_after:
            until = when + policy.lock_for
            con.execute(
                "INSERT INTO signin_locks (kind, key, failures, locked_at, locked_until) "
                "VALUES (?, ?, ?, ?, ?)",
                [kind, key, count + 1, when, until],
            )
            audit(
                con,
                SYSTEM_ACTOR,
                "sign_in_locked",
                kind=kind,
                key=key,
                failures=count + 1,
                locked_until=until.astimezone(BANGKOK),
            )
    return SignInOutcome(None, checked=True)


def active_locks(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> list[SignInLock]:
    """Locks in force now (not expired, not lifted), newest first."""
    when = now if now is not None else utc_now()
    rows = con.execute(
        f"SELECT {_LOCK_COLUMNS} FROM signin_locks "
        "WHERE lifted_at IS NULL AND locked_until > ? ORDER BY lock_id DESC",
        [when],
    ).fetchall()
    return [_lock_from_row(row) for row in rows]


def lift_lock(
    con: duckdb.DuckDBPyConnection, lock_id: int, *, actor: str, now: datetime | None = None
) -> SignInLock:
    """End a lock early (admins); its failures stop counting. Audited."""
    require_actor(con, actor, Role.ADMIN)
    when = now if now is not None else utc_now()
    row = con.execute(f"SELECT {_LOCK_COLUMNS} FROM signin_locks WHERE lock_id = ?", [lock_id])
    found = row.fetchone()
    if found is None:
        raise UserError(f"no sign-in lock {lock_id}")
    lock = _lock_from_row(found)
    if lock.lifted_at is not None or lock.locked_until <= when:
        raise UserError(f"the sign-in lock on {lock.kind} {lock.key!r} is no longer in force")
    con.execute(
        "UPDATE signin_locks SET lifted_at = ?, lifted_by = ? WHERE lock_id = ?",
        [when, actor.strip(), lock_id],
    )
    audit(con, actor, "sign_in_unlock", kind=lock.kind, key=lock.key, lock_id=lock_id)
    return lock
