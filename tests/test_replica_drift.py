"""The drifting replica (``Site(drift=...)``, replica/drift.py), its fail-once pages, its
validators and its stale listing, checked with a reader written here (BeautifulSoup and a
few lines of date reading), not with the product's code."""

from __future__ import annotations

import ast
import http.client
import json
import re
import signal
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from replica.drift import PostStyle
from replica.render import render_comments_json, render_post
from replica.server import ReplicaServer
from replica.site import GUEST_NAME, Site, build_site

ROOT = Path(__file__).resolve().parent.parent
ICT = timezone(timedelta(hours=7))
MONTHS = [
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
]
SHORT_MONTHS = [
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
]
_DATE = re.compile(r"(\d{1,2}) (\S+) (\d{4}) (\d{2}):(\d{2}) น\.")


def squash(text: str) -> str:
    return " ".join(text.split())


def visible(text: str) -> str:
    return squash("".join(ch for ch in text if unicodedata.category(ch) != "Cf"))


def read_date(text: str) -> datetime:
    """A date as the site model writes it (either era, full or short month, Thai digits)."""
    ascii_text = text.translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
    match = _DATE.search(ascii_text)
    assert match, text
    day, month, year, hour, minute = match.groups()
    number = (MONTHS.index(month) if month in MONTHS else SHORT_MONTHS.index(month)) + 1
    year_ce = int(year) - 543 if int(year) > 2400 else int(year)
    return datetime(year_ce, number, int(day), int(hour), int(minute), tzinfo=ICT)


def reader_soup(page: str) -> BeautifulSoup:
    """The page as a reader sees it: scripts, styles, images and SVG show no text."""
    soup = BeautifulSoup(page, "html.parser")
    for node in soup.find_all(["script", "style", "svg", "img", "noscript"]):
        node.decompose()
    return soup


def test_the_replica_imports_no_product_code() -> None:
    """The ground truth must not be computed by the code under test."""
    for path in sorted((ROOT / "replica").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("scraper", "warehouse.thai")), (path.name, name)
                assert not name.startswith("warehouse") or name == "warehouse.errors", name


def test_drift_is_reproducible_and_chosen_per_post() -> None:
    one, two, other = build_site(60, 3, drift=5), build_site(60, 3, drift=5), build_site(60, 3, 6)
    numbers = [n for n, p in one.posts.items() if p.state == "public"]
    for n in numbers:
        assert render_post(one, one.posts[n]) == render_post(two, two.posts[n])
    differ = sum(
        render_post(one, one.posts[n]) != render_post(other, other.posts[n]) for n in numbers
    )
    assert differ == len(numbers)
    # A post's style depends on (seed, drift, number) only, not on the rest of the site.
    bigger = build_site(90, 3, drift=5)
    assert all(
        PostStyle.for_post(one, one.posts[n]) == PostStyle.for_post(bigger, bigger.posts[n])
        for n in numbers
        if n in bigger.posts
    )
    # Without drift the pages are the plain ones.
    plain = build_site(60, 3)
    assert "data-next" in render_post(plain, plain.posts[545000])
    assert render_post(plain, plain.posts[545000]) != render_post(one, one.posts[545000])


def test_every_variation_occurs_and_the_data_drifts() -> None:
    site = build_site(300, 2, drift=2)
    styles = [PostStyle.for_post(site, p) for p in site.posts.values()]
    assert {s.classes for s in styles} == {"model", "extra", "renamed", "none"}
    assert {s.time_style for s in styles} == {"after", "wrap", "utc", "none"}
    assert {s.paragraphs for s in styles} == {"p", "br"}
    assert {(s.era, s.short_month, s.thai_digits) for s in styles} >= {
        ("CE", False, False), ("BE", False, False), ("BE", True, False), ("BE", True, True),
        ("CE", False, True),
    }  # fmt: skip
    assert {len(set(s.comment_order)) for s in styles} == {3}
    assert len({s.comment_order for s in styles}) == 2
    comments = [c for n in site.posts for c in site.comments(n)]
    kinds = Counter(c.hostile for c in comments if c.hostile)
    assert set(kinds) == {"img_onerror", "script", "javascript_link", "svg_onload", "style"}
    guests = [c for c in comments if c.author_username is None]
    typed = [c for c in guests if c.author_name != GUEST_NAME]
    assert 0.2 < len(typed) / len(guests) < 0.8
    truth = site.ground_truth()
    tags = [t for p in truth["posts"].values() for t in p["tags"]]
    assert any(t.isupper() for t in tags) and any(t.islower() for t in tags)
    shown = [t for p in truth["posts"].values() for t in p["raw_tags"]]
    assert any(t.startswith("#") for t in shown)
    assert any(any(unicodedata.category(ch) == "Cf" for ch in t) for t in shown)
    fail_once = site.fail_once_pages()
    assert set(fail_once.values()) == {"error500", "error503", "throttle", "slow"}
    assert any("/comments?page=" in path for path in fail_once)


def _check_comment(li: Tag, want: dict[str, object]) -> None:
    link = li.find("a", href=re.compile(r"^/profiles/users/"))
    if want["author_username"] is None:
        assert link is None
        spans = [s for s in li.find_all("span") if visible(s.get_text()) == want["author_name"]]
        assert spans, (want, li)
    else:
        assert link is not None
        assert link["href"] == f"/profiles/users/{want['author_username']}"
        assert visible(link.get_text()) == want["author_name"]
    text = visible(li.get_text(" "))
    assert squash(str(want["body_text"])) in text
    assert "INJECTED" not in text
    assert read_date(text) == datetime.fromisoformat(str(want["created_at"]))


def test_drifting_pages_show_the_ground_truth() -> None:
    site = build_site(80, 9, drift=9)
    truth = site.ground_truth()
    hostile_seen = Counter[str]()
    for key, want in truth["posts"].items():
        post = site.posts[int(key)]
        if want["state"] != "public":
            continue
        page = render_post(site, post)
        soup = reader_soup(page)
        assert visible(soup.find("h1").get_text()) == want["title"]
        text = visible(soup.get_text(" "))
        assert f"หมายเลขบันทึก: {key}" in text
        assert f"ความเห็น ({want['comment_count_declared']})" in text
        created = text.split("เขียนเมื่อ", 1)[1]
        assert read_date(created) == datetime.fromisoformat(want["created_at"])
        if want["updated_at"]:
            edited = text.split("แก้ไขเมื่อ", 1)[1]
            assert read_date(edited) == datetime.fromisoformat(want["updated_at"])
        else:
            assert "แก้ไขเมื่อ" not in text
        tag_links = soup.find_all("a", href=re.compile(r"^/posts\?tag="))
        shown = [visible(a.get_text()) for a in tag_links]
        assert [t.removeprefix("#") for t in shown] == want["tags"]
        assert shown == [visible(t) for t in want["raw_tags"]]
        assert squash(want["body_text"]) in text
        for li_want in truth["comments"][key][:10]:
            li = soup.find(id=f"comment-{li_want['comment_id']}")
            assert li is not None
            _check_comment(li, li_want)
            if li_want["hostile"]:
                raw = BeautifulSoup(page, "html.parser").find(id=f"comment-{li_want['comment_id']}")
                assert re.search(r"onerror=|<script|javascript:|onload=|<style", str(raw))
                hostile_seen[li_want["hostile"]] += 1
        page_no = 2
        while (page_no - 1) * 10 < want["comment_count_declared"]:
            data = json.loads(render_comments_json(site, post, page_no))
            for item, li_want in zip(
                data["comments"], truth["comments"][key][(page_no - 1) * 10 :], strict=False
            ):
                assert item["id"] == li_want["comment_id"]
                assert item["author"] == {
                    "name": li_want["author_name"],
                    "username": li_want["author_username"],
                }
                created_at = datetime.fromisoformat(item["created"].replace("Z", "+00:00"))
                assert created_at == datetime.fromisoformat(li_want["created_at"])
                fragment = reader_soup(item["html"])
                assert squash(li_want["body_text"]) == visible(fragment.get_text(" "))
            page_no += 1
    assert hostile_seen, "no hostile markup among the first comments"


def _get(
    url: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes, float]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    start = time.monotonic()
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, dict(response.getheaders()), body, time.monotonic() - start
    finally:
        conn.close()


def test_pages_that_fail_once_fail_once() -> None:
    site = build_site(40, 4, drift=4)
    planned = site.fail_once_pages()
    assert planned
    expected = {"error500": 500, "error503": 503, "throttle": 429, "slow": 200}
    with ReplicaServer(site, stall_seconds=0.5) as server:
        for path, kind in planned.items():
            status, headers, _, took = _get(server.url, path)
            assert status == expected[kind], (path, kind)
            if kind == "throttle":
                assert headers["Retry-After"] == "1"
            if kind == "slow":
                assert took >= 0.5
            again, _, body, _ = _get(server.url, path)
            assert again == 200 and body, path


def test_validators_off_and_on() -> None:
    path = "/posts/545000"
    comments = "/posts/545000/comments?page=2"
    with ReplicaServer(build_site(20, 5, drift=5)) as plain:
        _, headers, _, _ = _get(plain.url, path)
        assert "ETag" not in headers and "Last-Modified" not in headers
        status, _, body, _ = _get(plain.url, path, {"If-None-Match": "*"})
        assert status == 200 and body
    site = build_site(20, 5, drift=5)
    with ReplicaServer(site, validators=True, faults=None) as server:
        # Let the post's first request (which may be planned to fail once) pass.
        for p in (path, comments):
            while _get(server.url, p)[0] != 200:
                pass
        for p in (path, comments):
            status, headers, body, _ = _get(server.url, p)
            assert status == 200 and body
            etag, modified = headers["ETag"], headers["Last-Modified"]
            status, again, body, _ = _get(server.url, p, {"If-None-Match": etag})
            assert status == 304 and body == b"" and again["ETag"] == etag
            assert _get(server.url, p, {"If-Modified-Since": modified})[0] == 304
            assert _get(server.url, p, {"If-None-Match": '"other"'})[0] == 200
            old = "Mon, 01 Jan 2001 00:00:00 GMT"
            assert _get(server.url, p, {"If-Modified-Since": old})[0] == 200
        assert server.not_modified_count() == 4
        _, before, _, _ = _get(server.url, path)
        site.add_comments(545000, 1)
        status, after, _, _ = _get(server.url, path, {"If-None-Match": before["ETag"]})
        assert status == 200 and after["ETag"] != before["ETag"]
        assert after["Last-Modified"] != before["Last-Modified"]
        status, _, _, _ = _get(server.url, path, {"If-Modified-Since": before["Last-Modified"]})
        assert status == 200
        site.delete_post(545000)
        assert _get(server.url, path, {"If-None-Match": after["ETag"]})[0] == 404


def test_a_post_deleted_but_left_in_the_tag_index() -> None:
    site: Site = build_site(30, 6, drift=6)
    truth = site.ground_truth()
    number = next(n for n in truth["listed"] if truth["posts"][str(n)]["state"] == "public")
    title, count = site.posts[number].title, site.posts[number].n_comments
    site.delete_post(number, stay_listed=True)
    truth = site.ground_truth()
    assert number in truth["listed"] and truth["posts"][str(number)]["state"] == "deleted"
    assert truth["posts"][str(number)]["listed"] is True
    with ReplicaServer(site) as server:
        status, _, body, _ = _get(
            server.url,
            "/posts?tag=%E0%B8%AA%E0%B8%B1%E0%B8%87%E0%B8%84%E0%B8%A1%E0%B8%AD%E0%B8%AD%E0%B8%99%E0%B9%84%E0%B8%A5%E0%B8%99%E0%B9%8C&page=1",
        )
        item = BeautifulSoup(body, "html.parser").find(attrs={"data-post-id": str(number)})
        assert status == 200 and item is not None
        assert title in item.get_text() and f"ความเห็น {count}" in item.get_text()
        while (status := _get(server.url, f"/posts/{number}")[0]) != 404:
            assert status in (500, 503, 429, 200)  # a planned fail-once answer first
    site.delete_post(number)
    assert number not in site.ground_truth()["listed"]


@pytest.mark.parametrize("flags", [["--drift", "3", "--validators", "--stall-seconds", "1"]])
def test_replica_serve_with_drift_and_validators(flags: list[str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tagdraw", "replica", "serve", "--port", "0", "--posts", "20",
         "--seed", "3", *flags],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "drift 3" in line and "validators on" in line, line
        url = line.rsplit(" at ", 1)[1].strip()
        statuses = [_get(url, "/posts/545000")[0] for _ in range(2)]
        assert statuses[-1] == 200
        _, headers, _, _ = _get(url, "/posts/545000")
        assert "ETag" in headers
        truth = json.loads(_get(url, "/__admin/ground-truth")[2])
        assert truth["drift"] == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
