"""The parsers on hand-written pages whose markup we did not take from our replica
(tests/pages/drift-*): other wrappers, class names and element kinds, a byline after the
body, <br> paragraphs, entities, dates only in <time>, Thai digits, guests who type a name,
tags with '#', mixed case and invisible characters, hostile comment markup.

Every expected value below was written by hand from the page, not computed by our code.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from scraper.parse import ParseError, html_to_text, parse_comments_json, parse_post
from warehouse.models import Comment, Post
from warehouse.thai import BANGKOK

PAGES = Path(__file__).parent / "pages"
SITE = "https://www.gotoknow.org"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def bkk(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BANGKOK)  # type: ignore[misc]


def comment_rows(post: Post) -> list[tuple[Any, ...]]:
    return [
        (c.comment_id, c.author_username, c.author_name, c.created_at, c.body_text)
        for c in post.comments
    ]


def all_text(value: Any) -> str:
    """Every string field of a post and its comments, joined."""
    parts: list[str] = []
    for f in fields(value):
        item = getattr(value, f.name)
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, tuple):
            for x in item:
                parts.append(all_text(x) if isinstance(x, Comment) else str(x))
    return "\n".join(parts)


# --- page A: byline after the body, <br> paragraphs, links in the body --------------------


@pytest.fixture(scope="module")
def post_a() -> Post:
    return parse_post(page("drift-a-footer-byline.html"), f"{SITE}/posts/545301")


def test_a_byline_after_the_body_names_the_author_not_a_profile_the_body_links(
    post_a: Post,
) -> None:
    assert post_a.post_number == 545301
    assert post_a.title == "ICT กับงานบริการประชาชน"
    assert (post_a.author_username, post_a.author_name) == ("Nok.Ratana", "นก รัตนา")
    assert post_a.book_slug == "nok-ict"


def test_a_body_with_a_tag_link_in_its_prose_is_the_whole_body(post_a: Post) -> None:
    assert " ".join(post_a.body_text.split()) == (
        "ที่อำเภอเรา ใช้ระบบคิวออนไลน์มาได้สองปีแล้ว ประชาชนพอใจ มากขึ้น & รอน้อยลง "
        "อ่านเรื่องเก่าของ อาจารย์สมชาย ได้ และดู บันทึกอื่นเรื่อง e-Government ประกอบครับ"
    )


def test_a_tags_as_written_and_as_shown(post_a: Post) -> None:
    # A link to a tag listing inside the body's prose is not one of the post's tags.
    assert post_a.tags == ("ICT", "e-Government", "สังคมออนไลน์")
    assert post_a.raw_tags == ("#ICT", "# e-Govern\u200bment ", "#สังคม\u200bออนไลน์")


def test_a_dates_thai_digits_refined_by_time(post_a: Post) -> None:
    assert post_a.created_at == bkk(2013, 8, 12, 9, 30, 27)
    assert post_a.updated_at is None
    assert post_a.license_text == "แสดงที่มา"
    assert post_a.comment_count_declared == 5


def test_a_guests_who_typed_a_name(post_a: Post) -> None:
    assert comment_rows(post_a) == [
        (4100001, "kru.nok", "ครูนก", bkk(2013, 8, 12, 10, 2), "เยี่ยมมากค่ะ ขอนำไปใช้บ้างนะคะ"),
        # A guest's typed name is the author; the profile its text links to is not.
        (
            4100002,
            None,
            "สมศักดิ์ (ครูบ้านนอก)",
            bkk(2013, 8, 13, 8, 15),
            "ขอบคุณครับ ดู admin ด้วย\n\nย่อหน้าสอง",
        ),
        (4100003, None, "ผู้อ่านทั่วไป", bkk(2013, 8, 13, 21, 40), "ดีครับ"),
        (4100004, None, "มาลี", bkk(2013, 8, 14, 0, 0), "สั้น"),
        # A short body that mentions the guest label is still the body.
        (4100005, None, "ต้อย ติ่ง", bkk(2013, 8, 15, 7, 7), "ขอบคุณผู้อ่านทั่วไปทุกคน"),
    ]


# --- page B: dates only in <time>, guest name in <header>, duplicate case tags ------------


@pytest.fixture(scope="module")
def post_b() -> Post:
    return parse_post(page("drift-b-time-only.html"), f"{SITE}/posts/545400")


def test_b_fields(post_b: Post) -> None:
    assert post_b.title == "บันทึก ประจำวัน <ครู>"
    # The first profile link is an avatar without text: the name comes from the next one.
    assert (post_b.author_username, post_b.author_name) == ("ubon", "อุบล สายน้ำ")
    assert post_b.book_slug == "diary"
    assert post_b.body_text == "วันนี้ไปอบรม <script> ไม่ใช่โค้ด\n\nที่ห้องประชุม ชั้นสอง"
    assert post_b.tags == ("อบรม", "KM", "km")
    assert post_b.raw_tags == ("#อบรม", "#KM", "km")
    assert post_b.license_text is None
    assert post_b.comment_count_declared == 3


def test_b_a_written_date_shown_only_by_time(post_b: Post) -> None:
    assert post_b.created_at == bkk(2013, 8, 20, 14, 5)
    assert post_b.updated_at == bkk(2013, 9, 2, 8, 0)


def test_b_comments(post_b: Post) -> None:
    assert comment_rows(post_b) == [
        (4200001, None, "พี่ใหญ่", bkk(2013, 8, 21, 7, 0), "แวะมาอ่านครับ"),
        (4200002, "ubon", "อุบล สายน้ำ", bkk(2013, 8, 21, 9, 10, 44), "ขอบคุณค่ะ"),
        # A comment that is only a picture: the typed name is still the author.
        (4200003, None, "น้องเล็ก", bkk(2013, 8, 22, 7, 0), ""),
    ]


# --- page C: hostile markup ---------------------------------------------------------------


@pytest.fixture(scope="module")
def post_c() -> Post:
    return parse_post(page("drift-c-hostile.html"), f"{SITE}/posts/545500")


def test_c_hostile_markup_is_inert_and_absent(post_c: Post) -> None:
    text = all_text(post_c)
    assert "INJECTED" not in text
    assert "javascript" not in text and "onerror" not in text and "alert" not in text
    assert post_c.body_text == "กิจกรรมเดือนนี้ มีสามเรื่อง\n\nคลิกที่นี่ เพื่อดูตาราง"
    assert post_c.tags == ("Community",)
    assert post_c.created_at == bkk(2013, 9, 1, 12, 0)


def test_c_hostile_comments(post_c: Post) -> None:
    assert comment_rows(post_c) == [
        # A comment element inside a comment is its text, not a comment of its own.
        (
            4300001,
            None,
            "ผู้ไม่ประสงค์ดี",
            bkk(2013, 9, 2, 8, 0),
            "ดูรูป\n\nผู้ดูแล\n\nปลอม\n\nเขียนเมื่อ 1 ม.ค. 2556",
        ),
        # A javascript: link is text only, as author and in the body.
        (4300002, None, "คนดี", bkk(2013, 9, 2, 9, 0), "ลิงก์ ของรางวัล ครับ\n\nชี้"),
        # A date in the body is not the comment's date.
        (4300004, None, "นักเขียน", bkk(2013, 9, 2, 9, 30), "ตอบ วันหน้า"),
        (4300003, None, "ผู้อ่านทั่วไป", bkk(2013, 9, 2, 10, 0), "ข้อความ <b>ตัวหนา</b>"),
    ]


def test_c_a_comment_cannot_name_where_more_comments_come_from(post_c: Post) -> None:
    assert post_c.comments_next_url is None


# --- comments JSON with markup --------------------------------------------------------------


def test_comments_json_with_markup_in_names_and_bodies() -> None:
    data = json.loads(page("drift-d-comments.json"))
    result = parse_comments_json(data, 545301, first_position=11)
    assert [
        (c.comment_id, c.author_username, c.author_name, c.created_at, c.body_text, c.position)
        for c in result.comments
    ] == [
        (4100011, "kru.nok", "ครูนก", bkk(2013, 8, 22, 10, 5), "ตามมาอ่าน ต่อ\n\nครับ", 11),
        (4100012, None, "สมศักดิ์ & เพื่อน", bkk(2013, 8, 23, 19, 40), "ดูนี่ ข้อความ", 12),
        # No name given: the author part of the HTML (not the body, not a date) names it.
        (4100013, None, "ลุงดำ", bkk(2013, 8, 24, 7, 0), "เห็นด้วย", 13),
    ]


def test_html_to_text_drops_script_style_and_handlers() -> None:
    html = "<p>a<script>x('INJECTED')</script><style>b{}</style> <img onerror=y()>b</p>"
    assert html_to_text(html) == "a b"


# --- a field that cannot be read is named --------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            'เขียนเมื่อ <time datetime="2013-08-12T09:30:27+07:00">๑๒ สิงหาคม ๒๕๕๖ ๐๙:๓๐ น.</time>',
            "เขียนเมื่อ ๑๒ ฟักทอง ๒๕๕๖ ๐๙:๓๐ น.",
            "created_at",
        ),
        ("<li>หมายเลขบันทึก: <strong>545301</strong></li>", "", "post_number"),
        ('<h1 itemprop="headline"><span>ICT กับงานบริการประชาชน</span></h1>', "", None),
        (
            '<a href="/profiles/users/Nok.Ratana" class="user-link">นก รัตนา</a>',
            "นก รัตนา",
            "author",
        ),
        ("เขียนเมื่อ 14 ส.ค. 2556", "เขียนเมื่อ 14 ส.ค. 2556 25:61 น.", "comments"),
    ],
)
def test_an_unreadable_field_is_a_parse_error_naming_it(old: str, new: str, field: str) -> None:
    html = page("drift-a-footer-byline.html")
    assert old in html
    html = html.replace(old, new)
    if field is None:  # no h1 in main: og:title names the post, and that is right
        assert parse_post(html, f"{SITE}/posts/545301").title == "ICT กับงานบริการประชาชน"
        return
    with pytest.raises(ParseError) as info:
        parse_post(html, f"{SITE}/posts/545301")
    assert info.value.field == field
    assert info.value.url == f"{SITE}/posts/545301"


# --- page D: a table layout, the logo's h1 in main, labels run together, flat comments ----


@pytest.fixture(scope="module")
def post_d() -> Post:
    return parse_post(page("drift-d-run-together.html"), f"{SITE}/posts/544900")


def test_d_fields(post_d: Post) -> None:
    assert post_d.title == "สรอ. ขอความรู้ ตอนที่ ๒"  # not the logo's h1
    assert (post_d.author_username, post_d.author_name, post_d.book_slug) == (
        "jantawan",
        "จันทวรรณ ปิยะวัฒน์",
        None,
    )
    assert post_d.created_at == bkk(2013, 8, 6, 15, 0)
    assert post_d.updated_at == bkk(2015, 10, 5, 0, 0)
    assert post_d.license_text == "ครีเอทีฟคอมมอนส์"
    # The body quotes another post's number label and starts a line with เขียนเมื่อ...
    assert post_d.body_text == (
        "ขอเชิญร่วมกิจกรรม ตอบได้ที่บันทึกหมายเลขบันทึก: 544804 ค่ะ เขียนเมื่อไหร่ก็ได้ ก่อน 31 ส.ค."
    )
    assert (post_d.tags, post_d.raw_tags) == (("สรอ.", "GotoKnow"), ("#สรอ.", "#GotoKnow"))
    assert post_d.comment_count_declared == 3


def test_d_comments_without_an_element_of_their_own(post_d: Post) -> None:
    assert comment_rows(post_d) == [
        # A name in a <span>, then the body straight in the comment with <br>.
        (5000001, None, "ป้าแดง", bkk(2013, 8, 7, 8, 0), "ร่วมด้วยคนค่ะ ขอบคุณ"),
        # An avatar link and a name link to one profile.
        (
            5000002,
            "phon-chol",
            "phon-chol",
            bkk(2013, 8, 7, 9, 0),
            "อ้างถึง ป้าแดง\n\nเช่นกันครับ\n\nดูความเห็นเพิ่มเติม",
        ),
        # A body line that starts with เขียนเมื่อ and a date is not the comment's date.
        (
            5000003,
            None,
            "ผู้อ่านทั่วไป",
            bkk(2013, 8, 8, 10, 30),
            "เขียนเมื่อ 6 ส.ค. 2556 ก็อ่านแล้ว ตอบช้าไปหน่อย ขอโทษครับ",
        ),
    ]
    # The button's next page, not the link a comment holds.
    assert post_d.comments_next_url == f"{SITE}/posts/544900/comments?page=2"


def test_comments_json_without_an_author_takes_no_word_of_the_text_for_one() -> None:
    data = {
        "comments": [
            {"id": 1, "author": None, "html": "<b>สำคัญ</b> ข้อความ"},
            {"id": 2, "author": {}, "html": "<p>หนึ่ง</p><p>สอง</p>"},
        ]
    }
    assert [
        (c.author_username, c.author_name, c.body_text)
        for c in parse_comments_json(data, 5).comments
    ] == [(None, None, "สำคัญ ข้อความ"), (None, None, "หนึ่ง\n\nสอง")]


# --- page E: a comment's author, body and date parts in other orders ----------------------


def test_e_comment_parts_in_any_order() -> None:
    post = parse_post(page("drift-e-comment-orders.html"), f"{SITE}/posts/546000")
    assert post.created_at == bkk(2013, 8, 1, 8, 0)
    assert comment_rows(post) == [
        (
            6000001,
            None,
            "ชื่อหลังเนื้อหา",
            bkk(2013, 8, 2, 9, 0),
            "ความเห็นแรกที่มีย่อหน้า\n\nและย่อหน้าที่สอง",
        ),
        (6000002, None, "วันชัย", bkk(2013, 8, 2, 10, 0), "บรรทัดหนึ่ง บรรทัดสอง"),
        # Two short parts: the name is the one in a <span> of its own.
        (6000003, None, "ปลายทาง", bkk(2013, 8, 2, 11, 0), "ครับ"),
        (6000004, None, "ผู้อ่านทั่วไป", bkk(2013, 8, 2, 12, 0), "ขอบคุณผู้อ่านทั่วไปทุกคน"),
        (6000005, "nid", "นิด", bkk(2013, 8, 2, 13, 0), "ดีมาก"),
    ]


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        # A day-only date: the <time> beside it gives the time of that day.
        (
            'เขียนเมื่อ ๑๒ ส.ค. ๒๕๕๖ (<time datetime="2013-08-12T09:30:27+07:00"></time>)',
            bkk(2013, 8, 12, 9, 30, 27),
        ),
        (
            'เขียนเมื่อ <time datetime="2013-08-12T02:30:27Z">12 ส.ค. 2556</time>',
            bkk(2013, 8, 12, 9, 30, 27),
        ),
        # A <time> that names another day does not change what the page shows.
        (
            'เขียนเมื่อ 12 ส.ค. 2556 (<time datetime="2013-08-13T09:30:27+07:00"></time>)',
            bkk(2013, 8, 12),
        ),
        ("เขียนเมื่อ: 12 สิงหาคม 2013 09:30 น.", bkk(2013, 8, 12, 9, 30)),
    ],
)
def test_written_date_forms_on_a_drifting_page(shown: str, expected: datetime) -> None:
    html = page("drift-a-footer-byline.html")
    old = 'เขียนเมื่อ <time datetime="2013-08-12T09:30:27+07:00">๑๒ สิงหาคม ๒๕๕๖ ๐๙:๓๐ น.</time>'
    assert old in html
    post = parse_post(html.replace(old, shown), f"{SITE}/posts/545301")
    assert post.created_at == expected


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        # No notebook link: a profile link in a sentence is not the author.
        ('<p>ขอบคุณ <a href="/profiles/users/somchai">อ.สมชาย</a> ครับ</p>', None),
        (
            '<p class="byline">โดย <a href="/profiles/users/Nok.Ratana">นก รัตนา</a></p>',
            "Nok.Ratana",
        ),
    ],
)
def test_without_a_notebook_link_only_a_byline_names_the_author(
    byline: str, expected: str | None
) -> None:
    html = page("drift-a-footer-byline.html")
    old = html[
        html.index('<p class="byline">') : html.index("</p>", html.index('<p class="byline">')) + 4
    ]
    html = html.replace(old, byline).replace(
        '<a href="/profiles/users/somchai.t">อาจารย์สมชาย</a>', ""
    )
    if expected is None:
        with pytest.raises(ParseError) as info:
            parse_post(html, f"{SITE}/posts/545301")
        assert info.value.field == "author"
    else:
        post = parse_post(html, f"{SITE}/posts/545301")
        assert (post.author_username, post.book_slug) == (expected, None)


# --- page F: a guest's comment that is only a link to a member's profile -------------------


def test_f_a_comment_that_is_only_a_profile_link_does_not_make_its_writer_that_member() -> None:
    post = parse_post(page("drift-f-impersonation.html"), f"{SITE}/posts/547000")
    assert comment_rows(post) == [
        (7000001, "dang", "แดง", bkk(2013, 8, 3, 9, 0), "ตอบข้อหนึ่งครับ"),
        (7000002, None, "ผู้อ่านทั่วไป", bkk(2013, 8, 3, 10, 0), "ขอบคุณค่ะ"),
        # The page's other comments show where the author part stands: the typed name.
        (7000003, None, "มาลี", bkk(2013, 8, 3, 11, 0), "ครู บี"),
    ]


DRIFT_PAGES = {
    "drift-f-impersonation.html": 547000,
    "drift-a-footer-byline.html": 545301,
    "drift-b-time-only.html": 545400,
    "drift-c-hostile.html": 545500,
    "drift-d-run-together.html": 544900,
    "drift-e-comment-orders.html": 546000,
    "post.html": 544804,
}


def _no_classes(html: str) -> str:
    return re.sub(r"\sclass=(\"[^\"]*\"|'[^']*')", "", html)


def _other_classes(html: str) -> str:
    return re.sub(r"\sclass=(\"[^\"]*\"|'[^']*')", ' class="x1 c-9 post-body comment"', html)


def _more_wrappers(html: str) -> str:
    html = re.sub(r"(<main[^>]*>)", r'\1<div class="outer"><section><div>', html, count=1)
    return html.replace("</main>", "</div></section></div></main>")


def _entities(html: str) -> str:
    """Every non-ASCII character of the text (not of tags, scripts or styles) as a numeric
    character reference, decimal and hex by turns."""
    out, raw = [], False
    for i, piece in enumerate(re.split(r"(<[^>]*>)", html)):
        if i % 2:
            raw = bool(re.match(r"<(script|style)\b", piece, re.I))
            out.append(piece)
        elif raw:
            out.append(piece)
        else:
            out.append(
                "".join(
                    (f"&#{ord(ch)};" if k % 2 else f"&#x{ord(ch):x};") if ord(ch) > 127 else ch
                    for k, ch in enumerate(piece)
                )
            )
    return "".join(out)


@pytest.mark.parametrize("name", sorted(DRIFT_PAGES))
@pytest.mark.parametrize("change", [_no_classes, _other_classes, _more_wrappers, _entities])
def test_class_names_and_wrappers_change_nothing(name: str, change: Any) -> None:
    url = f"{SITE}/posts/{DRIFT_PAGES[name]}"
    html = page(name)
    changed = change(html)
    assert changed != html
    assert parse_post(changed, url) == parse_post(html, url)


def test_a_list_of_tag_links_in_the_body_is_not_the_posts_tags() -> None:
    html = page("drift-a-footer-byline.html")
    old = "ประกอบครับ\n    </div>"
    assert old in html
    related = (
        'ประกอบครับ<h4>อ่านต่อ</h4><ul><li><a href="/posts?tag=KM">#KM</a></li>'
        '<li><a href="/posts?tag=LINE">#LINE</a></li></ul>\n    </div>'
    )
    post = parse_post(html.replace(old, related), f"{SITE}/posts/545301")
    assert post.tags == ("ICT", "e-Government", "สังคมออนไลน์")
    assert post.body_text.endswith("อ่านต่อ\n\n#KM\n\n#LINE")


def test_a_comment_quoting_the_post_number_label_is_not_the_posts_label() -> None:
    html = page("drift-a-footer-byline.html")
    html = html.replace("เยี่ยมมากค่ะ<br>", "หมายเลขบันทึก: 545301 เยี่ยมมากค่ะ<br>")
    post = parse_post(html, f"{SITE}/posts/545301")
    assert post.comments[0].body_text == "หมายเลขบันทึก: 545301 เยี่ยมมากค่ะ ขอนำไปใช้บ้างนะคะ"
    # Without the post's own label, the comment's is no stand-in.
    html = html.replace("<li>หมายเลขบันทึก: <strong>545301</strong></li>", "")
    with pytest.raises(ParseError) as info:
        parse_post(html, f"{SITE}/posts/545301")
    assert info.value.field == "post_number"


def test_a_heading_in_a_comment_is_never_the_title() -> None:
    html = page("drift-c-hostile.html")
    html = html.replace("<h1>กิจกรรมชุมชน</h1>", "").replace(
        "<p>ลิงก์ <a", "<h1>หัวเรื่องปลอม</h1><p>ลิงก์ <a"
    )
    with pytest.raises(ParseError) as info:
        parse_post(html, f"{SITE}/posts/545500")
    assert info.value.field == "title"


def test_an_article_inside_a_comment_is_not_the_post() -> None:
    html = page("drift-b-time-only.html")
    html = html.replace('<article id="post-545400" class="post hentry">', "<div>", 1)
    html = html.replace("</article>\n<section", "</div>\n<section", 1)
    post = parse_post(html, f"{SITE}/posts/545400")
    assert post.body_text == "วันนี้ไปอบรม <script> ไม่ใช่โค้ด\n\nที่ห้องประชุม ชั้นสอง"
    assert post.title == "บันทึก ประจำวัน <ครู>"


def test_comments_heading_in_a_wrapper_of_its_own_beside_the_post() -> None:
    url = f"{SITE}/posts/544900"
    html = page("drift-d-run-together.html")
    wrapped = html.replace("<h2>ความเห็น (3)</h2>", '<div class="head"><h2>ความเห็น (3)</h2></div>')
    assert wrapped != html
    assert parse_post(wrapped, url) == parse_post(html, url)


def test_a_br_body_that_mentions_the_number_label_is_still_the_body() -> None:
    # The body's text node says หมายเลขบันทึก without a number; the number that follows the
    # label further on (in the meta line) belongs to the meta line's own label.
    html = page("drift-a-footer-byline.html").replace(
        "ประกอบครับ\n", "ประกอบครับ<br>ลุ้นรางวัลด้วยการสุ่มจับหมายเลขบันทึกค่ะ\n"
    )
    post = parse_post(html, f"{SITE}/posts/545301")
    assert post.body_text.startswith("ที่อำเภอเรา")
    assert post.body_text.endswith("ประกอบครับ ลุ้นรางวัลด้วยการสุ่มจับหมายเลขบันทึกค่ะ")
    assert post.license_text == "แสดงที่มา"


def test_broken_markup_is_a_post_or_a_parse_error_never_another_exception() -> None:
    rng = random.Random(15)
    names = sorted(DRIFT_PAGES)
    outcomes = {"post": 0, "parse_error": 0}
    for _ in range(400):
        name = rng.choice(names)
        html = page(name)
        tags = list(re.finditer(r"<[^>]+>", html))
        kind = rng.randrange(3)
        if kind == 0:  # cut off anywhere
            html = html[: rng.randrange(len(html))]
        elif kind == 1:  # a few tags lost
            for m in sorted(rng.sample(tags, 4), key=lambda m: -m.start()):
                html = html[: m.start()] + html[m.end() :]
        else:  # two tags swapped
            a, b = sorted(rng.sample(tags, 2), key=lambda m: m.start())
            html = html[: a.start()] + b[0] + html[a.end() : b.start()] + a[0] + html[b.end() :]
        try:
            parse_post(html, f"{SITE}/posts/{DRIFT_PAGES[name]}")
            outcomes["post"] += 1
        except ParseError as exc:
            assert exc.field
            outcomes["parse_error"] += 1
    assert min(outcomes.values()) > 0, outcomes
