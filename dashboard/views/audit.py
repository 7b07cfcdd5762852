"""The audit log: every decision and admin action with who and when; filterable and
downloadable as CSV."""

from __future__ import annotations

import streamlit as st

from dashboard import queries
from dashboard.context import Ctx
from dashboard.textview import inert

CSV_COLUMNS = ("audit_id", "at", "actor", "action", "campaign_slug", "details")


def render(ctx: Ctx) -> None:
    st.header(ctx.t("page_audit"))
    actions = ctx.call(queries.audit_actions)
    cols = st.columns([2, 2, 2, 2, 2])
    only_campaign = cols[0].toggle(
        ctx.campaign_slug or ctx.t("all_campaigns"),
        value=ctx.campaign_slug is not None,
        key="audit_only_campaign",
        disabled=ctx.campaign_slug is None,
    )
    actor = cols[1].text_input(ctx.t("actor"), key="audit_actor")
    action = cols[2].selectbox(
        ctx.t("action"),
        options=["", *actions],
        key="audit_action",
        format_func=lambda a: a or ctx.t("any"),
    )
    since = cols[3].date_input(ctx.t("date_from"), value=None, key="audit_since")
    until = cols[4].date_input(ctx.t("date_to"), value=None, key="audit_until")
    text = st.text_input(ctx.t("search"), key="audit_text")
    filters = queries.AuditFilters(
        campaign_slug=ctx.campaign_slug if only_campaign else None,
        actor=actor or None,
        action=action or None,
        since=since,
        until=until,
        text=text or None,
    )
    rows = ctx.call(queries.audit_rows, filters, limit=5000)
    st.caption(ctx.t("queue_count", n=len(rows)))
    if rows:
        frame = ctx.frame(
            (
                {
                    "audit_id": r["audit_id"],
                    "at": ctx.fmt_date(r["at"]),
                    "actor": inert(r["actor"]),
                    "action": r["action"],
                    "campaign": r["campaign_slug"] or "",
                    "details": inert(r["details"]),
                }
                for r in rows
            ),
            ("audit_id", "at", "actor", "action", "campaign", "details"),
        )
        st.dataframe(frame, hide_index=True, width="stretch", key="audit_table")
    st.download_button(
        ctx.t("download_csv"),
        data=queries.csv_bytes(rows, CSV_COLUMNS),
        file_name=f"tagdraw-audit-{ctx.campaign_slug or 'all'}.csv",
        mime="text/csv",
        key="audit_csv",
    )
