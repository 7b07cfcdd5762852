"""The crawler's own peak memory as ``bench/bench_crawl.py --memory-sizes`` measures it: the
worker process's peak, not the peak of the bench process that spawned it.

``getrusage(RUSAGE_SELF).ru_maxrss`` keeps, across ``exec``, the peak RSS of the process
that forked: the bench reads the replica's ground truth (hundreds of MB of JSON) before it
starts the crawler, so ru_maxrss reported the bench's peak as the crawler's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys
sys.path.insert(0, {bench!r})
from bench_crawl import own_peak_rss_mb
print(json.dumps({{
    "own_peak_rss_mb": own_peak_rss_mb(),
    "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}}))
"""


def _own_peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_worker_peak_is_its_own_not_the_spawning_process_peak() -> None:
    # This process's peak goes 400 MB above where it is now (every page touched), then the
    # memory is given back before the child is spawned, as the bench does with the truth.
    block = bytearray(400 * 2**20)
    block[::4096] = b"x" * len(range(0, len(block), 4096))
    del block
    parent_peak = _own_peak_mb()
    assert parent_peak >= 400

    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(bench=str(ROOT / "bench"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    child = json.loads(done.stdout.strip().splitlines()[-1])
    # What the kernel's ru_maxrss says (the reason the bench no longer uses it) ...
    assert child["ru_maxrss_mb"] >= parent_peak - 1
    # ... and what the bench reports: the child's own peak, far below the parent's.
    assert 0 < child["own_peak_rss_mb"] < parent_peak - 300
