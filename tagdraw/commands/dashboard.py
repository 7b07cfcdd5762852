"""``tagdraw dashboard``: the moderation dashboard in a Streamlit subprocess."""

from __future__ import annotations

import argparse
import signal
import subprocess

from dashboard.launch import dashboard_command
from warehouse import users
from warehouse.db import resolve_db_path, run
from warehouse.errors import UserError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dashboard`` to the ``tagdraw`` parser."""
    dash = sub.add_parser("dashboard", help="start the moderation dashboard (Streamlit)")
    dash.add_argument("--port", type=int, default=None, help="default 8501")
    dash.add_argument("--host", default="127.0.0.1", help="address to listen on")
    dash.add_argument(
        "--demo-mode",
        action="store_true",
        help="no sign-in: everyone who can reach the port is an admin (local demos only)",
    )
    dash.set_defaults(func=cmd_dashboard)


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
