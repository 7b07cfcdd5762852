"""Crawl history: runs, durations, pages, errors."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import queries
from dashboard.context import Ctx
from dashboard.views.overview import show_health
from warehouse.health import Health, crawl_health, crawl_history


def render(ctx: Ctx) -> None:
    assert ctx.campaign_slug is not None
    st.header(ctx.t("page_crawls"))
    health = ctx.call(crawl_health, ctx.campaign_slug)
    show_health(ctx, health)
    show_failed_pages(ctx, health)
    runs = ctx.call(crawl_history, ctx.campaign_slug, 200)
    if not runs:
        st.info(ctx.t("no_crawls"))
        return
    frame = pd.DataFrame(
        [
            {
                "run": r.run_id,
                ctx.t("started"): ctx.fmt_date(r.started_at),
                "mode": r.mode,
                ctx.t("status"): r.status,
                "trigger": r.trigger or "",
                ctx.t("duration"): round(r.duration_s, 1) if r.duration_s is not None else None,
                ctx.t("pages"): r.listing_pages + r.post_pages + r.comment_pages,
                "requests": r.requests,
                "new": r.posts_new,
                "changed": r.posts_changed,
                "gone": r.posts_gone,
                ctx.t("comments"): r.comments_new,
                ctx.t("errors"): r.errors,
            }
            for r in runs
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch", key="crawl_runs_table")
    chart = (
        pd.DataFrame(
            {
                "run": [r.run_id for r in runs],
                "duration_s": [r.duration_s or 0 for r in runs],
                "errors": [r.errors for r in runs],
            }
        )
        .set_index("run")
        .sort_index()
    )
    st.line_chart(chart, height=220)
    run_id = st.selectbox(
        ctx.t("run_errors"), options=[r.run_id for r in runs], key="crawl_run_pick"
    )
    errors = ctx.call(queries.crawl_errors, int(run_id))
    if errors:
        st.dataframe(
            pd.DataFrame([{**e, "at": ctx.fmt_date(e["at"])} for e in errors]),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(ctx.t("no_errors"))


def show_failed_pages(ctx: Ctx, health: Health) -> None:
    """The posts whose page or thread the last crawl could not complete, by number."""
    if not health.failed_pages:
        return
    st.warning(
        ctx.t(
            "crawl_failed_pages",
            posts=", ".join(str(page.post_number) for page in health.failed_pages),
        ),
        icon="⚠️",
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    ctx.t("post"): page.post_number,
                    "url": page.url,
                    ctx.t("errors"): page.error or "",
                    "run": page.run_id,
                }
                for page in health.failed_pages
            ]
        ),
        hide_index=True,
        width="stretch",
        key="crawl_failed_pages_table",
    )
