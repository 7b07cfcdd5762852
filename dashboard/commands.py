"""``tagdraw user ...`` and ``tagdraw dashboard``: thin calls into warehouse.users and a
Streamlit subprocess."""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import subprocess
import sys
from pathlib import Path

from warehouse import users
from warehouse.db import resolve_db_path, run
from warehouse.errors import UserError
from warehouse.thai import format_thai_date

APP_PATH = Path(__file__).resolve().parent / "app.py"
DEMO_MODE_ENV = "TAGDRAW_DASHBOARD_DEMO_MODE"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``user`` and ``dashboard`` to the ``tagdraw`` parser."""
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

    dash = sub.add_parser("dashboard", help="start the moderation dashboard (Streamlit)")
    dash.add_argument("--port", type=int, default=None, help="default 8501")
    dash.add_argument("--host", default="127.0.0.1", help="address to listen on")
    dash.add_argument(
        "--demo-mode",
        action="store_true",
        help="no sign-in: everyone who can reach the port is an admin (local demos only)",
    )
    dash.set_defaults(func=cmd_dashboard)


def _actor() -> str:
    """Who ran the command, for the audit log."""
    try:
        login = getpass.getuser()
    except Exception:  # no login name in some containers
        login = "unknown"
    return f"cli:{login}"


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
            con, name, password, role=args.role, display_name=args.name, actor=_actor()
        ),
        args.db,
    )
    print(f"added {user.username} ({user.role})")
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    run(lambda con: users.remove_user(con, args.username, actor=_actor()), args.db)
    print(f"removed {args.username.strip().lower()}")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    run(lambda con: users.require_user(con, args.username), args.db)
    password = read_password(args.password_stdin)
    users.check_password(password)
    run(lambda con: users.set_password(con, args.username, password, actor=_actor()), args.db)
    print(f"password changed for {args.username.strip().lower()}")
    return 0


def cmd_user_role(args: argparse.Namespace) -> int:
    user = run(lambda con: users.set_role(con, args.username, args.role, actor=_actor()), args.db)
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


def dashboard_command(
    db_path: Path, *, host: str = "127.0.0.1", port: int = 8501, demo_mode: bool = False
) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` command line and environment for the dashboard (also used by
    the demo command and the end-to-end test)."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "minimal",
    ]
    env = dict(os.environ)
    env["TAGDRAW_DB"] = str(db_path.resolve())
    env[DEMO_MODE_ENV] = "1" if demo_mode else "0"
    # The app imports the project's packages; make them importable from any directory.
    root = str(APP_PATH.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return cmd, env


def cmd_dashboard(args: argparse.Namespace) -> int:
    from warehouse.settings import get_settings

    port = args.port if args.port is not None else get_settings().dashboard_port
    if not 0 < port < 65536:
        raise UserError(f"--port {port}: choose a port between 1 and 65535")
    db_path = resolve_db_path(args.db)
    # Create/migrate the file now so a bad path fails here, as one line.
    try:
        run(users.count_admins, db_path)
    except OSError as exc:
        raise UserError(f"cannot open the warehouse {db_path}: {exc}") from None
    demo = bool(args.demo_mode)
    cmd, env = dashboard_command(db_path, host=args.host, port=port, demo_mode=demo)
    where = f"http://{args.host}:{port}"
    print(f"tagdraw dashboard on {where} (warehouse {db_path})", flush=True)
    if demo:
        print("DEMO MODE: no sign-in; anyone who can reach this address is an admin", flush=True)
    elif run(users.count_admins, db_path) == 0:
        print("no admin account yet: tagdraw user add NAME --role admin (then sign in)", flush=True)
    proc = subprocess.Popen(cmd, env=env)

    def stop(signum: int, frame: object) -> None:  # pass SIGTERM on to Streamlit
        proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        return 0
