"""The parsers on every page of a small replica (seed 7, 300 posts, every markup variation
the replica draws) against the replica's ground truth: listings, post pages (deleted and
private ones too), the comments JSON pages. test_parse.py holds hand-made variations; this
holds the breadth."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from replica.server import ReplicaServer
from replica.site import build_site
from scraper.parse import (
    ParseError,
    classify_response,
    parse_comments_json,
    parse_listing,
    parse_post,
)
from warehouse.thai import BANGKOK, normalise_tag, squash_whitespace


class _Client:
    """One keep-alive connection; answers (status, final path, body)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)

    def get(self, path: str) -> tuple[int, str, str]:
        self.conn.request("GET", path)
        response = self.conn.getresponse()
        body = response.read().decode("utf-8")
        if response.status in (301, 302):  # follow one redirect (private posts -> /login)
            return self.get(response.headers["Location"])
        return response.status, path, body


@pytest.fixture(scope="module")
def replica() -> Iterator[tuple[str, _Client, dict[str, Any]]]:
    site = build_site(n_posts=300, seed=7)
    with ReplicaServer(site) as server:
        client = _Client(server.url)
        yield server.url, client, site.ground_truth()
        client.conn.close()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _listing(base: str, client: _Client, tag: str) -> list[Any]:
    pages = []
    url: str | None = f"{base}/posts?tag={quote(tag, safe='')}&page=1"
    while url:
        status, _, body = client.get(url.removeprefix(base))
        assert status == 200
        page = parse_listing(body, url)
        pages.append(page)
        url = page.next_url
    return pages


def test_listings_agree_with_the_ground_truth(replica: Any) -> None:
    base, client, truth = replica
    posts = truth["posts"]
    pages = _listing(base, client, truth["keyword"])
    items = [item for page in pages for item in page.items]
    assert [i.post_number for i in items] == truth["listed"]
    assert [p.page for p in pages] == list(range(1, len(pages) + 1))
    assert {p.result_count for p in pages} == {len(truth["listed"])}
    for near_miss in truth["campaign"]["near_miss_tags"]:
        items += [item for page in _listing(base, client, near_miss) for item in page.items]
    assert len(items) > len(truth["listed"])
    for item in items:
        expected = posts[str(item.post_number)]
        assert item.url == f"{base}/posts/{item.post_number}"
        assert item.title == squash_whitespace(expected["title"])
        assert (item.author_username, item.author_name) == (
            expected["author_username"],
            squash_whitespace(expected["author_name"]),
        )
        created = datetime.fromisoformat(expected["created_at"]).astimezone(BANGKOK)
        assert item.listed_on == created.date()
        assert item.comment_count == expected["comment_count_declared"]


def test_post_pages_and_comments_agree_with_the_ground_truth(replica: Any) -> None:
    base, client, truth = replica
    states = {"public": 0, "deleted": 0, "private": 0, "with_more_comments": 0}
    for key, expected in truth["posts"].items():
        url = f"{base}/posts/{key}"
        status, final_path, body = client.get(f"/posts/{key}")
        states[expected["state"]] += 1
        if expected["state"] != "public":
            assert classify_response(status, url, base + final_path).kind == "gone"
            with pytest.raises(ParseError):
                parse_post(body, url)
            continue
        post = parse_post(body, url)
        assert post.post_number == int(key)
        assert post.url == url
        assert post.title == squash_whitespace(expected["title"])
        assert post.author_username == expected["author_username"]
        assert post.author_name == squash_whitespace(expected["author_name"])
        assert post.book_slug == expected["book_slug"]
        assert _iso(post.created_at) == expected["created_at"]
        assert _iso(post.updated_at) == expected["updated_at"]
        # Tags as written (the replica's own record of them), and the normalised form of
        # each equal to the matching key the replica gave it.
        assert list(post.tags) == expected["tags"]
        assert [normalise_tag(t) for t in post.tags] == expected["tag_keys"]
        assert [squash_whitespace(t) for t in post.raw_tags] == [
            squash_whitespace(t) for t in expected["raw_tags"]
        ]
        assert squash_whitespace(post.body_text) == squash_whitespace(expected["body_text"])
        assert post.comment_count_declared == expected["comment_count_declared"]

        comments = list(post.comments)
        next_url = post.comments_next_url
        assert (next_url is not None) == (expected["comment_count_declared"] > 10)
        while next_url:
            states["with_more_comments"] += 1
            status, _, data = client.get(next_url.removeprefix(base))
            assert status == 200
            page = parse_comments_json(data, int(key), first_position=len(comments) + 1)
            assert page.post_number == int(key)
            assert page.total == expected["comment_count_declared"]
            comments += page.comments
            next_url = base + page.next_url if page.next_url else None
        wanted = truth["comments"][key]
        assert [c.position for c in comments] == list(range(1, len(wanted) + 1))
        assert [
            (
                c.comment_id,
                c.author_username,
                c.author_name,
                _iso(c.created_at),
                squash_whitespace(c.body_text),
            )
            for c in comments
        ] == [
            (
                w["comment_id"],
                w["author_username"],
                squash_whitespace(w["author_name"]) if w["author_username"] else "ผู้อ่านทั่วไป",
                w["created_at"],
                squash_whitespace(w["body_text"]),
            )
            for w in wanted
        ]
    assert min(states.values()) > 0, states
