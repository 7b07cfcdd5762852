"""How many post pages per second the replica serves on one core.

The server runs in its own process (one Python process = one core's worth of work under
the GIL); this process is a plain ``http.client`` client with keep-alive connections.

    .venv/bin/python bench/replica_throughput.py [--posts 300] [--seconds 5] [--clients 2]

Prints cold (first render of every page) and warm (cached bytes) pages/s.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _serve(n_posts: int, seed: int, ready: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    from replica.server import ReplicaServer
    from replica.site import build_site

    site = build_site(n_posts=n_posts, seed=seed)
    public = sorted(n for n, p in site.posts.items() if p.state == "public")
    with ReplicaServer(site) as server:
        ready.put((server.url, public))
        stop.wait()


def _fetch_all(host: str, port: int, paths: list[str], deadline: float, counts: list[int]) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    done = 0
    i = 0
    while time.perf_counter() < deadline and (i < len(paths) or counts[1]):
        conn.request("GET", paths[i % len(paths)])
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"unexpected HTTP {response.status} for {paths[i % len(paths)]}")
        done += 1
        i += 1
        if not counts[1] and i >= len(paths):
            break
    counts[0] += done
    conn.close()


def measure(
    n_posts: int = 300, seed: int = 7, seconds: float = 5.0, clients: int = 2
) -> dict[str, float]:
    """Serve a site in a child process and return {'cold': pages/s, 'warm': pages/s}."""
    ctx = mp.get_context("spawn")
    ready: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    stop = ctx.Event()
    proc = ctx.Process(target=_serve, args=(n_posts, seed, ready, stop), daemon=True)
    proc.start()
    try:
        url, public = ready.get(timeout=120)
        host, port = url.removeprefix("http://").split(":")
        paths = [f"/posts/{n}" for n in public]
        results: dict[str, float] = {}
        for phase, loop in (("cold", 0), ("warm", 1)):
            counts = [0, loop]
            shards = [paths[k::clients] for k in range(clients)]
            start = time.perf_counter()
            deadline = start + seconds
            threads = [
                threading.Thread(target=_fetch_all, args=(host, int(port), s, deadline, counts))
                for s in shards
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            results[phase] = counts[0] / (time.perf_counter() - start)
        return results
    finally:
        stop.set()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=2, help="keep-alive connections")
    args = parser.parse_args()
    results = measure(args.posts, args.seed, args.seconds, args.clients)
    print(
        f"replica, {args.posts} posts, {args.clients} keep-alive client(s): "
        f"cold {results['cold']:.0f} post pages/s (first render), "
        f"warm {results['warm']:.0f} post pages/s (cached)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
