"""Crawl history: runs, durations, pages, errors."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import queries
from dashboard.context import Ctx
from dashboard.views.overview import show_health
from warehouse.crawl_ledger import CrawlRun
from warehouse.health import Health, crawl_health, crawl_history

RUN_COLUMNS = (
    "run",
    "started",
    "mode",
    "status",
    "trigger",
    "duration",
    "pages",
    "requests",
    "new",
    "changed",
    "gone",
    "comments",
    "errors",
)


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
    st.dataframe(
        ctx.frame(
            (
                {
                    "run": r.run_id,
                    "started": ctx.fmt_date(r.started_at),
                    "mode": ctx.value("mode", r.mode),
                    "status": ctx.value("run", r.status),
                    "trigger": ctx.value("trigger", r.trigger),
                    "duration": round(r.duration_s, 1) if r.duration_s is not None else None,
                    "pages": r.listing_pages + r.post_pages + r.comment_pages,
                    "requests": r.requests,
                    "new": r.posts_new,
                    "changed": r.posts_changed,
                    "gone": r.posts_gone,
                    "comments": r.comments_new,
                    "errors": r.errors,
                }
                for r in runs
            ),
            RUN_COLUMNS,
        ),
        hide_index=True,
        width="stretch",
        key="crawl_runs_table",
    )
    left, right = st.columns(2)
    left.altair_chart(runs_chart(ctx, runs, "duration"), width="stretch")
    right.altair_chart(runs_chart(ctx, runs, "errors"), width="stretch")
    run_id = st.selectbox(
        ctx.t("run_errors"), options=[r.run_id for r in runs], key="crawl_run_pick"
    )
    errors = ctx.call(queries.crawl_errors, int(run_id))
    if errors:
        st.dataframe(
            ctx.frame(
                ({**e, "at": ctx.fmt_date(e["at"])} for e in errors),
                ("at", "kind", "url", "http_status", "permanent", "error"),
            ),
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
        ctx.frame(
            (
                {
                    "post_number": page.post_number,
                    "url": page.url,
                    "error": page.error or "",
                    "run": page.run_id,
                }
                for page in health.failed_pages
            ),
            ("post_number", "url", "error", "run"),
        ),
        hide_index=True,
        width="stretch",
        key="crawl_failed_pages_table",
    )


def runs_chart(ctx: Ctx, runs: list[CrawlRun], measure: str) -> alt.Chart:
    """One bar per run (oldest left) of ``measure`` ("duration" or "errors"): a run is a
    category, so one run is one bar, not a lone point on a fractional axis; with hundreds
    the labels thin out."""
    run, value, started = ctx.col("run"), ctx.col(measure), ctx.col("started")
    ordered = sorted(runs, key=lambda r: r.run_id)
    frame = pd.DataFrame(
        {
            run: [f"#{r.run_id}" for r in ordered],
            value: [(r.duration_s or 0.0) if measure == "duration" else r.errors for r in ordered],
            started: [ctx.fmt_date(r.started_at) for r in ordered],
        }
    )
    return (
        alt.Chart(frame, height=220, title=value)
        .mark_bar(color="#d62728" if measure == "errors" else "#1f77b4")
        .encode(
            x=alt.X(f"{run}:O", title=run, sort=None, axis=alt.Axis(labelOverlap=True)),
            y=alt.Y(f"{value}:Q", title=value, axis=alt.Axis(tickMinStep=1)),
            tooltip=[
                alt.Tooltip(f"{run}:O", title=run),
                alt.Tooltip(f"{started}:N", title=started),
                alt.Tooltip(f"{value}:Q", title=value),
            ],
        )
    )
