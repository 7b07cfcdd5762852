"""``tagdraw backup``, ``tagdraw restore`` and ``tagdraw check``: thin calls into
warehouse.backup."""

from __future__ import annotations

import argparse

from tagdraw.commands.common import cli_actor
from warehouse.backup import backup_database, check_database, restore_database
from warehouse.errors import CorruptWarehouse


def _cmd_backup(args: argparse.Namespace) -> int:
    report = backup_database(args.db, args.path)
    total = sum(report.tables.values())
    print(
        f"Backed up {total} rows in {len(report.tables)} tables to {report.path} "
        "(verified: every row read back)"
    )
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    report = check_database(args.db)
    for problem in report.problems:
        print(problem)
    if report.problems:
        raise CorruptWarehouse(
            f"The warehouse {report.path} is corrupt: {len(report.problems)} problem(s) above; "
            "restore a verified backup (`tagdraw restore PATH --force`)."
        )
    total = sum(report.tables.values())
    print(f"OK: {total} rows in {len(report.tables)} tables of {report.path} read back in full")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    report = restore_database(args.db, args.path, force=args.force, actor=cli_actor())
    total = sum(report.tables.values())
    print(f"Restored {report.path} from {args.path}: {total} rows in {len(report.tables)} tables")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``backup``, ``restore`` and ``check`` to the ``tagdraw`` parser."""
    backup = sub.add_parser("backup", help="copy the warehouse to a file")
    backup.add_argument("path", metavar="PATH", help="the new backup file")
    backup.set_defaults(func=_cmd_backup)

    restore = sub.add_parser("restore", help="load a backup into the warehouse (asks for --force)")
    restore.add_argument("path", metavar="PATH", help="a file made by `tagdraw backup`")
    restore.add_argument(
        "--force", action="store_true", help="replace a warehouse that already holds data"
    )
    restore.set_defaults(func=_cmd_restore)

    check = sub.add_parser(
        "check", help="read every table of the warehouse in full; exit 1 if it is corrupt"
    )
    check.set_defaults(func=_cmd_check)
