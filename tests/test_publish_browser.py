"""The published page in a real Chromium (Playwright through the project's launcher), opened
from file:// with every request that is not file:// aborted: the rows and statuses, search,
the in-browser verification of true and tampered certificates (and that it agrees with
`tagdraw draw verify`), hostile text, Thai first with an English toggle."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route
from test_publish import HOSTILE_NAME, HOSTILE_TITLE, Sites

from warehouse.draw import build_certificate, certificate_json

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@dataclass
class Visit:
    page: Page
    context: BrowserContext
    outside_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def visit(browser: Browser) -> Iterator[Any]:
    """Open a published site's index.html from file:// with the network blocked."""
    contexts: list[BrowserContext] = []

    def open_site(site: Path) -> Visit:
        context = browser.new_context(locale="th-TH")
        contexts.append(context)
        page = context.new_page()
        seen = Visit(page, context)

        def block(route: Route) -> None:
            url = route.request.url
            if url.startswith("file://"):
                route.continue_()
            else:
                seen.outside_requests.append(url)
                route.abort()

        context.route("**/*", block)
        page.on("dialog", lambda d: (seen.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: seen.errors.append(str(e)))
        page.on(
            "console",
            lambda m: seen.errors.append(m.text) if m.type == "error" else None,
        )
        page.goto((site / "index.html").as_uri())
        page.wait_for_selector("tr[data-post]")
        return seen

    yield open_site
    for context in contexts:
        context.close()


def row_statuses(page: Page) -> dict[int, str]:
    return {
        int(post): status
        for post, status in page.eval_on_selector_all(
            "tr[data-post]", "rows => rows.map(r => [r.dataset.post, r.dataset.status])"
        )
    }


def visible_posts(page: Page) -> list[int]:
    return [
        int(p)
        for p in page.eval_on_selector_all(
            "tr[data-post]", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.post)"
        )
    ]


def verify_file(page: Page, path: Path) -> tuple[bool, list[tuple[str, str]]]:
    """Load a certificate through the file input; (ok, [(field, text) of each difference])."""
    page.evaluate(
        "document.querySelector('[data-testid=verify-result]').removeAttribute('data-ok')"
    )
    page.set_input_files("[data-testid=certificate-file]", str(path))
    return _result(page)


def _result(page: Page) -> tuple[bool, list[tuple[str, str]]]:
    result = page.wait_for_selector("[data-testid=verify-result][data-ok]", timeout=60_000)
    differences = page.eval_on_selector_all(
        "[data-testid=verify-difference]",
        "items => items.map(i => [i.dataset.field, i.textContent])",
    )
    return result.get_attribute("data-ok") == "true", [tuple(d) for d in differences]


@pytest.mark.parametrize("stage", ["collecting", "frozen", "drawn"])
def test_every_entry_has_its_row_with_the_right_status(
    sites: Sites, visit: Any, stage: str
) -> None:
    seen = visit(getattr(sites, stage))
    statuses = row_statuses(seen.page)
    assert set(statuses) == sites.candidates
    wrong = {
        post: status
        for post, status in statuses.items()
        if status != sites.expected_status(post, stage)
    }
    assert wrong == {}
    assert seen.page.get_attribute("[data-testid=state]", "data-state") == stage
    assert seen.outside_requests == [] and seen.errors == [] and seen.dialogs == []


def test_reasons_in_plain_thai_then_english(sites: Sites, visit: Any) -> None:
    page = visit(sites.drawn).page
    duplicate, original = next(iter(sites.duplicate_of.items()))
    row = page.locator(f"tr[data-post='{duplicate}']")
    assert f"ไม่นับ: ซ้ำกับบันทึก #{original}" in row.inner_text()
    late = [n for n, r in sites.reasons.items() if r == "late"]
    if late:
        assert "ส่งหลังปิดรับ" in page.locator(f"tr[data-post='{late[0]}']").inner_text()
    pending = next(n for n, s in sites.decided.items() if s == "pending")
    assert "ยังตรวจไม่เสร็จเมื่อปิดรายชื่อ" in page.locator(f"tr[data-post='{pending}']").inner_text()
    disqualified = page.locator(f"tr[data-post='{sites.disqualified}']").inner_text()
    assert "ถูกตัดสิทธิ์หลังการจับรางวัล" in disqualified
    winners = page.locator("[data-testid=winners]").inner_text()
    assert f"แทนบันทึก #{sites.disqualified} ที่ถูกตัดสิทธิ์" in winners
    header = page.locator("header").inner_text()
    assert "2556" in header and "ร่วมบันทึกการใช้สังคมออนไลน์" in header
    assert "ติดต่อผู้จัดได้ที่อีเมล" in page.locator("#not-listed").inner_text()
    assert page.get_attribute("#not-listed a", "href") == "mailto:organisers@example.org"

    page.click("[data-testid=lang-toggle]")
    assert f"Not counted: duplicate of #{original}" in row.inner_text()
    assert "2013" in page.locator("header").inner_text()
    assert page.locator("html").get_attribute("lang") == "en"
    post_link = row.locator("a")
    assert post_link.get_attribute("href").endswith(f"/posts/{duplicate}")


def test_search_finds_a_post_number_or_an_author(sites: Sites, visit: Any) -> None:
    page = visit(sites.drawn).page
    post = sorted(sites.candidates)[len(sites.candidates) // 2]
    page.fill("[data-testid=search]", str(post))
    assert visible_posts(page) == [post]
    page.fill("[data-testid=search]", f"#{post}")
    assert visible_posts(page) == [post]
    page.fill("[data-testid=search]", "ผู้เขียน")  # part of the hostile author's name
    assert visible_posts(page) == [sites.hostile_post]
    page.fill("[data-testid=search]", "")
    assert len(visible_posts(page)) == len(sites.candidates)


def test_hostile_text_is_shown_as_text_and_runs_nothing(sites: Sites, visit: Any) -> None:
    seen = visit(sites.drawn)
    page = seen.page
    row = page.locator(f"tr[data-post='{sites.hostile_post}']")
    cells = row.locator("td")
    assert cells.nth(1).inner_text() == HOSTILE_TITLE
    assert cells.nth(2).inner_text() == HOSTILE_NAME
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 4  # three JSON data blocks and the page's own
    page.click("[data-testid=lang-toggle]")
    page.fill("[data-testid=search]", "script")
    assert seen.dialogs == [] and seen.errors == []


def test_verification_reports_ok(sites: Sites, visit: Any) -> None:
    seen = visit(sites.drawn)
    seen.page.click("[data-testid=verify-button]")
    ok, differences = _result(seen.page)
    assert (ok, differences) == (True, [])
    text = seen.page.locator("[data-testid=verify-result]").inner_text()
    assert "ถูกต้อง" in text and sites.certificate["pool_hash"] in text
    ok, differences = verify_file(seen.page, sites.drawn / "certificate.json")
    assert (ok, differences) == (True, [])
    assert seen.outside_requests == [] and seen.errors == []


def test_frozen_page_checks_the_attached_pool(sites: Sites, visit: Any) -> None:
    page = visit(sites.frozen).page
    check = page.wait_for_selector("[data-testid=pool-check][data-ok]")
    assert check.get_attribute("data-ok") == "true"
    assert sites.certificate["pool_hash"] in page.locator("[data-testid=state]").inner_text()
    assert page.is_disabled("[data-testid=verify-button]")


def _tampered(sites: Sites, tmp_path: Path) -> dict[str, tuple[Path, set[str], str]]:
    """name -> (file, fields the page must name, Thai words it must show)."""
    cert = sites.certificate
    out: dict[str, tuple[Path, set[str], str]] = {}

    def write(name: str, value: dict[str, Any], fields: set[str], words: str) -> None:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(value, ensure_ascii=False), "utf-8")
        out[name] = (path, fields, words)

    swapped = copy.deepcopy(cert)
    outsider = next(r["post_number"] for r in cert["ranking"][::-1])
    swapped["winners"][1] = outsider
    write("winner_swapped", swapped, {"winners"}, "ผู้ได้รับรางวัล")

    pool_line = copy.deepcopy(cert)
    lines = pool_line["pool"].split("\n")
    number, author = lines[2].split(",")
    lines[2] = f"{number},{author}x"
    pool_line["pool"] = "\n".join(lines)
    write("pool_line_changed", pool_line, {"pool_hash", "ranking"}, "รายชื่อถูกแก้ไข")

    randomness = copy.deepcopy(cert)
    randomness["randomness"] = "640633/"
    randomness["sources"][0]["value"] = "640633"
    write("randomness_changed", randomness, {"ranking", "winners"}, 'เลขสุ่ม "640633/"')
    return out


def test_tampered_certificates_are_not_ok_and_named(
    sites: Sites, visit: Any, tmp_path: Path
) -> None:
    seen = visit(sites.drawn)
    for name, (path, fields, words) in _tampered(sites, tmp_path).items():
        ok, differences = verify_file(seen.page, path)
        assert not ok, name
        named = {f for f, _ in differences}
        assert fields <= named, (name, differences)
        assert any(words in text for _, text in differences), (name, differences)
        headline = seen.page.locator("[data-testid=verify-result] .headline").inner_text()
        assert "ไม่ถูกต้อง" in headline and path.name in headline
    seen.page.click("[data-testid=lang-toggle]")
    assert "NOT OK" in seen.page.locator("[data-testid=verify-result]").inner_text()
    assert seen.outside_requests == [] and seen.errors == []


def _python_verdict(path: Path) -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "tagdraw", "draw", "verify", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode in (0, 1, 2), result.stderr
    return result.returncode == 0


def _agreement_cases(sites: Sites, tmp_path: Path) -> dict[str, Path]:
    """Certificates, true and tampered, that both verifiers judge."""
    cert = sites.certificate
    cases: dict[str, Path] = {"true": sites.drawn / "certificate.json"}
    cases.update({name: path for name, (path, _, _) in _tampered(sites, tmp_path).items()})

    def case(name: str, value: Any) -> None:
        path = tmp_path / f"agree-{name}.json"
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        path.write_text(text, "utf-8")
        cases[name] = path

    def changed(**changes: Any) -> dict[str, Any]:
        value = copy.deepcopy(cert)
        value.update(changes)
        return value

    case("alternates_reordered", changed(alternate_list=cert["alternate_list"][::-1]))
    replacements = copy.deepcopy(cert["replacements"])
    replacements[0]["replacement"] = cert["alternate_list"][-1]
    case("replacement_skips_an_alternate", changed(replacements=replacements))
    case("replacement_without_reason", changed(replacements=[{**replacements[0], "reason": ""}]))
    case("final_winners_changed", changed(final_winners=cert["winners"]))
    case(
        "score_changed",
        changed(ranking=[{**cert["ranking"][0], "score": "0" * 64}, *cert["ranking"][1:]]),
    )
    case("one_prize_per_author_off", changed(one_prize_per_author=False))
    case("prizes_increased", changed(prizes=cert["prizes"] + 1))
    case("pool_hash_only", changed(pool_hash="0" * 64))
    case("crlf_pool", changed(pool=cert["pool"].replace("\n", "\r\n")))
    case("thai_digit_randomness", changed(randomness="๖๔๐๖๓๒/"))
    case("unknown_algorithm", changed(algorithm="tagdraw-draw-v0"))
    case("missing_version", {k: v for k, v in cert.items() if k != "version"})
    case("not_json", "{ this is not json")
    cases["byte_order_mark"] = tmp_path / "agree-bom.json"
    cases["byte_order_mark"].write_bytes(b"\xef\xbb\xbf" + certificate_json(cert).encode())
    cases["not_utf8"] = tmp_path / "agree-latin1.json"
    cases["not_utf8"].write_bytes(
        certificate_json(cert).encode().replace(b"\xe0\xb8", b"\xe0\x28", 1)
    )
    case("a_list", [cert])
    # A certificate consistent in itself, made from the same pool with other prizes.
    remade = build_certificate(
        campaign=cert["campaign"],
        pool=cert["pool"],
        randomness="123456/",
        sources=[{"value": "123456"}],
        prizes=2,
        alternates=1,
    )
    case("remade_consistent", json.loads(certificate_json(remade)))
    return cases


def test_page_agrees_with_the_python_verifier(sites: Sites, visit: Any, tmp_path: Path) -> None:
    page = visit(sites.drawn).page
    verdicts = {}
    for name, path in _agreement_cases(sites, tmp_path).items():
        browser_ok, _ = verify_file(page, path)
        verdicts[name] = (browser_ok, _python_verdict(path))
    assert verdicts["true"] == (True, True)
    assert verdicts["remade_consistent"] == (True, True)
    disagree = {name: v for name, v in verdicts.items() if v[0] != v[1]}
    assert disagree == {}, disagree
    assert sum(not b for b, _ in verdicts.values()) >= 15


def _canonical_rule_cases(sites: Sites, tmp_path: Path) -> dict[str, Path]:
    """Certificates consistent in every other way that break the canonical rules: a JSON key
    given twice (two readings of one file), a randomness string with a letter in it."""
    cert = sites.certificate
    text = certificate_json(cert)
    duplicated = tmp_path / "duplicate-keys.json"
    duplicated.write_text(
        text.replace('"winners":', '"winners": [1, 2, 3],\n  "winners":', 1), "utf-8"
    )
    lettered = build_certificate(
        campaign=cert["campaign"],
        pool=cert["pool"],
        randomness="64O632/",  # a letter O among the digits
        sources=[{"value": "64O632"}],
        prizes=cert["prizes"],
        alternates=cert["alternates"],
    )
    letter = tmp_path / "letter-in-randomness.json"
    letter.write_text(certificate_json(lettered), "utf-8")
    return {"duplicate_keys": duplicated, "letter_in_randomness": letter}


def test_refuses_what_the_canonical_rules_forbid(sites: Sites, visit: Any, tmp_path: Path) -> None:
    page = visit(sites.drawn).page
    cases = _canonical_rule_cases(sites, tmp_path)
    ok, differences = verify_file(page, cases["duplicate_keys"])
    assert not ok and differences[0][0] == "certificate" and "winners" in differences[0][1]
    ok, differences = verify_file(page, cases["letter_in_randomness"])
    assert not ok and [f for f, _ in differences] == ["randomness"]


@pytest.mark.parametrize("case", ["duplicate_keys", "letter_in_randomness"])
def test_python_verifier_refuses_them_too(sites: Sites, tmp_path: Path, case: str) -> None:
    assert _python_verdict(_canonical_rule_cases(sites, tmp_path)[case]) is False


def test_works_from_a_static_web_server(sites: Sites, browser: Browser) -> None:
    """The same files served by a plain static host (here Python's http.server on
    127.0.0.1): the page works and requests nothing but its own index.html."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(sites.drawn))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    context = browser.new_context()
    try:
        requested: list[str] = []
        context.on("request", lambda r: requested.append(r.url))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "index.html")
        assert set(row_statuses(page)) == sites.candidates
        page.click("[data-testid=verify-button]")
        assert _result(page) == (True, [])
        assert requested == [base + "index.html"] and errors == []
        href = page.get_attribute("footer a[href='certificate.json']", "href")
        response = context.request.get(base + href)
        assert json.loads(response.text()) == sites.certificate
    finally:
        context.close()
        server.shutdown()
        server.server_close()
