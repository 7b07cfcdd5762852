"""The Draw page (admins only): freeze the pool, unfreeze with a reason, run the draw with
the published value(s), replace a disqualified winner, and download every export.

Only calls warehouse.draw, warehouse.exports and warehouse.publish. Scraped text is shown
in tables (plain text) or escaped; it never reaches markdown raw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb
import streamlit as st

from dashboard.context import Ctx
from dashboard.textview import md_escape
from warehouse import draw, exports
from warehouse.db import resolve_db_path
from warehouse.errors import TagdrawError
from warehouse.publish import publish
from warehouse.thai import BANGKOK

VOIDED_COLUMNS = (
    "pool_hash",
    "randomness_source",
    "randomness_due",
    "frozen_at",
    "frozen_by",
    "voided_at",
    "voided_by",
    "reason",
)
# The keys of a certificate's "replacements" items (warehouse.draw.replace_winner).
REPLACEMENT_COLUMNS = ("prize_rank", "disqualified", "replacement", "reason", "by", "at")
EXPORTS: tuple[tuple[str, str], ...] = (
    ("winners", "csv"),
    ("winners", "xlsx"),
    ("winners", "json"),
    ("entries", "csv"),
    ("entries", "xlsx"),
    ("entries", "json"),
    ("certificate", "json"),
    ("announcement", "md"),
    ("announcement", "html"),
)


def _say_error(exc: Exception) -> None:
    st.error(md_escape(str(exc)))


@dataclass(frozen=True)
class _State:
    status: draw.DrawStatus
    plan: draw.FreezePlan | None
    plan_error: str | None
    report: exports.DrawReport


def _load(con: duckdb.DuckDBPyConnection, slug: str) -> _State:
    status = draw.draw_status(con, slug)
    plan, plan_error = None, None
    if status.pool is None:
        try:
            plan = draw.plan_freeze(con, slug)
        except TagdrawError as exc:
            plan_error = str(exc)
    return _State(status, plan, plan_error, exports.load_report(con, slug))


def render(ctx: Ctx) -> None:
    st.header(ctx.t("page_draw"))
    if not ctx.is_admin:
        st.error(ctx.t("draw_admins_only"))
        return
    slug = ctx.campaign_slug
    if not slug:
        st.info(ctx.t("draw_no_campaign"))
        return
    flash = st.session_state.pop("draw_page_flash", None)
    if flash:
        st.success(flash)  # our own message: numbers and hashes only
    try:
        state = ctx.call(_load, slug)
    except TagdrawError as exc:
        _say_error(exc)
        return
    actor = ctx.user.username
    status = state.status
    if status.pool is None:
        _freeze_section(ctx, slug, actor, state)
    elif status.certificate is None:
        _pool_section(ctx, status.pool)
        _run_section(ctx, slug, actor, status.pool)
        _unfreeze_section(ctx, slug, actor)
    else:
        _pool_section(ctx, status.pool)
        _result_section(ctx, slug, actor, state)
    if status.voided:
        with st.expander(ctx.t("draw_voided")):
            st.dataframe(
                ctx.frame(
                    (
                        {
                            "pool_hash": p.pool_hash,
                            "randomness_source": p.randomness_source,
                            "randomness_due": ctx.fmt_date(p.randomness_due),
                            "frozen_at": ctx.fmt_date(p.frozen_at),
                            "frozen_by": p.frozen_by,
                            "voided_at": ctx.fmt_date(p.voided_at),
                            "voided_by": p.voided_by,
                            "reason": p.void_reason,
                        }
                        for p in status.voided
                    ),
                    VOIDED_COLUMNS,
                ),
                hide_index=True,
            )
    _downloads(ctx, state.report)
    _publish_section(ctx, slug)


_FAILED = object()


def _act(ctx: Ctx, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The action's result, or ``_FAILED`` after showing its one-line error."""
    try:
        return ctx.call(fn, *args, **kwargs)
    except TagdrawError as exc:
        _say_error(exc)
        return _FAILED


def _freeze_section(ctx: Ctx, slug: str, actor: str, state: _State) -> None:
    st.subheader(ctx.t("draw_step_freeze"))
    if state.plan_error:
        st.warning(md_escape(state.plan_error))
    plan = state.plan
    if plan is not None:
        st.write(ctx.t("draw_pool_now", n=len(plan.pool_rows), h=plan.pool_hash))
        if plan.undecided:
            st.warning(ctx.t("draw_undecided", n=len(plan.undecided)))
            st.dataframe(
                ctx.frame(
                    (
                        {
                            "post_number": e.post_number,
                            "title": e.title,
                            "author": e.author_username or "",
                        }
                        for e in plan.undecided
                    ),
                    ("post_number", "title", "author"),
                ),
                hide_index=True,
            )
    accept_unverified: str | None = None
    if plan is not None and plan.unverified:
        st.warning(md_escape(ctx.t("draw_unverified", n=len(plan.unverified), slug=slug)))
        st.dataframe(
            ctx.frame(
                (
                    {
                        "post_number": u.post_number,
                        "state": u.state,
                        "last_fetched_at": ctx.fmt_date(u.last_fetched_at),
                    }
                    for u in plan.unverified
                ),
                ("post_number", "state", "last_fetched_at"),
            ),
            hide_index=True,
        )
        accept_unverified = st.text_input(
            ctx.t("draw_accept_unverified"), key="draw_accept_unverified"
        )
    source = st.text_input(
        ctx.t("draw_source"), key="draw_source", placeholder=ctx.t("draw_source_help")
    )
    preset: str | None = st.selectbox(
        ctx.t("draw_source_preset"),
        [None, *draw.SOURCE_PRESETS],
        format_func=lambda name: (
            ctx.t("draw_no_preset")
            if name is None
            else f"{name}: {draw.SOURCE_PRESETS[name].description}"
        ),
        key="draw_source_preset",
    )
    col_count, col_digits = st.columns(2)
    value_count = col_count.number_input(
        ctx.t("draw_value_count"),
        min_value=1,
        max_value=20,
        value=1,
        step=1,
        key="draw_value_count",
        disabled=preset is not None,
    )
    value_digits = col_digits.number_input(
        ctx.t("draw_value_digits"),
        min_value=0,
        max_value=100,
        value=0,
        step=1,
        key="draw_value_digits",
        disabled=preset is not None,
    )
    tomorrow = datetime.now(BANGKOK).date() + timedelta(days=1)
    col_date, col_time = st.columns(2)
    due_date: date = col_date.date_input(
        ctx.t("draw_due_date"), value=tomorrow, key="draw_due_date"
    )
    due_time: time = col_time.time_input(
        ctx.t("draw_due_time"), value=time(16, 0), key="draw_due_time"
    )
    leave_out = False
    if plan is not None and plan.undecided:
        leave_out = st.checkbox(
            ctx.t("draw_leave_out", n=len(plan.undecided)), key="draw_leave_out"
        )
    if st.button(ctx.t("draw_freeze"), key="draw_freeze", type="primary"):
        due = datetime.combine(due_date, due_time, tzinfo=BANGKOK)
        pool = _act(
            ctx,
            draw.freeze,
            slug,
            actor=actor,
            randomness_source=source,
            randomness_due=due,
            # With a preset its own format applies (the two fields are disabled).
            randomness_values=None if preset else int(value_count),
            randomness_digits=None if preset else int(value_digits) or None,
            source_preset=preset,
            leave_out_undecided=leave_out,
            accept_unverified=accept_unverified or None,
        )
        if pool is not _FAILED:
            st.session_state["draw_page_flash"] = ctx.t(
                "draw_frozen", n=pool.pool_size, h=pool.pool_hash
            )
            st.rerun()


def _pool_section(ctx: Ctx, pool: draw.FrozenPool) -> None:
    st.subheader(ctx.t("draw_pool_info"))
    st.code(pool.pool_hash, language=None)
    st.write(
        ctx.t("draw_due", s=md_escape(pool.randomness_source), d=pool.randomness_due.isoformat())
    )
    if pool.left_out:
        st.caption(ctx.t("draw_left_out", nums=", ".join(str(n) for n in pool.left_out)))
    if pool.unverified_entries:
        first = pool.unverified_entries[0]
        st.text(  # the reason is typed text: shown as plain text
            ctx.t(
                "draw_unverified_frozen",
                nums=", ".join(str(e["post_number"]) for e in pool.unverified_entries),
                by=first["accepted_by"],
                reason=first["reason"],
            )
        )
    st.download_button(
        ctx.t("draw_download_pool"),
        data=pool.pool_text.encode("utf-8"),
        file_name=f"{pool.campaign_slug}-pool.csv",
        mime="text/csv",
        key="draw_dl_pool",
    )


def _unfreeze_section(ctx: Ctx, slug: str, actor: str) -> None:
    with st.expander(ctx.t("draw_step_unfreeze")):
        reason = st.text_input(ctx.t("draw_reason"), key="draw_unfreeze_reason")
        if st.button(ctx.t("draw_unfreeze"), key="draw_unfreeze"):
            voided = _act(ctx, draw.unfreeze, slug, actor=actor, reason=reason)
            if voided is not _FAILED:
                st.session_state["draw_page_flash"] = ctx.t("draw_unfrozen")
                st.rerun()


def _run_section(ctx: Ctx, slug: str, actor: str, pool: draw.FrozenPool) -> None:
    st.subheader(ctx.t("draw_step_run"))
    if datetime.now(BANGKOK) < pool.randomness_due:
        st.info(ctx.t("draw_not_due", d=pool.randomness_due.isoformat()))
    values_text = st.text_area(ctx.t("draw_values"), key="draw_values", height=80)
    if st.button(ctx.t("draw_run"), key="draw_run", type="primary"):
        values = [v.strip() for v in values_text.splitlines() if v.strip()]
        cert = _act(ctx, draw.run_draw, slug, randomness=values, actor=actor)
        if cert is not _FAILED:
            st.session_state["draw_page_flash"] = ctx.t("draw_ran")
            st.rerun()


def _result_section(ctx: Ctx, slug: str, actor: str, state: _State) -> None:
    report = state.report
    cert = report.certificate
    assert cert is not None
    result = draw.verify_certificate(cert)
    if result.ok:
        st.success(ctx.t("draw_verified"))
    else:
        st.error(ctx.t("draw_not_verified"))
        for difference in result.differences:
            st.text(difference)
    st.subheader(ctx.t("draw_winners"))
    st.dataframe(
        ctx.frame((r.as_dict() for r in exports.winner_rows(report)), exports.WINNER_COLUMNS),
        hide_index=True,
    )
    if state.status.winner_problems:
        st.warning(ctx.t("draw_winner_problems"))
        st.dataframe(
            ctx.frame(
                (problem.as_json() for problem in state.status.winner_problems),
                ("prize_rank", "post_number", "kind", "detail"),
            ),
            hide_index=True,
        )
    if cert["alternate_list"]:
        st.subheader(ctx.t("draw_alternates"))
        st.dataframe(
            ctx.frame(
                (r.as_dict() for r in exports.alternate_rows(report)), exports.WINNER_COLUMNS
            ),
            hide_index=True,
        )
    if cert.get("replacements"):
        st.subheader(ctx.t("draw_replacements"))
        st.dataframe(ctx.frame(cert["replacements"], REPLACEMENT_COLUMNS), hide_index=True)
    holders = [n for n in draw.current_winners(cert) if n is not None]
    if not holders:
        return
    st.subheader(ctx.t("draw_step_replace"))
    titles = {r.post_number: r.title for r in exports.winner_rows(report)}
    target = st.selectbox(
        ctx.t("draw_winner_to_replace"),
        holders,
        format_func=lambda n: f"{n} — {titles.get(n, '')}",
        key="draw_replace_target",
    )
    reason = st.text_input(ctx.t("draw_reason"), key="draw_replace_reason")
    if st.button(ctx.t("draw_replace"), key="draw_replace"):
        updated = _act(ctx, draw.replace_winner, slug, int(target), reason=reason, actor=actor)
        if updated is not _FAILED:
            item = updated["replacements"][-1]
            st.session_state["draw_page_flash"] = ctx.t(
                "draw_replaced",
                a=item["disqualified"],
                b=item["replacement"] if item["replacement"] is not None else ctx.t("draw_vacant"),
            )
            st.rerun()


def _downloads(ctx: Ctx, report: exports.DrawReport) -> None:
    st.subheader(ctx.t("draw_downloads"))
    columns = st.columns(3)
    index = 0
    for what, fmt in EXPORTS:
        if what != "entries" and report.certificate is None:
            continue
        try:
            data = exports.render(report, what, fmt)
        except TagdrawError as exc:
            _say_error(exc)
            continue
        columns[index % 3].download_button(
            ctx.t(f"draw_export_{what}_{fmt}"),
            data=data,
            file_name=exports.file_name(report.slug, what, fmt),
            mime=exports.MEDIA_TYPES[fmt],
            key=f"draw_dl_{what}_{fmt}",
        )
        index += 1


def _publish_section(ctx: Ctx, slug: str) -> None:
    """The same code as `tagdraw publish` (warehouse.publish), writing where the admin says."""
    st.subheader(ctx.t("draw_publish"))
    default = resolve_db_path(ctx.db_path).parent / "public" / slug
    out = st.text_input(ctx.t("draw_publish_dir"), value=str(default), key="draw_pub_dir")
    if st.button(ctx.t("draw_publish_button"), key="draw_publish"):
        try:
            path, _ = publish(ctx.db_path, slug, out)
        except (TagdrawError, OSError) as exc:
            _say_error(exc)
            return
        st.success(md_escape(ctx.t("draw_published", path=path / "index.html")))
