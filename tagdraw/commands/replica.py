"""``tagdraw replica serve``: run the GotoKnow replica until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from replica.server import FaultConfig, ReplicaServer
from replica.site import build_site
from warehouse.errors import UserError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``replica`` to the ``tagdraw`` parser."""
    replica = sub.add_parser("replica", help="a local GotoKnow-like site for demos and tests")
    replica_sub = replica.add_subparsers(dest="replica_command", metavar="ACTION", required=True)
    serve = replica_sub.add_parser(
        "serve", help="serve the replica on 127.0.0.1 until Ctrl-C (prints its URL)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (0 = any free port)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--posts", type=int, default=300, help="generated posts (default 300)")
    serve.add_argument("--seed", type=int, default=7, help="data seed (default 7)")
    serve.add_argument(
        "--faults",
        action="store_true",
        help="inject seeded faults on /posts pages (500/503, 429, slow, truncated, dropped)",
    )
    serve.add_argument(
        "--slow-seconds",
        type=float,
        default=5.0,
        help="with --faults: how long a slow response takes (default 5)",
    )
    serve.add_argument(
        "--drift",
        type=int,
        metavar="SEED",
        help="each post in its own template variations, typed guest names, mixed-case tags, "
        "inert hostile comment markup and pages that fail once, chosen per post from SEED",
    )
    serve.add_argument(
        "--stall-seconds",
        type=float,
        default=5.0,
        help="with --drift: how long a stalled page takes to answer (default 5)",
    )
    serve.add_argument(
        "--validators",
        action="store_true",
        help="send ETag/Last-Modified on post and comments pages; answer 304 when they match",
    )
    serve.add_argument(
        "--ground-truth", metavar="PATH", help="also write the ground truth JSON to PATH"
    )
    serve.set_defaults(func=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be between 0 and 65535, not {args.port}")
    site = build_site(n_posts=args.posts, seed=args.seed, drift=args.drift)
    if args.ground_truth:
        path = site.write_ground_truth(args.ground_truth)
        print(f"ground truth written to {path}", flush=True)
    faults = (
        FaultConfig.default_mix(seed=args.seed, slow_seconds=args.slow_seconds)
        if args.faults
        else None
    )
    server = ReplicaServer(
        site,
        faults,
        host=args.host,
        port=args.port,
        validators=args.validators,
        stall_seconds=args.stall_seconds,
    )
    try:
        server.start()
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    print(
        f"replica serving {args.posts} posts (seed {args.seed}"
        f"{', faults on' if faults else ''}"
        f"{f', drift {args.drift}' if args.drift is not None else ''}"
        f"{', validators on' if args.validators else ''}) at {server.url}",
        flush=True,
    )
    print(f"listing: {server.url}/posts?tag={site.keyword}&page=1", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print("replica stopped", file=sys.stderr, flush=True)
    return 0
