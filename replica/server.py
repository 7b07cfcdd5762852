"""The replica's HTTP/1.1 server: a lean ThreadingHTTPServer in a background thread.

Rendered pages are cached as bytes per (post, revision) and per (listing, generation),
so a mutation invalidates exactly what changed. Faults (off by default) are seeded and
deterministic from (seed, request path, attempt number for that path), only ever hit
``/posts`` pages and the comments endpoint, and never fire more than ``max_consecutive``
times in a row for one path (a crawler with ``max_consecutive + 2`` attempts always
succeeds), except for paths in ``always_fail``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import random
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from replica import render
from replica.site import Site
from warehouse.errors import UserError

_POST = re.compile(r"^/posts/(\d+)$")
_COMMENTS = re.compile(r"^/posts/(\d+)/comments$")
_VIEWS = re.compile(r"^/posts/(\d+)/views$")
HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
FAULT_KINDS = ("error", "throttle", "slow", "truncate", "drop")


@dataclass
class FaultConfig:
    """Seeded fault injection for ``/posts*`` URLs. Each rate is a probability per request."""

    seed: int = 0
    error_rate: float = 0.0  # transient 500 or 503
    throttle_rate: float = 0.0  # 429 with Retry-After
    slow_rate: float = 0.0  # respond only after slow_seconds
    truncate_rate: float = 0.0  # send part of the body, then close
    drop_rate: float = 0.0  # close the connection without a response
    slow_seconds: float = 5.0
    retry_after_s: int = 1
    max_consecutive: int = 2
    always_fail: frozenset[str] = field(default_factory=frozenset)  # paths (with query) -> 500
    always_fail_status: int = 500
    always_fail_times: int | None = None  # only the first N requests of each fail (None: all)
    fail_once: dict[str, str] = field(default_factory=dict)  # path -> kind of its 1st answer

    @classmethod
    def default_mix(cls, seed: int = 0, slow_seconds: float = 5.0) -> FaultConfig:
        """What ``--faults`` turns on: about 5% each of errors, 429s, truncation and drops,
        2% slow responses."""
        return cls(
            seed=seed,
            error_rate=0.05,
            throttle_rate=0.05,
            slow_rate=0.02,
            truncate_rate=0.05,
            drop_rate=0.05,
            slow_seconds=slow_seconds,
        )

    def rates(self) -> tuple[float, ...]:
        return (
            self.error_rate,
            self.throttle_rate,
            self.slow_rate,
            self.truncate_rate,
            self.drop_rate,
        )


class FaultInjector:
    """Decides, per request, which fault (if any) to inject. Thread-safe."""

    def __init__(self, config: FaultConfig | None) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._attempts: Counter[str] = Counter()
        self._consecutive: Counter[str] = Counter()
        self.fired: Counter[str] = Counter()
        self.log: list[tuple[str, int, str]] = []  # (path, attempt, kind)

    @staticmethod
    def eligible(path: str) -> bool:
        return path.startswith("/posts") and not _VIEWS.match(path)

    def decide(self, key: str, path: str) -> str | None:
        """The fault for this request of ``key`` (path with query), or None."""
        config = self.config
        if config is None or not self.eligible(path):
            return None
        with self._lock:
            self._attempts[key] += 1
            attempt = self._attempts[key]
            kind: str | None = None
            if key in config.always_fail:
                times = config.always_fail_times
                if times is None or attempt <= times:
                    kind = "always_fail"
            elif key in config.fail_once:
                kind = config.fail_once[key] if attempt == 1 else None
            else:
                rng = random.Random(f"{config.seed}|{key}|{attempt}")
                roll = rng.random()
                threshold = 0.0
                for name, rate in zip(FAULT_KINDS, config.rates(), strict=True):
                    threshold += rate
                    if roll < threshold:
                        kind = name
                        break
                if kind == "error":
                    kind = "error500" if rng.random() < 0.5 else "error503"
                if kind is not None and self._consecutive[key] >= config.max_consecutive:
                    kind = None
                self._consecutive[key] = self._consecutive[key] + 1 if kind else 0
            if kind is not None:
                self.fired[kind] += 1
                self.log.append((key, attempt, kind))
            return kind

    def reset(self) -> None:
        with self._lock:
            self._attempts.clear()
            self._consecutive.clear()
            self.fired.clear()
            self.log.clear()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: ReplicaServer) -> None:
        self.app = app
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GotoKnowReplica/1.0"
    sys_version = ""
    timeout = 30  # idle keep-alive connections close after this long
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.server.app.handle(self, "GET")

    def do_HEAD(self) -> None:
        self.server.app.handle(self, "HEAD")

    def do_POST(self) -> None:
        self.server.app.handle(self, "POST")

    def send(
        self,
        status: int,
        body: bytes,
        content_type: str = HTML,
        headers: Iterable[tuple[str, str]] = (),
        *,
        head: bool = False,
        truncate: bool = False,
    ) -> None:
        # One write for status line, headers and body: separate small writes meet Nagle's
        # algorithm and delayed ACKs (40 ms a request).
        reason = self.responses.get(status, ("",))[0]
        lines = [
            f"HTTP/1.1 {status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{name}: {value}" for name, value in headers]
        if self.close_connection:
            lines.append("Connection: close")
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")
        if head:
            self.wfile.write(head_bytes)
        elif truncate:
            self.wfile.write(head_bytes + body[: max(1, len(body) // 3)])
            self.close_connection = True
            _hard_close(self.connection)
        else:
            self.wfile.write(head_bytes + body)


def _not_modified(h: _Handler, headers: list[tuple[str, str]]) -> bool:
    """The client's copy is current (If-None-Match wins over If-Modified-Since)."""
    sent = dict(headers)
    if_none_match = h.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or sent["ETag"] in tags
    if_modified_since = h.headers.get("If-Modified-Since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return parsedate_to_datetime(sent["Last-Modified"]) <= since


def _hard_close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class ReplicaServer:
    """``with ReplicaServer(site) as server: server.url`` -> ``http://127.0.0.1:PORT``."""

    def __init__(
        self,
        site: Site,
        faults: FaultConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cloak_comments: bool = False,
        validators: bool = False,
        stall_seconds: float = 5.0,
        fail_once: bool = True,
    ) -> None:
        self.site = site
        # Send ETag and Last-Modified on post pages and comments pages, and answer a
        # matching If-None-Match / If-Modified-Since with 304.
        self.validators = validators
        if site.drift is not None and fail_once:
            # A drifting site's pages that fail once (a stall answers after stall_seconds).
            base = faults or FaultConfig(seed=site.seed, slow_seconds=stall_seconds)
            faults = dataclasses.replace(
                base, fail_once={**site.fail_once_pages(), **base.fail_once}
            )
        # A site that answers non-browser clients differently (bot detection): the comments
        # endpoint, asked without the ``Sec-Fetch-Mode`` header every browser fetch() sends,
        # leaves out the last comment of each page. Only a rendered page shows them all.
        self.cloak_comments = cloak_comments
        self.faults = FaultInjector(faults)
        self.host = host
        self.port = port
        self._hits: Counter[str] = Counter()
        self._not_modified = 0
        self._hits_lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], bytes] = {}
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the replica server is not started")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> ReplicaServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with httpd.connections_lock:
            for conn in list(httpd.connections):
                _hard_close(conn)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- request log --------------------------------------------------------------------

    def hits(self) -> Counter[str]:
        """Requests so far (not /__admin/), keyed by decoded path with query."""
        with self._hits_lock:
            return Counter(self._hits)

    def reset_hits(self) -> None:
        with self._hits_lock:
            self._hits.clear()
            self._not_modified = 0

    def not_modified_count(self) -> int:
        """304 answers so far (with ``validators``)."""
        with self._hits_lock:
            return self._not_modified

    def fault_counts(self) -> Counter[str]:
        return Counter(self.faults.fired)

    # --- dispatch -----------------------------------------------------------------------

    def handle(self, h: _Handler, method: str) -> None:
        target = h.path
        parts = urlsplit(target)
        path = parts.path
        key = unquote(target)
        if path.startswith("/__admin/"):
            self._admin(h, method, path)
            return
        with self._hits_lock:
            self._hits[key] += 1
        if method == "POST":
            h.send(405, b"method not allowed\n", "text/plain; charset=utf-8")
            return
        head = method == "HEAD"
        fault = self.faults.decide(key, path)
        if fault is not None and self._inject(h, fault, head):
            return
        status, body, ctype, headers = self._route(path, parts.query)
        if self.validators and status == 200 and (_POST.match(path) or _COMMENTS.match(path)):
            headers = headers + self._validators(path, body)
            if _not_modified(h, headers):
                with self._hits_lock:
                    self._not_modified += 1
                h.send(304, b"", ctype, headers, head=True)
                return
        browser = bool(h.headers.get("Sec-Fetch-Mode"))
        if self.cloak_comments and not browser and status == 200 and _COMMENTS.match(path):
            data = json.loads(body)
            data["comments"] = data["comments"][:-1]
            body = json.dumps(data, ensure_ascii=False).encode()
        h.send(status, body, ctype, headers, head=head, truncate=fault == "truncate")

    def _inject(self, h: _Handler, fault: str, head: bool) -> bool:
        """Send the fault's response; True when nothing more should be sent."""
        config = self.faults.config
        assert config is not None
        if fault in ("error500", "always_fail"):
            status = 500 if fault == "error500" else config.always_fail_status
            h.send(status, b"<h1>Internal Server Error</h1>\n", head=head)
            return True
        if fault == "error503":
            h.send(503, b"<h1>Service Unavailable</h1>\n", head=head)
            return True
        if fault == "throttle":
            h.send(
                429,
                b"<h1>Too Many Requests</h1>\n",
                headers=[("Retry-After", str(config.retry_after_s))],
                head=head,
            )
            return True
        if fault == "drop":
            h.close_connection = True
            _hard_close(h.connection)
            return True
        if fault == "slow":
            self._stopping.wait(config.slow_seconds)
            return False
        return False  # truncate: the normal response, cut short

    def _route(self, path: str, query: str) -> tuple[int, bytes, str, list[tuple[str, str]]]:
        site = self.site
        if path == "/robots.txt":
            return 200, render.ROBOTS_TXT.encode(), "text/plain; charset=utf-8", []
        if path == "/posts":
            params = parse_qs(query, keep_blank_values=True)
            tag = params["tag"][0] if "tag" in params else None
            try:
                page = int(params.get("page", ["1"])[0])
            except ValueError:
                page = 0
            if page < 1:
                return self._not_found()
            with site.lock:
                cache_key: tuple[Any, ...] = ("listing", tag, page, site.generation)
                body = self._cache.get(cache_key)
                if body is None:
                    body = render.render_listing(site, tag, page).encode()
                    self._remember(cache_key, body)
            return 200, body, HTML, []
        match = _POST.match(path)
        if match:
            number = int(match.group(1))
            with site.lock:
                post = site.post(number)
                if post is None or post.state == "deleted":
                    return self._not_found()
                if post.state == "private":
                    return 302, b"", HTML, [("Location", "/login")]
                cache_key = ("post", number, post.revision)
                body = self._cache.get(cache_key)
                if body is None:
                    body = render.render_post(site, post).encode()
                    self._remember(cache_key, body)
            return 200, body, HTML, []
        match = _COMMENTS.match(path)
        if match:
            number = int(match.group(1))
            try:
                page = int(parse_qs(query).get("page", ["1"])[0])
            except ValueError:
                page = 0
            with site.lock:
                post = site.post(number)
                if post is None or post.state != "public" or page < 1:
                    return 404, b'{"error": "not found"}', JSON, []
                cache_key = ("comments", number, post.revision, page)
                body = self._cache.get(cache_key)
                if body is None:
                    body = render.render_comments_json(site, post, page).encode()
                    self._remember(cache_key, body)
            return 200, body, JSON, []
        match = _VIEWS.match(path)
        if match:
            post = site.post(int(match.group(1)))
            if post is None or post.state != "public":
                return 404, b'{"error": "not found"}', JSON, []
            return 200, json.dumps({"views": post.views}).encode(), JSON, []
        if path == "/login":
            return 200, render.LOGIN_HTML.encode(), HTML, []
        if path == "/":
            return 200, render.render_home(site).encode(), HTML, []
        if path.startswith("/profiles/users/"):
            page_html = render.render_profile(site, unquote(path.removeprefix("/profiles/users/")))
            return (200, page_html.encode(), HTML, []) if page_html else self._not_found()
        if path.startswith("/blogs/books/"):
            page_html = render.render_book(site, unquote(path.removeprefix("/blogs/books/")))
            return (200, page_html.encode(), HTML, []) if page_html else self._not_found()
        return self._not_found()

    def _validators(self, path: str, body: bytes) -> list[tuple[str, str]]:
        number = int(path.split("/")[2])
        post = self.site.post(number)
        modified = post.modified_at if post is not None else self.site.built_at
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        return [("ETag", etag), ("Last-Modified", formatdate(modified, usegmt=True))]

    def _not_found(self) -> tuple[int, bytes, str, list[tuple[str, str]]]:
        return 404, render.NOT_FOUND_HTML.encode(), HTML, []

    def _remember(self, key: tuple[Any, ...], body: bytes) -> None:
        if len(self._cache) > 20_000:
            self._cache.clear()
        self._cache[key] = body

    # --- admin --------------------------------------------------------------------------

    def _admin(self, h: _Handler, method: str, path: str) -> None:
        name = path.removeprefix("/__admin/").strip("/")
        try:
            payload: dict[str, Any] = {}
            if method == "POST":
                length = int(h.headers.get("Content-Length") or 0)
                raw = h.rfile.read(length) if length else b""
                payload = json.loads(raw.decode("utf-8")) if raw.strip() else {}
                if not isinstance(payload, dict):
                    raise UserError("the request body must be a JSON object")
            result = self._admin_action(method, name, payload)
        except (UserError, ValueError, TypeError, KeyError) as exc:
            body = json.dumps({"error": str(exc)}, ensure_ascii=False).encode()
            h.send(400, body, JSON)
            return
        if result is None:
            h.send(404, b'{"error": "unknown admin endpoint"}', JSON)
            return
        h.send(200, json.dumps(result, ensure_ascii=False).encode(), JSON)

    def _admin_action(self, method: str, name: str, payload: dict[str, Any]) -> Any:
        site = self.site
        if method == "GET":
            if name == "ground-truth":
                return site.ground_truth()
            if name == "hits":
                return dict(self.hits())
            if name == "faults":
                return {"fired": dict(self.fault_counts()), "log": self.faults.log[-1000:]}
            return None
        if name == "reset-hits":
            self.reset_hits()
            return {"ok": True}
        if name == "reset-faults":
            self.faults.reset()
            return {"ok": True}
        if name == "add-post":
            return {"post_number": site.add_post(**payload)}
        if name == "add-comments":
            ids = site.add_comments(int(payload["post_number"]), int(payload.get("n", 1)))
            return {"comment_ids": ids}
        if name == "edit":
            number = int(payload.pop("post_number"))
            site.edit_post(number, **payload)
            return {"ok": True}
        if name == "delete":
            site.delete_post(
                int(payload["post_number"]), stay_listed=bool(payload.get("stay_listed", False))
            )
            return {"ok": True}
        if name == "make-public":
            site.make_public(int(payload["post_number"]))
            return {"ok": True}
        if name == "make-private":
            site.make_private(int(payload["post_number"]))
            return {"ok": True}
        return None
