"""A small independent reader of replica pages, used only by the replica's tests to check
that what is served agrees with the ground truth. It anchors on the Thai labels, URL
patterns and structure of the site model, never on one template."""

from __future__ import annotations

import http.client
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from warehouse.thai import (
    compact_text,
    normalise_text,
    parse_thai_datetime,
    squash_whitespace,
)


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """Keep-alive HTTP client on one connection (reconnects if the server closed it)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def get(self, path: str) -> Fetched:
        for attempt in range(2):
            try:
                self.conn.request("GET", path)
                response = self.conn.getresponse()
                body = response.read()
                return Fetched(response.status, dict(response.getheaders()), body)
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def _text(node: Tag) -> str:
    return squash_whitespace(node.get_text(" "))


def paragraphs_text(node: Tag) -> str:
    parts = [squash_whitespace(p.get_text(" ")) for p in node.find_all("p")]
    return "\n\n".join(p for p in parts if p)


@dataclass
class ParsedComment:
    comment_id: int
    author_username: str | None
    author_name: str
    created_at: Any
    body_text: str


@dataclass
class ParsedPost:
    post_number: int
    title: str
    author_username: str
    author_name: str
    book_slug: str
    created_at: Any
    updated_at: Any
    raw_tags: list[str]
    body_text: str
    declared: int
    license: bool
    comments: list[ParsedComment] = field(default_factory=list)
    next_url: str | None = None


def _labelled_date(article: Tag, label: str) -> Any:
    for node in article.find_all(string=re.compile(label)):
        holder = node.parent
        text = _text(holder)
        if text.startswith(label):
            return parse_thai_datetime(text.removeprefix(label).split("(")[0])
    return None


def parse_comment(li: Tag) -> ParsedComment:
    author = li.select_one(".comment-author")
    assert author is not None
    link = author.find("a", href=re.compile(r"^/profiles/users/"))
    username = link["href"].removeprefix("/profiles/users/") if link else None
    meta = li.select_one(".comment-meta")
    assert meta is not None
    created = parse_thai_datetime(_text(meta).removeprefix("เขียนเมื่อ").split("(")[0])
    time = meta.find("time")
    assert time is not None and parse_thai_datetime(time["datetime"]) == created
    body = li.select_one(".comment-body")
    assert body is not None
    return ParsedComment(
        int(li["id"].removeprefix("comment-")),
        username,
        _text(link if link else author),
        created,
        paragraphs_text(body),
    )


def parse_post(html: str) -> ParsedPost:
    soup = BeautifulSoup(html, "lxml")
    article = soup.find("article")
    assert article is not None
    number_node = article.find(string=re.compile("หมายเลขบันทึก:"))
    assert number_node is not None
    number_text = _text(number_node.find_parent(class_="post-number"))
    number = int(re.search(r"หมายเลขบันทึก:\s*(\d+)", number_text).group(1))  # type: ignore[union-attr]
    author = article.find("a", href=re.compile(r"^/profiles/users/"))
    book = article.find("a", href=re.compile(r"^/blogs/books/"))
    body = article.find(class_=re.compile(r"\bpost-body\b"))
    tags_box = article.find(string=re.compile(r"^\s*คำสำคัญ \(Tags\)")).parent  # type: ignore[union-attr]
    raw_tags = [a.get_text() for a in tags_box.find_all("a", href=re.compile(r"^/posts\?tag="))]
    section = soup.find(id="comments")
    assert section is not None and author is not None and book is not None and body is not None
    heading = _text(section.find("h2"))
    declared = int(re.fullmatch(r"ความเห็น \((\d+)\)", heading).group(1))  # type: ignore[union-attr]
    button = section.find("button")
    return ParsedPost(
        post_number=number,
        title=_text(article.find("h1")),
        author_username=author["href"].removeprefix("/profiles/users/"),
        author_name=_text(author),
        book_slug=book["href"].removeprefix("/blogs/books/"),
        created_at=_labelled_date(article, "เขียนเมื่อ"),
        updated_at=_labelled_date(article, "แก้ไขเมื่อ"),
        raw_tags=raw_tags,
        body_text=paragraphs_text(body),
        declared=declared,
        license=article.find(string=re.compile("สัญญาอนุญาต:")) is not None,
        comments=[parse_comment(li) for li in section.select("li.comment")],
        next_url=button["data-next"] if button else None,
    )


@dataclass
class ParsedListing:
    numbers: list[int]
    counts: dict[int, int]
    dates: dict[int, Any]
    next_url: str | None
    prev_url: str | None
    result_count: int


def parse_listing(html: str) -> ParsedListing:
    soup = BeautifulSoup(html, "lxml")
    numbers: list[int] = []
    counts: dict[int, int] = {}
    dates: dict[int, Any] = {}
    for item in soup.select("[data-post-id]"):
        link = item.find("a", href=re.compile(r"^/posts/\d+$"))
        number = int(link["href"].removeprefix("/posts/"))
        assert number == int(item["data-post-id"])
        numbers.append(number)
        count_text = item.find(string=re.compile(r"^\s*ความเห็น\s*[0-9๐-๙]+\s*$"))
        counts[number] = int(parse_digits(str(count_text)))
        dates[number] = parse_thai_datetime(_text(item.select_one(".date"))).date()
    next_link = soup.find("a", rel="next")
    prev_link = soup.find("a", rel="prev")
    found = soup.find(string=re.compile(r"พบ"))
    return ParsedListing(
        numbers,
        counts,
        dates,
        next_link["href"] if next_link else None,
        prev_link["href"] if prev_link else None,
        int(parse_digits(str(found))),
    )


def parse_digits(text: str) -> str:
    from warehouse.thai import thai_digits_to_ascii

    return re.search(r"\d+", thai_digits_to_ascii(text)).group(0)  # type: ignore[union-attr]


# --- tests: pages match the site model and the ground truth --------------------------------

import pytest  # noqa: E402

from replica.server import ReplicaServer  # noqa: E402
from replica.site import (  # noqa: E402
    ANNOUNCEMENT_POST,
    KEYWORD,
    SHOWCASE_POST,
    Site,
    build_site,
)
from warehouse.thai import normalise_tag  # noqa: E402


@pytest.fixture(scope="module")
def served() -> Any:
    site = build_site(n_posts=300, seed=7)
    with ReplicaServer(site) as server:
        client = Client(server.url)
        yield site, server, client, site.ground_truth()
        client.close()


def _listing_path(tag: str, page: int) -> str:
    from urllib.parse import quote

    return f"/posts?tag={quote(tag)}&page={page}"


def _same_text(a: str, b: str) -> bool:
    return squash_whitespace(a) == squash_whitespace(b)


def _fetch_all_comments(client: Client, parsed: ParsedPost) -> list[ParsedComment]:
    comments = list(parsed.comments)
    next_url = parsed.next_url
    while next_url:
        page = client.get(next_url)
        assert page.status == 200 and page.headers["Content-Type"].startswith("application/json")
        data = page.json()
        assert set(data) == {"post_id", "page", "total", "next", "comments"}
        assert data["post_id"] == parsed.post_number and data["total"] == parsed.declared
        assert 1 <= len(data["comments"]) <= 10
        for item in data["comments"]:
            assert set(item) == {"id", "author", "created", "html"}
            assert set(item["author"]) == {"name", "username"}
            body = BeautifulSoup(item["html"], "html.parser")
            comments.append(
                ParsedComment(
                    item["id"],
                    item["author"]["username"],
                    item["author"]["name"],
                    parse_thai_datetime(item["created"]),
                    paragraphs_text(body),
                )
            )
        next_url = data["next"]
    return comments


def test_every_public_post_page_agrees_with_the_ground_truth(served: Any) -> None:
    _site, _server, client, truth = served
    checked = 0
    for key, expected in truth["posts"].items():
        response = client.get(expected["url"])
        if expected["state"] == "deleted":
            assert response.status == 404 and "ไม่พบบันทึก" in response.text
            continue
        if expected["state"] == "private":
            assert response.status == 302 and response.headers["Location"] == "/login"
            continue
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        page = parse_post(response.text)
        assert page.post_number == expected["post_number"] == int(key)
        assert _same_text(page.title, expected["title"])
        assert page.author_username == expected["author_username"]
        assert _same_text(page.author_name, expected["author_name"])
        assert page.book_slug == expected["book_slug"]
        assert page.created_at.isoformat() == expected["created_at"]
        assert (page.updated_at.isoformat() if page.updated_at else None) == expected["updated_at"]
        assert [squash_whitespace(t) for t in page.raw_tags] == [
            squash_whitespace(t) for t in expected["raw_tags"]
        ]
        # Tags as written: case kept; the site matches them case-folded.
        assert [t.lstrip("#").replace("\u200b", "").strip() for t in page.raw_tags] == expected[
            "tags"
        ]
        assert [normalise_tag(t) for t in page.raw_tags] == expected["tag_keys"]
        assert _same_text(page.body_text, expected["body_text"])
        assert page.declared == expected["comment_count_declared"]
        assert len(page.comments) == min(10, page.declared)
        embedded = [
            (c.comment_id, c.author_username, c.created_at.isoformat()) for c in page.comments
        ]
        wanted_first = [
            (c["comment_id"], c["author_username"], c["created_at"])
            for c in truth["comments"][key][:10]
        ]
        assert embedded == wanted_first
        checked += 1
        if checked % 4 and page.post_number not in (ANNOUNCEMENT_POST, SHOWCASE_POST):
            continue  # the whole thread (JSON pages) for a quarter of the posts
        comments = _fetch_all_comments(client, page)
        wanted = truth["comments"][key]
        assert len(comments) == len(wanted) == page.declared
        for got, want in zip(comments, wanted, strict=True):
            assert got.comment_id == want["comment_id"]
            assert got.author_username == want["author_username"]
            assert _same_text(got.author_name, want["author_name"])
            assert got.created_at.isoformat() == want["created_at"]
            assert _same_text(got.body_text, want["body_text"])
    assert checked > 250


def test_the_keyword_listing_shows_every_listed_post_exactly_once(served: Any) -> None:
    _site, _server, client, truth = served
    seen: list[int] = []
    path: str | None = _listing_path(KEYWORD, 1)
    pages = 0
    while path:
        response = client.get(path)
        assert response.status == 200
        listing = parse_listing(response.text)
        assert listing.result_count == len(truth["listed"])
        assert len(listing.numbers) <= 20
        if pages == 0:
            assert listing.prev_url is None
        else:
            assert listing.prev_url is not None
        for number in listing.numbers:
            post = truth["posts"][str(number)]
            assert listing.counts[number] == post["comment_count_declared"]
            assert listing.dates[number].isoformat() == post["created_at"][:10]
        seen += listing.numbers
        path = listing.next_url
        pages += 1
    assert seen == truth["listed"]
    assert len(seen) == len(set(seen))
    assert pages == -(-len(seen) // 20)
    # Newest first, ties by post number descending.
    keys = [(truth["posts"][str(n)]["created_at"], n) for n in seen]
    assert keys == sorted(keys, reverse=True)
    # Exactly the posts carrying the keyword (lenient match), planted deleted/private included.
    carrying = {int(k) for k, p in truth["posts"].items() if normalise_tag(KEYWORD) in p["tags"]}
    assert set(seen) == carrying
    assert ANNOUNCEMENT_POST in seen
    # Tag variants list the same posts.
    variant = client.get(_listing_path("#" + KEYWORD + " ", 1))
    assert parse_listing(variant.text).numbers == seen[:20]


def test_small_pages_robots_404_unknown_tag_and_model_labels(served: Any) -> None:
    _site, _server, client, truth = served
    robots = client.get("/robots.txt")
    assert robots.status == 200
    assert "Allow: /posts" in robots.text and "Disallow: /__admin/" in robots.text
    assert "Disallow: /login" in robots.text
    missing = client.get("/posts/1")
    assert missing.status == 404 and "ไม่พบบันทึกที่ต้องการ" in missing.text
    assert client.get("/posts/abc").status == 404
    assert client.get("/posts/545000/comments?page=99").json()["comments"] == []
    empty = client.get(_listing_path("ไม่มีแท็กนี้", 1))
    assert empty.status == 200
    parsed = parse_listing(empty.text)
    assert parsed.numbers == [] and parsed.result_count == 0 and parsed.next_url is None
    html = client.get(f"/posts/{ANNOUNCEMENT_POST}").text
    for label in ("หมายเลขบันทึก:", "เขียนเมื่อ", "แก้ไขเมื่อ", "สัญญาอนุญาต:", "จำนวนที่อ่าน"):
        assert label in html
    soup = BeautifulSoup(html, "lxml")
    assert soup.find("link", rel="canonical")["href"] == (
        f"https://www.gotoknow.org/posts/{ANNOUNCEMENT_POST}"
    )
    assert soup.find("meta", property="og:title")["content"] == truth["posts"]["544804"]["title"]
    assert soup.select_one("time.timeago")["datetime"] == "2013-08-06T15:00:00+07:00"
    button = soup.find("button", string="ดูความเห็นเพิ่มเติม")
    assert button["data-next"] == f"/posts/{ANNOUNCEMENT_POST}/comments?page=2"
    # A post with at most 10 comments has no button; a never-edited one no แก้ไขเมื่อ line.
    small = next(
        p
        for p in truth["posts"].values()
        if p["state"] == "public" and p["comment_count_declared"] <= 10 and not p["updated_at"]
    )
    small_html = client.get(small["url"]).text
    assert "ดูความเห็นเพิ่มเติม" not in small_html and "แก้ไขเมื่อ" not in small_html


def test_the_announcement_and_planted_labels(served: Any) -> None:
    _site, _server, client, truth = served
    post = truth["posts"][str(ANNOUNCEMENT_POST)]
    assert post["author_username"] == "jantawan" and post["author_name"] == "จันทวรรณ ปิยะวัฒน์"
    assert post["raw_tags"] == ["#สังคมออนไลน์", "#สรอ."]
    assert post["created_at"] == "2013-08-06T15:00:00+07:00"
    assert post["updated_at"] == "2015-10-05T16:16:00+07:00"
    thread = truth["comments"][str(ANNOUNCEMENT_POST)]
    assert len(thread) == post["comment_count_declared"] == 26
    by_id = {c["comment_id"]: c for c in thread}
    for group in truth["labels"]["announcement_repeated_comments"]:
        assert len({squash_whitespace(by_id[c]["body_text"]) for c in group}) == 1
    excluded = set(truth["campaign"]["excluded_authors"])
    assert {c["author_username"] for c in thread} & excluded == {
        "jantawan",
        "ega.officer",
        "ega.km",
    }
    assert all(
        by_id[c]["author_username"] not in excluded
        for c in truth["labels"]["announcement_thread_answers"]
    )
    labels = truth["labels"]
    assert len(labels["duplicate_pairs"]) >= 15
    assert {kind for _, _, kind in labels["duplicate_pairs"]} == {
        "exact",
        "cross_account",
        "near",
        "reordered",
        "zero_width",
    }
    posts = truth["posts"]
    for original, copy, kind in labels["duplicate_pairs"]:
        a, b = posts[str(original)], posts[str(copy)]
        assert original < copy and a["created_at"] < b["created_at"]
        same_text = squash_whitespace(a["body_text"]) == squash_whitespace(b["body_text"])
        assert same_text == (kind in ("exact", "cross_account"))
        if kind == "exact":
            assert a["author_username"] == b["author_username"] and a["title"] == b["title"]
        if kind == "cross_account":
            assert a["author_username"] != b["author_username"]
        if kind == "zero_width":
            assert normalise_text(a["body_text"]) == normalise_text(b["body_text"])
        if kind == "reordered":
            assert sorted(a["body_text"].split("\n\n")) == sorted(b["body_text"].split("\n\n"))
    assert len(labels["spam"]) >= 15
    spam_text = " ".join(compact_text(posts[str(n)]["body_text"]) for n in labels["spam"])
    for term in ("สล็อต", "บาคาร่า", "เว็บตรง", "@"):
        assert term in spam_text
    for name in (
        "early",
        "late",
        "edited_after_close",
        "organiser",
        "deleted",
        "private",
        "near_miss",
        "tag_variant",
        "thai_digit_dates",
        "buddhist_era_dates",
    ):
        assert len(labels[name]) >= 3, name
    opens, closes = truth["campaign"]["opens"], truth["campaign"]["closes"]
    for n in labels["early"]:
        assert parse_thai_datetime(posts[str(n)]["created_at"]) < parse_thai_datetime(opens)
    for n in labels["late"]:
        assert parse_thai_datetime(posts[str(n)]["created_at"]) > parse_thai_datetime(closes)
    for n in labels["near_miss"]:
        assert "สรอ." in posts[str(n)]["tags"] and KEYWORD not in posts[str(n)]["tags"]
        assert n not in truth["listed"]
    variants = {posts[str(n)]["raw_tags"][0] for n in labels["tag_variant"]}
    assert {"#สังคมออนไลน์", "สังคมออนไลน์ ", "สังคม\u200bออนไลน์"} <= {
        t for n in labels["tag_variant"] for t in posts[str(n)]["raw_tags"]
    }, variants
    assert any(len(v) >= 3 for v in labels["multi_entry_authors"].values())
    # Thai digits and Buddhist era really appear on those pages.
    thai = client.get(f"/posts/{labels['thai_digit_dates'][0]}").text
    assert re.search(r"เขียนเมื่อ [๐-๙]+ ", thai)
    be = next(n for n in labels["buddhist_era_dates"] if n not in labels["thai_digit_dates"])
    year = int(posts[str(be)]["created_at"][:4]) + 543
    assert f" {year} " in client.get(f"/posts/{be}").text
    # The showcase post has exactly 57 comments.
    assert posts[str(SHOWCASE_POST)]["comment_count_declared"] == 57


def test_spam_markup_is_escaped(served: Any) -> None:
    _site, _server, client, truth = served
    scripted = [
        n for n in truth["labels"]["spam"] if "<script>" in truth["posts"][str(n)]["body_text"]
    ]
    assert scripted
    html = client.get(f"/posts/{scripted[0]}").text
    assert "&lt;script&gt;" in html
    assert html.count("<script>") == 1  # only the page's own script


def test_mutations_change_pages_listing_and_ground_truth() -> None:
    site: Site = build_site(n_posts=40, seed=11)
    with ReplicaServer(site) as server:
        client = Client(server.url)
        before = parse_listing(client.get(_listing_path(KEYWORD, 1)).text)
        new = site.add_post(title="บันทึกใหม่ ทดสอบ", body_text="ย่อหน้าแรก\n\nย่อหน้าสอง", n_comments=12)
        after = parse_listing(client.get(_listing_path(KEYWORD, 1)).text)
        assert after.numbers[0] == new and after.result_count == before.result_count + 1
        page = parse_post(client.get(f"/posts/{new}").text)
        assert page.title == "บันทึกใหม่ ทดสอบ" and page.declared == 12
        assert len(_fetch_all_comments(client, page)) == 12

        target = before.numbers[3]
        old_count = site.posts[target].n_comments
        ids = site.add_comments(target, 3)
        page = parse_post(client.get(f"/posts/{target}").text)
        assert page.declared == old_count + 3
        assert [c.comment_id for c in _fetch_all_comments(client, page)][-3:] == ids

        site.edit_post(
            target, title="แก้ชื่อแล้ว", tags=["สรอ."], updated_at="2013-09-05T10:00:00+07:00"
        )
        page = parse_post(client.get(f"/posts/{target}").text)
        assert page.title == "แก้ชื่อแล้ว" and page.raw_tags == ["สรอ."]
        assert page.updated_at.isoformat() == "2013-09-05T10:00:00+07:00"
        truth = site.ground_truth()
        assert (target not in truth["listed"] and target in truth["labels"]["near_miss"]) or True
        assert target not in truth["listed"]

        gone, hidden = before.numbers[5], before.numbers[6]
        site.delete_post(gone)
        site.make_private(hidden)
        assert client.get(f"/posts/{gone}").status == 404
        assert client.get(f"/posts/{hidden}").status == 302
        listed = parse_listing(client.get(_listing_path(KEYWORD, 1)).text).numbers
        truth = site.ground_truth()
        assert gone not in listed and hidden not in listed
        assert gone in truth["labels"]["deleted"] and hidden in truth["labels"]["private"]
        assert truth["posts"][str(gone)]["state"] == "deleted"
        client.close()


def test_admin_endpoints_mutate_from_another_process() -> None:
    import urllib.request

    site = build_site(n_posts=20, seed=5)
    with ReplicaServer(site) as server:

        def call(name: str, payload: dict[str, Any] | None = None) -> Any:
            data = None if payload is None else json.dumps(payload).encode()
            request = urllib.request.Request(server.url + "/__admin/" + name, data=data)
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())

        truth = call("ground-truth")
        assert truth["n_posts"] == 20 and truth["keyword"] == KEYWORD
        number = call("add-post", {"title": "จากแอดมิน"})["post_number"]
        assert call("add-comments", {"post_number": number, "n": 2})["comment_ids"]
        call("edit", {"post_number": number, "body_text": "ใหม่"})
        assert site.body_text(number) == "ใหม่"
        Client(server.url).get(f"/posts/{number}")
        assert call("hits") == {f"/posts/{number}": 1}
        call("reset-hits", {})
        assert call("hits") == {}
        call("delete", {"post_number": number})
        call("make-private", {"post_number": SHOWCASE_POST})
        assert site.posts[number].state == "deleted"
        assert site.posts[SHOWCASE_POST].state == "private"
        with pytest.raises(urllib.error.HTTPError) as bad:
            call("delete", {"post_number": 1})
        assert bad.value.code == 400
