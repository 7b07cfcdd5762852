"""Exports of a real draw: CSV (BOM, Thai, inert formulas), XLSX, JSON, certificate and a
Thai announcement that escapes hostile titles; plus the published verification script."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from test_draw_warehouse import POSTS, SLUG, freeze_and_run, future, seed_campaign

from warehouse import draw, exports
from warehouse.db import connect
from warehouse.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = POSTS[2][0]  # "<script>alert('x')</script> & <b>ตัวหนา</b>"
FORMULA = POSTS[1][0]  # '=HYPERLINK(...)'


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> tuple[exports.DrawReport, Path]:
    """One drawn campaign, where the hostile and formula titles are certainly winners: the
    randomness is searched (deterministically) until both are among the winners."""
    db_path = tmp_path_factory.mktemp("exports") / "tagdraw.duckdb"
    numbers = seed_campaign(db_path)
    with connect(db_path) as con:
        text = draw.plan_freeze(con, SLUG).pool_text
    wanted = {numbers[1], numbers[2]}
    value = next(
        f"{v}/"
        for v in range(100000, 101000)
        if wanted <= set(draw.choose(draw.rank(text, f"{v}/"), 3, 2)[0])
    )
    freeze_and_run(db_path, value)
    with connect(db_path) as con:
        cert = draw.get_certificate(con, SLUG)
        loser = next(n for n in cert["winners"] if n not in wanted)
        draw.replace_winner(con, SLUG, loser, reason="<img src=x onerror=alert(1)>", actor="admin")
    with connect(db_path) as con:
        return exports.load_report(con, SLUG), db_path


def test_winner_csv_has_a_bom_thai_intact_and_inert_formulas(drawn) -> None:
    report, _ = drawn
    data = exports.render(report, "winners", "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == list(exports.WINNER_COLUMNS)
    assert [int(r["prize_rank"]) for r in rows] == [1, 2, 3]
    current = draw.current_winners(report.certificate)
    assert [int(r["post_number"]) for r in rows] == current
    by_number = {int(r["post_number"]): r for r in rows}
    formula_row = by_number[545002]
    assert formula_row["title"] == "'" + FORMULA  # inert: a leading apostrophe
    assert not any(
        v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values() if v is not None
    )
    assert by_number[545003]["title"] == HOSTILE
    assert all(r["prize"] == "เงินสด 2,500 บาท" for r in rows)
    assert formula_row["url"] == "https://www.gotoknow.org/posts/545002"
    assert formula_row["author_name"] == "มัลลอรี" and formula_row["author_username"] == "mallory"


def test_safe_cell_neutralises_every_formula_start() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert exports.safe_cell(text) == "'" + text
    assert exports.safe_cell("สังคมออนไลน์ =1") == "สังคมออนไลน์ =1"
    assert exports.safe_cell(545001) == 545001 and exports.safe_cell(None) == ""


def test_winner_xlsx_opens_with_the_right_cells(drawn) -> None:
    report, _ = drawn
    book = load_workbook(io.BytesIO(exports.render(report, "winners", "xlsx")))
    sheet = book["winners"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == list(exports.WINNER_COLUMNS)
    assert [v[0] for v in values[1:]] == [1, 2, 3]
    assert [v[1] for v in values[1:]] == draw.current_winners(report.certificate)
    formula_cell = next(row[2] for row in sheet.iter_rows(min_row=2) if row[1].value == 545002)
    assert formula_cell.value == FORMULA and formula_cell.data_type == "s"  # text, not formula
    thai = next(v for v in values[1:] if v[1] == 545003)
    assert thai[2] == HOSTILE and thai[3] == "อีฟ <i>"
    alternates = [[c.value for c in row] for row in book["alternates"].iter_rows(min_row=2)]
    assert [a[1] for a in alternates] == report.certificate["alternate_list"]


def test_winner_and_entry_json(drawn) -> None:
    report, _ = drawn
    winners = json.loads(exports.render(report, "winners", "json"))
    assert winners["pool_hash"] == report.certificate["pool_hash"]
    assert [w["post_number"] for w in winners["winners"]] == draw.current_winners(
        report.certificate
    )
    assert winners["replacements"][0]["reason"] == "<img src=x onerror=alert(1)>"
    entries = json.loads(exports.render(report, "entries", "json"))["entries"]
    assert len(entries) == len(POSTS)
    spam = entries[-1]
    assert (spam["status"], spam["reason"], spam["note"], spam["in_pool"]) == (
        "spam",
        "spam",
        "โฆษณา",
        "no",
    )
    loser = report.certificate["replacements"][0]["disqualified"]
    row = next(e for e in entries if e["post_number"] == loser)
    assert row["status"] == "ineligible" and "disqualified" in row["draw_result"]
    assert sum(e["draw_result"].startswith("winner") for e in entries) == 3


def test_entry_csv_and_xlsx(drawn) -> None:
    report, _ = drawn
    rows = list(
        csv.DictReader(io.StringIO(exports.render(report, "entries", "csv").decode("utf-8-sig")))
    )
    assert [int(r["post_number"]) for r in rows] == [545001 + i for i in range(len(POSTS))]
    assert rows[0]["title"] == POSTS[0][0]
    assert rows[4]["title"] == "'" + POSTS[4][0]  # "+ลุ้นรางวัล ..." neutralised
    sheet = load_workbook(io.BytesIO(exports.render(report, "entries", "xlsx")))["entries"]
    header = [c.value for c in sheet[1]]
    assert header == list(exports.ENTRY_COLUMNS)
    assert sheet.cell(row=6, column=2).value == POSTS[4][0]


def test_certificate_export_verifies(drawn) -> None:
    report, _ = drawn
    cert = json.loads(exports.render(report, "certificate", "json"))
    assert cert == report.certificate
    assert draw.verify_certificate(cert).ok


def test_announcement_escapes_hostile_values(drawn) -> None:
    report, _ = drawn
    page = exports.render(report, "announcement", "html").decode("utf-8")
    assert "<script>" not in page and "<b>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;ตัวหนา" in page
    assert "อีฟ &lt;i&gt;" in page
    assert report.certificate["pool_hash"] in page
    assert report.certificate["randomness"] in page
    assert "tagdraw draw verify" in page and "hmac.new" in page
    assert 'href="https://www.gotoknow.org/posts/545002"' in page
    markdown = exports.render(report, "announcement", "md").decode("utf-8")
    assert "<script>" not in markdown and "<img" not in markdown
    assert r"&lt;script&gt;alert\('x'\)&lt;/script&gt; &amp; &lt;b&gt;ตัวหนา" in markdown
    assert "ผู้ได้รับรางวัล" in markdown and "ตรวจสอบผลการสุ่มด้วยตนเอง" in markdown
    assert report.certificate["pool_hash"] in markdown
    assert "สลากกินแบ่งรัฐบาล" in markdown
    assert exports.VERIFY_SCRIPT.strip() in markdown
    assert "ไม่มีการล็อกรายชื่อที่ถูกยกเลิกก่อนการสุ่มนี้" in markdown  # said, not left out


def test_exports_refuse_before_the_draw_and_bad_formats(db_path: Path) -> None:
    seed_campaign(db_path)
    with connect(db_path) as con:
        report = exports.load_report(con, SLUG)
    with pytest.raises(UserError, match="has not run"):
        exports.render(report, "winners", "csv")
    with pytest.raises(UserError, match="csv, xlsx, json"):
        exports.render(report, "winners", "html")
    with pytest.raises(UserError, match="unknown export"):
        exports.render(report, "prizes", "csv")
    # The entry list works before the draw.
    assert b"post_number" in exports.render(report, "entries", "csv")


def test_write_export_writes_the_file(drawn, tmp_path: Path) -> None:
    report, _ = drawn
    target = exports.write_export(report, "announcement", "md", tmp_path / "a.md")
    assert target.read_text("utf-8").startswith("# ประกาศผลการสุ่มรางวัล")
    with pytest.raises(UserError, match="no directory"):
        exports.write_export(report, "announcement", "md", tmp_path / "missing" / "a.md")


# --- the published verification script -----------------------------------------------------


def run_script(script: str, cert: dict, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "certificate.json").write_text(json.dumps(cert, ensure_ascii=False), "utf-8")
    return subprocess.run(
        [sys.executable, "-I", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_short_script_verifies_and_catches_tampering(drawn, tmp_path: Path) -> None:
    report, _ = drawn
    script = exports.VERIFY_SCRIPT
    assert len(script.strip().splitlines()) <= 18
    imports = {
        w.strip(",")
        for line in script.splitlines()
        if line.startswith("import")
        for w in line.split()[1:]
    }
    assert imports == {"hashlib", "hmac", "json"}
    good = run_script(script, report.certificate, tmp_path)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("OK")
    swapped = json.loads(json.dumps(report.certificate))
    swapped["winners"][0], swapped["winners"][1] = swapped["winners"][1], swapped["winners"][0]
    bad = run_script(script, swapped, tmp_path)
    assert bad.returncode != 0 and "winners differ" in bad.stderr
    changed = json.loads(json.dumps(report.certificate))
    changed["pool"] = changed["pool"].replace("545004,somchai", "545004,nok")
    bad = run_script(script, changed, tmp_path)
    assert bad.returncode != 0 and "pool_hash differs" in bad.stderr
    # Issue 17: a string that displays as the published value but is not it, with a
    # ranking consistent with it; and a file holding "winners" twice.
    shown_alike = draw.build_certificate(
        campaign=SLUG,
        pool=report.certificate["pool"],
        randomness=report.certificate["randomness"].replace("/", "\u200b/"),
        sources=[],
        prizes=3,
        alternates=2,
    )
    bad = run_script(script, shown_alike, tmp_path)
    assert bad.returncode != 0 and "randomness is not canonical" in bad.stderr
    (tmp_path / "certificate.json").write_text(
        json.dumps(report.certificate).replace('"winners": ', '"winners": [1], "winners": ', 1),
        "utf-8",
    )
    doubled = subprocess.run(
        [sys.executable, "-I", "-c", script], cwd=tmp_path, capture_output=True, text=True
    )
    assert doubled.returncode != 0 and "a key appears twice" in doubled.stderr


def test_the_draw_docs_carry_the_same_script() -> None:
    """docs/draw.md (linked from the README) quotes the announcement's verify script."""
    section = (ROOT / "docs" / "draw.md").read_text("utf-8")
    assert exports.VERIFY_SCRIPT.strip() in section
    assert "tagdraw draw verify" in section


def test_the_announcement_names_every_voided_freeze(db_path: Path) -> None:
    """A freeze that was voided before the draw is published with the draw, so an organiser
    cannot quietly try pools until one suits them."""
    seed_campaign(db_path)
    with connect(db_path) as con:
        first = draw.freeze(
            con,
            SLUG,
            actor="boss",
            randomness_source="หวย 16 ส.ค.",
            randomness_due=future(),
            randomness_digits=6,
        )
        draw.unfreeze(con, SLUG, actor="boss", reason="<b>late complaint</b> about 545003")
    freeze_and_run(db_path)
    with connect(db_path) as con:
        report = exports.load_report(con, SLUG)
    markdown = exports.render(report, "announcement", "md").decode("utf-8")
    page = exports.render(report, "announcement", "html").decode("utf-8")
    for text in (markdown, page):
        assert "ถูกยกเลิกก่อนการสุ่มนี้ (1 ครั้ง)" in text
        assert first.pool_hash in text and "หวย 16 ส.ค." in text.replace("\\.", ".")
        assert "<b>late" not in text  # the reason is text, escaped
    assert "&lt;b&gt;late complaint&lt;/b&gt; about 545003" in page
    assert "&lt;b&gt;late complaint&lt;/b&gt; about 545003" in markdown
    assert "ไม่มีการล็อกรายชื่อที่ถูกยกเลิก" not in markdown


def test_the_announcement_prints_entries_accepted_without_a_live_check(db_path: Path) -> None:
    """Issue 15: a freeze over entries not seen live since the close is published with the
    posts, the reason and who accepted it."""
    from datetime import datetime, timedelta

    from warehouse.store import mark_gone
    from warehouse.thai import BANGKOK

    numbers = seed_campaign(db_path)
    with connect(db_path) as con:
        mark_gone(con, [numbers[3]], "not_found", seen_at=datetime(2013, 9, 3, tzinfo=BANGKOK))
        pool = draw.freeze(
            con,
            SLUG,
            actor="boss",
            randomness_source="หวย",
            randomness_due=future(),
            randomness_digits=6,
            accept_unverified="<b>เว็บล่ม</b> ตรวจด้วยตาแล้ว",
        )
    with connect(db_path) as con:
        draw.run_draw(
            con, SLUG, randomness="123456/", actor="boss", now=pool.randomness_due + timedelta(1)
        )
        report = exports.load_report(con, SLUG)
    markdown = exports.render(report, "announcement", "md").decode("utf-8")
    page = exports.render(report, "announcement", "html").decode("utf-8")
    for text in (markdown, page):
        assert "ยังไม่ได้ยืนยันว่ายังอยู่หลังปิดรับ (1 บันทึก)" in text
        assert f"บันทึกหมายเลข {numbers[3]}" in text and "boss" in text
        assert "<b>เว็บล่ม" not in text
    assert "&lt;b&gt;เว็บล่ม&lt;/b&gt; ตรวจด้วยตาแล้ว" in page
    assert "&lt;b&gt;เว็บล่ม&lt;/b&gt; ตรวจด้วยตาแล้ว" in markdown


def test_the_announcement_says_every_entry_was_seen_live_after_the_close(drawn) -> None:
    report, _ = drawn
    assert report.certificate["unverified_entries"] == []
    for fmt in ("md", "html"):
        text = exports.render(report, "announcement", fmt).decode("utf-8")
        assert "ทุกบันทึกในรายชื่อถูกตรวจว่ายังอยู่บนเว็บหลังปิดรับ" in text
        assert "ยังไม่ได้ยืนยันว่ายังอยู่หลังปิดรับ" not in text


# Scraped text that would become a link, or flip the row around it, if passed through.
LINK_TITLE = "Login again at https://evil.example/login or WWW.evil.example \u202e1234"
LINK_AUTHOR = "help@evil.example mailto:x@evil.com //evil.com/x ftp://evil.com \u202eadmin"


@pytest.fixture
def linky(drawn, tmp_path: Path) -> exports.DrawReport:  # type: ignore[no-untyped-def]
    """The drawn campaign with every winner's title and author name made hostile."""
    _, db_path = drawn
    copy = tmp_path / "linky.duckdb"
    copy.write_bytes(db_path.read_bytes())
    with connect(copy) as con:
        con.execute("UPDATE posts SET title = ?, author_name = ?", [LINK_TITLE, LINK_AUTHOR])
    with connect(copy) as con:
        return exports.load_report(con, SLUG)


def _rendered(markdown: str) -> dict[str, tuple[list[str], str]]:
    """Every link target in the Markdown as GitHub (cmark-gfm with its autolink extension)
    and markdown-it with linkify (fuzzy links, e-mails) render it, and the visible text."""
    import cmarkgfm
    from markdown_it import MarkdownIt

    renderers = {
        "cmark-gfm": cmarkgfm.github_flavored_markdown_to_html,
        "markdown-it+linkify": MarkdownIt("commonmark", {"linkify": True})
        .enable(["linkify", "table"])
        .render,
    }
    out = {}
    for name, render in renderers.items():
        page = render(markdown)
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        out[name] = (re.findall(r'<a href="([^"]*)"', page), text)
    return out


def test_markdown_announcement_has_no_links_but_ours(linky: exports.DrawReport) -> None:
    markdown = exports.render(linky, "announcement", "md").decode("utf-8")
    ours = re.compile(re.escape(linky.campaign.site_url) + r"/posts/\d+")
    for renderer, (links, text) in _rendered(markdown).items():
        assert links, renderer  # the posts' own links are there
        assert [x for x in links if not ours.fullmatch(x)] == [], renderer
        # What a reader sees is the scraped text, only the bidi control gone.
        assert LINK_TITLE.replace("\u202e", "") in text, renderer
        assert LINK_AUTHOR.replace("\u202e", "") in text, renderer


def test_markdown_and_csv_strip_bidi_controls_html_isolates_scraped_text(
    linky: exports.DrawReport,
) -> None:
    from warehouse.thai import ZERO_WIDTH_CHARS

    markdown = exports.render(linky, "announcement", "md").decode("utf-8")
    winners_csv = exports.render(linky, "winners", "csv").decode("utf-8-sig")
    entries_csv = exports.render(linky, "entries", "csv").decode("utf-8-sig")
    for text in (markdown, winners_csv, entries_csv):
        assert not set(text) & set(ZERO_WIDTH_CHARS) - {"\ufeff"}
    rows = list(csv.DictReader(io.StringIO(winners_csv)))
    assert rows[0]["title"] == LINK_TITLE.replace("\u202e", "")  # nothing else changed
    book = load_workbook(io.BytesIO(exports.render(linky, "winners", "xlsx")))
    cells = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row]
    assert LINK_TITLE.replace("\u202e", "") in cells
    assert not any("\u202e" in c for c in cells)
    page = exports.render(linky, "announcement", "html").decode("utf-8")
    assert "\u202e" not in page
    title = html.escape(LINK_TITLE.replace("\u202e", ""), quote=True)
    author = html.escape(LINK_AUTHOR.replace("\u202e", ""), quote=True)
    # Each scraped value is isolated, so even right-to-left letters cannot reorder the row.
    assert f"<bdi>{title}</bdi></a> (หมายเลข" in page
    assert f"<bdi>{author}</bdi> (<bdi>" in page
