"""Backup, restore and check of the whole warehouse.

``backup`` checkpoints the file while holding its lock and copies it byte for byte, then
reads every table of the copy back in full (DuckDB checks each block it reads) and
compares the row counts; only then does the copy get its name. ``restore`` reads the
backup in full the same way, then loads it INTO the live file in one transaction (so a
crash leaves the old data intact and no process ever sees a half-written file), refusing
to overwrite a warehouse that holds data unless forced, and checks the row counts before
committing. ``check_database`` reads the live warehouse in full.
"""

from __future__ import annotations

import os
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.audit import audit
from warehouse.db import locked, resolve_db_path
from warehouse.errors import CorruptWarehouse, UserError, first_line, is_corruption
from warehouse.files import atomic_output

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


@dataclass(frozen=True)
class CheckReport:
    path: Path
    tables: dict[str, int]  # table -> rows read back
    problems: list[str]  # one line each: "table: what went wrong"


def read_every_table(
    con: duckdb.DuckDBPyConnection, catalog: str
) -> tuple[dict[str, int], list[str]]:
    """Read every row of every table, value by value, as a reader of the data would:
    DuckDB verifies each block's checksum as it loads it, and each value is decoded
    (damaged text fails there). ``con`` must not be inside a transaction: a table that
    fails must not stop the others from being read. Returns the rows read per table and
    one line per problem."""
    tables: dict[str, int] = {}
    problems: list[str] = []
    for table in _tables(con, catalog):
        name = f'"{catalog}".main."{table}"'
        try:
            row = con.execute(f"SELECT count(*) FROM {name}").fetchone()
            expected = int(row[0]) if row else 0
            cursor = con.execute(f"SELECT * FROM {name}")
            read = 0
            while batch := cursor.fetchmany(2048):
                read += len(batch)
        except duckdb.Error as exc:
            problems.append(f"{table}: {first_line(exc)}")
            continue
        if read != expected:
            problems.append(f"{table}: {read} rows read back, the table counts {expected}")
        tables[table] = read
    return tables, problems


def check_database(db: str | os.PathLike[str] | None) -> CheckReport:
    """Read the live warehouse in full (holding its lock); ``problems`` lists what failed."""
    path = resolve_db_path(db)
    if not path.is_file():
        raise UserError(f"No warehouse at {path}: nothing to check.")
    with ExitStack() as stack:
        try:
            con = stack.enter_context(locked(path))
        except UserError as exc:  # the file is there, not locked, and DuckDB cannot open it
            return CheckReport(path, {}, [f"(opening the file): {first_line(exc)}"])
        except duckdb.Error as exc:
            if not is_corruption(exc):
                raise
            return CheckReport(path, {}, [f"(opening the file): {first_line(exc)}"])
        tables, problems = read_every_table(con, _current_catalog(con))
    return CheckReport(path, tables, problems)


def _corrupt(what: str, problems: list[str], consequence: str) -> CorruptWarehouse:
    shown = "; ".join(problems[:3])
    if len(problems) > 3:
        shown += f"; and {len(problems) - 3} more"
    return CorruptWarehouse(f"{what} is corrupt ({shown}); {consequence}.")


def backup_database(
    db: str | os.PathLike[str] | None, target: str | os.PathLike[str]
) -> BackupReport:
    """Copy the warehouse to ``target`` (a new file; an existing file is refused), read
    the copy back in full, and only then give it its name. A warehouse that cannot be
    read back is ``CorruptWarehouse``; a full disk is ``StorageError``; either way no file
    is left behind."""
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
    # 0600: the warehouse holds the dashboard's password hashes.
    with atomic_output(dest, overwrite=False, mode=0o600) as partial:
        with locked(source) as con:
            con.execute("CHECKPOINT")  # everything in the main file, nothing left in the WAL
            counts = _counts(con, _current_catalog(con))
            shutil.copyfile(source, partial)
        check = duckdb.connect(str(partial), read_only=True)
        try:
            copied, problems = read_every_table(check, _current_catalog(check))
        finally:
            check.close()
        if problems:
            raise _corrupt(
                f"The warehouse {source}",
                problems,
                "no backup was written; run `tagdraw check` and restore an older backup",
            )
        if copied != counts:
            raise UserError(f"The backup does not match the warehouse ({copied} != {counts}).")
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
    # Check the backup, reading it in full, before touching the warehouse.
    try:
        probe = duckdb.connect(str(backup), read_only=True)
    except duckdb.Error as exc:
        raise UserError(f"{backup} is not a tagdraw backup: {first_line(exc)}") from None
    try:
        catalog = _current_catalog(probe)
        if "schema_migrations" not in _tables(probe, catalog):
            raise UserError(f"{backup} is not a tagdraw backup (no schema_migrations table).")
        wanted, problems = read_every_table(probe, catalog)
        if problems:
            raise _corrupt(f"The backup {backup}", problems, "nothing was restored")
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
        # The path is a bound value, never SQL text (a quote in it is just a quote).
        con.execute("ATTACH ? AS tagdraw_backup (READ_ONLY)", [str(backup.resolve())])
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
