"""``tagdraw publish SLUG --out DIR``: a thin call into warehouse.publish."""

from __future__ import annotations

import argparse

from warehouse.publish import describe, publish


def _publish(args: argparse.Namespace) -> int:
    path, site = publish(args.db, args.slug, args.out)
    summary = describe(site)
    counts = ", ".join(
        f"{summary.get(key, 0)} {key.replace('_', ' ')}"
        for key in ("counted", "not_counted", "pending")
    )
    print(f"Published {args.slug} ({summary['state']}): {summary['entries']} entries ({counts})")
    print(f"Site written to {path}/index.html")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``publish`` to the ``tagdraw`` parser."""
    parser = sub.add_parser(
        "publish",
        help="write the public results site (entries, pool, certificate, in-browser check)",
    )
    parser.add_argument("slug", metavar="SLUG")
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="directory to (re)write: index.html, entries.json, pool.csv, certificate.json",
    )
    parser.set_defaults(func=_publish)
