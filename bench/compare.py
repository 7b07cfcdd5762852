#!/usr/bin/env python3
"""tagdraw against the crawlers people would otherwise write, on one local replica, in one run.

    python3 bench/compare.py                 # 2,000 posts, concurrency 4, every contender
    python3 bench/compare.py --posts 300 --only tagdraw,plain-http
    python3 bench/compare.py --help

Needs only python3: it creates or refreshes ``.venv-bench`` (the locked bench packages:
Crawlee, Scrapy, scrapy-playwright, plus tagdraw itself) and re-runs itself there.

Contenders, each a separate process measured as a whole process tree (Chromium included):
plain HTTP (http.client, keep-alive, threads; the limit of this machine), tagdraw
(``scraper.crawl.run_crawl``), Crawlee PlaywrightCrawler, Scrapy + scrapy-playwright.
The replica runs in its own process (``tagdraw replica serve``), so it shares no GIL with
the crawler under test; requests are counted at the replica. Every run is checked against
the replica's ground truth; an incomplete run is reported INCOMPLETE, does not count, and
makes this script exit 1. Then each contender's re-crawl of the unchanged site.

Writes ``bench/results/peers-<date>.md`` (the table) and ``.json`` (every figure).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-bench"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".tagdraw-bench-setup"
LOCK = ROOT / "bench" / "requirements-bench.lock"
UV_VERSION = "0.13.8"


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def ensure_bench_env() -> None:
    """Create or refresh .venv-bench from the bench lock (skipped when nothing changed)."""
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    fingerprint = digest.hexdigest()
    if STAMP.exists() and STAMP.read_text() == fingerprint and PYTHON.exists():
        return
    if not PYTHON.exists():
        _say("creating .venv-bench")
        venv.EnvBuilder(with_pip=True).create(VENV)
    # Keep the environment out of git without touching the shared .gitignore.
    (VENV / ".gitignore").write_text("*\n")
    _say("installing the locked bench packages (uv)")

    def sh(*cmd: str | Path) -> None:
        subprocess.run([str(c) for c in cmd], check=True)

    sh(PYTHON, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"uv=={UV_VERSION}")
    uv = VENV / "bin" / "uv"
    sh(uv, "pip", "install", "-q", "--python", PYTHON, "--require-hashes", "-r", LOCK)
    sh(uv, "pip", "install", "-q", "--python", PYTHON, "--no-deps", "-e", ROOT)
    STAMP.write_text(fingerprint)


if __name__ == "__main__" and Path(sys.prefix).resolve() != VENV.resolve():
    if sys.version_info < (3, 11):  # noqa: UP036 - may be started by an old python3
        sys.exit("the bench needs Python 3.11 or newer")
    ensure_bench_env()
    os.execv(str(PYTHON), [str(PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])

# From here on: inside .venv-bench.
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from peers.harness import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
