"""The Draw page (admins only): freeze the pool, unfreeze with a reason, run the draw with
the published value(s), replace a disqualified winner, and download every export.

Only calls warehouse.draw and warehouse.exports. Scraped text is shown in tables (plain
text) or escaped; it never reaches markdown raw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

import streamlit as st

from dashboard.textview import md_escape
from warehouse import draw, exports
from warehouse.db import run
from warehouse.errors import TagdrawError
from warehouse.thai import BANGKOK

T = TypeVar("T")

TEXT: dict[str, tuple[str, str]] = {
    "title": ("จับรางวัล", "Draw"),
    "admins_only": ("เฉพาะผู้ดูแลระบบ", "Admins only"),
    "no_campaign": ("ยังไม่ได้เลือกแคมเปญ", "No campaign selected"),
    "step_freeze": ("1. ล็อกรายชื่อผู้มีสิทธิ์", "1. Freeze the pool"),
    "pool_now": (
        "บันทึกที่มีสิทธิ์ตอนนี้ {n} บันทึก (pool_hash ถ้าล็อกตอนนี้: {h})",
        "{n} eligible entries now (pool_hash if frozen now: {h})",
    ),
    "undecided": (
        "ยังไม่ได้ตัดสิน {n} บันทึก: ถ้าล็อกตอนนี้ บันทึกเหล่านี้จะไม่ได้ร่วมจับรางวัล",
        "{n} entries are undecided: freezing now leaves them out of the draw",
    ),
    "leave_out": (
        "ยืนยันว่าไม่นำ {n} บันทึกที่ยังไม่ได้ตัดสินเข้าร่วมจับรางวัล",
        "I confirm the {n} undecided entries are left out of the draw",
    ),
    "unverified": (
        "{n} บันทึกในรายชื่อยังไม่ได้ตรวจว่ายังอยู่บนเว็บหลังปิดรับ: รัน `tagdraw crawl {slug} "
        "--verify` ก่อนล็อก หรือระบุเหตุผลที่ยอมรับ (บันทึกไว้และประกาศพร้อมผล)",
        "{n} entries of the pool have not been seen live since the campaign closed: run "
        "`tagdraw crawl {slug} --verify` before freezing, or give a reason to accept them "
        "(logged and published with the result)",
    ),
    "accept_unverified": (
        "เหตุผลที่ยอมรับบันทึกที่ยังไม่ได้ตรวจ",
        "Reason to accept the entries not seen live since the close",
    ),
    "unverified_frozen": (
        "อยู่ในรายชื่อแม้ยังไม่ได้ตรวจหลังปิดรับ: {nums} (ยอมรับโดย {by}: {reason})",
        "In the pool although not seen live since the close: {nums} (accepted by {by}: {reason})",
    ),
    "winner_problems": (
        "ผู้ได้รับรางวัลที่ต้องตัดสินใจ: บันทึกถูกลบหรือแก้ไขหลังปิดรับ ตรวจดูแล้วตัดสิทธิ์ด้านล่างถ้าผิดกติกา",
        "Winners that need a decision: their post is gone or changed after the close; check "
        "each and disqualify it below if it breaks the rules",
    ),
    "source": ("แหล่งตัวเลขสุ่ม (ประกาศล่วงหน้า)", "Source of randomness (announced now)"),
    "source_help": (
        "เช่น สลากกินแบ่งรัฐบาล รางวัลที่ 1 งวดวันที่ 1 กันยายน 2556",
        "e.g. Thai Government Lottery first prize, 1 September 2013",
    ),
    "value_count": ("จำนวนค่าที่ใช้สุ่ม", "Number of published values the draw takes"),
    "source_preset": (
        "รูปแบบตัวเลขของแหล่งที่รู้จัก",
        "Known source (fixes the value format)",
    ),
    "no_preset": ("ไม่ใช้ (กำหนดจำนวนหลักเอง)", "None (give the digits below)"),
    "value_digits": (
        "จำนวนหลักของแต่ละค่า (ต้องระบุ ถ้าไม่ได้เลือกแหล่งที่รู้จัก)",
        "Digits per value (required unless a known source is chosen)",
    ),
    "due_date": ("วันที่ประกาศตัวเลข", "Date the value is published"),
    "due_time": ("เวลา", "Time"),
    "freeze": ("ล็อกรายชื่อ", "Freeze"),
    "frozen": (
        "ล็อกแล้ว: {n} บันทึก pool_hash {h} — ประกาศ pool_hash และแหล่งตัวเลขสุ่มได้เลย",
        "Frozen: {n} entries, pool_hash {h}; publish the pool_hash and the source now",
    ),
    "pool_info": ("รายชื่อที่ล็อก", "Frozen pool"),
    "pool_hash": ("pool_hash", "pool_hash"),
    "due": ("ตัวเลขสุ่มจาก {s} ประกาศ {d}", "Randomness: {s}, due {d}"),
    "left_out": ("ไม่ได้ร่วมจับ (ยังไม่ได้ตัดสิน): {nums}", "Left out (undecided): {nums}"),
    "download_pool": ("ดาวน์โหลดรายชื่อ (pool.csv)", "Download the pool text"),
    "step_unfreeze": (
        "ปลดล็อก (บันทึกเหตุผล และประกาศเดิมเป็นโมฆะ)",
        "Unfreeze (logged; voids the announcement)",
    ),
    "reason": ("เหตุผล", "Reason"),
    "unfreeze": ("ปลดล็อก", "Unfreeze"),
    "unfrozen": ("ปลดล็อกแล้ว ประกาศเดิมเป็นโมฆะ", "Unfrozen; the announcement is void"),
    "step_run": ("2. จับรางวัลด้วยตัวเลขที่ประกาศแล้ว", "2. Run the draw with the published value(s)"),
    "values": (
        "ตัวเลขที่ประกาศ (บรรทัดละค่า ตามลำดับที่ประกาศไว้)",
        "Published value(s), one per line, in the announced order",
    ),
    "not_due": ("ยังไม่ถึงเวลาประกาศตัวเลข ({d})", "The value is not due yet ({d})"),
    "run": ("จับรางวัล", "Run the draw"),
    "ran": ("จับรางวัลแล้ว", "The draw has run"),
    "winners": ("ผู้ได้รับรางวัล", "Winners"),
    "alternates": ("รายชื่อสำรอง", "Alternates"),
    "replacements": ("การเปลี่ยนตัว", "Replacements"),
    "verified": ("ใบรับรองตรวจซ้ำผ่าน", "The certificate re-derives"),
    "not_verified": ("ใบรับรองตรวจซ้ำไม่ผ่าน", "The certificate does NOT re-derive"),
    "step_replace": (
        "ตัดสิทธิ์ผู้ได้รับรางวัล (ผู้สำรองคนถัดไปได้รับแทน)",
        "Disqualify a winner (the next alternate takes the prize)",
    ),
    "winner_to_replace": ("ผู้ได้รับรางวัลที่จะตัดสิทธิ์", "Winner to disqualify"),
    "replace": ("ตัดสิทธิ์และให้ผู้สำรองแทน", "Disqualify and replace"),
    "replaced": ("เปลี่ยนตัวแล้ว: {a} → {b}", "Replaced: {a} → {b}"),
    "downloads": ("ดาวน์โหลด", "Downloads"),
    "voided": ("การล็อกที่เป็นโมฆะ", "Voided freezes"),
    "vacant": ("ว่าง", "vacant"),
}

EXPORT_LABELS: dict[tuple[str, str], tuple[str, str]] = {
    ("winners", "csv"): ("รายชื่อผู้ได้รับรางวัล (CSV)", "Winner list (CSV)"),
    ("winners", "xlsx"): ("รายชื่อผู้ได้รับรางวัล (Excel)", "Winner list (XLSX)"),
    ("winners", "json"): ("รายชื่อผู้ได้รับรางวัล (JSON)", "Winner list (JSON)"),
    ("entries", "csv"): ("บันทึกทั้งหมดและผลการตัดสิน (CSV)", "All entries and decisions (CSV)"),
    ("entries", "xlsx"): ("บันทึกทั้งหมดและผลการตัดสิน (Excel)", "All entries and decisions (XLSX)"),
    ("entries", "json"): ("บันทึกทั้งหมดและผลการตัดสิน (JSON)", "All entries and decisions (JSON)"),
    ("certificate", "json"): ("ใบรับรองผลการสุ่ม (JSON)", "Draw certificate (JSON)"),
    ("announcement", "md"): ("ประกาศผล (Markdown)", "Announcement (Markdown)"),
    ("announcement", "html"): ("ประกาศผล (HTML)", "Announcement (HTML)"),
}


def _t(ctx: Any, key: str, **values: Any) -> str:
    th, en = TEXT[key]
    return (en if getattr(ctx, "lang", "th") == "en" else th).format(**values)


def _call(ctx: Any, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Through the dashboard's own helper when there is one (it shows "busy" notices)."""
    helper = getattr(ctx, "call", None)
    if callable(helper):
        return helper(fn, *args, **kwargs)
    return run(lambda con: fn(con, *args, **kwargs), ctx.db_path)


def _say_error(exc: Exception) -> None:
    st.error(md_escape(str(exc)))


@dataclass(frozen=True)
class _State:
    status: draw.DrawStatus
    plan: draw.FreezePlan | None
    plan_error: str | None
    report: exports.DrawReport


def _load(con: Any, slug: str) -> _State:
    status = draw.draw_status(con, slug)
    plan, plan_error = None, None
    if status.pool is None:
        try:
            plan = draw.plan_freeze(con, slug)
        except TagdrawError as exc:
            plan_error = str(exc)
    return _State(status, plan, plan_error, exports.load_report(con, slug))


def render(ctx: Any) -> None:
    st.header(_t(ctx, "title"))
    user = getattr(ctx, "user", None)
    if user is None or getattr(user, "role", None) != "admin" or getattr(user, "disabled", False):
        st.error(_t(ctx, "admins_only"))
        return
    slug = getattr(ctx, "campaign_slug", None)
    if not slug:
        st.info(_t(ctx, "no_campaign"))
        return
    flash = st.session_state.pop("draw_page_flash", None)
    if flash:
        st.success(flash)  # our own message: numbers and hashes only
    try:
        state = _call(ctx, _load, slug)
    except TagdrawError as exc:
        _say_error(exc)
        return
    actor = user.username
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
        with st.expander(_t(ctx, "voided")):
            st.dataframe(
                [
                    {
                        "pool_hash": p.pool_hash,
                        "randomness_source": p.randomness_source,
                        "randomness_due": p.randomness_due.isoformat(),
                        "frozen_at": p.frozen_at.isoformat(),
                        "frozen_by": p.frozen_by,
                        "voided_at": p.voided_at.isoformat() if p.voided_at else "",
                        "voided_by": p.voided_by,
                        "reason": p.void_reason,
                    }
                    for p in status.voided
                ],
                hide_index=True,
            )
    _downloads(ctx, state.report)
    _publish_section(ctx, slug)


_FAILED = object()


def _act(ctx: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The action's result, or ``_FAILED`` after showing its one-line error."""
    try:
        return _call(ctx, fn, *args, **kwargs)
    except TagdrawError as exc:
        _say_error(exc)
        return _FAILED


def _freeze_section(ctx: Any, slug: str, actor: str, state: _State) -> None:
    st.subheader(_t(ctx, "step_freeze"))
    if state.plan_error:
        st.warning(md_escape(state.plan_error))
    plan = state.plan
    if plan is not None:
        st.write(_t(ctx, "pool_now", n=len(plan.pool_rows), h=plan.pool_hash))
        if plan.undecided:
            st.warning(_t(ctx, "undecided", n=len(plan.undecided)))
            st.dataframe(
                [
                    {
                        "post_number": e.post_number,
                        "title": e.title,
                        "author": e.author_username or "",
                    }
                    for e in plan.undecided
                ],
                hide_index=True,
            )
    accept_unverified: str | None = None
    if plan is not None and plan.unverified:
        st.warning(md_escape(_t(ctx, "unverified", n=len(plan.unverified), slug=slug)))
        st.dataframe(
            [
                {
                    "post_number": u.post_number,
                    "state": u.state,
                    "last_fetched_at": u.last_fetched_at.isoformat() if u.last_fetched_at else "",
                }
                for u in plan.unverified
            ],
            hide_index=True,
        )
        accept_unverified = st.text_input(
            _t(ctx, "accept_unverified"), key="draw_accept_unverified"
        )
    source = st.text_input(_t(ctx, "source"), key="draw_source", placeholder=_t(ctx, "source_help"))
    preset: str | None = st.selectbox(
        _t(ctx, "source_preset"),
        [None, *draw.SOURCE_PRESETS],
        format_func=lambda name: (
            _t(ctx, "no_preset")
            if name is None
            else f"{name}: {draw.SOURCE_PRESETS[name].description}"
        ),
        key="draw_source_preset",
    )
    col_count, col_digits = st.columns(2)
    value_count = col_count.number_input(
        _t(ctx, "value_count"),
        min_value=1,
        max_value=20,
        value=1,
        step=1,
        key="draw_value_count",
        disabled=preset is not None,
    )
    value_digits = col_digits.number_input(
        _t(ctx, "value_digits"),
        min_value=0,
        max_value=100,
        value=0,
        step=1,
        key="draw_value_digits",
        disabled=preset is not None,
    )
    tomorrow = datetime.now(BANGKOK).date() + timedelta(days=1)
    col_date, col_time = st.columns(2)
    due_date: date = col_date.date_input(_t(ctx, "due_date"), value=tomorrow, key="draw_due_date")
    due_time: time = col_time.time_input(
        _t(ctx, "due_time"), value=time(16, 0), key="draw_due_time"
    )
    leave_out = False
    if plan is not None and plan.undecided:
        leave_out = st.checkbox(_t(ctx, "leave_out", n=len(plan.undecided)), key="draw_leave_out")
    if st.button(_t(ctx, "freeze"), key="draw_freeze", type="primary"):
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
            st.session_state["draw_page_flash"] = _t(
                ctx, "frozen", n=pool.pool_size, h=pool.pool_hash
            )
            st.rerun()


def _pool_section(ctx: Any, pool: draw.FrozenPool) -> None:
    st.subheader(_t(ctx, "pool_info"))
    st.code(pool.pool_hash, language=None)
    st.write(_t(ctx, "due", s=md_escape(pool.randomness_source), d=pool.randomness_due.isoformat()))
    if pool.left_out:
        st.caption(_t(ctx, "left_out", nums=", ".join(str(n) for n in pool.left_out)))
    if pool.unverified_entries:
        first = pool.unverified_entries[0]
        st.text(  # the reason is typed text: shown as plain text
            _t(
                ctx,
                "unverified_frozen",
                nums=", ".join(str(e["post_number"]) for e in pool.unverified_entries),
                by=first["accepted_by"],
                reason=first["reason"],
            )
        )
    st.download_button(
        _t(ctx, "download_pool"),
        data=pool.pool_text.encode("utf-8"),
        file_name=f"{pool.campaign_slug}-pool.csv",
        mime="text/csv",
        key="draw_dl_pool",
    )


def _unfreeze_section(ctx: Any, slug: str, actor: str) -> None:
    with st.expander(_t(ctx, "step_unfreeze")):
        reason = st.text_input(_t(ctx, "reason"), key="draw_unfreeze_reason")
        if st.button(_t(ctx, "unfreeze"), key="draw_unfreeze"):
            voided = _act(ctx, draw.unfreeze, slug, actor=actor, reason=reason)
            if voided is not _FAILED:
                st.session_state["draw_page_flash"] = _t(ctx, "unfrozen")
                st.rerun()


def _run_section(ctx: Any, slug: str, actor: str, pool: draw.FrozenPool) -> None:
    st.subheader(_t(ctx, "step_run"))
    if datetime.now(BANGKOK) < pool.randomness_due:
        st.info(_t(ctx, "not_due", d=pool.randomness_due.isoformat()))
    values_text = st.text_area(_t(ctx, "values"), key="draw_values", height=80)
    if st.button(_t(ctx, "run"), key="draw_run", type="primary"):
        values = [v.strip() for v in values_text.splitlines() if v.strip()]
        cert = _act(ctx, draw.run_draw, slug, randomness=values, actor=actor)
        if cert is not _FAILED:
            st.session_state["draw_page_flash"] = _t(ctx, "ran")
            st.rerun()


def _result_section(ctx: Any, slug: str, actor: str, state: _State) -> None:
    report = state.report
    cert = report.certificate
    assert cert is not None
    result = draw.verify_certificate(cert)
    if result.ok:
        st.success(_t(ctx, "verified"))
    else:
        st.error(_t(ctx, "not_verified"))
        for difference in result.differences:
            st.text(difference)
    st.subheader(_t(ctx, "winners"))
    st.dataframe([r.as_dict() for r in exports.winner_rows(report)], hide_index=True)
    if state.status.winner_problems:
        st.warning(_t(ctx, "winner_problems"))
        st.dataframe(
            [problem.as_json() for problem in state.status.winner_problems], hide_index=True
        )
    if cert["alternate_list"]:
        st.subheader(_t(ctx, "alternates"))
        st.dataframe([r.as_dict() for r in exports.alternate_rows(report)], hide_index=True)
    if cert.get("replacements"):
        st.subheader(_t(ctx, "replacements"))
        st.dataframe(cert["replacements"], hide_index=True)
    holders = [n for n in draw.current_winners(cert) if n is not None]
    if not holders:
        return
    st.subheader(_t(ctx, "step_replace"))
    titles = {r.post_number: r.title for r in exports.winner_rows(report)}
    target = st.selectbox(
        _t(ctx, "winner_to_replace"),
        holders,
        format_func=lambda n: f"{n} — {titles.get(n, '')}",
        key="draw_replace_target",
    )
    reason = st.text_input(_t(ctx, "reason"), key="draw_replace_reason")
    if st.button(_t(ctx, "replace"), key="draw_replace"):
        updated = _act(ctx, draw.replace_winner, slug, int(target), reason=reason, actor=actor)
        if updated is not _FAILED:
            item = updated["replacements"][-1]
            st.session_state["draw_page_flash"] = _t(
                ctx,
                "replaced",
                a=item["disqualified"],
                b=item["replacement"] if item["replacement"] is not None else _t(ctx, "vacant"),
            )
            st.rerun()


def _downloads(ctx: Any, report: exports.DrawReport) -> None:
    st.subheader(_t(ctx, "downloads"))
    lang = 1 if getattr(ctx, "lang", "th") == "en" else 0
    columns = st.columns(3)
    index = 0
    for (what, fmt), labels in EXPORT_LABELS.items():
        if what != "entries" and report.certificate is None:
            continue
        try:
            data = exports.render(report, what, fmt)
        except TagdrawError as exc:
            _say_error(exc)
            continue
        columns[index % 3].download_button(
            labels[lang],
            data=data,
            file_name=exports.file_name(report.slug, what, fmt),
            mime=exports.MEDIA_TYPES[fmt],
            key=f"draw_dl_{what}_{fmt}",
        )
        index += 1


_PUBLISH_TEXT: dict[str, tuple[str, str]] = {
    "publish": ("เผยแพร่หน้าผลสาธารณะ", "Publish the public results site"),
    "publish_dir": ("โฟลเดอร์ที่จะเขียน", "Directory to write"),
    "publish_button": ("เผยแพร่", "Publish"),
    "published": ("เขียนหน้าผลแล้วที่ {path}", "Site written to {path}"),
}


def _publish_section(ctx: Any, slug: str) -> None:
    """The same code as `tagdraw publish` (warehouse.publish), writing where the admin says."""
    from warehouse.db import resolve_db_path
    from warehouse.publish import publish

    lang = 1 if getattr(ctx, "lang", "th") == "en" else 0
    st.subheader(_PUBLISH_TEXT["publish"][lang])
    default = resolve_db_path(ctx.db_path).parent / "public" / slug
    out = st.text_input(_PUBLISH_TEXT["publish_dir"][lang], value=str(default), key="draw_pub_dir")
    if st.button(_PUBLISH_TEXT["publish_button"][lang], key="draw_publish"):
        try:
            path, _ = publish(ctx.db_path, slug, out)
        except (TagdrawError, OSError) as exc:
            _say_error(exc)
            return
        st.success(md_escape(_PUBLISH_TEXT["published"][lang].format(path=path / "index.html")))
