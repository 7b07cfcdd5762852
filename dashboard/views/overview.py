"""Overview of one campaign: counts by status, entries per day, crawl health, and what is
left before the draw."""

from __future__ import annotations

from datetime import datetime

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
            frame = pd.DataFrame(data.per_day, columns=["day", "entries"]).set_index("day")
            st.bar_chart(frame, height=260)
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
                pd.DataFrame(
                    [
                        {
                            ctx.t("post"): n.post_number,
                            "comment": n.comment_id,
                            ctx.t("author"): inert(n.author_name or n.author_key or ""),
                            ctx.t("created"): ctx.fmt_date(n.created_at),
                            ctx.t("title"): inert(n.excerpt),
                            ctx.t("suggestion"): inert(n.why),
                        }
                        for n in near
                    ]
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
    cols[0].metric(ctx.t("last_run"), ctx.fmt_date(run.started_at))
    cols[1].metric(ctx.t("status"), run.status)
    cols[2].metric(ctx.t("errors"), run.errors)
    cols[3].metric(ctx.t("duration"), f"{run.duration_s:.0f}" if run.duration_s else "-")
    line = f"{ctx.t('last_good_run')}: {ctx.fmt_date(health.last_good_at)}"
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
