"""Every write checks its actor's current role and enabled flag in its own transaction: an
account demoted, disabled or removed a moment ago cannot act, whatever a caller cached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_draw_warehouse import SLUG, future, seed_campaign

from warehouse import draw, users
from warehouse.campaigns import create_campaign, get_campaign, update_campaign
from warehouse.db import connect, run
from warehouse.decisions import decision_history, record_decision

PASSWORD = "password123"
SOURCE = "สลากกินแบ่งรัฐบาล รางวัลที่ 1"


def _accounts(con: duckdb.DuckDBPyConnection) -> None:
    users.add_user(con, "boss", PASSWORD, role="admin", actor="root")
    users.add_user(con, "mod", PASSWORD, role="moderator", actor="root")
    users.add_user(con, "target", PASSWORD, role="viewer", actor="root")


def _audit_count(db_path: Path) -> int:
    row = run(lambda con: con.execute("SELECT count(*) FROM audit_log").fetchone(), db_path)
    assert row is not None
    return int(row[0])


# How each account loses its right to act.
DEMOTE: dict[str, Callable[[duckdb.DuckDBPyConnection, str], Any]] = {
    "demoted": lambda con, name: users.set_role(con, name, "viewer", actor="root"),
    "disabled": lambda con, name: users.set_disabled(con, name, True, actor="root"),
    "removed": lambda con, name: users.remove_user(con, name, actor="root"),
}


@pytest.mark.parametrize("how", sorted(DEMOTE))
def test_a_moderator_who_lost_the_role_cannot_decide(db_path: Path, how: str) -> None:
    numbers = seed_campaign(db_path, decide=False)
    run(_accounts, db_path)
    run(lambda con: record_decision(con, SLUG, numbers[0], "eligible", decided_by="mod"), db_path)
    run(lambda con: DEMOTE[how](con, "mod"), db_path)
    before = _audit_count(db_path)
    with pytest.raises(users.ActorNotAllowed, match="mod"):
        run(
            lambda con: record_decision(con, SLUG, numbers[1], "eligible", decided_by="mod"),
            db_path,
        )
    assert run(lambda con: decision_history(con, SLUG, numbers[1]), db_path) == []
    assert _audit_count(db_path) == before


def test_a_viewer_cannot_decide_but_rules_and_operators_can(db_path: Path) -> None:
    numbers = seed_campaign(db_path, decide=False)
    run(_accounts, db_path)
    with pytest.raises(users.ActorNotAllowed, match="moderator"):
        run(
            lambda con: record_decision(con, SLUG, numbers[0], "spam", decided_by="target"),
            db_path,
        )
    # Names that are not (and never were) accounts: the rule engine, the CLI's operator.
    for actor, source in (("rules", "rule"), ("cli:root", "moderator"), ("boss", "moderator")):
        run(
            lambda con, a=actor, s=source: record_decision(
                con, SLUG, numbers[0], "spam", decided_by=a, source=s
            ),
            db_path,
        )
    history = run(lambda con: decision_history(con, SLUG, numbers[0]), db_path)
    assert [d.decided_by for d in history] == ["rules", "cli:root", "boss"]


USER_ACTIONS: dict[str, Callable[[duckdb.DuckDBPyConnection, str], Any]] = {
    "add": lambda con, actor: users.add_user(con, "new", PASSWORD, role="admin", actor=actor),
    "remove": lambda con, actor: users.remove_user(con, "target", actor=actor),
    "passwd": lambda con, actor: users.set_password(con, "target", "x" * 12, actor=actor),
    "role": lambda con, actor: users.set_role(con, "target", "admin", actor=actor),
    "disable": lambda con, actor: users.set_disabled(con, "target", True, actor=actor),
}


@pytest.mark.parametrize("action", sorted(USER_ACTIONS))
@pytest.mark.parametrize("how", sorted(DEMOTE))
def test_an_admin_who_lost_the_role_cannot_manage_accounts(
    db_path: Path, action: str, how: str
) -> None:
    run(_accounts, db_path)
    run(lambda con: DEMOTE[how](con, "boss"), db_path)
    before = run(users.list_users, db_path)
    audited = _audit_count(db_path)
    with pytest.raises(users.ActorNotAllowed, match="boss"):
        run(lambda con: USER_ACTIONS[action](con, "boss"), db_path)
    assert run(users.list_users, db_path) == before
    assert _audit_count(db_path) == audited
    # A moderator never could; an enabled admin can.
    with pytest.raises(users.ActorNotAllowed, match="admin"):
        run(lambda con: USER_ACTIONS[action](con, "mod"), db_path)
    run(lambda con: users.add_user(con, "chief", PASSWORD, role="admin", actor="root"), db_path)
    run(lambda con: USER_ACTIONS[action](con, "chief"), db_path)


def test_campaign_edits_check_the_actor(db_path: Path) -> None:
    seed_campaign(db_path, decide=False)
    run(_accounts, db_path)
    with pytest.raises(users.ActorNotAllowed, match="mod"):
        run(lambda con: update_campaign(con, SLUG, actor="mod", prizes=1), db_path)
    with pytest.raises(users.ActorNotAllowed, match="mod"):
        run(
            lambda con: create_campaign(
                con,
                "other",
                keywords=["x"],
                opens_at="2013-08-06",
                closes_at="2013-08-31",
                prizes=1,
                actor="mod",
            ),
            db_path,
        )
    assert run(lambda con: get_campaign(con, SLUG), db_path).prizes == 3
    run(lambda con: update_campaign(con, SLUG, actor="boss", prizes=1), db_path)
    assert run(lambda con: get_campaign(con, SLUG), db_path).prizes == 1


def _freeze(con: duckdb.DuckDBPyConnection, actor: str, due_minutes: int = 60) -> Any:
    return draw.freeze(
        con,
        SLUG,
        actor=actor,
        randomness_source=SOURCE,
        randomness_due=future(due_minutes),
        randomness_values=1,
        randomness_digits=6,
    )


@pytest.mark.parametrize("how", sorted(DEMOTE))
def test_an_admin_who_lost_the_role_cannot_freeze_unfreeze_draw_or_replace(
    db_path: Path, how: str
) -> None:
    seed_campaign(db_path)
    run(_accounts, db_path)
    run(lambda con: users.add_user(con, "chief", PASSWORD, role="admin", actor="root"), db_path)

    def refused(action: Callable[[duckdb.DuckDBPyConnection], Any]) -> None:
        audited = _audit_count(db_path)
        with pytest.raises(users.ActorNotAllowed, match="boss"):
            run(action, db_path)
        assert _audit_count(db_path) == audited

    run(lambda con: DEMOTE[how](con, "boss"), db_path)
    refused(lambda con: _freeze(con, "boss"))
    assert run(lambda con: draw.current_pool(con, SLUG), db_path) is None

    run(lambda con: _freeze(con, "chief"), db_path)
    refused(lambda con: draw.unfreeze(con, SLUG, actor="boss", reason="change of plan"))
    assert run(lambda con: draw.current_pool(con, SLUG), db_path) is not None

    # Run after the announced value is due (the freeze's due time moved into the past).
    with connect(db_path) as con:
        con.execute(
            "UPDATE draw_pools SET randomness_due = ? WHERE campaign_slug = ?",
            [future(-5), SLUG],
        )
    refused(lambda con: draw.run_draw(con, SLUG, randomness="123456/", actor="boss"))
    assert run(lambda con: draw.get_certificate(con, SLUG), db_path) is None
    cert = run(lambda con: draw.run_draw(con, SLUG, randomness="123456/", actor="chief"), db_path)
    winner = draw.current_winners(cert)[0]
    assert winner is not None
    refused(lambda con: draw.replace_winner(con, SLUG, winner, reason="x", actor="boss"))
    assert (
        draw.current_winners(run(lambda con: draw.get_certificate(con, SLUG), db_path))[0] == winner
    )
    # A moderator could never run these either.
    with pytest.raises(users.ActorNotAllowed, match="admin"):
        run(lambda con: draw.replace_winner(con, SLUG, winner, reason="x", actor="mod"), db_path)


def test_the_check_is_timeless(db_path: Path) -> None:
    """The refusal depends on the account as it is now, not on when it signed in."""
    run(_accounts, db_path)
    run(lambda con: users.require_actor(con, "mod", users.Role.MODERATOR), db_path)
    run(lambda con: users.set_role(con, "mod", "viewer", actor="root"), db_path)
    with pytest.raises(users.ActorNotAllowed):
        run(lambda con: users.require_actor(con, "mod", users.Role.MODERATOR), db_path)
    run(lambda con: users.require_actor(con, "mod", users.Role.VIEWER), db_path)
