"""``tagdraw user ...``: thin calls into warehouse.users (the dashboard's accounts)."""

from __future__ import annotations

import argparse
import getpass
import sys

from tagdraw.commands.common import cli_actor
from warehouse import users
from warehouse.db import run
from warehouse.errors import UserError
from warehouse.thai import format_thai_date


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``user`` to the ``tagdraw`` parser."""
    user = sub.add_parser("user", help="manage dashboard accounts")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    add = user_sub.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=users.ROLES)
    add.add_argument("--name", default=None, help="display name (e.g. ชื่อ นามสกุล)")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (for scripts)",
    )
    add.set_defaults(func=cmd_user_add)

    remove = user_sub.add_parser("remove", help="delete an account (its history stays)")
    remove.add_argument("username")
    remove.set_defaults(func=cmd_user_remove)

    passwd = user_sub.add_parser("passwd", help="set a new password")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(func=cmd_user_passwd)

    role = user_sub.add_parser("role", help="change an account's role")
    role.add_argument("username")
    role.add_argument("role", choices=users.ROLES)
    role.set_defaults(func=cmd_user_role)

    listing = user_sub.add_parser("list", help="list accounts")
    listing.set_defaults(func=cmd_user_list)


def read_password(from_stdin: bool, *, confirm: bool = True) -> str:
    """The password from stdin's first line, or typed twice at a prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UserError("--password-stdin: no password on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserError("no terminal to ask for a password: pass --password-stdin")
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Password again: ") != first:
        raise UserError("the two passwords differ; nothing changed")
    return first


def cmd_user_add(args: argparse.Namespace) -> int:
    name = users.normalise_username(args.username)
    password = read_password(args.password_stdin)
    users.check_password(password)
    user = run(
        lambda con: users.add_user(
            con, name, password, role=args.role, display_name=args.name, actor=cli_actor()
        ),
        args.db,
    )
    print(f"added {user.username} ({user.role})")
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    run(lambda con: users.remove_user(con, args.username, actor=cli_actor()), args.db)
    print(f"removed {args.username.strip().lower()}")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    run(lambda con: users.require_user(con, args.username), args.db)
    password = read_password(args.password_stdin)
    users.check_password(password)
    run(lambda con: users.set_password(con, args.username, password, actor=cli_actor()), args.db)
    print(f"password changed for {args.username.strip().lower()}")
    return 0


def cmd_user_role(args: argparse.Namespace) -> int:
    user = run(
        lambda con: users.set_role(con, args.username, args.role, actor=cli_actor()), args.db
    )
    print(f"{user.username} is now {user.role}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    rows = run(users.list_users, args.db)
    if not rows:
        print("no users yet: tagdraw user add USERNAME --role admin")
        return 0
    print(f"{'username':<20} {'role':<10} {'state':<8} {'last sign-in':<24} name")
    for user in rows:
        last = format_thai_date(user.last_login_at) if user.last_login_at else "-"
        state = "disabled" if user.disabled else "active"
        print(
            f"{user.username:<20} {user.role:<10} {state:<8} {last:<24} {user.display_name or ''}"
        )
    return 0
