"""The review queue and the entry view: filters, a paged queue ordered by what needs
attention, the post as text with its evidence, one-click decisions with keyboard
shortcuts, bulk decisions on a selection, and undo."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import actions, queries
from dashboard.context import Ctx, call_db
from dashboard.i18n import t
from dashboard.textview import clip, highlight_html, inert
from warehouse.decisions import REASON_CODES, StaleDecision
from warehouse.entries import Entry
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


QUEUE_COLUMNS = (
    "post_number",
    "title",
    "author",
    "created",
    "status",
    "suggestion",
    "attention",
    "rule_facts",
)


def _queue_frame(ctx: Ctx, rows: list[queries.QueueRow]) -> pd.DataFrame:
    return ctx.frame(
        (
            {
                "post_number": r.post_number,
                "title": inert(r.title),
                "author": inert(r.author_name or r.author_username or ""),
                "created": ctx.fmt_date(r.created_at),
                "status": ctx.t("status_" + r.status)
                + (f" #{r.duplicate_of}" if r.duplicate_of else ""),
                "suggestion": ", ".join(ctx.t("kind_" + k) for k in r.suggestion_kinds),
                "attention": round(r.top_score, 2) if r.top_score is not None else None,
                "rule_facts": ", ".join(ctx.t("reason_" + k) for k in r.rule_reasons),
            }
            for r in rows
        ),
        QUEUE_COLUMNS,
    )


def _open_linked_entry(ctx: Ctx, slug: str) -> None:
    """``?post=N`` in the address opens entry N, once per link (the page then keeps the
    address in step with the open entry, see ``_show_in_address``)."""
    linked = st.query_params.get("post")
    if linked is None or st.session_state.get("review_linked") == (slug, linked):
        return
    st.session_state["review_linked"] = (slug, linked)
    number = int(linked) if linked.isdigit() else None
    if number is None or ctx.call(queries.entry_detail, slug, number, max_comments=0) is None:
        st.warning(ctx.t("entry_not_in_campaign", post=linked, campaign=slug))
        del st.query_params["post"]
        return
    st.session_state["review_post"] = number
    st.session_state["review_pinned"] = True


def _show_in_address(slug: str, post_number: int) -> None:
    """The open entry's link (``/review?post=N``) in the address bar, to copy and send."""
    value = str(post_number)
    st.session_state["review_linked"] = (slug, value)
    if st.query_params.get("post") != value:
        st.query_params["post"] = value


def render(ctx: Ctx) -> None:
    slug = ctx.campaign_slug
    assert slug is not None
    st.header(ctx.t("page_review"))
    flash = st.session_state.pop("review_flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])

    _open_linked_entry(ctx, slug)
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
    current = int(st.session_state["review_post"])
    _show_in_address(slug, current)
    _entry_view(ctx, slug, current)


SEARCH_RESULTS = 10
SHOWN_FACTS = (
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
HISTORY_COLUMNS = (
    "decision_id",
    "at",
    "status",
    "reason",
    "duplicate_of",
    "decided_by",
    "source",
    "note",
)


def _fact_value(ctx: Ctx, value: object) -> str:
    if isinstance(value, bool):
        return ctx.t("yes" if value else "no")
    return "-" if value is None else str(value)


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
            ctx.frame(
                (
                    {"fact": ctx.t("fact_" + name), "value": _fact_value(ctx, getattr(facts, name))}
                    for name in SHOWN_FACTS
                ),
                ("fact", "value"),
            ),
            hide_index=True,
        )
        if detail.versions > 1:
            st.caption(ctx.t("versions_seen", n=detail.versions))
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
                ctx.frame(
                    (
                        {
                            "decision_id": d.decision_id,
                            "at": ctx.fmt_date(d.decided_at),
                            "status": ctx.t("status_" + d.status),
                            "reason": ctx.t("reason_" + d.reason) if d.reason else "",
                            "duplicate_of": d.duplicate_of,
                            "decided_by": d.decided_by,
                            "source": d.source,
                            "note": d.note or "",
                        }
                        for d in reversed(detail.history)
                    ),
                    HISTORY_COLUMNS,
                ),
                hide_index=True,
            )


def _on_open_pinned(post_number: int) -> None:
    st.session_state["review_post"] = post_number
    st.session_state["review_pinned"] = True


@dataclass(frozen=True)
class _Shown:
    """The entry whose decision panel is shown, and the decision the moderator sees (a
    decision on it carries that id, so a change made meanwhile is refused as stale)."""

    db_path: Path
    slug: str
    post: int
    shown_decision_id: int | None
    frozen: bool


def _decide_panel(ctx: Ctx, slug: str, detail: queries.EntryDetail) -> None:
    entry = detail.entry
    _status_line(ctx, entry)
    if not ctx.can_decide:
        st.info(ctx.t("viewer_cannot_decide"))
        return
    if detail.campaign_frozen:
        st.warning(ctx.t("frozen_no_decide"))
    shown = _Shown(
        ctx.db_path,
        slug,
        entry.post_number,
        entry.decision.decision_id if entry.decision else None,
        detail.campaign_frozen,
    )
    with st.container(border=True):
        st.text_input(ctx.t("note"), key=f"note_{shown.post}", disabled=shown.frozen)
        cols = st.columns(2)
        _decide_button(ctx, cols[0], shown, "eligible", primary=True)
        _decide_button(ctx, cols[1], shown, "spam")
        _duplicate_row(ctx, shown, detail)
        _ineligible_row(ctx, shown, entry)
        _undo_and_move_row(ctx, shown, has_decision=entry.decision is not None)
        st.caption(ctx.t("shortcuts_help"))


def _status_line(ctx: Ctx, entry: Entry) -> None:
    decision = entry.decision
    line = f"{ctx.t('current_status')}: **{ctx.t('status_' + entry.status)}**"
    if decision:
        line += f" · {ctx.fmt_date(decision.decided_at)}"
        if decision.reason:
            line += f" · {ctx.t('reason_' + decision.reason)}"
        if decision.duplicate_of:
            line += f" · #{decision.duplicate_of}"
    st.markdown(line)
    if decision:
        st.text(f"{ctx.t('decided_by')} {inert(decision.decided_by)}")


def _decide_button(
    ctx: Ctx, column: DeltaGenerator, shown: _Shown, status: str, *, primary: bool = False
) -> None:
    """One decision, one click (or its shortcut key)."""
    column.button(
        ctx.t("btn_" + status),
        key=f"decide_{status}_{shown.post}",
        type="primary" if primary else "secondary",
        shortcut=SHORTCUTS[status],
        on_click=_on_decide,
        args=(
            shown.db_path,
            shown.slug,
            shown.post,
            shown.shown_decision_id,
            status,
            ctx.user.username,
            ctx.lang,
        ),
        disabled=shown.frozen,
        width="stretch",
    )


def _duplicate_row(ctx: Ctx, shown: _Shown, detail: queries.EntryDetail) -> None:
    """Duplicate of which post: pre-filled from the duplicate suggestion, else the current
    decision's."""
    decision = detail.entry.decision
    suggested = next(
        (s.duplicate_of for s in detail.suggestions if s.kind == "duplicate" and s.duplicate_of),
        decision.duplicate_of if decision else None,
    )
    cols = st.columns(2)
    cols[0].number_input(
        ctx.t("duplicate_of"),
        min_value=1,
        step=1,
        value=suggested,
        key=f"dup_of_{shown.post}",
        disabled=shown.frozen,
    )
    _decide_button(ctx, cols[1], shown, "duplicate")


def _ineligible_row(ctx: Ctx, shown: _Shown, entry: Entry) -> None:
    """Ineligible needs a reason code: the first rule that applies is offered."""
    rule_reasons = [r for r in entry.facts.reasons() if r in INELIGIBLE_REASONS]
    default_reason = rule_reasons[0] if rule_reasons else "other"
    cols = st.columns(2)
    cols[0].selectbox(
        ctx.t("ineligible_reason"),
        INELIGIBLE_REASONS,
        index=INELIGIBLE_REASONS.index(default_reason),
        format_func=lambda r: ctx.t("reason_" + r),
        key=f"inel_reason_{shown.post}",
        disabled=shown.frozen,
    )
    _decide_button(ctx, cols[1], shown, "ineligible")


def _undo_and_move_row(ctx: Ctx, shown: _Shown, *, has_decision: bool) -> None:
    cols = st.columns(3)
    cols[0].button(
        ctx.t("btn_undo"),
        key=f"undo_{shown.post}",
        shortcut=SHORTCUTS["undo"],
        on_click=_on_undo,
        args=(
            shown.db_path,
            shown.slug,
            shown.post,
            shown.shown_decision_id,
            ctx.user.username,
            ctx.lang,
        ),
        disabled=shown.frozen or not has_decision,
        width="stretch",
    )
    for column, key, step in ((cols[1], "prev", -1), (cols[2], "next", 1)):
        column.button(
            ctx.t("btn_" + key),
            key=f"{key}_{shown.post}",
            shortcut=SHORTCUTS[key],
            on_click=_advance,
            args=(shown.post, step),
            width="stretch",
        )
