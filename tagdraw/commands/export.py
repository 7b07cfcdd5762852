"""``tagdraw export ...``: a thin call into warehouse.exports."""

from __future__ import annotations

import argparse
import sys

from warehouse import exports
from warehouse.db import connect
from warehouse.errors import UserError


def _export(args: argparse.Namespace) -> int:
    fmt = args.format or exports.FORMATS[args.what][0]
    if fmt not in exports.FORMATS[args.what]:
        raise UserError(
            f"{args.what} can be exported as {', '.join(exports.FORMATS[args.what])}, not {fmt!r}"
        )
    with connect(args.db, read_only=True) as con:
        report = exports.load_report(con, args.slug)
    if args.out == "-":
        sys.stdout.buffer.write(exports.render(report, args.what, fmt))
        return 0
    target = exports.write_export(report, args.what, fmt, args.out)
    print(f"Wrote {args.what} ({fmt}) to {target}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``export`` to the ``tagdraw`` parser."""
    p = sub.add_parser(
        "export",
        help="winner list, entry list, certificate or announcement to a file",
        description="Export a campaign's results. Formats: "
        + "; ".join(f"{w}: {', '.join(f)}" for w, f in exports.FORMATS.items()),
    )
    p.add_argument("slug", metavar="SLUG")
    p.add_argument("--what", required=True, choices=tuple(exports.FORMATS))
    p.add_argument(
        "--format",
        choices=sorted({f for fs in exports.FORMATS.values() for f in fs}),
        help="default: the first format listed for --what",
    )
    p.add_argument("--out", required=True, metavar="PATH", help="file to write ('-': stdout)")
    p.set_defaults(func=_export)
