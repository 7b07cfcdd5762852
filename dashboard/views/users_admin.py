"""Accounts (admins only): list, add, change role, disable/enable, set a new password;
sign-in locks in force, and lifting one."""

from __future__ import annotations

import streamlit as st

from dashboard.context import Ctx
from warehouse import signin, users
from warehouse.errors import UserError


def render(ctx: Ctx) -> None:
    if not ctx.is_admin:
        st.error(ctx.t("not_allowed"))
        return
    st.header(ctx.t("page_users"))
    accounts = ctx.call(users.list_users)
    if accounts:
        st.dataframe(
            ctx.frame(
                (
                    {
                        "username": u.username,
                        "display_name": u.display_name or "",
                        "role": ctx.t("role_" + u.role),
                        "status": ctx.t("disabled" if u.disabled else "active"),
                        "last_login": ctx.fmt_date(u.last_login_at),
                    }
                    for u in accounts
                ),
                ("username", "display_name", "role", "status", "last_login"),
            ),
            hide_index=True,
            width="stretch",
            key="users_table",
        )
    actor = ctx.user.username
    _signin_locks(ctx, actor)

    with (
        st.expander(ctx.t("add_user"), expanded=not accounts),
        st.form("add_user_form", clear_on_submit=True),
    ):
        name = st.text_input(ctx.t("username"), key="new_username")
        display = st.text_input(ctx.t("display_name"), key="new_display")
        role = st.selectbox(ctx.t("role"), users.ROLES, key="new_role")
        password = st.text_input(ctx.t("password"), type="password", key="new_password")
        if st.form_submit_button(ctx.t("save")):
            try:
                ctx.call(
                    users.add_user,
                    name,
                    password,
                    role=role,
                    display_name=display,
                    actor=actor,
                )
                st.success(ctx.t("user_saved"))
                st.rerun()
            except UserError as exc:
                st.error(str(exc))

    others = [u for u in accounts if u.username != ctx.user.username]
    if not others:
        return
    pick = st.selectbox(ctx.t("username"), [u.username for u in others], key="edit_user")
    target = next(u for u in others if u.username == pick)
    cols = st.columns(3)
    with cols[0]:
        role = st.selectbox(
            ctx.t("role"), users.ROLES, index=users.ROLES.index(target.role), key="edit_role"
        )
        if st.button(ctx.t("save"), key="edit_role_save"):
            ctx.call(users.set_role, target.username, role, actor=actor)
            st.rerun()
    with cols[1]:
        label = ctx.t("enable") if target.disabled else ctx.t("disable")
        if st.button(label, key="edit_disable"):
            ctx.call(users.set_disabled, target.username, not target.disabled, actor=actor)
            st.rerun()
    with cols[2], st.form("reset_password_form", clear_on_submit=True):
        password = st.text_input(ctx.t("reset_password"), type="password", key="edit_pw")
        if st.form_submit_button(ctx.t("save")):
            try:
                ctx.call(users.set_password, target.username, password, actor=actor)
                st.success(ctx.t("user_saved"))
            except UserError as exc:
                st.error(str(exc))


def _signin_locks(ctx: Ctx, actor: str) -> None:
    """Usernames and clients locked by the sign-in throttle; an admin may lift a lock."""
    locks = ctx.call(signin.active_locks)
    st.subheader(ctx.t("signin_locks"))
    if not locks:
        st.caption(ctx.t("no_signin_locks"))
        return
    # Typed usernames and addresses are attacker-chosen text: a dataframe shows them inert.
    st.dataframe(
        ctx.frame(
            (
                {
                    "lock_kind": ctx.t("lock_kind_" + lock.kind),
                    "lock_key": lock.key,
                    "lock_failures": lock.failures,
                    "locked_at": ctx.fmt_date(lock.locked_at),
                    "locked_until": ctx.fmt_date(lock.locked_until),
                }
                for lock in locks
            ),
            ("lock_kind", "lock_key", "lock_failures", "locked_at", "locked_until"),
        ),
        hide_index=True,
        width="stretch",
        key="signin_locks_table",
    )
    by_id = {lock.lock_id: lock for lock in locks}
    pick = st.selectbox(
        ctx.t("lock_key"),
        list(by_id),
        format_func=lambda i: f"{ctx.t('lock_kind_' + by_id[i].kind)}: {by_id[i].key}",
        key="lift_lock_pick",
    )
    if st.button(ctx.t("lift_lock"), key="lift_lock"):
        try:
            ctx.call(signin.lift_lock, int(pick), actor=actor)
            st.rerun()
        except UserError as exc:
            st.error(str(exc))
