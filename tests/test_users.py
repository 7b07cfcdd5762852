"""Accounts: hashing, roles, authentication, audit, and the ``tagdraw user`` commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tagdraw.cli import main
from warehouse import users
from warehouse.db import run
from warehouse.errors import UserError


def _audit_actions(db_path: Path) -> list[tuple[str, str]]:
    return run(
        lambda con: con.execute("SELECT actor, action FROM audit_log ORDER BY audit_id").fetchall(),
        db_path,
    )


def test_hash_is_self_describing_salted_and_verifies() -> None:
    first = users.hash_password("correct horse")
    second = users.hash_password("correct horse")
    assert first.startswith("scrypt$16384$8$1$")
    assert first != second  # per-user salt
    assert users.verify_password("correct horse", first)
    assert not users.verify_password("correct hors", first)
    assert not users.verify_password("correct horse", "md5$abc")
    assert not users.verify_password("correct horse", "garbage")
    assert not users.verify_password("correct horse", None)


def test_add_authenticate_roles_and_audit(db_path: Path) -> None:
    run(
        lambda con: users.add_user(
            con, "Somchai", "password123", role="moderator", display_name="สมชาย", actor="root"
        ),
        db_path,
    )
    run(lambda con: users.add_user(con, "viewer1", "password123", role="viewer"), db_path)

    user = run(lambda con: users.authenticate(con, "somchai", "password123"), db_path)
    assert user is not None and user.username == "somchai" and user.label == "สมชาย"
    assert users.can_decide(user) and not users.is_admin(user)
    assert user.last_login_at is not None
    viewer = run(lambda con: users.authenticate(con, "viewer1", "password123"), db_path)
    assert viewer is not None and not users.can_decide(viewer) and users.can_view(viewer)
    assert run(lambda con: users.authenticate(con, "somchai", "wrong-password"), db_path) is None
    assert run(lambda con: users.authenticate(con, "nobody", "password123"), db_path) is None

    run(lambda con: users.set_disabled(con, "somchai", True, actor="root"), db_path)
    assert run(lambda con: users.authenticate(con, "somchai", "password123"), db_path) is None
    disabled = run(lambda con: users.get_user(con, "somchai"), db_path)
    assert disabled is not None and not users.can_decide(disabled)

    run(lambda con: users.set_role(con, "viewer1", "admin", actor="root"), db_path)
    admin = run(lambda con: users.get_user(con, "viewer1"), db_path)
    assert users.is_admin(admin)

    actions = _audit_actions(db_path)
    assert ("root", "user_add") in actions
    assert ("somchai", "sign_in") in actions
    assert ("somchai", "sign_in_failed") in actions
    assert ("root", "user_disable") in actions
    assert ("root", "user_role") in actions
    # The password never reaches the audit log.
    details = run(
        lambda con: con.execute(
            "SELECT string_agg(CAST(details AS VARCHAR), ' ') FROM audit_log"
        ).fetchone()[0],
        db_path,
    )
    assert "password123" not in details


def test_single_sign_on_needs_an_allowed_domain_and_an_enabled_account(db_path: Path) -> None:
    def setup(con) -> None:  # type: ignore[no-untyped-def]
        users.add_user(con, "mod", "password123", role="moderator", actor="root")
        users.add_user(con, "gone", "password123", role="viewer", actor="root")
        users.set_disabled(con, "gone", True, actor="root")

    run(setup, db_path)

    def sign_in(email: str, verified: bool | None = True) -> users.User | None:
        return run(
            lambda con: users.user_for_oidc(
                con, email, allowed_domains=["Example.org", "@uni.ac.th"], email_verified=verified
            ),
            db_path,
        )

    before = run(lambda con: users.get_user(con, "mod"), db_path)
    assert before is not None and before.last_login_at is None
    signed_in = sign_in(" Mod@EXAMPLE.org ")
    assert signed_in is not None and signed_in.username == "mod"
    assert signed_in.last_login_at is not None
    assert sign_in("mod@uni.ac.th") is not None
    # Same name, another domain: a stranger with a free mail account is not our moderator.
    assert sign_in("mod@evil.example.com") is None
    assert sign_in("mod@example.org.evil.com") is None
    assert sign_in("mod@example.org", verified=False) is None  # the provider says unverified
    assert sign_in("gone@example.org") is None  # disabled
    assert sign_in("nobody@example.org") is None
    assert sign_in("") is None and sign_in("@example.org") is None
    assert (
        run(lambda con: users.user_for_oidc(con, "mod@example.org", allowed_domains=[]), db_path)
        is None
    )  # nothing allowed until the operator names the domains
    rows = run(
        lambda con: con.execute(
            "SELECT actor, action, details->>'method', details->>'email' FROM audit_log "
            "WHERE action LIKE 'sign_in%' ORDER BY audit_id"
        ).fetchall(),
        db_path,
    )
    assert rows == [
        ("mod", "sign_in", "oidc", "mod@example.org"),
        ("mod", "sign_in", "oidc", "mod@uni.ac.th"),
        ("mod", "sign_in_failed", "oidc", "mod@evil.example.com"),
        ("mod", "sign_in_failed", "oidc", "mod@example.org.evil.com"),
        ("mod", "sign_in_failed", "oidc", "mod@example.org"),
        ("gone", "sign_in_failed", "oidc", "gone@example.org"),
        ("nobody", "sign_in_failed", "oidc", "nobody@example.org"),
        ("mod", "sign_in_failed", "oidc", "mod@example.org"),
    ]


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("a b", "password123", "viewer", "invalid username"),
        ("rules", "password123", "viewer", "reserved"),
        ("ok", "short", "viewer", "at least 8"),
        ("ok", "password123", "superuser", "unknown role"),
        ("ok", " password123", "viewer", "whitespace"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(
    db_path: Path, username: str, password: str, role: str, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        run(lambda con: users.add_user(con, username, password, role=role), db_path)
    assert run(users.list_users, db_path) == []


def test_duplicate_and_unknown_users(db_path: Path) -> None:
    run(lambda con: users.add_user(con, "anna", "password123", role="admin"), db_path)
    with pytest.raises(UserError, match="already exists"):
        run(lambda con: users.add_user(con, "ANNA", "password123", role="admin"), db_path)
    with pytest.raises(UserError, match="no user named"):
        run(lambda con: users.remove_user(con, "ghost"), db_path)
    with pytest.raises(UserError, match="no user named"):
        run(lambda con: users.set_password(con, "ghost", "password123"), db_path)


def test_cli_user_commands(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", str(db_path)]
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    assert (
        main([*db, "user", "add", "Nok", "--role", "moderator", "--name", "นก", "--password-stdin"])
        == 0
    )
    assert "added nok (moderator)" in capsys.readouterr().out

    assert main([*db, "user", "list"]) == 0
    out = capsys.readouterr().out
    assert "nok" in out and "moderator" in out and "นก" in out

    monkeypatch.setattr("sys.stdin", io.StringIO("another-pass\n"))
    assert main([*db, "user", "passwd", "nok", "--password-stdin"]) == 0
    assert run(lambda con: users.authenticate(con, "nok", "another-pass"), db_path) is not None

    # Bad input: one line on stderr, non-zero exit, nothing changed.
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main([*db, "user", "add", "pim", "--role", "viewer", "--password-stdin"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "at least 8" in err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main([*db, "user", "add", "pim", "--role", "viewer"]) == 2
    assert "--password-stdin" in capsys.readouterr().err
    assert main([*db, "user", "remove", "ghost"]) == 2
    assert "no user named 'ghost'" in capsys.readouterr().err
    assert [u.username for u in run(users.list_users, db_path)] == ["nok"]

    assert main([*db, "user", "remove", "nok"]) == 0
    assert run(users.list_users, db_path) == []
    actors = {actor for actor, action in _audit_actions(db_path) if action.startswith("user_")}
    assert all(actor.startswith("cli:") for actor in actors)


def test_dashboard_command_line(tmp_path: Path) -> None:
    from dashboard.launch import dashboard_command

    cmd, env = dashboard_command(tmp_path / "w.duckdb", host="127.0.0.1", port=8765, demo_mode=True)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("dashboard/app.py")
    joined = " ".join(cmd)
    assert "--server.headless true" in joined and "--server.port 8765" in joined
    assert "--server.address 127.0.0.1" in joined and "--browser.gatherUsageStats false" in joined
    assert env["TAGDRAW_DB"].endswith("w.duckdb") and env["TAGDRAW_DASHBOARD_DEMO_MODE"] == "1"


def test_dashboard_bad_port(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(db_path), "dashboard", "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err


@pytest.mark.parametrize("claim", ["false", "False", "FALSE", " false ", "", "0", "no", 0, 1])
def test_single_sign_on_refuses_an_email_verified_claim_that_is_not_true(
    db_path: Path, claim: object
) -> None:
    """Only a real ``True`` or the string "true" counts as verified; ``bool("false")`` is
    true in Python, so the claim is never passed through ``bool``."""
    run(lambda con: users.add_user(con, "boss", "password123", role="admin", actor="root"), db_path)
    for trust_unverified in (False, True):  # the operator's setting is about a missing claim
        signed_in = run(
            lambda con, trust=trust_unverified: users.user_for_oidc(
                con,
                "boss@example.org",
                allowed_domains=["example.org"],
                email_verified=claim,
                trust_unverified=trust,
            ),
            db_path,
        )
        assert signed_in is None, (claim, trust_unverified)


@pytest.mark.parametrize("claim", [True, "true", "True", " TRUE "])
def test_single_sign_on_accepts_a_true_email_verified_claim(db_path: Path, claim: object) -> None:
    run(lambda con: users.add_user(con, "boss", "password123", role="admin", actor="root"), db_path)
    signed_in = run(
        lambda con: users.user_for_oidc(
            con, "boss@example.org", allowed_domains=["example.org"], email_verified=claim
        ),
        db_path,
    )
    assert signed_in is not None and signed_in.username == "boss"


def test_single_sign_on_without_the_claim_needs_the_operator_to_trust_the_provider(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse.settings import get_settings

    run(lambda con: users.add_user(con, "boss", "password123", role="admin", actor="root"), db_path)

    def sign_in(trust: bool) -> users.User | None:
        return run(
            lambda con: users.user_for_oidc(
                con,
                "boss@example.org",
                allowed_domains=["example.org"],
                email_verified=None,
                trust_unverified=trust,
            ),
            db_path,
        )

    assert sign_in(False) is None
    assert sign_in(True) is not None
    monkeypatch.delenv("TAGDRAW_OIDC_TRUST_UNVERIFIED", raising=False)
    get_settings.cache_clear()
    try:
        assert get_settings().oidc_trust_unverified is False  # refused unless asked for
        monkeypatch.setenv("TAGDRAW_OIDC_TRUST_UNVERIFIED", "1")
        get_settings.cache_clear()
        assert get_settings().oidc_trust_unverified is True
    finally:
        get_settings.cache_clear()
