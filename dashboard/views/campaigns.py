"""Campaigns (admins only): every campaign with its state, create and edit (every field of
``warehouse.campaigns.CAMPAIGN_FIELDS``, validated by the library the CLI uses), crawl now
(in a process of its own, with live progress and a cancel), and whether the scheduler runs.
"""

from __future__ import annotations

import sys
import urllib.request
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import psutil
import streamlit as st

from dashboard.context import Ctx
from dashboard.crawl_launch import crawl_log_path, start_crawl
from scraper.crawl import CrawlSummary
from scraper.listing import listing_url
from scraper.parse import parse_listing
from warehouse import crawl_ledger as ledger
from warehouse.campaign_state import CampaignState, CampaignWithState, campaigns_with_state
from warehouse.campaigns import (
    CAMPAIGN_FIELDS,
    EDITABLE_FIELDS,
    Campaign,
    CampaignField,
    FieldKind,
    create_campaign,
    missing_fields,
    update_campaign,
    validate_campaign,
    validate_field,
)
from warehouse.errors import UserError
from warehouse.health import SchedulerStatus, scheduler_statuses
from warehouse.settings import get_settings
from warehouse.thai import BANGKOK, BUDDHIST_ERA_OFFSET, format_thai_date, parse_user_datetime

NEW = "__new__"
POLL_EVERY_S = 1.0
# A started crawl process that has not begun its run after this long has failed to start.
START_GRACE_S = 90.0
PREVIEW_TIMEOUT_S = 15.0


def render(ctx: Ctx) -> None:
    if not ctx.is_admin:
        st.error(ctx.t("not_allowed"))
        return
    st.header(ctx.t("page_campaigns"))
    rows = ctx.call(campaigns_with_state, datetime.now(BANGKOK))
    _campaign_list(ctx, rows)
    slugs = [r.campaign.slug for r in rows]
    if "camp_pick_next" in st.session_state:
        st.session_state["camp_pick"] = st.session_state.pop("camp_pick_next")
    if st.session_state.get("camp_pick") not in (NEW, *slugs):
        st.session_state["camp_pick"] = ctx.campaign_slug if ctx.campaign_slug in slugs else NEW
    pick = st.selectbox(
        ctx.t("camp_pick"),
        options=[NEW, *slugs],
        format_func=lambda s: ctx.t("camp_new") if s == NEW else s,
        key="camp_pick",
    )
    if pick == NEW:
        _campaign_form(ctx, None)
    else:
        row = next(r for r in rows if r.campaign.slug == pick)
        _crawl_section(ctx, row.campaign.slug)
        _campaign_form(ctx, row)
    _schedule_section(ctx, rows)


# --- the list ------------------------------------------------------------------------------


def _campaign_list(ctx: Ctx, rows: list[CampaignWithState]) -> None:
    st.subheader(ctx.t("camp_list"))
    if not rows:
        st.info(ctx.t("camp_none"))
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    ctx.t("camp_slug"): r.campaign.slug,
                    ctx.t("camp_title_col"): r.campaign.title or "",
                    ctx.t("camp_state"): ctx.t("camp_state_" + r.state.value),
                    ctx.t("camp_opens"): ctx.fmt_date(r.campaign.opens_at),
                    ctx.t("camp_closes"): ctx.fmt_date(r.campaign.closes_at),
                }
                for r in rows
            ]
        ),
        hide_index=True,
        width="stretch",
        key="camp_table",
    )


# --- create and edit -----------------------------------------------------------------------


def date_text(value: datetime, era: str) -> str:
    """A campaign boundary as the form shows it, in the chosen era, read back exactly by
    ``parse_user_datetime`` (a year of 2400 or more is Buddhist era)."""
    local = value.astimezone(BANGKOK)
    year = local.year + (BUDDHIST_ERA_OFFSET if era == "BE" else 0)
    text = f"{year:04d}-{local:%m-%d %H:%M}"
    return text + f":{local:%S}" if local.second or local.microsecond else text


def _shown_value(spec: CampaignField, value: Any, era: str) -> Any:
    """The widget's starting value for a field's stored (or default) value."""
    if spec.kind == FieldKind.FLAG:
        return bool(value)
    if value is None:
        return ""
    if spec.kind in (FieldKind.TAGS, FieldKind.USERNAMES):
        return "\n".join(value)
    if spec.kind in (FieldKind.START, FieldKind.END):
        return date_text(value, era)
    return str(value)


def form_inputs(typed: dict[str, Any]) -> dict[str, Any]:
    """What the widgets hold, as the library takes it (the CLI's way: text, lists of
    lines; an empty text is None, so that an optional field is cleared and a field with a
    default takes it)."""
    out: dict[str, Any] = {}
    for spec in CAMPAIGN_FIELDS:
        if spec.name not in typed:
            continue
        value = typed[spec.name]
        if spec.kind == FieldKind.FLAG:
            out[spec.name] = bool(value)
        elif spec.kind in (FieldKind.TAGS, FieldKind.USERNAMES):
            out[spec.name] = [line.strip() for line in str(value).splitlines() if line.strip()]
        else:
            text = str(value or "").strip()
            out[spec.name] = text or None
    return out


def failing_field(values: dict[str, Any]) -> CampaignField | None:
    """The first field (in table order) that the library refuses, or None when only a
    check across fields does."""
    earlier: dict[str, Any] = {}
    for spec in CAMPAIGN_FIELDS:
        try:
            earlier[spec.name] = validate_field(spec.name, values.get(spec.name), earlier)
        except UserError:
            return spec
    return None


def _with_defaults(inputs: dict[str, Any]) -> dict[str, Any]:
    """A new campaign's values as ``prepare_campaign`` completes them."""
    full = dict(inputs)
    for spec in CAMPAIGN_FIELDS:
        value = full.get(spec.name)
        if spec.default is not None and (value is None or (spec.empty_is_default and not value)):
            full[spec.name] = spec.default()
    return full


def _show_refusal(ctx: Ctx, exc: UserError, spec: CampaignField | None) -> None:
    """Thai first (which field), then the library's message, the CLI's very words."""
    with st.container(key="camp_error"):
        if spec is None:
            st.error(ctx.t("camp_refused"))
        else:
            st.error(ctx.t("camp_refused_field", field=spec.label(ctx.lang)))
        st.text(str(exc))


def _campaign_form(ctx: Ctx, row: CampaignWithState | None) -> None:
    campaign = row.campaign if row is not None else None
    scope = campaign.slug if campaign is not None else NEW
    if campaign is None:
        st.subheader(ctx.t("camp_create_title"))
    else:
        st.subheader(ctx.t("camp_edit_title", slug=campaign.slug))
        if row is not None and row.state in (CampaignState.FROZEN, CampaignState.DRAWN):
            st.warning(ctx.t("camp_frozen_note"), icon="🔒")
    typed: dict[str, Any] = {}
    for spec in CAMPAIGN_FIELDS:
        if campaign is not None and not spec.editable:
            continue
        if campaign is not None:
            start = getattr(campaign, spec.name)
        elif spec.default is not None and spec.name not in ("keywords",):
            start = spec.default()
        else:
            start = None
        typed[spec.name] = _field_widget(ctx, spec, f"camp_f_{scope}_{spec.name}", start)
        if spec.name == "keywords":
            _keyword_tools(ctx, scope, typed)
    inputs = form_inputs(typed)
    if campaign is None:
        if st.button(ctx.t("camp_create"), type="primary", key="camp_create"):
            _create(ctx, inputs)
    elif st.button(ctx.t("camp_save"), type="primary", key=f"camp_save_{scope}"):
        _edit(ctx, campaign, inputs)
    notice = st.session_state.pop(f"camp_notice_{scope}", None)
    if notice:
        st.success(notice)


def _field_widget(ctx: Ctx, spec: CampaignField, key: str, start: Any) -> Any:
    label = spec.label(ctx.lang) + (" *" if spec.required else "")
    help_text = spec.help(ctx.lang) or None
    if key not in st.session_state:
        st.session_state[key] = _shown_value(spec, start, ctx.era)
    if spec.kind == FieldKind.FLAG:
        return st.checkbox(label, key=key, help=help_text)
    if spec.kind in (FieldKind.TAGS, FieldKind.USERNAMES):
        extra = ctx.t("camp_one_per_line")
        return st.text_area(
            label, key=key, help=f"{help_text}; {extra}" if help_text else extra, height=80
        )
    if spec.kind == FieldKind.LONG_TEXT:
        return st.text_area(label, key=key, help=help_text, height=80)
    if spec.kind in (FieldKind.START, FieldKind.END):
        value = st.text_input(label, key=key, help=f"{help_text}. {ctx.t('camp_date_help')}")
        _date_echo(ctx, value, end_of_day=spec.kind == FieldKind.END)
        return value
    return st.text_input(label, key=key, help=help_text)


def _date_echo(ctx: Ctx, text: str, *, end_of_day: bool) -> None:
    """How the typed date reads, in the dashboard's era (nothing when it does not read)."""
    if not text.strip():
        return
    try:
        moment = parse_user_datetime(text, end_of_day=end_of_day)
    except Exception:  # the library's message comes when saving
        return
    shown = format_thai_date(moment, era=ctx.era, with_time=True)
    st.caption(ctx.t("camp_date_reads", date=shown))


def _keyword_tools(ctx: Ctx, scope: str, typed: dict[str, Any]) -> None:
    """A link to each keyword's listing on the site, and a one-request count of the first."""
    site_key = f"camp_f_{scope}_site_url"
    site = str(st.session_state.get(site_key) or get_settings().site_url).strip()
    tags = form_inputs({"keywords": typed["keywords"]})["keywords"]
    if not tags or not site.startswith(("http://", "https://")):
        return
    for tag in tags:
        st.link_button(ctx.t("camp_keyword_link", tag=tag), listing_url(site, tag))
    if st.button(ctx.t("camp_preview"), key=f"camp_preview_{scope}"):
        st.session_state[f"camp_preview_result_{scope}"] = _preview(ctx, site, tags[0])
    result = st.session_state.get(f"camp_preview_result_{scope}")
    if result:
        st.info(result)


def listing_count(site_url: str, tag: str) -> tuple[int | None, int]:
    """One request: the tag listing's first page; ("พบ N บันทึก" or None, items on it)."""
    url = listing_url(site_url, tag)
    request = urllib.request.Request(url, headers={"User-Agent": get_settings().user_agent})
    with urllib.request.urlopen(request, timeout=PREVIEW_TIMEOUT_S) as response:
        html = response.read().decode("utf-8", "replace")
    page = parse_listing(html, url)
    return page.result_count, len(page.items)


def _preview(ctx: Ctx, site: str, tag: str) -> str:
    try:
        count, items = listing_count(site, tag)
    except Exception as exc:  # a network or parse problem is shown, never raised
        return ctx.t("camp_preview_failed", error=f"{type(exc).__name__}: {exc}")
    if count is None:
        return ctx.t("camp_preview_unknown", tag=tag, items=items)
    return ctx.t("camp_preview_count", tag=tag, count=count)


def _create(ctx: Ctx, inputs: dict[str, Any]) -> None:
    slug = inputs.pop("slug", None) or ""
    full = _with_defaults({"slug": slug, **inputs})
    missing = missing_fields({k: v if v != [] else None for k, v in full.items()})
    if missing:
        names = ", ".join(f.label(ctx.lang) for f in missing)
        with st.container(key="camp_error"):
            st.error(ctx.t("camp_missing", fields=names))
        return
    try:
        created = ctx.call(create_campaign, slug, actor=ctx.user.username, **inputs)
    except UserError as exc:
        _show_refusal(ctx, exc, failing_field(full))
        return
    st.session_state[f"camp_notice_{created.slug}"] = ctx.t("camp_created", slug=created.slug)
    st.session_state["camp_pick_next"] = created.slug  # the picker is set before it is drawn
    st.rerun()


def changed_fields(campaign: Campaign, inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs whose value, validated as the library does, differs from the stored one
    (``UserError`` if the whole does not validate)."""
    current = asdict(campaign)
    checked = validate_campaign({**current, **inputs})
    return {
        name: inputs[name]
        for name in inputs
        if name in EDITABLE_FIELDS and checked[name] != current[name]
    }


def _edit(ctx: Ctx, campaign: Campaign, inputs: dict[str, Any]) -> None:
    full = {**asdict(campaign), **inputs}
    try:
        changes = changed_fields(campaign, inputs)
        if not changes:
            st.info(ctx.t("camp_unchanged"))
            return
        # The library refuses a frozen campaign's edit, with the CLI's message.
        ctx.call(update_campaign, campaign.slug, actor=ctx.user.username, **changes)
    except UserError as exc:
        spec = None if campaign.frozen_at is not None else failing_field(full)
        _show_refusal(ctx, exc, spec)
        return
    labels = ", ".join(f.label(ctx.lang) for f in CAMPAIGN_FIELDS if f.name in changes)
    st.session_state[f"camp_notice_{campaign.slug}"] = ctx.t("camp_saved", fields=labels)
    st.rerun()


# --- crawl now -----------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _latest_run_id(con: duckdb.DuckDBPyConnection, slug: str) -> int:
    history = ledger.run_history(con, slug, 1)
    return history[0].run_id if history else 0


def _crawl_section(ctx: Ctx, slug: str) -> None:
    st.subheader(ctx.t("camp_crawl"))
    started = st.session_state.get(f"camp_started_{slug}")
    running = ctx.call(ledger.running_run, slug)
    active = started is not None or running is not None
    # Polled only while a crawl runs or starts: an idle page reads nothing.
    panel = st.fragment(_crawl_panel, run_every=POLL_EVERY_S if active else None)
    panel(ctx, slug, active)


def _crawl_panel(ctx: Ctx, slug: str, polling: bool) -> None:
    started_key, done_key = f"camp_started_{slug}", f"camp_done_{slug}"
    started: dict[str, Any] | None = st.session_state.get(started_key)
    running = ctx.call(ledger.running_run, slug)
    if running is not None:
        # Its summary stays on the page when it ends, whoever started it.
        st.session_state[done_key] = running.run_id
        mine = started is not None and running.run_id > started["after_run"]
        if not mine:
            st.info(
                ctx.t(
                    "camp_crawl_running_other", trigger=ctx.value("trigger", running.trigger) or "?"
                )
            )
        _show_progress(ctx, running.run_id)
        if st.button(ctx.t("camp_cancel"), key=f"camp_cancel_{slug}"):
            ctx.call(
                ledger.request_cancel,
                running.run_id,
                actor=ctx.user.username,
                now=datetime.now(BANGKOK),
            )
            st.rerun(scope="fragment")
        if not polling:
            st.rerun()  # start polling
        return
    if started is not None:
        latest = ctx.call(_latest_run_id, slug)
        if latest > started["after_run"]:
            st.session_state[done_key] = latest
            del st.session_state[started_key]
        elif (
            _pid_alive(started["pid"])
            and (datetime.now(BANGKOK) - started["at"]).total_seconds() < START_GRACE_S
        ):
            st.info(ctx.t("camp_crawl_started"), icon="⏳")
            return
        else:
            del st.session_state[started_key]
            st.error(ctx.t("camp_crawl_exited", log=crawl_log_path(slug)))
    if polling:
        st.rerun()  # the run ended: a full rerun stops the polling and shows the summary
    done = st.session_state.get(done_key)
    if done is not None:
        _show_progress(ctx, int(done))
    else:
        _show_last_run(ctx, slug)
    if st.button(ctx.t("camp_crawl_now"), type="primary", key=f"camp_crawl_now_{slug}"):
        # Read again at the press: another session or the scheduler may have begun since.
        if ctx.call(ledger.running_run, slug) is None:
            after = ctx.call(_latest_run_id, slug)
            pid = start_crawl(ctx.db_path, slug)
            st.session_state[started_key] = {
                "pid": pid,
                "after_run": after,
                "at": datetime.now(BANGKOK),
            }
            st.session_state.pop(done_key, None)
        st.rerun()


def _show_last_run(ctx: Ctx, slug: str) -> None:
    history = ctx.call(ledger.run_history, slug, 1)
    if not history:
        st.caption(ctx.t("camp_never_crawled"))
        return
    last = history[0]
    st.caption(
        f"{ctx.t('camp_last_run')}: #{last.run_id} · {ctx.value('run', last.status)} · "
        f"{ctx.fmt_date(last.finished_at or last.started_at)} · {ctx.value('trigger', last.trigger)}"
    )


def summary_text(summary: dict[str, Any]) -> str:
    """The summary the CLI prints, from the run's stored summary."""
    known = {f.name for f in fields(CrawlSummary)}
    return CrawlSummary(**{k: v for k, v in summary.items() if k in known}).format()


def _show_progress(ctx: Ctx, run_id: int) -> None:
    progress = ctx.call(ledger.run_progress, run_id)
    if progress is None:
        return
    run = progress.run
    with st.container(key="camp_progress"):
        if progress.running:
            st.markdown(f"**{ctx.t('camp_crawl_running', run=run.run_id)}**")
        else:
            st.markdown(
                f"**{ctx.t('camp_crawl_done', run=run.run_id, status=ctx.value('run', run.status))}**"
            )
        planned = progress.posts_planned
        posts = (
            ctx.t("camp_progress_of", done=progress.posts_done, planned=planned)
            if planned is not None
            else ctx.t("camp_progress_reading")
        )
        columns = st.columns([1, 2, 1, 1, 1])
        columns[0].metric(ctx.t("camp_progress_listing"), run.listing_pages)
        columns[1].metric(ctx.t("camp_progress_posts"), posts)
        columns[2].metric(ctx.t("camp_progress_comments"), run.comment_pages)
        columns[3].metric(ctx.t("camp_progress_errors"), run.errors)
        columns[4].metric(ctx.t("camp_progress_rate"), f"{progress.requests_per_s:.1f}")
        if progress.running and planned:
            st.progress(min(1.0, progress.posts_done / planned))
        if progress.cancel_requested_at is not None and progress.running:
            st.warning(ctx.t("camp_cancel_asked", by=progress.cancel_requested_by or "?"))
        if not progress.running and progress.summary:
            st.code(summary_text(progress.summary), language=None)


# --- the scheduler -------------------------------------------------------------------------


def _last_runs(
    con: duckdb.DuckDBPyConnection, slugs: list[str]
) -> dict[str, ledger.CrawlRun | None]:
    return {slug: next(iter(ledger.run_history(con, slug, 1)), None) for slug in slugs}


def _schedule_section(ctx: Ctx, rows: list[CampaignWithState]) -> None:
    st.subheader(ctx.t("camp_schedule"))
    schedulers: list[SchedulerStatus] = ctx.call(scheduler_statuses)
    if not schedulers:
        st.info(ctx.t("camp_schedule_none"))
    for status in schedulers:
        at = ctx.fmt_date(status.heartbeat_at)
        what = status.schedule or "?"
        if status.running:
            st.success(ctx.t("camp_schedule_running", schedule=what, at=at))
        else:
            st.warning(ctx.t("camp_schedule_stopped", schedule=what, at=at))
    slugs = [r.campaign.slug for r in rows]
    if slugs:
        last = ctx.call(_last_runs, slugs)
        live = [s for s in schedulers if s.running]
        table = []
        for slug in slugs:
            nexts = [n for s in live if (n := s.next_runs.get(slug)) is not None]
            run = last.get(slug)
            table.append(
                {
                    ctx.t("camp_slug"): slug,
                    ctx.t("camp_schedule_next"): ctx.fmt_date(min(nexts)) if nexts else "-",
                    ctx.t("camp_last_run"): (
                        f"#{run.run_id} {ctx.value('run', run.status)} · "
                        f"{ctx.fmt_date(run.finished_at or run.started_at)}"
                        if run is not None
                        else "-"
                    ),
                }
            )
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch", key="camp_sched")
    with st.expander(ctx.t("camp_schedule_recipe")):
        st.caption(ctx.t("camp_schedule_recipe_intro"))
        st.code(schedule_recipe(ctx.db_path), language="ini")


def schedule_recipe(db_path: Path) -> str:
    """The systemd service and the cron line of docs/operators.md, for this installation."""
    tagdraw = Path(sys.executable).with_name("tagdraw")
    home = Path.cwd()
    command = f"{tagdraw} --db {db_path.resolve()} schedule --interval 30"
    return (
        "# /etc/systemd/system/tagdraw-schedule.service\n"
        "[Unit]\nDescription=tagdraw scheduled crawls\n"
        "After=network-online.target\nWants=network-online.target\n\n"
        f"[Service]\nWorkingDirectory={home}\nExecStart={command}\n"
        "Restart=on-failure\nRestartSec=60\nKillSignal=SIGTERM\nTimeoutStopSec=120\n\n"
        "[Install]\nWantedBy=multi-user.target\n\n"
        "# systemctl enable --now tagdraw-schedule\n"
        "# or, instead, a cron line (@reboot starts it with the machine):\n"
        f"# @reboot cd {home} && {command} >> data/logs/schedule.log 2>&1\n"
    )
