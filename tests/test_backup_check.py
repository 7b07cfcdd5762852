"""Backups are verified by reading them back in full, `tagdraw check` does the same for the
live warehouse, and no file the CLI writes is left half-written: a corrupt warehouse, a
quote in a path, a folder where a file should go, a full disk.

The corruption is real: 64 bytes overwritten inside the data block that holds
``posts.body_text`` of a real DuckDB file (located with DuckDB's own storage_info), and
each test first checks with plain DuckDB that the damage is readable as damage.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from tagdraw.cli import main
from warehouse.db import connect
from warehouse.models import Comment, Post
from warehouse.store import store_posts
from warehouse.thai import BANGKOK

ROOT = Path(__file__).resolve().parent.parent
TAGDRAW = Path(sys.executable).parent / "tagdraw"
CREATE = [
    "campaign",
    "create",
    "demo",
    "--keyword",
    "สังคมออนไลน์",
    "--opens",
    "2013-08-06",
    "--closes",
    "2013-08-31",
    "--prizes",
    "4",
]
FILE_HEADER_BYTES = 3 * 4096  # DuckDB's main header and its two database headers
BLOCK_CHECKSUM_BYTES = 8  # each block starts with its checksum


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "partial" in p.name)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with a campaign and 300 posts with Thai bodies, checkpointed."""
    path = tmp_path_factory.mktemp("template") / "tagdraw.duckdb"
    assert main(["--db", str(path), *CREATE]) == 0
    now = datetime(2013, 8, 20, tzinfo=BANGKOK)
    posts = [
        Post(
            n,
            f"/posts/{n}",
            f"บันทึกที่ {n}",
            f"user{n}",
            f"ผู้เขียน {n}",
            None,
            now,
            None,
            ("สังคมออนไลน์",),
            ("#สังคมออนไลน์",),
            f"เนื้อหาของบันทึกที่ {n} " * 30,
            None,
            1,
            (Comment(n * 10, n, 1, f"c{n}", "ผู้อ่าน", now, "ขอบคุณครับ"),),
        )
        for n in range(1, 301)
    ]
    with connect(path) as con:
        store_posts(con, posts, seen_at=now)
    con = duckdb.connect(str(path))
    con.execute("CHECKPOINT")
    con.close()
    return path


@pytest.fixture
def warehouse(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "tagdraw.duckdb"
    shutil.copyfile(template, path)
    return path


def body_text_offset(path: Path) -> int:
    """Where in the file the data of the first ``posts.body_text`` segment lies."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
        block_id, block_offset = con.execute(
            "SELECT block_id, block_offset FROM pragma_storage_info('posts') "
            "WHERE column_name = 'body_text' AND segment_type = 'VARCHAR' AND persistent "
            "ORDER BY row_group_id, segment_id LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert block_id >= 0
    return FILE_HEADER_BYTES + block_id * block_size + BLOCK_CHECKSUM_BYTES + block_offset


def corrupt(path: Path) -> None:
    """Overwrite 64 bytes inside the body_text data block, then make sure plain DuckDB
    cannot read the table back (ground truth independent of tagdraw)."""
    offset = body_text_offset(path) + 64
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(b"\xab" * 64)
    con = duckdb.connect(str(path), read_only=True)
    try:
        with pytest.raises(duckdb.Error):
            con.execute("SELECT * FROM posts").fetchall()
    finally:
        con.close()


def test_check_passes_a_sound_warehouse(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "--db", str(warehouse), "check")
    assert (code, err) == (0, ""), err
    assert out.startswith("OK") and "posts" not in err


def test_check_names_the_corrupt_table(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corrupt(warehouse)
    code, out, err = cli(capsys, "--db", str(warehouse), "check")
    assert code == 1
    problems = out.splitlines()
    assert problems and all(line.startswith("posts:") for line in problems), out
    assert "corrupt" in err and err.count("\n") == 1 and "Traceback" not in err


def test_check_of_no_warehouse_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "--db", str(tmp_path / "none.duckdb"), "check")
    assert code == 2 and err.count("\n") == 1
    assert not (tmp_path / "none.duckdb").exists()


def test_backup_of_a_corrupt_warehouse_says_corrupt(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt(warehouse)
    target = tmp_path / "backups"
    target.mkdir()
    code, out, err = cli(capsys, "--db", str(warehouse), "backup", str(target / "b.duckdb"))
    assert code == 1, (out, err)
    assert out == "" and "corrupt" in err and err.count("\n") == 1
    assert list(target.iterdir()) == []  # neither the backup nor a .partial


def test_reading_a_corrupt_warehouse_is_one_line(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt(warehouse)
    code, _, err = cli(capsys, "--db", str(warehouse), "entries", "demo", "--format", "json")
    assert code == 1 and "corrupt" in err and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_backup_is_read_back_in_full(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "b.duckdb"
    code, out, err = cli(capsys, "--db", str(warehouse), "backup", str(target))
    assert code == 0, err
    assert "verified" in out
    assert leftovers(tmp_path) == []
    assert oct(target.stat().st_mode & 0o777) == oct(0o600)  # it holds password hashes


@pytest.mark.parametrize("folder", ["o'brien", "x' AS evil (READ_ONLY); --", 'say "hi"'])
def test_restore_from_a_path_with_quotes(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], folder: str
) -> None:
    source = tmp_path / folder / "bk.duckdb"
    source.parent.mkdir()
    assert cli(capsys, "--db", str(warehouse), "backup", str(source))[0] == 0
    restored = tmp_path / "restored.duckdb"
    code, _, err = cli(capsys, "--db", str(restored), "restore", str(source))
    assert code == 0, err
    con = duckdb.connect(str(restored), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM posts").fetchone() == (300,)
        assert con.execute("SELECT slug FROM campaigns").fetchall() == [("demo",)]
    finally:
        con.close()


def test_restore_of_a_corrupt_backup_changes_nothing(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.duckdb"
    shutil.copyfile(warehouse, bad)
    corrupt(bad)
    target = tmp_path / "target.duckdb"
    assert main(["--db", str(target), *CREATE]) == 0
    capsys.readouterr()
    before = target.read_bytes()
    code, _, err = cli(capsys, "--db", str(target), "restore", str(bad), "--force")
    assert code == 1 and "corrupt" in err and err.count("\n") == 1, err
    con = duckdb.connect(str(target), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM posts").fetchone() == (0,)
    finally:
        con.close()
    assert len(before) > 0


def test_export_to_a_folder_is_refused(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    code, out, err = cli(
        capsys, "--db", str(warehouse), "export", "demo", "--what", "entries", "--out", str(folder)
    )
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert leftovers(tmp_path) == [] and list(folder.iterdir()) == []


def _limit_file_size(limit: int) -> None:
    # Writes past ``limit`` bytes fail with EFBIG, as on a full disk (Python ignores SIGXFSZ).
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def run_limited(limit: int, *argv: str, log_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TAGDRAW), *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TAGDRAW_LOG_DIR": str(log_dir)},
        preexec_fn=lambda: _limit_file_size(limit),
    )


def test_backup_on_a_full_disk_leaves_nothing(warehouse: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    result = run_limited(
        warehouse.stat().st_size // 2,
        "--db",
        str(warehouse),
        "backup",
        str(folder / "b.duckdb"),
        log_dir=tmp_path / "logs",
    )
    assert result.returncode == 7, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "full" in result.stderr
    assert list(folder.iterdir()) == []


@contextmanager
def tiny_disk(path: Path, size: str = "1m") -> Iterator[Path]:
    """A small tmpfs: a real ENOSPC. Needs the right to mount (root in CI); skipped without."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_backup_onto_a_real_full_disk(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert warehouse.stat().st_size > 1024 * 1024
    with tiny_disk(tmp_path / "disk") as disk:
        code, _, err = cli(capsys, "--db", str(warehouse), "backup", str(disk / "b.duckdb"))
        assert code == 7, err
        assert err.count("\n") == 1 and "full" in err
        assert list(disk.iterdir()) == []


@pytest.mark.browser
def test_a_crawl_onto_a_full_disk_is_one_line(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The warehouse on a tmpfs with ~250 KB free: the crawl's writes hit a real ENOSPC."""
    from replica.server import ReplicaServer
    from replica.site import build_site
    from warehouse.db import run

    disk = tmp_path / "disk"
    with tiny_disk(disk, size=f"{template.stat().st_size // 1024 + 256}k"):
        db = disk / "tagdraw.duckdb"
        shutil.copyfile(template, db)
        with ReplicaServer(build_site(n_posts=30, seed=5)) as server:
            run(lambda con: con.execute("UPDATE campaigns SET site_url = ?", [server.url]), db)
            capsys.readouterr()
            code, _, err = cli(capsys, "--db", str(db), "crawl", "demo", "--quiet", "--unthrottled")
        kept = tmp_path / "after.duckdb"
        shutil.copyfile(db, kept)
        if db.with_name(db.name + ".wal").exists():
            shutil.copyfile(db.with_name(db.name + ".wal"), kept.with_name(kept.name + ".wal"))
    assert code == 7, err
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith("tagdraw: ") and "full" in err.splitlines()[-1]
    # What was committed before the disk filled up is intact.
    assert cli(capsys, "--db", str(kept), "check")[0] == 0


def test_check_of_a_damaged_header_says_corrupt(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with warehouse.open("r+b") as f:
        f.seek(8)  # the magic bytes "DUCK" and the storage version
        f.write(b"\0" * 64)
    code, out, err = cli(capsys, "--db", str(warehouse), "check")
    assert code == 1, err
    assert out.startswith("(opening the file):") and out.count("\n") == 1
    assert "corrupt" in err and err.count("\n") == 1
