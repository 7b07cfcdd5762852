"""Dashboard accounts: who may sign in, with which role.

Roles: ``viewer`` reads, ``moderator`` also decides entries, ``admin`` also manages
campaigns, freezes, draws, exports and users. Passwords are hashed with scrypt and a
per-user random salt and stored as one self-describing string, so the cost parameters can
be raised later without breaking existing accounts. Every change is written to the audit
log in the caller's transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import duckdb

from warehouse.audit import audit
from warehouse.errors import UserError


class Role(StrEnum):
    """In rising order of rights: each role may do everything the ones before it may."""

    VIEWER = "viewer"
    MODERATOR = "moderator"
    ADMIN = "admin"


ROLES = tuple(role.value for role in Role)
MIN_PASSWORD_LENGTH = 8
# Names the system itself writes into decided_by / audit actor: never an account.
RESERVED_USERNAMES = frozenset({"rules", "system", "demo-mode", "cli"})

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# scrypt cost: ~50 ms and 16 MB per check on a small server; stored with each hash.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32


class ActorNotAllowed(UserError):
    """The actor of a write is (or was) an account that may not do it now."""


@dataclass(frozen=True)
class User:
    username: str
    display_name: str | None
    role: str
    disabled: bool
    created_at: datetime | None
    updated_at: datetime | None
    last_login_at: datetime | None
    has_password: bool = True

    @property
    def label(self) -> str:
        """What the dashboard shows: the display name, else the username."""
        return self.display_name or self.username


# --- password hashing ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$<salt b64>$<key b64>``."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    key = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        maxmem=64 * 1024 * 1024,
        dklen=_KEY_BYTES,
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches ``stored`` (constant-time comparison)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt_b64, key_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(key_b64)
        key = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=256 * 1024 * 1024,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(key, expected)


# A hash to check against when the username is unknown, so that the answer takes as long
# as for a known user (no user enumeration by timing).
_DUMMY_HASH = hash_password("tagdraw-no-such-user", salt=b"\0" * _SALT_BYTES)


# --- validation ---------------------------------------------------------------------------


def normalise_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not _USERNAME.match(name):
        raise UserError(
            f"invalid username {username!r}: use 1-64 lower-case letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
    return name


def check_role(role: str) -> str:
    value = (role or "").strip().lower()
    if value not in ROLES:
        raise UserError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    return value


def check_password(password: str) -> str:
    if password is None or len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if password != password.strip():
        raise UserError("the password must not start or end with whitespace")
    return password


# --- queries ------------------------------------------------------------------------------

_COLUMNS = (
    "username, display_name, role, disabled, created_at, updated_at, last_login_at, "
    "password_hash IS NOT NULL"
)


def _row_to_user(row: tuple[Any, ...]) -> User:
    return User(
        username=row[0],
        display_name=row[1],
        role=row[2],
        disabled=bool(row[3]),
        created_at=row[4],
        updated_at=row[5],
        last_login_at=row[6],
        has_password=bool(row[7]),
    )


def get_user(con: duckdb.DuckDBPyConnection, username: str) -> User | None:
    row = con.execute(
        f"SELECT {_COLUMNS} FROM users WHERE username = ?", [(username or "").strip().lower()]
    ).fetchone()
    return _row_to_user(row) if row else None


def require_user(con: duckdb.DuckDBPyConnection, username: str) -> User:
    user = get_user(con, username)
    if user is None:
        raise UserError(f"no user named {username!r} (see `tagdraw user list`)")
    return user


def list_users(con: duckdb.DuckDBPyConnection) -> list[User]:
    rows = con.execute(f"SELECT {_COLUMNS} FROM users ORDER BY username").fetchall()
    return [_row_to_user(row) for row in rows]


def count_admins(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled").fetchone()
    return int(row[0]) if row else 0


# --- changes ------------------------------------------------------------------------------


def add_user(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str | None,
    *,
    role: str,
    display_name: str | None = None,
    actor: str = "cli",
) -> User:
    """Create an account. ``password=None`` makes an OIDC-only account (no password sign-in)."""
    require_actor(con, actor, Role.ADMIN)
    name = normalise_username(username)
    if name in RESERVED_USERNAMES:
        raise UserError(f"the username {name!r} is reserved; choose another")
    role = check_role(role)
    stored = hash_password(check_password(password)) if password is not None else None
    if get_user(con, name) is not None:
        raise UserError(f"a user named {name!r} already exists (use `tagdraw user passwd`)")
    display = (display_name or "").strip() or None
    con.execute(
        "INSERT INTO users (username, display_name, role, password_hash) VALUES (?, ?, ?, ?)",
        [name, display, role, stored],
    )
    audit(con, actor, "user_add", username=name, role=role, display_name=display)
    return require_user(con, name)


def remove_user(con: duckdb.DuckDBPyConnection, username: str, *, actor: str = "cli") -> None:
    """Delete an account. Its past decisions and audit rows stay (they name the user)."""
    require_actor(con, actor, Role.ADMIN)
    user = require_user(con, username)
    con.execute("DELETE FROM users WHERE username = ?", [user.username])
    audit(con, actor, "user_remove", username=user.username, role=user.role)


def set_password(
    con: duckdb.DuckDBPyConnection, username: str, password: str, *, actor: str = "cli"
) -> None:
    require_actor(con, actor, Role.ADMIN)
    user = require_user(con, username)
    stored = hash_password(check_password(password))
    con.execute(
        "UPDATE users SET password_hash = ?, updated_at = now() WHERE username = ?",
        [stored, user.username],
    )
    audit(con, actor, "user_passwd", username=user.username)


def set_role(
    con: duckdb.DuckDBPyConnection, username: str, role: str, *, actor: str = "cli"
) -> User:
    require_actor(con, actor, Role.ADMIN)
    user = require_user(con, username)
    role = check_role(role)
    con.execute(
        "UPDATE users SET role = ?, updated_at = now() WHERE username = ?", [role, user.username]
    )
    audit(con, actor, "user_role", username=user.username, old_role=user.role, role=role)
    return require_user(con, user.username)


def set_disabled(
    con: duckdb.DuckDBPyConnection, username: str, disabled: bool, *, actor: str = "cli"
) -> User:
    require_actor(con, actor, Role.ADMIN)
    user = require_user(con, username)
    con.execute(
        "UPDATE users SET disabled = ?, updated_at = now() WHERE username = ?",
        [disabled, user.username],
    )
    audit(con, actor, "user_disable" if disabled else "user_enable", username=user.username)
    return require_user(con, user.username)


def authenticate(con: duckdb.DuckDBPyConnection, username: str, password: str) -> User | None:
    """The user when the password is right and the account is enabled, else None.

    Takes about as long for an unknown user as for a wrong password. Successful and failed
    sign-ins are audited (the password never is).
    """
    name = (username or "").strip().lower()
    row = con.execute(
        "SELECT password_hash, disabled FROM users WHERE username = ?", [name]
    ).fetchone()
    stored = row[0] if row and row[0] else None
    ok = verify_password(password or "", stored or _DUMMY_HASH)
    if not row or stored is None or not ok or row[1]:
        if name and _USERNAME.match(name):
            audit(con, name, "sign_in_failed")
        return None
    con.execute("UPDATE users SET last_login_at = now() WHERE username = ?", [name])
    audit(con, name, "sign_in")
    return get_user(con, name)


def email_verified_claim(value: object) -> bool | None:
    """The OIDC ``email_verified`` claim as True (a real ``True`` or the string "true"),
    None (missing) or False (anything else: ``bool("false")`` is true, so never ``bool``)."""
    if value is None:
        return None
    if value is True:
        return True
    return isinstance(value, str) and value.strip().lower() == "true"


def user_for_oidc(
    con: duckdb.DuckDBPyConnection,
    email: str | None,
    *,
    allowed_domains: Sequence[str],
    email_verified: object = None,
    trust_unverified: bool = False,
) -> User | None:
    """The enabled account for a single sign-on identity, or None.

    The address must be in one of ``allowed_domains`` and verified by the identity
    provider (``email_verified`` is the raw claim, see ``email_verified_claim``; a missing
    claim passes only with ``trust_unverified``); its part before ``@`` is the username
    (create it with ``tagdraw user add`` first; roles stay ours). Sign-ins and refusals are
    audited like password ones.
    """
    address = (email or "").strip().lower()
    local, _, domain = address.partition("@")
    domains = {d.strip().lower().lstrip("@") for d in allowed_domains if d.strip()}
    verified = email_verified_claim(email_verified)
    vouched = verified is True or (verified is None and trust_unverified)
    trusted = bool(local) and domain in domains and vouched
    user = get_user(con, local) if trusted and _USERNAME.match(local) else None
    if user is None or user.disabled:
        if _USERNAME.match(local):
            audit(con, local, "sign_in_failed", method="oidc", email=address)
        return None
    con.execute("UPDATE users SET last_login_at = now() WHERE username = ?", [local])
    audit(con, local, "sign_in", method="oidc", email=address)
    return get_user(con, local)


# --- role checks --------------------------------------------------------------------------


def _was_account(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    # Every account is created through add_user, which audits it in the same transaction.
    row = con.execute(
        "SELECT EXISTS (SELECT 1 FROM audit_log WHERE action = 'user_add' "
        "AND details->>'username' = ?)",
        [name],
    ).fetchone()
    return bool(row and row[0])


def require_actor(con: duckdb.DuckDBPyConnection, actor: str, role: Role) -> None:
    """Refuse the write (``ActorNotAllowed``) unless ``actor`` may act with ``role`` now.

    Called at the start of every write, in the write's own transaction, so a role or
    enabled flag a caller cached (the dashboard re-reads its account every 30 s) never
    lets a demoted, disabled or removed account act. An actor that names an account must
    be that account, enabled, with ``role`` or a higher one; a removed account's name stays
    refused. Names that never were accounts are the operator's own callers: the CLI
    (``cli:<login>``, the draw commands' ``--actor``), the rule engine (``rules``), demo
    mode, scripts. The dashboard only ever acts as a signed-in account.
    """
    name = (actor or "").strip().lower()
    row = con.execute("SELECT role, disabled FROM users WHERE username = ?", [name]).fetchone()
    if row is None:
        if name and _was_account(con, name):
            raise ActorNotAllowed(f"{name!r} may not do this: the account was removed")
        return
    current, disabled = str(row[0]), bool(row[1])
    needed = Role(role).value
    if disabled:
        raise ActorNotAllowed(f"{name!r} may not do this: the account is disabled")
    if ROLES.index(current) < ROLES.index(needed):
        raise ActorNotAllowed(
            f"{name!r} may not do this: it needs the role {needed}, the account is now {current}"
        )


def can_decide(user: User | None) -> bool:
    """Moderators and admins record decisions."""
    return user is not None and not user.disabled and user.role in ("moderator", "admin")


def is_admin(user: User | None) -> bool:
    return user is not None and not user.disabled and user.role == "admin"


def can_view(user: User | None) -> bool:
    return user is not None and not user.disabled and user.role in ROLES
