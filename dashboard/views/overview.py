"""Overview of one campaign: counts by status, entries per day, crawl health, and what is
left before the draw."""

from __future__ import annotations

from datetime import date, datetime

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import queries
from dashboard.context import Ctx
from dashboard.textview import inert
from warehouse.health import Health
from warehouse.review import list_near_misses
from warehouse.thai import BANGKOK


def render(ctx: Ctx) -> None:
    assert ctx.campaign_slug is not None
    data = ctx.call(queries.overview, ctx.campaign_slug)
    campaign = data.campaign
    st.header(ctx.t("page_overview"))
    st.text(inert(campaign.title or campaign.slug))  # text, never markdown (textview)
    st.caption(
        f"{ctx.t('window')}: {ctx.fmt_date(campaign.opens_at)} – {ctx.fmt_date(campaign.closes_at)}"
        f" · {ctx.t('prizes')}: {campaign.prizes}"
        + (f" (+{campaign.alternates})" if campaign.alternates else "")
    )

    st.subheader(ctx.t("counts_by_status"))
    columns = st.columns(len(data.by_status) + 1)
    columns[0].metric(ctx.t("total"), data.total)
    for column, (status, count) in zip(columns[1:], data.by_status.items(), strict=True):
        column.metric(ctx.t("status_" + status), count)
    if data.suggestion_counts:
        st.caption(
            " · ".join(
                f"{ctx.t('kind_' + kind)}: {count}"
                for kind, count in sorted(data.suggestion_counts.items())
            )
        )

    left, right = st.columns(2)
    with left:
        st.subheader(ctx.t("entries_per_day"))
        if data.per_day:
            st.altair_chart(entries_per_day_chart(ctx, data.per_day), width="stretch")
        else:
            st.caption(ctx.t("nothing_found"))
    with right:
        st.subheader(ctx.t("before_draw"))
        st.metric(ctx.t("undecided"), data.undecided)
        if campaign.frozen_at:
            st.success(f"{ctx.t('frozen_since')} {ctx.fmt_date(campaign.frozen_at)}")
        else:
            st.info(ctx.t("not_frozen"))

    near = ctx.call(list_near_misses, campaign.slug)
    with st.expander(f"{ctx.t('near_misses')} ({len(near)})", expanded=False):
        st.caption(ctx.t("near_misses_help"))
        if near:
            st.dataframe(
                ctx.frame(
                    (
                        {
                            "post_number": n.post_number,
                            "comment": n.comment_id,
                            "author": inert(n.author_name or n.author_key or ""),
                            "created": ctx.fmt_date(n.created_at),
                            "excerpt": inert(n.excerpt),
                            "why": inert(n.why),
                        }
                        for n in near
                    ),
                    ("post_number", "comment", "author", "created", "excerpt", "why"),
                ),
                hide_index=True,
                width="stretch",
                key="near_miss_table",
            )

    st.subheader(ctx.t("crawl_health"))
    show_health(ctx, data.health)


def show_health(ctx: Ctx, health: Health) -> None:
    """Last run, last good run, next scheduled run, and translated warnings."""
    run = health.last_run
    if run is None:
        st.warning(ctx.t("no_crawls"))
        return
    cols = st.columns(4)
    # The age fits the metric's width; the full date is its help and the caption below.
    cols[0].metric(
        ctx.t("last_run"), age_text(ctx, run.started_at), help=ctx.fmt_date(run.started_at)
    )
    cols[1].metric(ctx.t("status"), ctx.value("run", run.status))
    cols[2].metric(ctx.t("errors"), run.errors)
    cols[3].metric(ctx.t("duration"), f"{run.duration_s:.0f}" if run.duration_s else "-")
    line = (
        f"{ctx.t('last_run')}: {ctx.fmt_date(run.started_at)}"
        f" · {ctx.t('last_good_run')}: {ctx.fmt_date(health.last_good_at)}"
    )
    if health.next_scheduled_at:
        line += f" · {ctx.t('next_run')}: {ctx.fmt_date(health.next_scheduled_at)}"
    st.caption(line)
    for code in health.codes:
        if code == "stale":
            hours = "-"
            if health.last_good_at is not None:
                age = datetime.now(BANGKOK) - health.last_good_at
                hours = f"{age.total_seconds() / 3600:.0f}"
            st.warning(ctx.t("crawl_stale", hours=hours), icon="⏰")
        elif code == "errors_rising":
            st.warning(ctx.t("crawl_errors_rising", recent=run.errors), icon="📈")
        elif code in ("last_run_failed", "running", "window_not_open", "window_over"):
            st.info(ctx.t("health_" + code))


def age_text(ctx: Ctx, when: datetime | None, now: datetime | None = None) -> str:
    """How long ago, short enough for a metric: "12 นาทีที่แล้ว" / "12 min ago"."""
    if when is None:
        return "-"
    seconds = ((now or datetime.now(BANGKOK)) - when).total_seconds()
    if seconds < -60:
        return ctx.t("ago_future")
    if seconds < 60:
        return ctx.t("ago_now")
    if seconds < 3600:
        return ctx.t("ago_minutes", n=int(seconds // 60))
    if seconds < 2 * 86400:
        return ctx.t("ago_hours", n=int(seconds // 3600))
    return ctx.t("ago_days", n=int(seconds // 86400))


def entries_per_day_chart(ctx: Ctx, per_day: list[tuple[date, int]]) -> alt.Chart:
    """One bar per day on a date axis (day/month, the year is in the tooltip's Thai date):
    one day reads as one bar, a thousand as a histogram with thinned labels."""
    day, entries = ctx.col("day"), ctx.col("entries")
    frame = pd.DataFrame(
        {
            day: [pd.Timestamp(d) for d, _ in per_day],
            entries: [n for _, n in per_day],
            "shown": [ctx.fmt_date(d, with_time=False) for d, _ in per_day],
        }
    )
    return (
        alt.Chart(frame, height=260)
        .mark_bar()
        .encode(
            x=alt.X(
                f"yearmonthdate({day}):T",
                title=day,
                axis=alt.Axis(format="%-d/%-m", labelOverlap=True),
            ),
            y=alt.Y(f"{entries}:Q", title=entries, axis=alt.Axis(tickMinStep=1)),
            tooltip=[
                alt.Tooltip("shown:N", title=day),
                alt.Tooltip(f"{entries}:Q", title=entries),
            ],
        )
    )
