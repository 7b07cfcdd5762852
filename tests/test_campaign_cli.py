"""The campaign, backup and restore commands: every bad input is one line on stderr, a
non-zero exit, and nothing written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tagdraw.cli import main
from warehouse.db import connect, run
from warehouse.decisions import record_decision
from warehouse.models import Comment, Post
from warehouse.store import store_posts
from warehouse.thai import BANGKOK

ROOT = Path(__file__).resolve().parent.parent
TAGDRAW = Path(sys.executable).parent / "tagdraw"
CREATE = [
    "--keyword",
    "#สังคมออนไลน์",
    "--opens",
    "2013-08-06",
    "--closes",
    "2013-08-31",
    "--prizes",
    "4",
]


def snapshot(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the whole warehouse), or {} when there is no file."""
    if not path.exists():
        return {}
    con = duckdb.connect(str(path))
    try:
        tables = [
            r[0]
            for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
        ]
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in tables}
    finally:
        con.close()


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warehouse with a campaign, a post, a comment and a decision, built once."""
    path = tmp_path_factory.mktemp("template") / "tagdraw.duckdb"
    assert main(["--db", str(path), "campaign", "create", "demo", *CREATE]) == 0
    now = datetime(2013, 8, 20, tzinfo=BANGKOK)
    post = Post(
        1,
        "/posts/1",
        "t",
        "a",
        "A",
        None,
        now,
        None,
        ("สังคมออนไลน์",),
        (),
        "b",
        None,
        1,
        (Comment(11, 1, 1, None, "g", now, "c"),),
    )
    with connect(path) as con:
        store_posts(con, [post], seen_at=now)
        record_decision(con, "demo", 1, "eligible", decided_by="mod")
    return path


@pytest.fixture
def warehouse(template: Path, db_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    shutil.copyfile(template, db_path)
    capsys.readouterr()
    return db_path


def test_create_list_show_edit(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(warehouse)]
    code, out, _ = cli(capsys, *db, "campaign", "list")
    assert code == 0 and out.startswith("demo  2013-08-06 00:00 - 2013-08-31 23:59:59")
    code, out, _ = cli(capsys, *db, "campaign", "show", "demo", "--format", "json")
    shown = json.loads(out)
    assert shown["keywords"] == ["สังคมออนไลน์"] and shown["closes_at"] == "2013-08-31T23:59:59+07:00"
    code, out, _ = cli(
        capsys,
        *db,
        "campaign",
        "edit",
        "demo",
        "--prizes",
        "5",
        "--exclude-author",
        "Boss",
        "--allow-several-prizes-per-author",
        "--max-entries-per-author",
        "2",
    )
    assert code == 0
    shown = json.loads(cli(capsys, *db, "campaign", "show", "demo", "--format", "json")[1])
    assert (shown["prizes"], shown["excluded_authors"], shown["one_prize_per_author"]) == (
        5,
        ["boss"],
        False,
    )
    assert shown["max_entries_per_author"] == 2
    cli(capsys, *db, "campaign", "edit", "demo", "--max-entries-per-author", "none")
    code, out, _ = cli(capsys, *db, "campaign", "show", "demo")
    assert code == 0 and "no limit" in out and "31 สิงหาคม 2556" in out


BAD_INPUTS = [
    ["campaign", "create", "demo", *CREATE],  # duplicate slug
    ["campaign", "create", "Bad_Slug", *CREATE],
    ["campaign", "create", "x", "--keyword", "  ", *CREATE[2:]],
    [
        "campaign",
        "create",
        "x",
        "--keyword",
        "a",
        "--opens",
        "2013-13-01",
        "--closes",
        "2013-08-31",
        "--prizes",
        "1",
    ],
    [
        "campaign",
        "create",
        "x",
        "--keyword",
        "a",
        "--opens",
        "2013-08-06",
        "--closes",
        "2013-08-01",
        "--prizes",
        "1",
    ],
    [
        "campaign",
        "create",
        "x",
        "--keyword",
        "a",
        "--opens",
        "2013-08-06",
        "--closes",
        "2013-08-31",
        "--prizes",
        "0",
    ],
    [
        "campaign",
        "create",
        "x",
        "--keyword",
        "a",
        "--opens",
        "2013-08-06",
        "--closes",
        "2013-08-31",
        "--prizes",
        "many",
    ],
    ["campaign", "create", "x", *CREATE, "--alternates", "-1"],
    ["campaign", "create", "x", *CREATE, "--site-url", "ftp://x"],
    ["campaign", "create", "x", *CREATE, "--announcement-post", "abc"],
    ["campaign", "create", "x", *CREATE, "--max-entries-per-author", "0"],
    ["campaign", "create", "x", *CREATE, "--exclude-author", " "],
    ["campaign", "create", "x", "--keyword", "a"],  # missing options
    ["campaign", "create"],  # missing slug (argparse)
    ["campaign", "edit", "nope", "--prizes", "2"],
    ["campaign", "edit", "demo"],
    ["campaign", "edit", "demo", "--closes", "2013-08-01"],
    ["campaign", "edit", "demo", "--prizes", "0"],
    ["campaign", "edit", "demo", "--keyword", ""],
    ["campaign", "show", "nope"],
    ["campaign", "show", "demo", "--format", "xml"],
    ["campaign", "frobnicate"],
    ["campaign", "list", "--format", "xml"],
    ["backup"],
    ["restore"],
    ["backup", "/nonexistent-folder/b.duckdb"],
    ["restore", "/nonexistent-folder/b.duckdb"],
]


@pytest.mark.parametrize("argv", BAD_INPUTS, ids=lambda a: " ".join(a)[:60])
def test_bad_input_is_one_line_and_writes_nothing(
    warehouse: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    before = snapshot(warehouse)
    code, out, err = cli(capsys, "--db", str(warehouse), *argv)
    assert code != 0
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert snapshot(warehouse) == before


def test_bad_input_does_not_create_a_warehouse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "new.duckdb"
    for argv in (
        [
            "campaign",
            "create",
            "x",
            "--keyword",
            "a",
            "--opens",
            "2013-08-06",
            "--closes",
            "bad",
            "--prizes",
            "1",
        ],
        ["campaign", "show", "x"],
        ["backup", str(tmp_path / "b.duckdb")],
        ["restore", str(tmp_path / "missing.duckdb")],
    ):
        code, _, err = cli(capsys, "--db", str(db), *argv)
        assert code != 0 and err.count("\n") == 1
    assert cli(capsys, "--db", str(db), "campaign", "list")[0] == 0
    assert not db.exists() and not (tmp_path / "b.duckdb").exists()


def test_backup_refuses_to_overwrite(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "b.duckdb"
    target.write_text("precious")
    code, _, err = cli(capsys, "--db", str(warehouse), "backup", str(target))
    assert code != 0 and "already exists" in err and target.read_text() == "precious"
    code, _, err = cli(capsys, "--db", str(warehouse), "backup", str(warehouse))
    assert code != 0 and err.count("\n") == 1


def test_restore_refuses_a_file_that_is_not_a_backup(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_bytes(b"\0" * 8192)
    empty_db = tmp_path / "plain.duckdb"
    duckdb.connect(str(empty_db)).close()
    before = snapshot(warehouse)
    for source in (bogus, empty_db):
        code, _, err = cli(capsys, "--db", str(warehouse), "restore", str(source), "--force")
        assert code != 0 and err.count("\n") == 1 and "backup" in err
    assert snapshot(warehouse) == before


def without_restore_audit(
    snap: dict[str, list[tuple[Any, ...]]],
) -> dict[str, list[tuple[Any, ...]]]:
    """What a restore must reproduce: every row, except its own audit row and the
    migration log's timestamps (the target keeps its own log)."""
    return {
        **snap,
        "audit_log": [r for r in snap["audit_log"] if r[3] != "restore"],
        "schema_migrations": [r[:2] for r in snap["schema_migrations"]],
    }


def test_backup_restore_round_trip(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "backup.duckdb"
    code, out, _ = cli(capsys, "--db", str(warehouse), "backup", str(backup))
    assert code == 0 and "Backed up" in out
    original = snapshot(warehouse)
    assert snapshot(backup) == original

    restored = tmp_path / "restored.duckdb"
    code, out, err = cli(capsys, "--db", str(restored), "restore", str(backup))
    assert code == 0, err
    assert without_restore_audit(snapshot(restored)) == without_restore_audit(original)
    # Sequences moved past the restored ids: a new decision gets a fresh id.
    new = run(lambda con: record_decision(con, "demo", 1, "spam", decided_by="mod"), restored)
    assert new.decision_id > max(r[0] for r in original["decisions"])

    # Restoring over a warehouse that holds data needs --force, and then replaces it.
    before = snapshot(restored)
    code, _, err = cli(capsys, "--db", str(restored), "restore", str(backup))
    assert code != 0 and "--force" in err and err.count("\n") == 1
    assert snapshot(restored) == before
    code, _, err = cli(capsys, "--db", str(restored), "restore", str(backup), "--force")
    assert code == 0, err
    assert without_restore_audit(snapshot(restored)) == without_restore_audit(original)


def _tagdraw(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TAGDRAW), *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_the_real_console_script(tmp_path: Path) -> None:
    """Two runs only: every run imports all parts' commands, which is slow on a busy box."""
    db = str(tmp_path / "w.duckdb")
    ok = _tagdraw("--db", db, "campaign", "create", "demo", *CREATE, "--exclude-author", "Jantawan")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("Created campaign demo")
    before = snapshot(Path(db))
    bad = _tagdraw("--db", db, "campaign", "edit", "demo", "--closes", "2013-08-01")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("tagdraw: ") and bad.stderr.count("\n") == 1, bad.stderr
    assert "before it opens" in bad.stderr
    assert snapshot(Path(db)) == before


NOT_UTF8 = os.fsdecode(b"\xff\xfebad")  # what Python makes of non-UTF-8 bytes in argv
# Bad values that once gave a traceback (or were silently read as something else): each
# must be refused with one line and exit 2, and write nothing.
REFUSED = [
    ["campaign", "create", "x", *CREATE, "--prizes", "99999999999999999999999"],
    ["campaign", "create", "x", *CREATE, "--prizes", "9" * 5000],
    ["campaign", "create", "x", *CREATE, "--alternates", "99999999999"],
    ["campaign", "create", "x", *CREATE, "--crawl-after-close-days", "99999999999"],
    ["campaign", "create", "x", *CREATE, "--max-entries-per-author", "99999999999"],
    ["campaign", "create", "x", *CREATE, "--announcement-post", "99999999999999999999999"],
    ["campaign", "create", "x", *CREATE, "--opens", "0001-01-01"],
    ["campaign", "create", "x", *CREATE, "--closes", "9999-12-31T23:59"],
    ["campaign", "create", "x", *CREATE, "--closes", "31 ส.ค. 25567"],
    ["campaign", "create", "x", *CREATE, "--closes", "131 ส.ค. 2556"],
    ["campaign", "create", "x", *CREATE, "--closes", "31 ส.ค. 2556 23:59 น.xyz"],
    ["campaign", "create", "x", *CREATE, "--title", NOT_UTF8],
    ["campaign", "create", "x", *CREATE, "--keyword", NOT_UTF8],
    ["campaign", "edit", "demo", "--prizes", "99999999999999999999999"],
    ["campaign", "edit", "demo", "--opens", "0001-01-01"],
    ["campaign", "edit", "demo", "--prize-description", NOT_UTF8],
    ["campaign", "show", NOT_UTF8],
]


@pytest.mark.parametrize("argv", REFUSED, ids=lambda a: " ".join(a)[-50:])
def test_bad_values_are_refused_with_exit_2(
    warehouse: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    before = snapshot(warehouse)
    code, out, err = cli(capsys, "--db", str(warehouse), *argv)
    assert (code, out) == (2, ""), err
    assert err.startswith("tagdraw") and err.count("\n") == 1 and len(err) < 400, err
    assert snapshot(warehouse) == before


def test_a_date_out_of_range_is_shown_as_typed(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(
        capsys, "--db", str(warehouse), "campaign", "edit", "demo", "--opens", "0001-01-01"
    )
    assert code == 2 and "0001-01-01" in err, err
