"""Same seed, same site; the CLI serves; the throughput helper reports (no timing asserts)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from replica.server import ReplicaServer
from replica.site import ANNOUNCEMENT_POST, KEYWORD, SHOWCASE_POST, build_site

ROOT = Path(__file__).resolve().parent.parent


def _site_fingerprint(n_posts: int, seed: int) -> tuple[str, str]:
    """Digest of every served page (post pages, comment pages, listing pages) and of the
    ground truth, fetched over HTTP."""
    site = build_site(n_posts=n_posts, seed=seed)
    pages = hashlib.sha256()
    with ReplicaServer(site) as server:
        paths = [f"/posts/{n}" for n in sorted(site.posts)]
        paths += [f"/posts/{n}/comments?page=2" for n in sorted(site.posts)]
        paths += [f"/posts?tag={quote(KEYWORD)}&page={p}" for p in range(1, 4)]
        for path in paths:
            try:
                with urllib.request.urlopen(server.url + path, timeout=10) as response:
                    body = response.read()
                    status = response.status
            except urllib.error.HTTPError as exc:
                body, status = exc.read(), exc.code
            pages.update(f"{path} {status}\n".encode() + body)
    truth = json.dumps(site.ground_truth(), ensure_ascii=False, sort_keys=True)
    return pages.hexdigest(), hashlib.sha256(truth.encode()).hexdigest()


def test_same_seed_gives_a_byte_identical_site_and_another_seed_differs() -> None:
    first = _site_fingerprint(60, 21)
    assert _site_fingerprint(60, 21) == first
    other = _site_fingerprint(60, 22)
    assert other[0] != first[0] and other[1] != first[1]


def test_sizes_scale_and_fixed_posts_exist() -> None:
    small = build_site(n_posts=0, seed=1)
    assert list(small.posts) == [ANNOUNCEMENT_POST]
    assert small.ground_truth()["listed"] == [ANNOUNCEMENT_POST]
    site = build_site(n_posts=1000, seed=1)
    truth = site.ground_truth()
    assert len(truth["posts"]) == 1001
    assert truth["posts"][str(SHOWCASE_POST)]["comment_count_declared"] == 57
    labels = truth["labels"]
    assert len(labels["duplicate_pairs"]) == 50 and len(labels["spam"]) == 50
    numbers = sorted(site.posts)
    created = [site.posts[n].created_at for n in numbers]
    assert created == sorted(created)  # numbers ascend with time
    counts = [p.n_comments for p in site.posts.values()]
    assert min(counts) == 0 and max(counts) <= 60
    guests = [c for n in numbers[:200] for c in site.comments(n) if c.author_username is None]
    assert guests and all(c.author_name == "ผู้อ่านทั่วไป" for c in guests)
    bodies = [len(site.body_text(n)) for n in numbers[:300] if n not in site.spam]
    assert min(bodies) >= 100 and max(bodies) <= 2100


def test_bad_sizes_are_one_clear_error() -> None:
    from warehouse.errors import UserError

    with pytest.raises(UserError, match="--posts"):
        build_site(n_posts=-1, seed=1)


def test_replica_serve_runs_as_a_subprocess(tmp_path: Path) -> None:
    truth_path = tmp_path / "truth.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tagdraw", "replica", "serve", "--port", "0",
         "--posts", "25", "--seed", "3", "--ground-truth", str(truth_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        url = None
        assert proc.stdout is not None
        for _ in range(5):
            line = proc.stdout.readline()
            if " at http://" in line:
                url = line.rsplit(" at ", 1)[1].strip()
                break
        assert url, "the replica did not print its URL"
        with urllib.request.urlopen(url + "/robots.txt", timeout=10) as response:
            assert b"Disallow: /__admin/" in response.read()
        with urllib.request.urlopen(f"{url}/posts/{ANNOUNCEMENT_POST}", timeout=10) as response:
            assert "หมายเลขบันทึก:" in response.read().decode()
        with urllib.request.urlopen(url + "/__admin/ground-truth", timeout=10) as response:
            served_truth = json.loads(response.read())
        assert served_truth == json.loads(truth_path.read_text(encoding="utf-8"))
        assert served_truth["n_posts"] == 25 and served_truth["seed"] == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def test_replica_serve_refuses_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    from tagdraw.cli import main

    site = build_site(n_posts=1, seed=1)
    with ReplicaServer(site) as server:
        port = server.url.rsplit(":", 1)[1]
        assert main(["replica", "serve", "--port", port, "--posts", "1"]) == 2
    err = capsys.readouterr().err
    assert "cannot listen" in err and "Traceback" not in err


def test_throughput_measurement_prints() -> None:
    """Only prints pages/s (no timing assertion); bench/replica_throughput.py is the tool."""
    import http.client
    import time

    site = build_site(n_posts=100, seed=7)
    with ReplicaServer(site) as server:
        host, port = server.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port))
        paths = [f"/posts/{n}" for n, p in site.posts.items() if p.state == "public"]
        start = time.perf_counter()
        for path in paths * 3:
            conn.request("GET", path)
            response = conn.getresponse()
            assert response.status == 200 and response.read()
        rate = 3 * len(paths) / (time.perf_counter() - start)
        conn.close()
    print(f"replica (server and client in one process): {rate:.0f} post pages/s")
