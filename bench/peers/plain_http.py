"""Plain HTTP: the fastest this machine can fetch the same pages (no browser, no database).

N threads, each with its own keep-alive ``http.client`` connection, share one work queue:
listing pages (following rel=next), post pages, and every further comments page as JSON
(``/posts/<n>/comments?page=k``). Parsing is only what finding the next URL needs
(regular expressions), plus the comment ids so the run can be checked complete.

    python bench/peers/plain_http.py START_URL --out items.jsonl [--concurrency 4]

Each output line: ``{"post_number", "state", "comment_ids"}``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import re
import sys
import threading
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

POST_LINK_RE = re.compile(r'href="(/posts/\d+)"')
NEXT_RE = re.compile(r'<a[^>]*rel="next"[^>]*href="([^"]+)"|<a[^>]*href="([^"]+)"[^>]*rel="next"')
BUTTON_RE = re.compile(r"<button\b[^>]*>")
DATA_NEXT_RE = re.compile(r'\bdata-next="([^"]+)"')
COMMENT_ID_RE = re.compile(r'\bid="comment-(\d+)"')
USER_AGENT = "tagdraw-bench-plain-http/0.1"


@dataclass
class Result:
    posts: dict[int, dict] = field(default_factory=dict)
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Fetcher:
    """One keep-alive connection per thread; reconnects once if the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=30)

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        for attempt in range(3):
            try:
                self.conn.request("GET", path, headers={"User-Agent": USER_AGENT})
                resp = self.conn.getresponse()
                body = resp.read()
                if resp.will_close:
                    self.conn.close()
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                return resp.status, dict(resp.getheaders()), body
            except (http.client.HTTPException, ConnectionError, TimeoutError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def crawl(start_url: str, concurrency: int) -> Result:
    parts = urlsplit(start_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    start_path = parts.path + ("?" + parts.query if parts.query else "")
    work: queue.Queue[tuple[str, str, int] | None] = queue.Queue()
    result = Result()
    pending = [0]  # tasks queued but not finished
    cond = threading.Condition()

    def put(kind: str, path: str, number: int = 0) -> None:
        with cond:
            pending[0] += 1
        work.put((kind, path, number))

    def done() -> None:
        with cond:
            pending[0] -= 1
            if pending[0] == 0:
                for _ in range(concurrency):
                    work.put(None)

    def handle(fetcher: Fetcher, kind: str, path: str, number: int) -> None:
        status, _headers, body = fetcher.get(path)
        with result.lock:
            result.requests += 1
        text = body.decode("utf-8", "replace")
        if kind == "listing":
            if status != 200:
                raise RuntimeError(f"listing {path} answered {status}")
            for href in dict.fromkeys(POST_LINK_RE.findall(text)):
                put("post", href, int(href.rsplit("/", 1)[1]))
            match = NEXT_RE.search(text)
            if match:
                next_url = unescape(match.group(1) or match.group(2))
                next_parts = urlsplit(urljoin(start_url, next_url))
                put("listing", next_parts.path + "?" + next_parts.query)
        elif kind == "post":
            state = {200: "public", 404: "deleted"}.get(status, "private")
            ids = [int(i) for i in COMMENT_ID_RE.findall(text)] if status == 200 else []
            with result.lock:
                result.posts[number] = {"post_number": number, "state": state, "comment_ids": ids}
            if status == 200:
                for button in BUTTON_RE.findall(text):
                    more = DATA_NEXT_RE.search(button)
                    if "load-more-comments" in button and more:
                        put("comments", unescape(more.group(1)), number)
                        break
        else:
            if status != 200:
                raise RuntimeError(f"comments {path} answered {status}")
            payload = json.loads(body)
            with result.lock:
                result.posts[number]["comment_ids"].extend(
                    int(c["id"]) for c in payload["comments"]
                )
            if payload.get("next"):
                put("comments", payload["next"], number)

    def worker() -> None:
        fetcher = Fetcher(host, port)
        while True:
            task = work.get()
            if task is None:
                return
            try:
                handle(fetcher, *task)
            except Exception as exc:  # recorded; the run is then reported incomplete
                with result.lock:
                    result.errors.append(f"{task[1]}: {exc!r}")
            finally:
                done()

    put("listing", start_path)
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start_url")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    result = crawl(args.start_url, args.concurrency)
    with args.out.open("w", encoding="utf-8") as fh:
        for record in result.posts.values():
            fh.write(json.dumps(record) + "\n")
    print(
        json.dumps(
            {
                "peer": "plain-http",
                "posts": len(result.posts),
                "requests": result.requests,
                "errors": result.errors[:5],
            }
        ),
        flush=True,
    )
    return 0 if not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())
