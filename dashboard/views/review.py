"""The review queue and the entry view: filters, a paged queue ordered by what needs
attention, the post as text with its evidence, one-click decisions with keyboard
shortcuts, bulk decisions on a selection, and undo."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import actions, queries
from dashboard.context import Ctx, call_db
from dashboard.i18n import t
from dashboard.textview import clip, highlight_html, inert
from warehouse.decisions import REASON_CODES, StaleDecision
from warehouse.errors import UserError
from warehouse.search import match_spans

PAGE_SIZE = 50
BODY_LIMIT = 200_000
INELIGIBLE_REASONS = tuple(r for r in REASON_CODES if r not in ("duplicate", "spam"))
STATUS_FILTERS = ("pending", "eligible", "duplicate", "spam", "ineligible")
KIND_FILTERS = (*queries.SUGGESTION_KINDS, "none")
SHORTCUTS = {
    "eligible": "E",
    "duplicate": "D",
    "spam": "S",
    "ineligible": "I",
    "undo": "U",
    "next": "J",
    "prev": "K",
}


# --- callbacks (run before the next script run; they only touch session state and the DB) --


def _flash(kind: str, message: str) -> None:
    st.session_state["review_flash"] = (kind, message)


def _advance(post_number: int, step: int = 1) -> None:
    posts: list[int] = st.session_state.get("queue_posts", [])
    if post_number in posts:
        index = posts.index(post_number) + step
        if 0 <= index < len(posts):
            st.session_state["review_post"] = posts[index]


def _on_decide(
    db_path: Path,
    slug: str,
    post_number: int,
    shown_decision_id: int | None,
    status: str,
    username: str,
    lang: str,
) -> None:
    note = st.session_state.get(f"note_{post_number}") or None
    reason = None
    duplicate_of = None
    if status == "ineligible":
        reason = st.session_state.get(f"inel_reason_{post_number}") or "other"
    elif status == "duplicate":
        value = st.session_state.get(f"dup_of_{post_number}")
        duplicate_of = int(value) if value is not None else None
        reason = "duplicate"
    try:
        call_db(
            db_path,
            actions.decide,
            slug,
            post_number,
            status,
            decided_by=username,
            shown_decision_id=shown_decision_id,
            reason=reason,
            note=note,
            duplicate_of=duplicate_of,
        )
    except StaleDecision as exc:
        _flash("warning", f"{t('stale', lang)} ({exc})")
        return
    except UserError as exc:
        _flash("error", str(exc))
        return
    _flash("success", t("decided", lang, post=post_number, status=t("status_" + status, lang)))
    st.session_state.pop(f"note_{post_number}", None)
    _advance(post_number)


def _on_undo(
    db_path: Path,
    slug: str,
    post_number: int,
    shown_decision_id: int | None,
    username: str,
    lang: str,
) -> None:
    try:
        decision = call_db(
            db_path,
            actions.undo,
            slug,
            post_number,
            decided_by=username,
            shown_decision_id=shown_decision_id,
        )
    except StaleDecision as exc:
        _flash("warning", f"{t('stale', lang)} ({exc})")
        return
    except UserError as exc:
        _flash("error", str(exc))
        return
    _flash(
        "success", t("decided", lang, post=post_number, status=t("status_" + decision.status, lang))
    )


def _on_bulk(
    db_path: Path,
    slug: str,
    requests: list[actions.DecisionRequest],
    username: str,
    lang: str,
) -> None:
    status = st.session_state.get("bulk_status", "eligible")
    reason = st.session_state.get("bulk_reason") if status == "ineligible" else None
    note = st.session_state.get("bulk_note") or None
    try:
        result = call_db(
            db_path,
            actions.decide_many,
            slug,
            requests,
            status,
            decided_by=username,
            reason=reason,
            note=note,
        )
    except UserError as exc:
        _flash("error", str(exc))
        return
    message = t("bulk_done", lang, ok=len(result.saved), stale=len(result.stale))
    if result.refused:
        message += " · " + "; ".join(f"#{n}: {why}" for n, why in result.refused.items())
    _flash("warning" if result.stale or result.refused else "success", message)
    st.session_state["queue_selection"] = (None, ())


def _on_open(post_number: int) -> None:
    st.session_state["review_post"] = post_number


def _on_filters_changed() -> None:
    st.session_state["queue_page"] = 1
    st.session_state["review_pinned"] = False
    st.session_state["queue_selection"] = (None, ())


def queue_table_key(rows: list[queries.QueueRow]) -> str:
    """The queue table's widget key, made from the rows it shows and their decisions.

    Streamlit keeps a table's selection as row positions. If the key stayed the same while
    the rows changed (another moderator decided one, a page turned), the same positions
    would point at other entries and a bulk decision would land on posts nobody selected.
    A new key for new content starts the selection afresh instead."""
    content = ",".join(f"{r.post_number}:{r.decision_id}" for r in rows)
    return "queue_table_" + hashlib.sha256(content.encode()).hexdigest()[:16]


# --- page -----------------------------------------------------------------------------------


def _filters(ctx: Ctx) -> queries.QueueFilters:
    # The search box stays in view: any 2+ characters of a title, body, author or comment.
    text = st.text_input(ctx.t("search"), key="f_text", on_change=_on_filters_changed)
    with st.expander(ctx.t("filters"), expanded=False):
        cols = st.columns(3)
        statuses = cols[0].multiselect(
            ctx.t("status"),
            STATUS_FILTERS,
            format_func=lambda s: ctx.t("status_" + s),
            key="f_status",
            on_change=_on_filters_changed,
        )
        kinds = cols[1].multiselect(
            ctx.t("suggestion"),
            KIND_FILTERS,
            format_func=lambda k: ctx.t("none") if k == "none" else ctx.t("kind_" + k),
            key="f_kind",
            on_change=_on_filters_changed,
        )
        author = cols[2].text_input(ctx.t("author"), key="f_author", on_change=_on_filters_changed)
        cols = st.columns(3)
        date_from = cols[0].date_input(
            ctx.t("date_from"), value=None, key="f_from", on_change=_on_filters_changed
        )
        date_to = cols[1].date_input(
            ctx.t("date_to"), value=None, key="f_to", on_change=_on_filters_changed
        )
    return queries.QueueFilters(
        statuses=tuple(statuses),
        kinds=tuple(kinds),
        author=author or None,
        date_from=date_from,
        date_to=date_to,
        text=text or None,
    )


def _queue_frame(ctx: Ctx, rows: list[queries.QueueRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "#": r.post_number,
                ctx.t("title"): inert(r.title),
                ctx.t("author"): inert(r.author_name or r.author_username or ""),
                ctx.t("created"): ctx.fmt_date(r.created_at),
                ctx.t("status"): ctx.t("status_" + r.status)
                + (f" #{r.duplicate_of}" if r.duplicate_of else ""),
                ctx.t("suggestion"): ", ".join(ctx.t("kind_" + k) for k in r.suggestion_kinds),
                ctx.t("attention"): round(r.top_score, 2) if r.top_score is not None else None,
                ctx.t("rule_facts"): ", ".join(ctx.t("reason_" + k) for k in r.rule_reasons),
            }
            for r in rows
        ],
        columns=[
            "#",
            ctx.t("title"),
            ctx.t("author"),
            ctx.t("created"),
            ctx.t("status"),
            ctx.t("suggestion"),
            ctx.t("attention"),
            ctx.t("rule_facts"),
        ],
    )


def render(ctx: Ctx) -> None:
    slug = ctx.campaign_slug
    assert slug is not None
    st.header(ctx.t("page_review"))
    flash = st.session_state.pop("review_flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])

    filters = _filters(ctx)
    if filters.text:
        _search_results(ctx, slug, filters.text)
    page_no = int(st.session_state.get("queue_page", 1))
    queue = ctx.call(queries.review_queue, slug, filters, page=page_no, page_size=PAGE_SIZE)
    if page_no > queue.pages:
        st.session_state["queue_page"] = page_no = 1
        queue = ctx.call(queries.review_queue, slug, filters, page=1, page_size=PAGE_SIZE)
    rows = queue.rows
    st.session_state["queue_posts"] = [r.post_number for r in rows]

    top = st.columns([3, 1])
    top[0].caption(
        ctx.t("queue_count", n=queue.total)
        + " · "
        + ctx.t("page_of", page=queue.page, pages=queue.pages)
        + " · "
        + ctx.t("select_hint")
    )
    top[1].number_input(
        ctx.t("page"),
        min_value=1,
        max_value=queue.pages,
        step=1,
        key="queue_page",
        label_visibility="collapsed",
    )
    if not rows:
        st.info(ctx.t("nothing_found"))
        return

    table_key = queue_table_key(rows)
    event = st.dataframe(
        _queue_frame(ctx, rows),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 420),
        on_select="rerun",
        selection_mode="multi-row",
        key=table_key,
    )
    selected_idx = list(event.selection.rows) if event is not None else []
    selected = [rows[i] for i in selected_idx if 0 <= i < len(rows)]
    seen = tuple(r.post_number for r in selected)
    seen_key, seen_before = st.session_state.get("queue_selection", (None, ()))
    if seen_before and seen_key != table_key and not seen:
        st.info(ctx.t("selection_dropped", n=len(seen_before)))
    # Opening follows the table: a newly selected single row becomes the open entry.
    if seen != seen_before and len(selected) == 1:
        st.session_state["review_post"] = selected[0].post_number
    st.session_state["queue_selection"] = (table_key, seen)

    if selected and ctx.can_decide:
        _bulk_panel(ctx, slug, selected)

    current = st.session_state.get("review_post")
    posts = [r.post_number for r in rows]
    if current is None or (current not in posts and not st.session_state.get("review_pinned")):
        current = posts[0]
        st.session_state["review_post"] = current
    st.divider()
    options = posts if current in posts else [current, *posts]
    titles = {r.post_number: r.title for r in rows}
    st.selectbox(
        ctx.t("open_entry"),
        options,
        format_func=lambda n: f"#{n} {titles.get(n, '')[:80]}",
        key="review_post",
    )
    _entry_view(ctx, slug, int(st.session_state["review_post"]))


SEARCH_RESULTS = 10


def _marked(text: str, query: str | None, spans: Sequence[tuple[int, int]] | None = None) -> str:
    """``text`` as escaped HTML with the matches of ``query`` (or the given spans) in
    <mark>: textview.highlight_html escapes everything first and adds only the marks."""
    found = match_spans(text, query) if spans is None and query else list(spans or ())
    return highlight_html(text, sorted({text[a:b] for a, b in found}))


def _search_results(ctx: Ctx, slug: str, text: str) -> None:
    """The campaign's entries matching the search, best first, each with the passage that
    matched highlighted (scraped text shown only as escaped text)."""
    results, total = ctx.call(queries.search_entries, slug, text, limit=SEARCH_RESULTS)
    with st.container(border=True, key="search_results"):
        st.caption(f"{ctx.t('search')}: {ctx.t('queue_count', n=total)}")
        if not results:
            st.caption(ctx.t("nothing_found"))
        for result in results:
            cols = st.columns([1, 6])
            cols[0].button(
                f"#{result.post_number}",
                key=f"search_open_{result.post_number}",
                on_click=_on_open_pinned,
                args=(result.post_number,),
            )
            with cols[1]:
                st.html(_marked(result.title, text))
                if result.passage_field != "title":
                    st.html(_marked(result.passage, None, result.passage_spans))


def _bulk_panel(ctx: Ctx, slug: str, selected: list[queries.QueueRow]) -> None:
    with st.container(border=True):
        st.markdown(f"**{ctx.t('bulk')}** ({len(selected)})")
        st.caption(ctx.t("bulk_posts", posts=", ".join(f"#{r.post_number}" for r in selected)))
        cols = st.columns([2, 2, 3, 2])
        status = cols[0].selectbox(
            ctx.t("status"),
            ("eligible", "spam", "ineligible", "pending"),
            format_func=lambda s: ctx.t("status_" + s),
            key="bulk_status",
        )
        cols[1].selectbox(
            ctx.t("ineligible_reason"),
            INELIGIBLE_REASONS,
            format_func=lambda r: ctx.t("reason_" + r),
            key="bulk_reason",
            disabled=status != "ineligible",
        )
        cols[2].text_input(ctx.t("note"), key="bulk_note")
        requests = [actions.DecisionRequest(r.post_number, r.decision_id) for r in selected]
        cols[3].button(
            ctx.t("bulk_apply", n=len(selected)),
            key="bulk_apply",
            type="primary",
            on_click=_on_bulk,
            args=(ctx.db_path, slug, requests, ctx.user.username, ctx.lang),
        )


def _safe_link(site_url: str, url: str | None, post_number: int) -> str | None:
    """An http(s) link to the original; never a scraped javascript: or data: URL."""
    if url and url.startswith("/"):
        return site_url.rstrip("/") + url
    if url and (url.startswith("https://") or url.startswith("http://")):
        return url
    return f"{site_url.rstrip('/')}/posts/{post_number}"


def _entry_view(ctx: Ctx, slug: str, post_number: int) -> None:
    detail = ctx.call(queries.entry_detail, slug, post_number)
    if detail is None:
        st.warning(ctx.t("nothing_found"))
        return
    entry = detail.entry
    left, right = st.columns([3, 2])
    with left:
        # Scraped text only ever through st.text (see dashboard.textview).
        st.subheader(f"#{entry.post_number}")
        st.text(inert(entry.title))
        who = inert(entry.author_name or "") + (
            f" ({inert(entry.author_username)})" if entry.author_username else ""
        )
        st.text(
            f"{ctx.t('author')}: {who}\n"
            f"{ctx.t('created')}: {ctx.fmt_date(entry.created_at)}"
            + (
                f" · {ctx.t('updated')}: {ctx.fmt_date(entry.updated_at)}"
                if entry.updated_at
                else ""
            )
            + f" · {ctx.t('comments')}: {entry.comment_count if entry.comment_count is not None else '-'}"
        )
        tags = detail.raw_tags or entry.tags
        st.text(f"{ctx.t('tags')}: " + ", ".join(inert(tag) for tag in tags))
        link = _safe_link(detail.site_url, entry.url, entry.post_number)
        if link:
            st.link_button(ctx.t("original_link"), link)
    with right:
        _decide_panel(ctx, slug, detail)

    tabs = st.tabs(
        [
            ctx.t("body"),
            f"{ctx.t('suggestions')} ({len(detail.suggestions)})",
            ctx.t("rule_facts"),
            f"{ctx.t('comments')} ({detail.comments_total})",
            ctx.t("history"),
        ]
    )
    with tabs[0]:
        body, clipped = clip(detail.body_text, BODY_LIMIT)
        if clipped:
            st.warning(ctx.t("body_clipped"))
        searched = st.session_state.get("f_text")
        if searched and match_spans(body, searched, limit=1):
            st.html(_marked(body, searched))
        else:
            st.text(inert(body))
    with tabs[1]:
        if not detail.suggestions:
            st.caption(ctx.t("no_suggestions"))
        for index, suggestion in enumerate(detail.suggestions):
            line = f"**{ctx.t('kind_' + suggestion.kind)}** · {suggestion.score:.2f}"
            if suggestion.duplicate_of:
                line += f" · #{suggestion.duplicate_of}"
            st.markdown(line)
            st.text(inert(suggestion.why))
            if suggestion.duplicate_of:
                st.button(
                    f"{ctx.t('open_entry')} #{suggestion.duplicate_of}",
                    key=f"open_dup_{post_number}_{index}",
                    on_click=_on_open_pinned,
                    args=(suggestion.duplicate_of,),
                )
            if suggestion.evidence:
                st.json(suggestion.evidence, expanded=False)
    with tabs[2]:
        facts = entry.facts
        st.dataframe(
            pd.DataFrame(
                [
                    {"fact": name, "value": str(getattr(facts, name))}
                    for name in (
                        "in_window",
                        "early",
                        "late",
                        "tagged",
                        "keyword_removed",
                        "organiser",
                        "gone",
                        "edited_after_close",
                        "author_entry_count",
                        "over_author_limit",
                    )
                ]
            ),
            hide_index=True,
        )
        if detail.versions > 1:
            st.caption(f"versions: {detail.versions}")
    with tabs[3]:
        if not detail.comments:
            st.caption(ctx.t("no_comments"))
        for comment in detail.comments:
            name = comment.author_name or comment.author_username or "-"
            st.text(f"{inert(name)} · {ctx.fmt_date(comment.created_at)}")
            comment_text = clip(comment.body_text, 20_000)[0]
            searched = st.session_state.get("f_text")
            if searched and match_spans(comment_text, searched, limit=1):
                st.html(_marked(comment_text, searched))
            else:
                st.text(inert(comment_text))
    with tabs[4]:
        if detail.history:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "id": d.decision_id,
                            ctx.t("when"): ctx.fmt_date(d.decided_at),
                            ctx.t("status"): ctx.t("status_" + d.status),
                            "reason": d.reason or "",
                            "duplicate_of": d.duplicate_of,
                            ctx.t("decided_by"): d.decided_by,
                            "source": d.source,
                            ctx.t("note"): d.note or "",
                        }
                        for d in reversed(detail.history)
                    ]
                ),
                hide_index=True,
            )


def _on_open_pinned(post_number: int) -> None:
    st.session_state["review_post"] = post_number
    st.session_state["review_pinned"] = True


def _decide_panel(ctx: Ctx, slug: str, detail: queries.EntryDetail) -> None:
    entry = detail.entry
    post = entry.post_number
    decision = entry.decision
    shown_id = decision.decision_id if decision else None
    status_line = f"{ctx.t('current_status')}: **{ctx.t('status_' + entry.status)}**"
    if decision:
        status_line += f" · {ctx.fmt_date(decision.decided_at)}"
        if decision.reason:
            status_line += f" · {ctx.t('reason_' + decision.reason)}"
        if decision.duplicate_of:
            status_line += f" · #{decision.duplicate_of}"
    st.markdown(status_line)
    if decision:
        st.text(f"{ctx.t('decided_by')} {inert(decision.decided_by)}")
    if not ctx.can_decide:
        st.info(ctx.t("viewer_cannot_decide"))
        return
    frozen = detail.campaign_frozen
    if frozen:
        st.warning(ctx.t("frozen_no_decide"))
    common = (ctx.db_path, slug, post, shown_id)
    who = (ctx.user.username, ctx.lang)
    suggested_dup = next(
        (s.duplicate_of for s in detail.suggestions if s.kind == "duplicate" and s.duplicate_of),
        decision.duplicate_of if decision else None,
    )
    rule_reasons = [r for r in entry.facts.reasons() if r in INELIGIBLE_REASONS]
    with st.container(border=True):
        st.text_input(ctx.t("note"), key=f"note_{post}", disabled=frozen)
        cols = st.columns(2)
        cols[0].button(
            ctx.t("btn_eligible"),
            key=f"decide_eligible_{post}",
            type="primary",
            shortcut=SHORTCUTS["eligible"],
            on_click=_on_decide,
            args=(*common, "eligible", *who),
            disabled=frozen,
            width="stretch",
        )
        cols[1].button(
            ctx.t("btn_spam"),
            key=f"decide_spam_{post}",
            shortcut=SHORTCUTS["spam"],
            on_click=_on_decide,
            args=(*common, "spam", *who),
            disabled=frozen,
            width="stretch",
        )
        cols = st.columns(2)
        cols[0].number_input(
            ctx.t("duplicate_of"),
            min_value=1,
            step=1,
            value=suggested_dup,
            key=f"dup_of_{post}",
            disabled=frozen,
        )
        cols[1].button(
            ctx.t("btn_duplicate"),
            key=f"decide_duplicate_{post}",
            shortcut=SHORTCUTS["duplicate"],
            on_click=_on_decide,
            args=(*common, "duplicate", *who),
            disabled=frozen,
            width="stretch",
        )
        cols = st.columns(2)
        default_reason = rule_reasons[0] if rule_reasons else "other"
        cols[0].selectbox(
            ctx.t("ineligible_reason"),
            INELIGIBLE_REASONS,
            index=INELIGIBLE_REASONS.index(default_reason),
            format_func=lambda r: ctx.t("reason_" + r),
            key=f"inel_reason_{post}",
            disabled=frozen,
        )
        cols[1].button(
            ctx.t("btn_ineligible"),
            key=f"decide_ineligible_{post}",
            shortcut=SHORTCUTS["ineligible"],
            on_click=_on_decide,
            args=(*common, "ineligible", *who),
            disabled=frozen,
            width="stretch",
        )
        nav_cols = st.columns(3)
        nav_cols[0].button(
            ctx.t("btn_undo"),
            key=f"undo_{post}",
            shortcut=SHORTCUTS["undo"],
            on_click=_on_undo,
            args=(*common, *who),
            disabled=frozen or decision is None,
            width="stretch",
        )
        nav_cols[1].button(
            ctx.t("btn_prev"),
            key=f"prev_{post}",
            shortcut=SHORTCUTS["prev"],
            on_click=_advance,
            args=(post, -1),
            width="stretch",
        )
        nav_cols[2].button(
            ctx.t("btn_next"),
            key=f"next_{post}",
            shortcut=SHORTCUTS["next"],
            on_click=_advance,
            args=(post, 1),
            width="stretch",
        )
        st.caption(ctx.t("shortcuts_help"))
