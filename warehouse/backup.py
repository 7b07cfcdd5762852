"""Backup and restore of the whole warehouse.

``backup`` checkpoints the file while holding its lock and copies it byte for byte, then
checks that the copy opens and holds the same rows. ``restore`` loads a backup INTO the
live file in one transaction (so a crash leaves the old data intact and no process ever
sees a half-written file), refusing to overwrite a warehouse that holds data unless
forced, and checks the row counts before committing.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.audit import audit
from warehouse.db import locked, resolve_db_path
from warehouse.errors import UserError

# A warehouse holding rows in any of these is "not empty" for restore.
CORE_TABLES = ("campaigns", "posts", "comments", "campaign_posts", "decisions", "crawl_runs")


@dataclass(frozen=True)
class BackupReport:
    path: Path
    tables: dict[str, int]  # table -> rows
    size_bytes: int


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' "
        "AND NOT temporary ORDER BY table_name",
        [catalog],
    ).fetchall()
    return [r[0] for r in rows]


def _counts(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, int]:
    out = {}
    for table in _tables(con, catalog):
        row = con.execute(f'SELECT count(*) FROM "{catalog}".main."{table}"').fetchone()
        out[table] = int(row[0]) if row else 0
    return out


def _current_catalog(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT current_database()").fetchone()
    assert row is not None
    return str(row[0])


def backup_database(
    db: str | os.PathLike[str] | None, target: str | os.PathLike[str]
) -> BackupReport:
    """Copy the warehouse to ``target`` (a new file; an existing file is refused)."""
    source = resolve_db_path(db)
    dest = Path(target)
    if not source.exists():
        raise UserError(f"No warehouse at {source}: nothing to back up.")
    if dest.exists():
        raise UserError(f"{dest} already exists; choose a new file name for the backup.")
    if dest.resolve() == source.resolve():
        raise UserError("The backup must be a different file from the warehouse.")
    if not dest.parent.is_dir():
        raise UserError(f"The folder {dest.parent} does not exist.")
    partial = dest.with_name(dest.name + ".partial")
    with locked(source) as con:
        con.execute("CHECKPOINT")  # everything in the main file, nothing left in the WAL
        counts = _counts(con, _current_catalog(con))
        shutil.copyfile(source, partial)
    try:
        check = duckdb.connect(str(partial), read_only=True)
        try:
            copied = _counts(check, _current_catalog(check))
        finally:
            check.close()
        if copied != counts:
            raise UserError(f"The backup does not match the warehouse ({copied} != {counts}).")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(dest, counts, dest.stat().st_size)


def _sequence_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(sequence, table, column) for columns whose default is nextval('sequence')."""
    rows = con.execute(
        "SELECT regexp_extract(column_default, 'nextval\\(''([^'']+)''', 1), table_name, "
        "column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND column_default LIKE 'nextval(%'"
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows if r[0]]


def restore_database(
    db: str | os.PathLike[str] | None,
    source: str | os.PathLike[str],
    *,
    force: bool = False,
    actor: str = "admin",
) -> BackupReport:
    """Replace the warehouse's rows with those of the backup at ``source``."""
    backup = Path(source)
    target = resolve_db_path(db)
    if not backup.is_file():
        raise UserError(f"No backup file at {backup}.")
    if target.exists() and backup.resolve() == target.resolve():
        raise UserError("Cannot restore the warehouse from itself.")
    # Check the backup before touching the warehouse.
    try:
        probe = duckdb.connect(str(backup), read_only=True)
    except duckdb.Error as exc:
        first = (str(exc).strip().splitlines() or ["unreadable"])[0]
        raise UserError(f"{backup} is not a tagdraw backup: {first}") from None
    try:
        catalog = _current_catalog(probe)
        wanted = _counts(probe, catalog)
        if "schema_migrations" not in wanted:
            raise UserError(f"{backup} is not a tagdraw backup (no schema_migrations table).")
        backup_versions = {
            r[0] for r in probe.execute("SELECT version FROM schema_migrations").fetchall()
        }
    finally:
        probe.close()

    with locked(target) as con:
        live = _current_catalog(con)
        ours = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
        newer = sorted(backup_versions - ours)
        if newer:
            raise UserError(
                f"{backup} comes from a newer tagdraw (migrations {newer} unknown here); upgrade first."
            )
        live_counts = _counts(con, live)
        held = {t: n for t, n in live_counts.items() if t in CORE_TABLES and n}
        if held and not force:
            summary = ", ".join(f"{t} {n}" for t, n in sorted(held.items()))
            raise UserError(
                f"The warehouse {target} is not empty ({summary}); restore would replace it. "
                "Back it up first, then use --force."
            )
        con.execute(f"ATTACH '{str(backup.resolve())!s}' AS tagdraw_backup (READ_ONLY)")
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                tables = [t for t in _tables(con, live) if t != "schema_migrations"]
                backup_tables = set(_tables(con, "tagdraw_backup"))
                for table in tables:
                    con.execute(f'DELETE FROM "{table}"')
                    if table not in backup_tables:
                        continue
                    columns = [
                        r[0]
                        for r in con.execute(
                            "SELECT a.column_name FROM duckdb_columns() a JOIN duckdb_columns() b "
                            "ON a.column_name = b.column_name AND a.table_name = b.table_name "
                            "WHERE a.database_name = ? AND b.database_name = 'tagdraw_backup' "
                            "AND a.table_name = ? AND a.schema_name = 'main' "
                            "AND b.schema_name = 'main' ORDER BY a.column_index",
                            [live, table],
                        ).fetchall()
                    ]
                    cols = ", ".join(f'"{c}"' for c in columns)
                    con.execute(
                        f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM tagdraw_backup.main."{table}"'
                    )
                # Move each id sequence past the restored ids so new rows do not collide.
                for sequence, table, column in _sequence_columns(con):
                    row = con.execute(
                        f'SELECT coalesce(max("{column}"), 0) FROM "{table}"'
                    ).fetchone()
                    top = int(row[0]) if row else 0
                    if top > 0:
                        con.execute(
                            f"SELECT max(nextval('{sequence}')) FROM range({top})"
                        ).fetchall()
                restored = _counts(con, live)
                for table in tables:
                    expected = wanted.get(table, 0)
                    if restored.get(table, 0) != expected:
                        raise UserError(
                            f"Restore check failed for {table}: {restored.get(table)} rows, "
                            f"backup has {expected}; nothing was changed."
                        )
                audit(con, actor, "restore", None, source=str(backup), forced=force, replaced=held)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.execute("DETACH tagdraw_backup")
        counts = _counts(con, live)
    return BackupReport(target, counts, target.stat().st_size)
