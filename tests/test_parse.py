"""The pure parsers, on saved pages (tests/pages/) and on hand-made markup variations."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from scraper.parse import (
    ParseError,
    classify_response,
    html_to_text,
    looks_truncated,
    parse_comments_json,
    parse_listing,
    parse_post,
)
from warehouse.thai import BANGKOK

PAGES = Path(__file__).parent / "pages"
SITE = "https://www.gotoknow.org"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def bkk(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BANGKOK)  # type: ignore[misc]


def test_listing_model_page() -> None:
    listing = parse_listing(page("listing.html"), f"{SITE}/posts?tag=x&page=2")
    assert listing.page == 2
    assert listing.result_count == 143
    assert [i.post_number for i in listing.items] == [545120, 545087]
    first = listing.items[0]
    assert first.title == "สังคมออนไลน์กับงานบริการของ รพ.สต."
    assert (first.author_username, first.author_name) == ("somsri.k", "สมศรี แก้วมณี")
    assert first.comment_count == 3 and listing.items[1].comment_count == 0
    assert str(first.listed_on) == "2013-08-09"
    assert listing.next_url is not None and listing.next_url.endswith("&page=3")
    assert listing.next_url.startswith(SITE)


def test_listing_last_page_and_variations() -> None:
    html = """<html><body><main><h1>บันทึกที่มีคำสำคัญ x</h1><p>พบ ๒ บันทึก</p>
    <section><article><h2><span><a href="https://www.gotoknow.org/posts/7">A &amp; B</a></span></h2>
      <p><a href="/profiles/users/u1">ผู้หนึ่ง</a> ๗ ส.ค. ๒๕๕๖ ความเห็น ๑๒</p></article>
    <article><h2><a href="/posts/5/">  ชื่อ
      สอง </a></h2><a href="/posts/5">อ่านต่อ</a><span>ความเห็น 0</span></article></section>
    <a rel="prev" href="/posts?tag=x&amp;page=1">ใหม่กว่า</a></main></body></html>"""
    listing = parse_listing(html, f"{SITE}/posts?tag=x&page=2")
    assert listing.next_url is None
    assert listing.result_count == 2
    assert [(i.post_number, i.title, i.comment_count) for i in listing.items] == [
        (7, "A & B", 12),
        (5, "ชื่อ สอง", 0),
    ]
    assert str(listing.items[0].listed_on) == "2013-08-07"
    assert listing.items[1].author_username is None


def test_empty_listing() -> None:
    html = "<html><body><main><h1>บันทึกที่มีคำสำคัญ ไม่มี</h1><p>พบ 0 บันทึก</p></main></body></html>"
    listing = parse_listing(html, f"{SITE}/posts?tag=none")
    assert listing.items == () and listing.next_url is None and listing.result_count == 0


def test_post_model_page() -> None:
    post = parse_post(page("post.html"), f"{SITE}/posts/544804")
    assert post.post_number == 544804
    assert post.title == "ร่วมบันทึกการใช้สังคมออนไลน์ของหน่วยงานภาครัฐ ลุ้นรางวัลใน 31 สค. นี้"
    assert (post.author_username, post.author_name) == ("jantawan", "จันทวรรณ ปิยะวัฒน์")
    assert post.book_slug == "gotoknow-news"
    assert post.created_at == bkk(2013, 8, 6, 15, 0)
    assert post.updated_at == bkk(2015, 10, 5, 16, 16)
    assert post.raw_tags == ("#สังคมออนไลน์", "#สรอ.")
    assert post.tags == ("สังคมออนไลน์", "สรอ.")
    assert post.body_text.split("\n\n") == [
        'โครงการ "สรอ. ขอความรู้" ฝากขอความร่วมมือจากสมาชิก GotoKnow ทุกท่านนิดนึงนะคะ …',
        "โรงพยาบาล รพ.สต.",
        "มหาวิทยาลัย",
        "… หมดเขตร่วมกิจกรรมนี้ 31 สค. ค่ะ ลุ้นรับรางวัลเงินสด 2,500 บาท 4 รางวัล …",
    ]
    assert post.license_text == "ครีเอทีฟคอมมอนส์แบบ แสดงที่มา-ไม่ใช้เพื่อการค้า-ไม่ดัดแปลง"
    assert post.comment_count_declared == 26
    assert [c.comment_id for c in post.comments] == [3318001, 3318007]
    member, guest = post.comments
    assert (member.author_username, member.author_name) == ("phon-chol", "phon-chol")
    assert member.created_at == bkk(2013, 8, 6, 15, 42)
    assert member.body_text == '"สังคมออนไลน์" เป็นเพื่อน "สังคมออนทัวร์" ;)...'
    assert (guest.author_username, guest.author_name) == (None, "ผู้อ่านทั่วไป")
    assert [c.position for c in post.comments] == [1, 2]
    assert post.comments_next_url == f"{SITE}/posts/544804/comments?page=2"


def make_post(
    *,
    number: str = "101",
    created: str = "เขียนเมื่อ 6 สิงหาคม 2013 15:00 น. ()",
    updated: str = "",
    body: str = "<p>ย่อหน้า  หนึ่ง</p><p>สอง</p>",
    title: str = "<h1>หัวเรื่อง</h1>",
    comments: str = "",
    wrap: tuple[str, str] = ("", ""),
    author: str = '<a href="/profiles/users/kru.a">ครู เอ</a>',
) -> str:
    return f"""<!DOCTYPE html><html><body><main>{wrap[0]}<article>
      <div>{title}<div>{author} ใน <a href="/blogs/books/b1">สมุด</a></div></div>
      <div><div>{body}</div></div>
      <div>คำสำคัญ (Tags): <a href="/posts?tag=%23X">#X</a>
        <a href="/posts?tag=%E0%B8%AA%E0%B8%B1%E0%B8%87%E0%B8%84%E0%B8%A1">สังคม</a></div>
      <div><span>หมายเลขบันทึก: {number}</span><span>{created}</span><span>{updated}</span>
      <span>สัญญาอนุญาต: <a href="#">ซีซี</a></span><span>จำนวนที่อ่าน</span></div>
    </article>{comments}{wrap[1]}</main></body></html>"""


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        ("เขียนเมื่อ 6 สิงหาคม 2013 15:00 น. ()", bkk(2013, 8, 6, 15, 0)),
        ("เขียนเมื่อ 6 สิงหาคม 2556 15:00 น.", bkk(2013, 8, 6, 15, 0)),
        ("เขียนเมื่อ ๖ ส.ค. ๒๕๕๖ ๑๕:๐๐ น.", bkk(2013, 8, 6, 15, 0)),
        ("เขียนเมื่อ 7 สค 2556", bkk(2013, 8, 7, 0, 0)),
        ("เขียนเมื่อ 31 ธันวาคม 2013 23:59 น. (<time datetime='x'></time>)", bkk(2013, 12, 31, 23, 59)),
    ],
)
def test_post_date_forms(created: str, expected: datetime) -> None:
    post = parse_post(make_post(created=created), f"{SITE}/posts/101")
    assert post.created_at == expected
    assert post.updated_at is None


def test_post_variations_wrappers_entities_digits() -> None:
    html = make_post(
        number="๑๐๑",
        title="<h1> <span>หัว&amp;เรื่อง</span>\n ใหม่ </h1>",
        body="<section><p>a&nbsp;&nbsp;b\u200bc</p><ul><li><b>หนึ่ง</b> ข้อ</li><li>สอง</li></ul>"
        "<p></p><div>ท้าย<br>บรรทัด<script>alert(1)</script></div></section>",
        updated="แก้ไขเมื่อ 5 ต.ค. 2558 16:16 น. ()",
        wrap=("<div><div>", "</div></div>"),
    )
    post = parse_post(html, f"{SITE}/posts/101")
    assert post.post_number == 101
    assert post.title == "หัว&เรื่อง ใหม่"
    assert post.body_text == "a b\u200bc\n\nหนึ่ง ข้อ\n\nสอง\n\nท้าย บรรทัด"
    assert "<" not in post.body_text
    assert post.updated_at == bkk(2015, 10, 5, 16, 16)
    assert post.raw_tags == ("#X", "สังคม")
    assert post.tags == ("X", "สังคม")  # as written: no '#', case kept
    assert post.license_text == "ซีซี"
    assert post.comment_count_declared == 0 and post.comments == ()


def test_post_body_mentioning_labels_is_still_the_body() -> None:
    body = "<p>เขียนเมื่อวานนี้ ความเห็น (3) จากเพื่อน</p><p>ต่อ</p>"
    post = parse_post(make_post(body=body), f"{SITE}/posts/101")
    assert post.body_text == "เขียนเมื่อวานนี้ ความเห็น (3) จากเพื่อน\n\nต่อ"
    assert post.created_at == bkk(2013, 8, 6, 15, 0)


def test_post_comments_variations() -> None:
    comments = """<section><h2>ความเห็น (๑๒)</h2><ol>
      <li id="comment-9"><div><div><a href="/profiles/users/m1">สมาชิก หนึ่ง</a></div>
        <div><p>ข้อ  ความ</p><p>สอง</p></div><div>เขียนเมื่อ ๘ ส.ค. ๒๕๕๖ ๐๙:๑๐ น. ()</div></div></li>
      <li id="comment-10"><div><span>ผู้อ่านทั่วไป</span></div><div><p>แขก</p></div>
        <div>เขียนเมื่อ 9 สิงหาคม 2013 10:00 น.</div></li></ol>
      <button type="button" data-next="/posts/101/comments?page=2">ดูความเห็นเพิ่มเติม</button>
      </section>"""
    post = parse_post(make_post(comments=comments), f"{SITE}/posts/101")
    assert post.comment_count_declared == 12
    first, second = post.comments
    assert (first.comment_id, first.author_username, first.author_name) == (9, "m1", "สมาชิก หนึ่ง")
    assert first.body_text == "ข้อ ความ\n\nสอง"
    assert first.created_at == bkk(2013, 8, 8, 9, 10)
    assert (second.comment_id, second.author_username, second.author_name) == (
        10,
        None,
        "ผู้อ่านทั่วไป",
    )
    assert second.body_text == "แขก"
    assert post.comments_next_url == f"{SITE}/posts/101/comments?page=2"
    assert post.body_text == "ย่อหน้า หนึ่ง\n\nสอง"


@pytest.mark.parametrize(
    ("html", "missing"),
    [
        (make_post(number=""), "post number"),
        (make_post(title=""), "title"),
        (make_post(created=""), "written date"),
        (make_post(author=""), "author"),
        (make_post(number="999"), "differs"),
        (make_post(created="เขียนเมื่อ 35 สิงหาคม 2013"), "unreadable"),
    ],
)
def test_post_missing_required_field(html: str, missing: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_post(html, f"{SITE}/posts/101")
    assert missing in str(info.value)
    assert info.value.url.endswith("/posts/101")


def test_comments_json_model() -> None:
    data = json.loads(page("comments-page.json"))
    result = parse_comments_json(data, 544804, first_position=11)
    assert (result.page, result.total, result.next_url) == (2, 26, "/posts/544804/comments?page=3")
    first, guest = result.comments
    assert (first.comment_id, first.author_username, first.position) == (3318044, "panupong.a", 11)
    assert first.created_at == bkk(2013, 8, 22, 10, 5)
    assert first.body_text == "เห็นควรมีการตรวจสอบการลงข้อความผ่านศูนย์ออนไลน์ของรัฐ …"
    assert (guest.author_username, guest.author_name) == (None, "ผู้อ่านทั่วไป")
    last = parse_comments_json({**data, "next": None}, 544804)
    assert last.next_url is None
    with pytest.raises(ParseError):
        parse_comments_json({"page": 2}, 544804)


def test_html_to_text_never_keeps_markup() -> None:
    assert html_to_text("<p>a <img src=x onerror=alert(1)> b</p><p>&lt;b&gt;</p>") == "a b\n\n<b>"


def test_classify_and_truncation() -> None:
    url = f"{SITE}/posts/5"
    assert classify_response(404, url, url).reason == "not_found"
    assert classify_response(200, url, f"{SITE}/login").reason == "private"
    assert classify_response(200, url, f"{SITE}/login?return=/posts/5").kind == "gone"
    assert classify_response(503, url, url).kind == "retry"
    assert classify_response(429, url, url).kind == "retry"
    assert classify_response(200, url, url).kind == "ok"
    assert classify_response(400, url, url).kind == "failed"
    assert looks_truncated("<html><body><p>half")
    assert not looks_truncated(page("post.html"))
    with pytest.raises(ParseError):
        parse_post(page("not-found.html"), url)


def test_a_short_body_is_not_mistaken_for_the_byline() -> None:
    # Regression: a two-word body lost to the byline (author + notebook), which has more text.
    html = (PAGES / "post.html").read_text("utf-8")
    start = html.index('<div class="post-body">')
    end = html.index("</div>", start) + len("</div>")
    html = html[:start] + '<div class="post-body"><p>สั้น</p><p>มาก</p></div>' + html[end:]
    post = parse_post(html, "https://www.gotoknow.org/posts/544804")
    assert post.body_text == "สั้น\n\nมาก"
    assert post.author_username == "jantawan" and post.book_slug == "gotoknow-news"


def test_text_rules_kept_from_beautiful_soup() -> None:
    # An element's text: one space between text nodes (a comment splits one), nothing from
    # script/template or ruby annotations; a body skips script/template and squashes <pre>.
    html = make_post(
        title="<h1>หัว<!-- c -->เรื่อง<script>x()</script><ruby>漢<rt>kan</rt></ruby></h1>",
        body="<p>ก<!-- x -->ข<script>var a='ความเห็น (9)'</script>ค</p>"
        "<template><p>ซ่อน</p></template><pre>  a\n\n  b  </pre>",
    )
    post = parse_post(html, f"{SITE}/posts/101")
    assert post.title == "หัว เรื่อง 漢"
    assert post.body_text == "กขค\n\na b"
    assert post.comment_count_declared is None  # a script says ความเห็น: unknown, not 0
    # A tag as shown: text nodes run together, a whitespace-only node counting as one
    # space or newline; an empty link falls back to the tag in its URL.
    html = make_post().replace(
        '<a href="/posts?tag=%23X">#X</a>',
        '<a href="/posts?tag=%23X"><span>#X</span>\n   </a> <a href="/posts?tag=Y">  </a>',
    )
    post = parse_post(html, f"{SITE}/posts/101")
    assert post.raw_tags == ("#X\n", "Y", "สังคม")
    assert post.tags == ("X", "Y", "สังคม")


@pytest.mark.parametrize("html", ["", "   \n", "<!-- only a comment -->"])
def test_nothing_to_parse_is_a_parse_error(html: str) -> None:
    with pytest.raises(ParseError, match="not an HTML page"):
        parse_post(html, f"{SITE}/posts/101")
    with pytest.raises(ParseError, match="not an HTML page"):
        parse_listing(html, f"{SITE}/posts?tag=x")


@pytest.mark.parametrize("prefix", ['<?xml version="1.0" encoding="utf-8"?>', "\ufeff"])
def test_xml_declaration_and_byte_order_mark(prefix: str) -> None:
    post = parse_post(prefix + make_post(), f"{SITE}/posts/101")
    assert (post.post_number, post.title) == (101, "หัวเรื่อง")


def test_html_to_text_plain_and_marked_up() -> None:
    assert html_to_text("plain  text\u00a0here\n") == "plain text here"
    assert html_to_text("a &amp; b<br>c") == "a & b c"
    assert html_to_text("x<!-- c -->y<script>z</script>") == "xy"
    assert html_to_text("") == "" and html_to_text("\x00") == "\ufffd"


def test_listing_links_without_an_item_around_them() -> None:
    # Regression: links whose parent also holds other posts' links (or that sit straight in
    # the body) raised IndexError; each is its own item.
    for html in (
        "<html><body><main><p><a href='/posts/1'>หนึ่ง</a> <a href='/posts/2'>สอง</a></p>"
        "</main></body></html>",
        "<html><body><a href='/posts/1'>หนึ่ง</a><a href='/posts/2'>สอง</a></body></html>",
    ):
        listing = parse_listing(html, f"{SITE}/posts?tag=x")
        assert [(i.post_number, i.title) for i in listing.items] == [(1, "หนึ่ง"), (2, "สอง")]


def test_a_comma_after_the_comments_label_is_not_a_count() -> None:
    # Regression: "ความเห็น," (Thai prose) was read as a count "," and raised ValueError.
    html = """<html><body><main><div><h2><a href="/posts/3">ชื่อ</a></h2>
      <p>ขอแสดงความเห็น, ข้อเสนอ</p><span>ความเห็น 4</span></div></main></body></html>"""
    assert parse_listing(html, f"{SITE}/posts?tag=x").items[0].comment_count == 4


def test_a_guest_shown_as_a_link_without_href() -> None:
    # Regression: an <a> author part without href raised KeyError.
    comments = """<section><h2>ความเห็น (1)</h2><ol><li id="comment-1"><a>ผู้อ่านทั่วไป</a>
      <div><p>แขก</p></div><div>เขียนเมื่อ 9 สิงหาคม 2013 10:00 น.</div></li></ol></section>"""
    (comment,) = parse_post(make_post(comments=comments), f"{SITE}/posts/101").comments
    assert (comment.author_username, comment.author_name, comment.body_text) == (
        None,
        "ผู้อ่านทั่วไป",
        "แขก",
    )


def test_a_guest_who_typed_a_name_on_the_model_page() -> None:
    # Failure 2 of issue 15: the name went into the comment's text, the author name empty.
    html = page("post.html").replace('<span class="guest">ผู้อ่านทั่วไป</span>', "<span>สมศรี มีสุข</span>")
    guest = parse_post(html, f"{SITE}/posts/544804").comments[1]
    assert (guest.author_username, guest.author_name, guest.body_text) == (
        None,
        "สมศรี มีสุข",
        "ร่วมบันทึกลงในนี้เลยใช่ไหมคะ",
    )


def test_tags_on_the_model_page_are_kept_as_written() -> None:
    # Failure 3 of issue 15: tags were stored case-folded.
    html = page("post.html").replace(">#สรอ.</a>", ">#\u200be-Government </a>")
    post = parse_post(html, f"{SITE}/posts/544804")
    assert post.tags == ("สังคมออนไลน์", "e-Government")
    assert post.raw_tags == ("#สังคมออนไลน์", "#\u200be-Government ")
