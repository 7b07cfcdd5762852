"""``tagdraw draw ...``: thin calls into warehouse.draw; ``draw run`` then has the crawler
fetch the winners' posts again (scraper.crawl.verify_posts)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from warehouse import draw
from warehouse.db import connect
from warehouse.errors import TagdrawError, UserError
from warehouse.files import atomic_write_bytes
from warehouse.thai import BANGKOK, parse_user_datetime


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a bare container
        return "admin"


def _actor(args: argparse.Namespace) -> str:
    actor = (args.actor or "").strip()
    if not actor:
        raise UserError("--actor cannot be empty")
    return actor


def _add_actor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor",
        default=_default_actor(),
        help="who does this, for the audit log (default: the OS user name)",
    )


def _freeze(args: argparse.Namespace) -> int:
    due = parse_user_datetime(args.randomness_due)
    with connect(args.db) as con:
        pool = draw.freeze(
            con,
            args.slug,
            actor=_actor(args),
            randomness_source=args.randomness_source,
            randomness_due=due,
            randomness_values=args.value_count,
            randomness_digits=args.value_digits,
            source_preset=args.source_preset,
            leave_out_undecided=args.leave_out_undecided,
            accept_unverified=args.accept_unverified,
        )
    print(f"Frozen {args.slug}: {pool.pool_size} eligible entries, pool_hash {pool.pool_hash}")
    print(f"Randomness: {pool.randomness_source}, due {pool.randomness_due.isoformat()}")
    if pool.left_out:
        print(f"Left out (undecided): {', '.join(str(n) for n in pool.left_out)}")
    _print_unverified(pool.unverified_entries, indent="")
    print("Publish the pool_hash and the randomness source now, before the value is known.")
    return 0


def _print_unverified(entries: Sequence[Mapping[str, Any]], *, indent: str) -> None:
    if not entries:
        return
    print(
        f"{indent}In the pool although not seen live since the close (accepted by "
        f"{entries[0]['accepted_by']}: {entries[0]['reason']}): "
        + ", ".join(f"{e['post_number']} ({e['state']})" for e in entries)
    )


def _print_winner_problems(problems: Sequence[draw.WinnerProblem], slug: str) -> None:
    if not problems:
        return
    print("Winners that need a decision (their post is gone or changed after the close):")
    for problem in problems:
        print(f"  prize {problem.prize_rank}, post {problem.post_number}: {problem.detail}")
    print(f"  (check each post; replace with: tagdraw draw replace {slug} POST --reason TEXT)")


def _recheck_winners(args: argparse.Namespace, post_numbers: Sequence[int]) -> str | None:
    """Fetch each winner's post again right after the draw, so that a winner deleted or
    edited after the close shows up in :func:`draw.winner_problems` (printed next, on the
    Draw page and by ``draw show``). None when done, else why it could not be."""
    from scraper.crawl import verify_posts

    try:
        summary = verify_posts(args.db, args.slug, post_numbers)
    except TagdrawError as exc:  # the site unreachable, a crawl of the campaign running, ...
        return str(exc)
    return None if summary.exit_code == 0 else f"the verify crawl ended {summary.status}"


def _unfreeze(args: argparse.Namespace) -> int:
    with connect(args.db) as con:
        voided = draw.unfreeze(con, args.slug, actor=_actor(args), reason=args.reason)
    if voided is not None:
        print(f"Unfrozen {args.slug}: pool {voided.pool_hash} and its announcement are void.")
    else:
        print(f"Unfrozen {args.slug}.")
    return 0


def _run(args: argparse.Namespace) -> int:
    if bool(args.randomness) == bool(args.value):
        raise UserError("give the published value(s): either --randomness '123456/' or --value V")
    randomness: str | list[str] = args.randomness if args.randomness else list(args.value)
    published = parse_user_datetime(args.published_at) if args.published_at else None
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.exists():
        raise UserError(f"no directory {out.parent} for the certificate")
    if out is not None and out.is_dir():  # refused before the draw, not after it
        raise UserError(f"{out} is a folder; give a file name for the certificate")
    with connect(args.db) as con:
        cert = draw.run_draw(
            con,
            args.slug,
            randomness=randomness,
            actor=_actor(args),
            sources_published_at=published,
        )
    text = draw.certificate_json(cert)
    if out is not None:
        atomic_write_bytes(out, text.encode("utf-8"))
    recheck_failed = (
        None
        if args.no_recheck
        else _recheck_winners(args, [n for n in draw.current_winners(cert) if n is not None])
    )
    with connect(args.db, read_only=True) as con:
        problems = draw.winner_problems(con, args.slug)
    _print_result(cert)
    for voided in cert.get("voided_pools", []):
        print(
            f"  voided pool {voided['pool_hash']} ({voided['randomness_source']}, due "
            f"{voided['randomness_due']}) voided by {voided['voided_by']}: {voided['void_reason']}"
        )
    if out is not None:
        print(f"Certificate written to {out}; check it with: tagdraw draw verify {out}")
    _print_winner_problems(problems, args.slug)
    if recheck_failed is not None:
        print(
            f"tagdraw: the draw is done, but the winners' posts were not all fetched again "
            f"({recheck_failed}); run `tagdraw crawl {args.slug} --verify`, then "
            f"`tagdraw draw show {args.slug}`",
            file=sys.stderr,
        )
        return 1
    return 0


def _print_result(cert: dict[str, Any]) -> None:
    print(
        f"Draw {cert['campaign']}: pool_hash {cert['pool_hash']}, randomness {cert['randomness']!r}"
    )
    for rank, number in enumerate(draw.current_winners(cert), start=1):
        print(f"  prize {rank}: {number if number is not None else 'vacant'}")
    for index, number in enumerate(cert["alternate_list"], start=1):
        print(f"  alternate {index}: {number}")
    for item in cert.get("replacements", []):
        print(
            f"  replaced: prize {item['prize_rank']} {item['disqualified']} -> "
            f"{item['replacement']} ({item['reason']})"
        )


def _verify(args: argparse.Namespace) -> int:
    cert = draw.load_certificate(args.certificate)
    result = draw.verify_certificate(cert)
    if result.ok:
        print(
            f"OK: {args.certificate} re-derives ({len(cert['ranking'])} entries, "
            f"winners {cert['winners']}, alternates {cert['alternate_list']}"
            + (f", {len(cert['replacements'])} replacement(s)" if cert["replacements"] else "")
            + ")"
        )
        return 0
    print(f"FAILED: {args.certificate} does not re-derive:", file=sys.stderr)
    for difference in result.differences:
        print(f"  - {difference}", file=sys.stderr)
    return 1


def _replace(args: argparse.Namespace) -> int:
    with connect(args.db) as con:
        cert = draw.replace_winner(
            con, args.slug, args.post_number, reason=args.reason, actor=_actor(args)
        )
    item = cert["replacements"][-1]
    if item["replacement"] is None:
        print(f"Post {item['disqualified']} lost prize {item['prize_rank']}; no alternate left.")
    else:
        print(
            f"Post {item['disqualified']} lost prize {item['prize_rank']}; "
            f"alternate {item['replacement']} takes it."
        )
    if args.out:
        atomic_write_bytes(args.out, draw.certificate_json(cert).encode("utf-8"))
        print(f"Updated certificate written to {args.out}")
    return 0


def _show(args: argparse.Namespace) -> int:
    with connect(args.db, read_only=True) as con:
        status = draw.draw_status(con, args.slug)
    if args.json:
        print(
            json.dumps(
                {
                    "campaign": status.campaign_slug,
                    "frozen_at": status.frozen_at.isoformat() if status.frozen_at else None,
                    "pool": status.pool.to_json() if status.pool else None,
                    "voided": [p.to_json() for p in status.voided],
                    "certificate": status.certificate,
                    "winner_problems": [p.as_json() for p in status.winner_problems],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(f"Campaign {status.campaign_slug}")
    for pool in status.voided:
        print(
            f"  voided pool {pool.pool_hash[:16]}... frozen {pool.frozen_at:%Y-%m-%d %H:%M} "
            f"by {pool.frozen_by}; voided by {pool.voided_by}: {pool.void_reason}"
        )
    if status.pool is None:
        print("  not frozen" if status.frozen_at is None else "  frozen without a draw pool")
        return 0
    pool = status.pool
    print(f"  pool: {pool.pool_size} entries, pool_hash {pool.pool_hash} ({pool.state})")
    print(f"  frozen {pool.frozen_at.astimezone(BANGKOK):%Y-%m-%d %H:%M} by {pool.frozen_by}")
    print(f"  randomness: {pool.randomness_source}, due {pool.randomness_due.isoformat()}")
    if pool.left_out:
        print(f"  left out (undecided): {', '.join(str(n) for n in pool.left_out)}")
    _print_unverified(pool.unverified_entries, indent="  unverified: ")
    if status.certificate is None:
        print("  the draw has not run")
    else:
        _print_result(status.certificate)
        _print_winner_problems(status.winner_problems, status.campaign_slug)
    return 0


def _post_number(text: str) -> int:
    try:
        value = int(text) if len(text) <= 20 else -1
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:30]!r} is not a post number") from None
    if not 1 <= value <= draw.MAX_POST_NUMBER:
        raise argparse.ArgumentTypeError(f"{text[:30]!r} is not a post number")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``draw`` to the ``tagdraw`` parser."""
    parser = sub.add_parser(
        "draw",
        help="freeze the pool, run the verifiable draw, verify or replace",
        description="The draw (tagdraw-draw-v1): freeze, run, verify, replace, show.",
    )
    actions = parser.add_subparsers(dest="draw_command", metavar="ACTION", required=True)

    p = actions.add_parser(
        "freeze",
        help="freeze the pool of eligible entries and announce the randomness source",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="source presets (--source-preset NAME):\n"
        + "\n".join(f"  {x.name}: {x.description}" for x in draw.SOURCE_PRESETS.values()),
    )
    p.add_argument("slug", metavar="SLUG")
    p.add_argument(
        "--randomness-source",
        required=True,
        metavar="TEXT",
        help="the public value that will seed the draw, e.g. 'Thai Government Lottery first "
        "prize, 1 September 2013'",
    )
    p.add_argument(
        "--randomness-due",
        required=True,
        metavar="DATE",
        help="when that value is published: YYYY-MM-DD[THH:MM] (Asia/Bangkok); must be future",
    )
    p.add_argument(
        "--source-preset",
        metavar="NAME",
        help="a known source that fixes the value format (listed below), instead of "
        "--value-count/--value-digits",
    )
    p.add_argument(
        "--value-count",
        type=int,
        metavar="N",
        help="how many published values the draw takes (default 1); the draw refuses any other "
        "count",
    )
    p.add_argument(
        "--value-digits",
        type=int,
        metavar="D",
        help="each value is exactly D digits (e.g. 6 for the lottery first prize); required "
        "unless --source-preset gives it; the draw refuses any other format",
    )
    p.add_argument(
        "--leave-out-undecided",
        action="store_true",
        help="confirm that entries still undecided are left out of the draw",
    )
    p.add_argument(
        "--accept-unverified",
        metavar="REASON",
        help="freeze although some entries have not been seen live since the campaign closed "
        "(run `tagdraw crawl SLUG --verify` first); the reason is logged and printed in the "
        "certificate and the announcement",
    )
    _add_actor(p)
    p.set_defaults(func=_freeze)

    p = actions.add_parser(
        "unfreeze",
        help="unlock decisions (logged; voids the announcement); refused once the value is due",
    )
    p.add_argument("slug", metavar="SLUG")
    p.add_argument("--reason", required=True, metavar="TEXT")
    _add_actor(p)
    p.set_defaults(func=_unfreeze)

    p = actions.add_parser("run", help="run the draw with the published value(s)")
    p.add_argument("slug", metavar="SLUG")
    p.add_argument("--randomness", metavar="STRING", help="the randomness string, e.g. '123456/'")
    p.add_argument(
        "--value",
        action="append",
        default=[],
        metavar="V",
        help="a published value (repeat, in the announced order)",
    )
    p.add_argument(
        "--published-at", metavar="DATE", help="when the value(s) were published (optional)"
    )
    p.add_argument("--out", metavar="CERT.json", help="write the certificate here")
    p.add_argument(
        "--no-recheck",
        action="store_true",
        help="do not fetch the winners' posts again after the draw (the site cannot be "
        "reached from here); then run `tagdraw crawl SLUG --verify` and `draw show` elsewhere",
    )
    _add_actor(p)
    p.set_defaults(func=_run)

    p = actions.add_parser(
        "verify", help="re-derive a certificate from itself alone (no warehouse needed)"
    )
    p.add_argument("certificate", metavar="CERT.json")
    p.set_defaults(func=_verify)

    p = actions.add_parser(
        "replace", help="disqualify a winner; the next alternate takes the prize"
    )
    p.add_argument("slug", metavar="SLUG")
    p.add_argument("post_number", metavar="POST_NUMBER", type=_post_number)
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.add_argument("--out", metavar="CERT.json", help="write the updated certificate here")
    _add_actor(p)
    p.set_defaults(func=_replace)

    p = actions.add_parser("show", help="the pool, the announcement and the draw's result")
    p.add_argument("slug", metavar="SLUG")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_show)
