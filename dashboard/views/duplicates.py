"""Duplicate clusters side by side, the shared passages highlighted; one action keeps the
original and marks the rest duplicate of it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import actions, queries
from dashboard.context import Ctx, call_db
from dashboard.i18n import t
from dashboard.textview import clip, highlight_html, inert
from warehouse.errors import UserError

CLUSTERS_PER_PAGE = 10
TEXT_LIMIT = 20_000


def _on_keep_original(
    db_path: Path,
    slug: str,
    original: int,
    requests: list[actions.DecisionRequest],
    username: str,
    lang: str,
) -> None:
    try:
        result = call_db(
            db_path, actions.keep_original, slug, original, requests, decided_by=username
        )
    except UserError as exc:
        st.session_state["dup_flash"] = ("error", str(exc))
        return
    message = t("cluster_done", lang, n=len(result.saved))
    if result.stale:
        message += " · " + t("stale", lang) + " " + ", ".join(f"#{n}" for n in result.stale)
    if result.refused:
        message += " · " + "; ".join(f"#{n}: {why}" for n, why in result.refused.items())
    st.session_state["dup_flash"] = (
        "warning" if result.stale or result.refused else "success",
        message,
    )


def _member_block(ctx: Ctx, member: queries.ClusterMember, heading: str) -> None:
    with st.container(border=True):
        st.markdown(f"**{heading}** · #{member.post_number}")
        # Scraped text only ever through st.text (see dashboard.textview).
        st.text(inert(member.title))
        who = inert(member.author_name or member.author_username or "-")
        line = f"{who} · {ctx.fmt_date(member.created_at)} · {ctx.t('status_' + member.status)}"
        if member.score is not None:
            line += f" · {ctx.t('similarity')} {member.score:.2f}"
        st.text(line)
        text, _ = clip(member.body_text, TEXT_LIMIT)
        # Escaped first, then only our <mark> tags are added (see textview.highlight_html).
        st.html(highlight_html(text, member.passages))


def render(ctx: Ctx) -> None:
    slug = ctx.campaign_slug
    assert slug is not None
    st.header(ctx.t("clusters"))
    flash = st.session_state.pop("dup_flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])
    page = int(st.session_state.get("dup_page", 1))
    clusters, total = ctx.call(
        queries.duplicate_clusters,
        slug,
        limit=CLUSTERS_PER_PAGE,
        offset=(page - 1) * CLUSTERS_PER_PAGE,
    )
    if total == 0:
        st.info(ctx.t("no_clusters"))
        return
    pages = max(1, -(-total // CLUSTERS_PER_PAGE))
    st.caption(ctx.t("queue_count", n=total) + " · " + ctx.t("page_of", page=page, pages=pages))
    st.number_input(ctx.t("page"), min_value=1, max_value=pages, step=1, key="dup_page")
    for cluster in clusters:
        st.divider()
        columns = st.columns(min(1 + len(cluster.copies), 3))
        with columns[0]:
            _member_block(ctx, cluster.original, ctx.t("original"))
        for index, copy in enumerate(cluster.copies):
            with columns[(index + 1) % len(columns)]:
                _member_block(ctx, copy, ctx.t("copy"))
        if ctx.can_decide:
            requests = [
                actions.DecisionRequest(c.post_number, c.decision_id) for c in cluster.copies
            ]
            st.button(
                ctx.t("keep_original") + f" (#{cluster.original.post_number})",
                key=f"keep_original_{cluster.original.post_number}",
                on_click=_on_keep_original,
                args=(
                    ctx.db_path,
                    slug,
                    cluster.original.post_number,
                    requests,
                    ctx.user.username,
                    ctx.lang,
                ),
            )
