"""The README's main job, end to end: replica -> crawl -> suggestions -> dashboard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ports import free_port

from tagdraw.demo import _relay_output
from warehouse.db import run


@pytest.mark.browser
@pytest.mark.slow
def test_demo_crawls_the_replica_and_starts_the_dashboard(tmp_path: Path) -> None:
    db_path = tmp_path / "demo.duckdb"
    env = dict(os.environ, TAGDRAW_DB=str(db_path), TAGDRAW_LOG_DIR=str(tmp_path / "logs"))
    port = free_port()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tagdraw",
            "demo",
            "--posts",
            "60",
            "--port",
            str(port),
            "--check",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"http://127.0.0.1:{port}" in result.stdout
    assert "Sign in as: demo-admin" in result.stdout
    password = result.stdout.split("Password:", 1)[1].split()[0]

    from replica.site import build_site
    from warehouse import users

    truth = build_site(n_posts=60, seed=7).ground_truth()
    public = {int(n) for n, p in truth["posts"].items() if p["state"] == "public"}
    listed_public = public & set(truth["listed"])

    def check(con):  # type: ignore[no-untyped-def]
        stored = {
            r[0] for r in con.execute("SELECT post_number FROM posts WHERE NOT gone").fetchall()
        }
        suggestions = con.execute(
            "SELECT count(*) FROM suggestions WHERE campaign_slug = 'demo'"
        ).fetchone()[0]
        admin = users.authenticate(con, "demo-admin", password)
        return stored, suggestions, admin

    stored, suggestions, admin = run(check, db_path)
    assert listed_public <= stored
    assert suggestions > 0
    assert admin is not None and admin.role == "admin"


def test_a_server_the_demo_waits_on_never_stops_on_a_full_pipe(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 400 kB of output: without a reader, the pipe fills at 64 kB and the writer stops.
    writer = "import sys\nfor i in range(4000): print(f'line {i:04d} ' + 'x' * 90)"
    proc = subprocess.Popen(
        [sys.executable, "-c", writer], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    relay = _relay_output(proc, "server")
    assert proc.wait(timeout=60) == 0
    relay.join(timeout=60)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4000 and lines[-1].startswith("[server] line 3999 x")
