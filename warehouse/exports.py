"""Exports of a campaign's draw: the winner list, the full entry list with decisions, the
certificate, and a Thai announcement.

Reading is separated from rendering: :func:`load_report` takes one short read of the
warehouse into a :class:`DrawReport`; every ``*_csv`` / ``*_xlsx`` / ``*_json`` /
``announcement_*`` function renders that report into bytes or text without a connection.
:func:`export` and :func:`write_export` do both for the CLI and the dashboard.

Scraped text (titles, names) is never trusted: CSV cells that a spreadsheet would read as a
formula are neutralised, XLSX cells are written as plain strings, and the announcement
escapes every value for Markdown and HTML.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from warehouse.campaigns import Campaign, get_campaign
from warehouse.draw import current_winners, get_certificate
from warehouse.entries import Entry, list_entries
from warehouse.errors import UserError
from warehouse.files import atomic_write_bytes
from warehouse.thai import format_thai_date, remove_zero_width

FORMATS: dict[str, tuple[str, ...]] = {
    "winners": ("csv", "xlsx", "json"),
    "entries": ("csv", "xlsx", "json"),
    "certificate": ("json",),
    "announcement": ("md", "html"),
}
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "md": "text/markdown",
    "html": "text/html",
}

WINNER_COLUMNS = (
    "prize_rank",
    "post_number",
    "title",
    "author_name",
    "author_username",
    "url",
    "prize",
)
WINNER_HEADERS_TH = {
    "prize_rank": "รางวัลที่",
    "post_number": "หมายเลขบันทึก",
    "title": "ชื่อบันทึก",
    "author_name": "ชื่อผู้เขียน",
    "author_username": "ชื่อผู้ใช้",
    "url": "ลิงก์",
    "prize": "รางวัล",
}
ENTRY_COLUMNS = (
    "post_number",
    "title",
    "author_name",
    "author_username",
    "url",
    "created_at",
    "comment_count",
    "status",
    "reason",
    "note",
    "duplicate_of",
    "decided_by",
    "decided_at",
    "rule_reasons",
    "in_pool",
    "draw_result",
)

# The independent check anyone can run (also in docs/draw.md and every announcement).
VERIFY_SCRIPT = """\
import hashlib, hmac, json

def once(p): assert len({k for k, v in p}) == len(p), "a key appears twice"; return dict(p)
c = json.load(open("certificate.json", encoding="utf-8"), object_pairs_hook=once)  # the published certificate
assert all(v.isascii() and v.isdigit() for v in c["randomness"].split("/")[:-1]) and c["randomness"][-1:] == "/", "randomness is not canonical"
pool = c["pool"]
assert hashlib.sha256(pool.encode("utf-8")).hexdigest() == c["pool_hash"], "pool_hash differs"
prk = hmac.new(bytes.fromhex(c["pool_hash"]), c["randomness"].encode("utf-8"), "sha256").digest()
rows = [line.split(",", 1) for line in pool.split("\\n")[1:-1]]
ranking = sorted((hmac.new(prk, n.encode() + b"\\x01", "sha256").hexdigest(), int(n), a) for n, a in rows)
assert [(r["score"], r["post_number"]) for r in c["ranking"]] == [(s, n) for s, n, a in ranking], "ranking differs"
chosen, authors = [], set()
for s, n, a in ranking:
    if not (c["one_prize_per_author"] and a in authors):
        chosen.append(n); authors.add(a)
k, m = c["prizes"], c["alternates"]
assert (chosen[:k], chosen[k:k + m]) == (c["winners"], c["alternate_list"]), "winners differ"
print("OK  winners:", c["winners"], " alternates:", c["alternate_list"])
"""
VERIFY_COMMAND = "tagdraw draw verify {file}"


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WinnerRow:
    prize_rank: int  # 1, 2, ... (for alternates: their order)
    post_number: int | None  # None: a vacant prize (no alternate was left)
    title: str
    author_name: str
    author_username: str
    url: str
    prize: str

    def as_dict(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in WINNER_COLUMNS}


@dataclass(frozen=True)
class DrawReport:
    campaign: Campaign
    entries: tuple[Entry, ...]
    certificate: dict[str, Any] | None

    @property
    def slug(self) -> str:
        return self.campaign.slug


def load_report(con: Any, slug: str) -> DrawReport:
    """One read of everything the exports need (in the caller's transaction)."""
    campaign = get_campaign(con, slug)
    return DrawReport(campaign, tuple(list_entries(con, slug)), get_certificate(con, slug))


def post_url(campaign: Campaign, post_number: int) -> str:
    return f"{campaign.site_url.rstrip('/')}/posts/{post_number}"


def _require_draw(report: DrawReport) -> dict[str, Any]:
    if report.certificate is None:
        raise UserError(f"the draw of {report.slug!r} has not run yet: nothing to export")
    return report.certificate


def _prize(campaign: Campaign, rank: int) -> str:
    return campaign.prize_description or f"รางวัลที่ {rank}"


def _row(report: DrawReport, rank: int, post_number: int | None, prize: str) -> WinnerRow:
    if post_number is None:
        return WinnerRow(rank, None, "", "", "", "", f"{prize} (ว่าง: ไม่มีผู้สำรองเหลือ)")
    entry = next((e for e in report.entries if e.post_number == post_number), None)
    return WinnerRow(
        prize_rank=rank,
        post_number=post_number,
        title=entry.title if entry else "",
        author_name=(entry.author_name or "") if entry else "",
        author_username=(entry.author_username or "") if entry else "",
        url=post_url(report.campaign, post_number),
        prize=prize,
    )


def winner_rows(report: DrawReport) -> list[WinnerRow]:
    """Who holds each prize now (after replacements), in prize order."""
    cert = _require_draw(report)
    return [
        _row(report, rank, number, _prize(report.campaign, rank))
        for rank, number in enumerate(current_winners(cert), start=1)
    ]


def alternate_rows(report: DrawReport) -> list[WinnerRow]:
    """The alternates in order; those who already took a prize are marked."""
    cert = _require_draw(report)
    used = {r.get("replacement") for r in cert.get("replacements", [])}
    return [
        _row(
            report,
            i,
            number,
            "ได้รับรางวัลแทนแล้ว" if number in used else "สำรอง",
        )
        for i, number in enumerate(cert["alternate_list"], start=1)
    ]


def entry_rows(report: DrawReport) -> list[dict[str, Any]]:
    """Every candidate entry with its current decision and its part in the draw."""
    cert = report.certificate
    pool_numbers: set[int] = set()
    result: dict[int, str] = {}
    if cert is not None:
        pool_numbers = {r["post_number"] for r in cert["ranking"]}
        for i, n in enumerate(cert["winners"], start=1):
            result[n] = f"winner {i}"
        for i, n in enumerate(cert["alternate_list"], start=1):
            result[n] = f"alternate {i}"
        for item in cert.get("replacements", []):
            result[item["disqualified"]] += " (disqualified)"
            if item.get("replacement") is not None:
                result[item["replacement"]] += f" (took prize {item['prize_rank']})"
    rows = []
    for entry in report.entries:
        decision = entry.decision
        rows.append(
            {
                "post_number": entry.post_number,
                "title": entry.title,
                "author_name": entry.author_name or "",
                "author_username": entry.author_username or "",
                "url": post_url(report.campaign, entry.post_number),
                "created_at": entry.created_at.isoformat() if entry.created_at else "",
                "comment_count": entry.comment_count,
                "status": entry.status,
                "reason": (decision.reason or "") if decision else "",
                "note": (decision.note or "") if decision else "",
                "duplicate_of": decision.duplicate_of if decision else None,
                "decided_by": decision.decided_by if decision else "",
                "decided_at": decision.decided_at.isoformat() if decision else "",
                "rule_reasons": ";".join(entry.facts.reasons()),
                "in_pool": ("yes" if entry.post_number in pool_numbers else "no")
                if cert is not None
                else "",
                "draw_result": result.get(entry.post_number, ""),
            }
        )
    return rows


# --- spreadsheets ----------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run or reorder: invisible characters (bidi
    controls among them, see ``warehouse.thai``) are removed, then text starting with
    = + - @ tab or CR gets a leading apostrophe. Numbers and empty cells pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = remove_zero_width(value)
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value


def rows_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    """UTF-8 with a BOM (so Excel shows Thai), CRLF rows as RFC 4180, cells neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


def rows_xlsx(sheets: Sequence[tuple[str, Sequence[str], Sequence[dict[str, Any]]]]) -> bytes:
    """One sheet per (name, columns, rows). Text cells are stored as strings, never formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    # A new workbook always has its one default sheet; the named sheets replace it.
    default_sheet = book.active
    if default_sheet is not None:
        book.remove(default_sheet)
    for name, columns, rows in sheets:
        sheet = book.create_sheet(name[:31])
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for r, row in enumerate(rows, start=2):
            for c, column in enumerate(columns, start=1):
                value = row.get(column)
                if isinstance(value, str):
                    value = remove_zero_width(value)  # as in CSV: no bidi controls
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    # openpyxl would store "=..." as a formula; force a plain string.
                    cell.data_type = "s"
        for c, column in enumerate(columns, start=1):
            width = max([len(str(column))] + [len(str(row.get(column) or "")) for row in rows])
            sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = min(
                60, width + 2
            )
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def winners_csv(report: DrawReport) -> bytes:
    return rows_csv(WINNER_COLUMNS, [r.as_dict() for r in winner_rows(report)])


def winners_xlsx(report: DrawReport) -> bytes:
    return rows_xlsx(
        [
            ("winners", WINNER_COLUMNS, [r.as_dict() for r in winner_rows(report)]),
            ("alternates", WINNER_COLUMNS, [r.as_dict() for r in alternate_rows(report)]),
        ]
    )


def winners_json(report: DrawReport) -> bytes:
    cert = _require_draw(report)
    return _json_bytes(
        {
            "campaign": report.slug,
            "title": report.campaign.title,
            "algorithm": cert["algorithm"],
            "pool_hash": cert["pool_hash"],
            "randomness": cert["randomness"],
            "drawn_at": cert["created_at"],
            "winners": [r.as_dict() for r in winner_rows(report)],
            "alternates": [r.as_dict() for r in alternate_rows(report)],
            "replacements": cert.get("replacements", []),
        }
    )


def entries_csv(report: DrawReport) -> bytes:
    return rows_csv(ENTRY_COLUMNS, entry_rows(report))


def entries_xlsx(report: DrawReport) -> bytes:
    return rows_xlsx([("entries", ENTRY_COLUMNS, entry_rows(report))])


def entries_json(report: DrawReport) -> bytes:
    return _json_bytes({"campaign": report.slug, "entries": entry_rows(report)})


def certificate_bytes(report: DrawReport) -> bytes:
    return _json_bytes(_require_draw(report))


# --- the announcement ------------------------------------------------------------------------

# Escaping "." ":" and the slashes of "//" splits the text where markdown-it's linkify
# would find a bare domain or a "//host" link (an escaped character is a token of its own).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$.:]|/(?=/)|(?<=/)/)")
# What GFM's autolink step (cmark-gfm, remark-gfm) matches in the rendered text, where no
# backslash or entity can stop it: "@" (e-mail), ":" before "/" (scheme://) and the "."
# of "www.". Each goes into a code span of its own, which no autolinker looks into, so
# the text around it is no longer one address.
_AUTOLINK_TRIGGER = re.compile(r"@|:(?=/)|(?<=[wW]{3})\.")


def _md_literal(text: str) -> str:
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_escape(value: Any) -> str:
    """Scraped text as literal Markdown that no renderer turns into markup or a link:
    invisible characters (bidi controls among them) removed, Markdown punctuation
    backslash-escaped, ``& < >`` as entities, autolink triggers in code spans; line breaks
    become spaces."""
    text = re.sub(r"[\r\n\t]+", " ", "" if value is None else str(value))
    text = remove_zero_width(text)
    out: list[str] = []
    position = 0
    for match in _AUTOLINK_TRIGGER.finditer(text):
        out.append(_md_literal(text[position : match.start()]))
        out.append(f"`{match.group()}`")
        position = match.end()
    out.append(_md_literal(text[position:]))
    return "".join(out)


def h(value: Any) -> str:
    """Text for HTML: invisible characters (bidi controls among them) removed, escaped."""
    return html.escape(remove_zero_width("" if value is None else str(value)), quote=True)


def bdi(value: Any) -> str:
    """Scraped text for HTML, isolated in ``<bdi>``: even right-to-left letters in it
    cannot reorder the text around it (the post number after a title, say)."""
    return f"<bdi>{h(value)}</bdi>"


def _when(iso: str | None) -> str:
    if not iso:
        return "-"
    return format_thai_date(datetime.fromisoformat(iso))


@dataclass(frozen=True)
class _Announcement:
    title: str
    drawn_at: str
    pool_size: int
    pool_hash: str
    frozen_at: str
    source: str
    randomness: str
    winners: list[WinnerRow]
    alternates: list[WinnerRow]
    replacements: list[dict[str, Any]]
    certificate_name: str
    voided: list[dict[str, Any]]  # pools frozen and then voided before this draw
    # Entries frozen although not seen live since the close (None: a certificate made
    # before the freeze checked this).
    unverified: list[dict[str, Any]] | None


def _announcement(report: DrawReport) -> _Announcement:
    cert = _require_draw(report)
    sources = cert.get("sources") or []
    source = cert.get("randomness_source") or "; ".join(str(s.get("source", "")) for s in sources)
    published = next((s.get("published_at") for s in sources if s.get("published_at")), None)
    if published:
        source += f" (ประกาศเมื่อ {_when(published)})"
    return _Announcement(
        title=report.campaign.title or report.slug,
        drawn_at=_when(cert.get("created_at")),
        pool_size=len(cert["ranking"]),
        pool_hash=cert["pool_hash"],
        frozen_at=_when(cert.get("frozen_at")),
        source=source,
        randomness=cert["randomness"],
        winners=winner_rows(report),
        alternates=alternate_rows(report),
        replacements=list(cert.get("replacements", [])),
        certificate_name=f"{report.slug}-certificate.json",
        voided=list(cert.get("voided_pools") or []),
        unverified=(
            list(cert["unverified_entries"])
            if isinstance(cert.get("unverified_entries"), list)
            else None
        ),
    )


_UNVERIFIED_STATES = {
    "gone": "ถูกลบหรือปิดไปแล้วเมื่อตรวจครั้งล่าสุด",
    "never_fetched": "ไม่เคยดึงหน้าบันทึก",
}


def _unverified_lines(
    entries: list[dict[str, Any]] | None, escape: Callable[[Any], str]
) -> tuple[str, list[str]]:
    """(the heading line, one line per entry) for entries an admin accepted into the pool
    without a live check after the close; ('', []) for a certificate made before the check."""
    if entries is None:
        return "", []
    if not entries:
        return "ทุกบันทึกในรายชื่อถูกตรวจว่ายังอยู่บนเว็บหลังปิดรับ", []
    lines = []
    for item in entries:
        state = _UNVERIFIED_STATES.get(str(item.get("state")))
        if state is None:
            state = f"ดึงหน้าบันทึกครั้งล่าสุดเมื่อ {_when(item.get('last_fetched_at'))} ก่อนปิดรับ"
        lines.append(
            f"บันทึกหมายเลข {escape(item.get('post_number'))} ({state}) "
            f"ยอมรับโดย {escape(item.get('accepted_by'))} เหตุผล: {escape(item.get('reason'))}"
        )
    heading = f"บันทึกในรายชื่อที่ยังไม่ได้ยืนยันว่ายังอยู่หลังปิดรับ ({len(entries)} บันทึก) ผู้ดูแลยอมรับให้ร่วมจับรางวัล:"
    return heading, lines


def _voided_line(pool: Mapping[str, Any], escape: Callable[[Any], str]) -> str:
    """One voided pool, said in the announcement so nobody can quietly discard a freeze."""
    return (
        f"ล็อกเมื่อ {_when(pool.get('frozen_at'))} โดย {escape(pool.get('frozen_by'))} "
        f"(pool_hash {escape(pool.get('pool_hash'))}, ตัวเลขสุ่มจาก "
        f"{escape(pool.get('randomness_source'))} กำหนด {_when(pool.get('randomness_due'))}) "
        f"ยกเลิกเมื่อ {_when(pool.get('voided_at'))} โดย {escape(pool.get('voided_by'))} "
        f"เหตุผล: {escape(pool.get('void_reason'))}"
    )


def _unverified_markdown(a: _Announcement) -> list[str]:
    heading, lines = _unverified_lines(a.unverified, md_escape)
    if not heading:
        return []
    return [f"- {heading}"] + [f"  - {line}" for line in lines]


def _unverified_html(a: _Announcement) -> str:
    heading, lines = _unverified_lines(a.unverified, h)
    if not heading:
        return ""
    if not lines:
        return f"<li>{heading}</li>"
    return f"<li>{heading}<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul></li>"


def announcement_markdown(report: DrawReport) -> str:
    a = _announcement(report)
    out = [
        f"# ประกาศผลการสุ่มรางวัล: {md_escape(a.title)}",
        "",
        f"สุ่มเมื่อ {a.drawn_at} จากบันทึกที่มีสิทธิ์ทั้งหมด {a.pool_size} บันทึก "
        "ด้วยวิธีที่ทุกคนตรวจสอบซ้ำได้ (ดูหัวข้อ “ตรวจสอบผลการสุ่มด้วยตนเอง” ด้านล่าง)",
        "",
        "## ผู้ได้รับรางวัล",
        "",
        "| รางวัลที่ | บันทึก | ผู้เขียน | รางวัล |",
        "|---|---|---|---|",
    ]
    for row in a.winners:
        if row.post_number is None:
            out.append(f"| {row.prize_rank} | - | - | {md_escape(row.prize)} |")
            continue
        out.append(
            f"| {row.prize_rank} | [{md_escape(row.title)}]({row.url}) "
            f"(หมายเลข {row.post_number}) | {md_escape(row.author_name)} "
            f"({md_escape(row.author_username)}) | {md_escape(row.prize)} |"
        )
    if a.alternates:
        out += ["", "## รายชื่อสำรอง (ตามลำดับ)", ""]
        for i, row in enumerate(a.alternates, start=1):
            out.append(
                f"{i}. [{md_escape(row.title)}]({row.url}) (หมายเลข {row.post_number}) "
                f"โดย {md_escape(row.author_name)} ({md_escape(row.author_username)})"
                + (" — ได้รับรางวัลแทนแล้ว" if row.prize != "สำรอง" else "")
            )
    if a.replacements:
        out += ["", "## การเปลี่ยนตัวผู้ได้รับรางวัล", ""]
        for item in a.replacements:
            by = (
                f"บันทึกหมายเลข {item['replacement']} (ผู้สำรอง) ได้รับรางวัลแทน"
                if item.get("replacement") is not None
                else "ไม่มีผู้สำรองเหลือ รางวัลนี้ว่าง"
            )
            out.append(
                f"- รางวัลที่ {item['prize_rank']}: บันทึกหมายเลข {item['disqualified']} "
                f"ถูกตัดสิทธิ์ (เหตุผล: {md_escape(item.get('reason'))}); {by}"
            )
    out += [
        "",
        "## ตรวจสอบผลการสุ่มด้วยตนเอง",
        "",
        f"- รายชื่อบันทึกที่มีสิทธิ์ถูกล็อกไว้เมื่อ {a.frozen_at} ก่อนรู้ตัวเลขสุ่ม "
        f"จำนวน {a.pool_size} บันทึก ค่า SHA-256 ของรายชื่อ (pool_hash): `{a.pool_hash}`",
        f"- ตัวเลขสุ่มมาจาก: {md_escape(a.source)}; ค่าที่ใช้ (randomness): `{a.randomness}`",
        *(
            [f"- รายชื่อที่เคยล็อกแล้วถูกยกเลิกก่อนการสุ่มนี้ ({len(a.voided)} ครั้ง):"]
            + [f"  - {_voided_line(pool, md_escape)}" for pool in a.voided]
            if a.voided
            else ["- ไม่มีการล็อกรายชื่อที่ถูกยกเลิกก่อนการสุ่มนี้"]
        ),
        *_unverified_markdown(a),
        "- วิธีสุ่ม: tagdraw-draw-v1 (HMAC-SHA256 แบบเดียวกับ RFC 3797) "
        "คะแนนของแต่ละบันทึกคำนวณจาก pool_hash ตัวเลขสุ่ม และหมายเลขบันทึก "
        "เรียงคะแนนจากน้อยไปมาก ผู้เขียนหนึ่งคนได้รางวัลไม่เกินหนึ่งรางวัล",
        f"- ใบรับรองผล (certificate) คือไฟล์ `{a.certificate_name}` ที่เผยแพร่คู่กับประกาศนี้ "
        f"ตรวจได้ด้วยคำสั่ง `{VERIFY_COMMAND.format(file=a.certificate_name)}` "
        "(ตรวจการเปลี่ยนตัวด้วย) หรือบันทึกไฟล์เป็น `certificate.json` "
        "แล้วรันสคริปต์ Python นี้ (ใช้เพียง hashlib, hmac, json):",
        "",
        "```python",
        VERIFY_SCRIPT.rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(out)


def announcement_html(report: DrawReport) -> str:
    a = _announcement(report)
    rows = []
    for row in a.winners:
        if row.post_number is None:
            rows.append(
                f"<tr><td>{h(row.prize_rank)}</td><td>-</td><td>-</td><td>{h(row.prize)}</td></tr>"
            )
            continue
        rows.append(
            f'<tr><td>{h(row.prize_rank)}</td><td><a href="{h(row.url)}">{bdi(row.title)}</a> '
            f"(หมายเลข {h(row.post_number)})</td><td>{bdi(row.author_name)} "
            f"({bdi(row.author_username)})</td><td>{bdi(row.prize)}</td></tr>"
        )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="th"><head><meta charset="utf-8">',
        f"<title>ประกาศผลการสุ่มรางวัล: {h(a.title)}</title></head><body>",
        f"<h1>ประกาศผลการสุ่มรางวัล: {h(a.title)}</h1>",
        f"<p>สุ่มเมื่อ {h(a.drawn_at)} จากบันทึกที่มีสิทธิ์ทั้งหมด {a.pool_size} บันทึก ด้วยวิธีที่ทุกคนตรวจสอบซ้ำได้</p>",
        "<h2>ผู้ได้รับรางวัล</h2>",
        "<table><thead><tr><th>รางวัลที่</th><th>บันทึก</th><th>ผู้เขียน</th><th>รางวัล</th>"
        "</tr></thead><tbody>",
        *rows,
        "</tbody></table>",
    ]
    if a.alternates:
        parts.append("<h2>รายชื่อสำรอง (ตามลำดับ)</h2><ol>")
        for row in a.alternates:
            taken = " — ได้รับรางวัลแทนแล้ว" if row.prize != "สำรอง" else ""
            parts.append(
                f'<li><a href="{h(row.url)}">{bdi(row.title)}</a> (หมายเลข {h(row.post_number)}) '
                f"โดย {bdi(row.author_name)} ({bdi(row.author_username)}){taken}</li>"
            )
        parts.append("</ol>")
    if a.replacements:
        parts.append("<h2>การเปลี่ยนตัวผู้ได้รับรางวัล</h2><ul>")
        for item in a.replacements:
            by = (
                f"บันทึกหมายเลข {h(item['replacement'])} (ผู้สำรอง) ได้รับรางวัลแทน"
                if item.get("replacement") is not None
                else "ไม่มีผู้สำรองเหลือ รางวัลนี้ว่าง"
            )
            parts.append(
                f"<li>รางวัลที่ {h(item['prize_rank'])}: บันทึกหมายเลข {h(item['disqualified'])} "
                f"ถูกตัดสิทธิ์ (เหตุผล: {bdi(item.get('reason'))}); {by}</li>"
            )
        parts.append("</ul>")
    parts += [
        "<h2>ตรวจสอบผลการสุ่มด้วยตนเอง</h2><ul>",
        f"<li>รายชื่อบันทึกที่มีสิทธิ์ถูกล็อกไว้เมื่อ {h(a.frozen_at)} ก่อนรู้ตัวเลขสุ่ม "
        f"จำนวน {a.pool_size} บันทึก ค่า SHA-256 ของรายชื่อ (pool_hash): "
        f"<code>{h(a.pool_hash)}</code></li>",
        f"<li>ตัวเลขสุ่มมาจาก: {h(a.source)}; ค่าที่ใช้ (randomness): <code>{h(a.randomness)}</code></li>",
        (
            f"<li>รายชื่อที่เคยล็อกแล้วถูกยกเลิกก่อนการสุ่มนี้ ({len(a.voided)} ครั้ง):<ul>"
            + "".join(f"<li>{_voided_line(pool, h)}</li>" for pool in a.voided)
            + "</ul></li>"
            if a.voided
            else "<li>ไม่มีการล็อกรายชื่อที่ถูกยกเลิกก่อนการสุ่มนี้</li>"
        ),
        _unverified_html(a),
        "<li>วิธีสุ่ม: tagdraw-draw-v1 (HMAC-SHA256 แบบเดียวกับ RFC 3797) "
        "ผู้เขียนหนึ่งคนได้รางวัลไม่เกินหนึ่งรางวัล</li>",
        f"<li>ใบรับรองผล (certificate) คือไฟล์ <code>{h(a.certificate_name)}</code> "
        f"ที่เผยแพร่คู่กับประกาศนี้ ตรวจได้ด้วยคำสั่ง "
        f"<code>{h(VERIFY_COMMAND.format(file=a.certificate_name))}</code> (ตรวจการเปลี่ยนตัวด้วย) "
        "หรือบันทึกไฟล์เป็น <code>certificate.json</code> แล้วรันสคริปต์ Python นี้:</li></ul>",
        f"<pre><code>{h(VERIFY_SCRIPT)}</code></pre>",
        "</body></html>",
        "",
    ]
    return "\n".join(parts)


# --- one entry point for the CLI and the dashboard ----------------------------------------


def render(report: DrawReport, what: str, fmt: str) -> bytes:
    """The export ``what`` (winners, entries, certificate, announcement) as ``fmt``."""
    if what not in FORMATS:
        raise UserError(f"unknown export {what!r}; choose one of: {', '.join(FORMATS)}")
    if fmt not in FORMATS[what]:
        raise UserError(f"{what} can be exported as {', '.join(FORMATS[what])}, not {fmt!r}")
    renderers = {
        ("winners", "csv"): winners_csv,
        ("winners", "xlsx"): winners_xlsx,
        ("winners", "json"): winners_json,
        ("entries", "csv"): entries_csv,
        ("entries", "xlsx"): entries_xlsx,
        ("entries", "json"): entries_json,
        ("certificate", "json"): certificate_bytes,
        ("announcement", "md"): lambda r: announcement_markdown(r).encode("utf-8"),
        ("announcement", "html"): lambda r: announcement_html(r).encode("utf-8"),
    }
    return renderers[(what, fmt)](report)


def file_name(slug: str, what: str, fmt: str) -> str:
    return f"{slug}-{what}.{fmt}"


def export(con: Any, slug: str, what: str, fmt: str) -> bytes:
    return render(load_report(con, slug), what, fmt)


def write_export(report: DrawReport, what: str, fmt: str, path: str | Path) -> Path:
    """Render and write to ``path`` (created or replaced whole, never half-written)."""
    return atomic_write_bytes(Path(path), render(report, what, fmt))
