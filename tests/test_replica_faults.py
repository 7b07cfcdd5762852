"""Faults fire as configured and only as configured."""

from __future__ import annotations

import http.client
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest

from replica.server import FaultConfig, FaultInjector, ReplicaServer
from replica.site import SHOWCASE_POST, build_site


def _conn(url: str, timeout: float = 10) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def _get(url: str, path: str, timeout: float = 10) -> tuple[int | str, dict[str, str], bytes]:
    """One request on a fresh connection; network failures come back as a string."""
    conn = _conn(url, timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except http.client.IncompleteRead:
        return "truncated", {}, b""
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return "dropped", {}, b""
    finally:
        conn.close()


def test_rates_are_roughly_right_and_deterministic() -> None:
    config = FaultConfig(
        seed=3,
        error_rate=0.10,
        throttle_rate=0.05,
        slow_rate=0.05,
        truncate_rate=0.10,
        drop_rate=0.05,
        max_consecutive=100,
    )
    injector = FaultInjector(config)
    paths = [f"/posts/{545000 + i}" for i in range(4000)]
    decisions = [injector.decide(p, p) for p in paths]
    fired = Counter(d for d in decisions if d)
    n = len(paths)
    assert abs((fired["error500"] + fired["error503"]) / n - 0.10) < 0.025
    assert fired["error500"] > 0 and fired["error503"] > 0
    for kind, rate in (("throttle", 0.05), ("slow", 0.05), ("truncate", 0.10), ("drop", 0.05)):
        assert abs(fired[kind] / n - rate) < 0.02, kind
    assert sum(fired.values()) == sum(1 for d in decisions if d)
    # The same seed gives the same decisions; another seed different ones.
    again = FaultInjector(config)
    assert [again.decide(p, p) for p in paths] == decisions
    other = FaultInjector(FaultConfig(**{**config.__dict__, "seed": 4}))
    assert [other.decide(p, p) for p in paths] != decisions


def test_only_posts_urls_get_faults_and_none_when_off() -> None:
    everything = FaultConfig(seed=1, error_rate=1.0, max_consecutive=1000)
    injector = FaultInjector(everything)
    for path in ("/robots.txt", "/__admin/hits", "/login", "/", "/posts/545000/views"):
        assert all(injector.decide(path, path) is None for _ in range(20)), path
    assert injector.decide("/posts/545000", "/posts/545000") is not None
    off = FaultInjector(None)
    assert all(off.decide(p, p) is None for p in ("/posts/1", "/posts?tag=x") for _ in range(100))
    zero = FaultInjector(FaultConfig(seed=1))
    assert all(zero.decide("/posts/1", "/posts/1") is None for _ in range(200))


def test_max_consecutive_is_honoured_and_always_fail_is_permanent() -> None:
    injector = FaultInjector(
        FaultConfig(seed=9, error_rate=0.5, drop_rate=0.5, always_fail=frozenset({"/posts/7"}))
    )
    for number in range(200):
        path = f"/posts/{545000 + number}"
        run = 0
        for _ in range(12):
            if injector.decide(path, path):
                run += 1
                assert run <= 2
            else:
                run = 0
        # With every request faulty, the pattern is fail, fail, succeed.
    assert [injector.decide("/posts/1", "/posts/1") is None for _ in range(6)] == [
        False, False, True, False, False, True,
    ]  # fmt: skip
    assert all(injector.decide("/posts/7", "/posts/7") == "always_fail" for _ in range(10))


def test_each_fault_kind_on_the_wire() -> None:
    site = build_site(n_posts=30, seed=2)
    path = f"/posts/{SHOWCASE_POST}"
    cases = {
        "error": FaultConfig(seed=1, error_rate=1.0, max_consecutive=50),
        "throttle": FaultConfig(seed=1, throttle_rate=1.0, retry_after_s=1),
        "truncate": FaultConfig(seed=1, truncate_rate=1.0),
        "drop": FaultConfig(seed=1, drop_rate=1.0),
        "slow": FaultConfig(seed=1, slow_rate=1.0, slow_seconds=0.6),
    }
    for kind, config in cases.items():
        with ReplicaServer(site, faults=config) as server:
            start = time.perf_counter()
            status, headers, body = _get(server.url, path)
            elapsed = time.perf_counter() - start
            if kind == "error":
                statuses = {status} | {_get(server.url, path)[0] for _ in range(8)}
                assert statuses == {500, 503}
            elif kind == "throttle":
                assert status == 429 and headers["Retry-After"] == "1"
            elif kind == "truncate":
                assert status == "truncated"
            elif kind == "drop":
                assert status == "dropped"
            else:
                assert status == 200 and elapsed >= 0.6 and b"</html>" in body
            # Not for robots.txt, and the admin endpoints stay reachable.
            assert _get(server.url, "/robots.txt")[0] == 200
            assert _get(server.url, "/__admin/hits")[0] == 200
            if kind in ("throttle", "truncate", "drop"):  # max_consecutive=2: third succeeds
                assert _get(server.url, path)[0] != 200
                assert _get(server.url, path)[0] == 200
            assert server.fault_counts()


def test_a_crawler_with_four_attempts_always_gets_every_page() -> None:
    site = build_site(n_posts=60, seed=4)
    config = FaultConfig.default_mix(seed=4, slow_seconds=0.3)
    config.error_rate = config.drop_rate = config.truncate_rate = config.throttle_rate = 0.2
    public = [f"/posts/{n}" for n, p in site.posts.items() if p.state == "public"]
    with ReplicaServer(site, faults=config) as server:
        failures = 0
        for path in public:
            for _attempt in range(4):
                status, _headers, _body = _get(server.url, path, timeout=5)
                if status == 200:
                    break
                failures += 1
            else:
                pytest.fail(f"{path} failed four times in a row")
        assert failures > 0
        hits = server.hits()
        assert sum(hits[p] for p in public) == len(public) + failures
