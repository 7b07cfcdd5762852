"""The public results site: what every entrant may see, and the draw re-derived in a browser.

:func:`public_data` reads the warehouse (in the caller's transaction) and returns only what a
campaign publishes: its settings, the state of the draw, and one row per candidate entry with
a public status and reason. Moderator names, notes and unreleased suggestions never enter it.
:func:`render_page` turns that into one self-contained ``index.html`` (script, style and data
inline, locked down by a Content-Security-Policy that names the hashes of its own script and
style), and :func:`write_site` writes the directory atomically.

The page's code is package data beside this module (``publish_page.html``/``.js``/``.css``);
the page implements tagdraw-draw-v1's verification with WebCrypto only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from warehouse import crawl_ledger, rules
from warehouse.campaigns import Campaign, get_campaign
from warehouse.draw import certificate_json, current_pool, get_certificate
from warehouse.entries import Entry, list_entries
from warehouse.errors import UserError
from warehouse.logs import kv
from warehouse.thai import BANGKOK, format_thai_date

log = logging.getLogger("tagdraw.publish")
PUBLIC_FORMAT = "tagdraw-public-v1"
PAGE_FILES = ("publish_page.html", "publish_page.js", "publish_page.css")
# Public statuses: the test contract's data-status values.
COUNTED, NOT_COUNTED, PENDING = "counted", "not_counted", "pending"
# Decision reason codes (warehouse.rules.reason_codes) are shown as they are; anything
# else is published as 'other' (its note stays private).
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def public_date(value: datetime | None) -> dict[str, str] | None:
    """A time as the page shows it: ISO (Asia/Bangkok), Thai with a Buddhist-era year, and
    English with the common era."""
    if value is None:
        return None
    local = value.astimezone(BANGKOK)
    english = f"{local.day} {_EN_MONTHS[local.month - 1]} {local.year} {local:%H:%M}"
    return {"iso": local.isoformat(), "th": format_thai_date(local), "en": english}


def public_status(
    entry: Entry, pool_numbers: frozenset[int] | None
) -> tuple[str, str | None, int | None]:
    """(status, public reason code, duplicate_of) of one entry.

    Before the freeze the status follows the current decision. Once a pool is frozen it is
    the truth: an entry is counted only if it is in the pool (and not disqualified since); an
    entry still undecided at the freeze was left out."""
    decision = entry.decision
    status = entry.status
    if pool_numbers is not None:
        if entry.post_number in pool_numbers:
            if status == "eligible":
                return COUNTED, None, None
            return NOT_COUNTED, "disqualified", None
        if status == "pending":
            return NOT_COUNTED, "left_out_undecided", None
        if status == "eligible":  # eligible only after the freeze: not in this draw
            return NOT_COUNTED, "not_in_pool", None
    if status == "eligible":
        return COUNTED, None, None
    if status == "pending":
        return PENDING, None, None
    reason = decision.reason if decision else None
    if status in ("duplicate", "spam") and reason in (None, "other"):
        reason = status
    if reason not in rules.reason_codes():
        reason = "other"
    duplicate_of = decision.duplicate_of if decision and reason == "duplicate" else None
    return NOT_COUNTED, reason, duplicate_of


def _post_url(campaign: Campaign, entry: Entry) -> str:
    # Built from the campaign's validated http(s) site URL, never from scraped text.
    return f"{campaign.site_url.rstrip('/')}/posts/{int(entry.post_number)}"


def _last_crawl(con: Any, slug: str) -> datetime | None:
    finished = crawl_ledger.last_finished_at(con, slug)
    return finished.astimezone(BANGKOK) if finished else None


@dataclass(frozen=True)
class PublicSite:
    """Everything the site holds: the public data, and the pool and certificate texts."""

    data: dict[str, Any]
    pool_text: str | None  # after the freeze
    certificate: dict[str, Any] | None  # after the draw

    @property
    def state(self) -> str:
        return str(self.data["state"])


def public_data(con: Any, slug: str, *, now: datetime | None = None) -> PublicSite:
    """What the campaign publishes (in the caller's transaction); no moderator names, notes
    or suggestions."""
    campaign = get_campaign(con, slug)
    pool = current_pool(con, slug)
    certificate = get_certificate(con, slug)
    pool_numbers = None
    if pool is not None:
        pool_numbers = frozenset(
            int(line.split(",", 1)[0]) for line in pool.pool_text.splitlines()[1:] if line
        )
    entries = []
    for entry in list_entries(con, slug):
        status, reason, duplicate_of = public_status(entry, pool_numbers)
        entries.append(
            {
                "post_number": int(entry.post_number),
                "url": _post_url(campaign, entry),
                "title": entry.title or "",
                "author_name": entry.author_name or "",
                "created_at": public_date(entry.created_at),
                "status": status,
                "reason": reason,
                "duplicate_of": duplicate_of,
            }
        )
    state = "drawn" if certificate else ("frozen" if pool is not None else "collecting")
    data: dict[str, Any] = {
        "format": PUBLIC_FORMAT,
        "generated_at": public_date(now or datetime.now(BANGKOK)),
        "campaign": {
            "slug": campaign.slug,
            "title": campaign.title or campaign.slug,
            "keywords": list(campaign.keywords),
            "opens_at": public_date(campaign.opens_at),
            "closes_at": public_date(campaign.closes_at),
            "prizes": campaign.prizes,
            "prize_description": campaign.prize_description,
            "alternates": campaign.alternates,
            "one_prize_per_author": campaign.one_prize_per_author,
            "max_entries_per_author": campaign.max_entries_per_author,
            "site_url": campaign.site_url,
            "contact_text": campaign.contact_text,
            "contact_url": campaign.contact_url,
        },
        "last_crawl_at": public_date(_last_crawl(con, slug)),
        "state": state,
        "pool": None,
        "draw": None,
        "entries": entries,
    }
    if pool is not None:
        data["pool"] = {
            "pool_hash": pool.pool_hash,
            "pool_size": pool.pool_size,
            "randomness_source": pool.randomness_source,
            "randomness_due": public_date(pool.randomness_due),
            "frozen_at": public_date(pool.frozen_at),
        }
    if certificate is not None:
        created = certificate.get("created_at")
        data["draw"] = {
            "randomness": certificate.get("randomness"),
            "ran_at": public_date(datetime.fromisoformat(created)) if created else None,
            "winners": certificate.get("winners"),
            "final_winners": certificate.get("final_winners", certificate.get("winners")),
            "alternate_list": certificate.get("alternate_list"),
            # Who replaced whom and why (the certificate's own record, without who did it).
            "replacements": [
                {k: item.get(k) for k in ("prize_rank", "disqualified", "replacement", "reason")}
                for item in certificate.get("replacements", [])
            ],
        }
    return PublicSite(data, pool.pool_text if pool else None, certificate)


# --- the page ---------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files("warehouse").joinpath(name).read_text(encoding="utf-8")


def embed_json(value: Any) -> str:
    """JSON safe inside a <script type="application/json"> element: no '<', '>' or '&' can
    close the element or start markup, whatever the titles hold."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _csp_hash(text: str) -> str:
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


def render_page(site: PublicSite) -> str:
    """The whole index.html: data, certificate, script and style inline (a page opened from
    file:// cannot read the files beside it). The CSP allows only this script and style."""
    script = _asset("publish_page.js")
    style = _asset("publish_page.css")
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_csp_hash(script)}",
            f"style-src {_csp_hash(style)}",
            "img-src 'none'",
            "connect-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    page = _asset("publish_page.html")
    replacements = {
        "{{CSP}}": csp,
        "{{STYLE}}": style,
        "{{SCRIPT}}": script,
        "{{DATA}}": embed_json(site.data),
        "{{CERTIFICATE}}": embed_json(site.certificate),
        "{{POOL}}": embed_json(site.pool_text),
    }
    markers = re.findall(r"\{\{[A-Z]+\}\}", page)
    if sorted(markers) != sorted(replacements):
        raise RuntimeError(f"the page template's markers {markers} are not {list(replacements)}")
    # One pass, so a value can never be mistaken for a later marker.
    return re.sub(r"\{\{[A-Z]+\}\}", lambda m: replacements[m.group(0)], page)


def site_files(site: PublicSite) -> dict[str, bytes]:
    """File name -> bytes of the published directory."""
    files = {
        "index.html": render_page(site).encode("utf-8"),
        "entries.json": (json.dumps(site.data, ensure_ascii=False, indent=1) + "\n").encode(),
    }
    if site.pool_text is not None:
        files["pool.csv"] = site.pool_text.encode("utf-8")
    if site.certificate is not None:
        files["certificate.json"] = certificate_json(site.certificate).encode("utf-8")
    return files


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one step (Linux renameat2 RENAME_EXCHANGE); False where the
    system cannot."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def write_site(site: PublicSite, out: str | os.PathLike[str]) -> Path:
    """Write the site to ``out`` atomically: a complete copy is built beside it and swapped
    in, so a visitor (or a static host syncing the folder) never sees a half-written site.
    ``out`` must be missing, empty, or a site written before (it holds index.html)."""
    target = Path(out).expanduser().absolute()
    parent = target.parent
    if not parent.is_dir():
        raise UserError(f"no directory {parent} to publish into")
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise UserError(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not (target / "index.html").is_file():
        raise UserError(
            f"{target} holds files but no index.html: not a published site, so it is not "
            "replaced (choose an empty or new directory)"
        )
    files = site_files(site)  # everything rendered before anything is written
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=parent))
    try:
        for name, content in files.items():
            with open(staging / name, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        staging.chmod(0o755)
        if not target.exists():
            os.rename(staging, target)
        elif _exchange(staging, target):
            shutil.rmtree(staging, ignore_errors=True)  # now holds the previous site
        else:
            # No atomic exchange here: the site is missing only between these two renames.
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
            old.rmdir()
            os.rename(target, old)
            try:
                os.rename(staging, target)
            except OSError:
                os.rename(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def publish(
    db_path: str | os.PathLike[str] | None, slug: str, out: str | os.PathLike[str]
) -> tuple[Path, PublicSite]:
    """Read the public data in one short read-only transaction, then write the site (no
    connection is held while writing)."""
    from warehouse.db import run

    site = run(lambda con: public_data(con, slug), db_path, read_only=True)
    return write_site(site, out), site


def publish_after_crawls(
    db_path: str | os.PathLike[str] | None,
    slugs: Iterable[str],
    publish_dir: str | os.PathLike[str],
) -> dict[str, Path | str]:
    """Refresh each campaign's site at ``publish_dir/SLUG`` (for ``tagdraw schedule
    --publish-dir``). Never raises: a failure is logged and returned as its message, so a
    publishing problem never stops the crawls."""
    done: dict[str, Path | str] = {}
    for slug in dict.fromkeys(slugs):
        try:
            path, site = publish(db_path, slug, Path(publish_dir) / slug)
        except Exception as exc:
            done[slug] = f"{type(exc).__name__}: {exc}"
            log.error(
                "publish failed %s",
                kv(campaign=slug, error=done[slug]),
                exc_info=not isinstance(exc, UserError),
            )
            continue
        done[slug] = path
        log.info("published %s", kv(campaign=slug, state=site.state, path=path))
    return done


def describe(site: PublicSite) -> Mapping[str, Any]:
    """Counts for a one-line summary."""
    counts: dict[str, int] = {}
    for entry in site.data["entries"]:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    return {"state": site.state, "entries": len(site.data["entries"]), **counts}
