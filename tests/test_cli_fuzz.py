"""Every subcommand, fed generated bad values: never a traceback, never an exit code outside
the README's table, at most one line for bad input, no half-written file left behind.

The CLI runs in-process (``tagdraw.cli.main``) for speed, against a real DuckDB file;
a handful of cases run the real console script in a subprocess (real argv bytes, real
stdin). Commands that start servers or loops (dashboard, replica serve, demo, schedule)
only have their argument parsing fuzzed: nothing is started.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagdraw import cli
from warehouse.db import connect
from warehouse.decisions import record_decision
from warehouse.models import Comment, Post
from warehouse.settings import get_settings
from warehouse.store import store_posts
from warehouse.thai import BANGKOK

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TAGDRAW = Path(sys.executable).parent / "tagdraw"
V = "\0VALUE\0"  # where the generated value goes in a command template


def documented_exit_codes() -> set[int]:
    """The codes in the README's exit-code table (the one place that documents them)."""
    text = README.read_text("utf-8")
    table = text[text.index("#### Exit codes") :].split("\n\n")[2]
    codes = {int(m) for m in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)}
    assert {0, 1, 2} <= codes
    return codes


# The internal-error code is documented, but reaching it means a root cause to fix.
INTERNAL_ERROR = 8
ALLOWED = documented_exit_codes() - {INTERNAL_ERROR}

HOSTILE = [
    "",
    " ",
    "-",
    "--",
    "0",
    "-1",
    "-0",
    "1.5",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "99999999999999999999999",
    "99999999999",
    "9" * 5000,
    "0x10",
    "１２３",
    "๑๒๓",
    "0001-01-01",
    "9999-12-31T23:59",
    "2013-02-30",
    "2013-08-31T25:00",
    "31 ส.ค. 25567",
    "131 ส.ค. 2556",
    "31 ส.ค. 2556 23:59 น.xyz",
    "o'brien/bk.duckdb",
    "x'; DROP TABLE campaigns; --",
    'say "hi"',
    "/",
    ".",
    "..",
    "/nonexistent-folder/x",
    "/etc",
    "/etc/hostname",
    "a" * 300,
    "\u202eevil",
    "demo\u200b",
    "DEMO",
    "x\ny",
    "\udcff\udcfe",  # bytes that were not UTF-8, as Python passes them on
    "a\0b",
]

text_values = st.text(max_size=40)
not_utf8 = st.builds(
    lambda a, b: a + os.fsdecode(b) + a,
    st.text(max_size=5),
    st.binary(min_size=1, max_size=6).filter(lambda b: _not_utf8(b)),
)
numbers = st.one_of(
    st.integers().map(str),
    st.integers(min_value=10**9, max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
bad_values = st.one_of(st.sampled_from(HOSTILE), text_values, not_utf8, numbers)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def safe_path(value: str) -> bool:
    """Generated paths stay inside the test's folder (the CLI could legitimately create a
    file at a valid absolute path; the hostile list holds the absolute ones)."""
    return value in HOSTILE or not (value.startswith("/") or value.startswith("~"))


# Command templates per subcommand; V marks the fuzzed slot. A template whose slot is a
# path is in PATH_SLOTS.
TEMPLATES: dict[str, list[list[str]]] = {
    "campaign create": [
        ["campaign", "create", V, "--keyword", "k", "--opens", "2013-08-01", "--closes", "2013-08-31", "--prizes", "1"],
        *[
            ["campaign", "create", "new", "--keyword", "k", "--opens", "2013-08-01", "--closes", "2013-08-31", "--prizes", "1", option, V]
            for option in (
                "--keyword", "--opens", "--closes", "--prizes", "--alternates", "--site-url",
                "--announcement-post", "--exclude-author", "--title", "--prize-description",
                "--max-entries-per-author", "--near-miss-tag", "--crawl-after-close-days",
                "--contact-text", "--contact-url",
            )
        ],
    ],
    "campaign edit": [
        ["campaign", "edit", V, "--prizes", "2"],
        *[
            ["campaign", "edit", "demo", option, V]
            for option in ("--opens", "--closes", "--prizes", "--alternates", "--site-url", "--announcement-post", "--crawl-after-close-days", "--keyword", "--contact-text", "--contact-url")
        ],
    ],
    "campaign show": [["campaign", "show", V], ["campaign", "show", "demo", "--format", V]],
    "campaign list": [["campaign", "list", "--format", V], ["--db", V, "campaign", "list"]],
    "backup": [["backup", V]],
    "restore": [["restore", V], ["restore", V, "--force"]],
    "check": [["--db", V, "check"]],
    "crawl": [
        ["crawl", V, "--quiet"],
        ["crawl", "demo", "--quiet", "--rate", V],
        ["crawl", "demo", "--quiet", "--concurrency", V],
        ["crawl", "demo", "--quiet", "--timeout", V],
        ["crawl", "demo", "--quiet", "--comments-mode", V],
    ],
    "review suggest": [["review", "suggest", V]],
    "review near-misses": [["review", "near-misses", V]],
    "entries": [["entries", V], ["entries", "demo", "--format", V], ["entries", "demo", "--status", V]],
    "draw freeze": [
        ["draw", "freeze", V],
        ["draw", "freeze", "demo", "--value-count", V, "--value-digits", "6"],
        ["draw", "freeze", "demo", "--value-digits", V],
        ["draw", "freeze", "demo", "--randomness-due", V],
        ["draw", "freeze", "demo", "--source-preset", V],
        ["draw", "freeze", "demo", "--value-digits", "6", "--accept-unverified", V],
    ],
    "draw unfreeze": [["draw", "unfreeze", V, "--reason", "r"], ["draw", "unfreeze", "demo", "--reason", V]],
    "draw run": [["draw", "run", V], ["draw", "run", "demo", "--randomness", V], ["draw", "run", "demo", "--value", V]],
    "draw verify": [["draw", "verify", V]],
    "draw replace": [["draw", "replace", V, "1", "--reason", "r"], ["draw", "replace", "demo", V, "--reason", "r"]],
    "draw show": [["draw", "show", V]],
    "export": [
        ["export", V, "--what", "entries", "--out", "out.csv"],
        ["export", "demo", "--what", V, "--out", "out.csv"],
        ["export", "demo", "--what", "entries", "--format", V, "--out", "out.csv"],
        ["export", "demo", "--what", "entries", "--out", V],
    ],
    "publish": [["publish", V, "--out", "site"], ["publish", "demo", "--out", V]],
    "user add": [["user", "add", V, "--password-stdin"], ["user", "add", "bob", "--name", V, "--password-stdin"], ["user", "add", "bob", "--role", V, "--password-stdin"]],
    "user passwd": [["user", "passwd", V, "--password-stdin"]],
    "user role": [["user", "role", V, "admin"], ["user", "role", "alice", V]],
    "user remove": [["user", "remove", V]],
    "user list": [["user", "list", V]],
}  # fmt: skip
# Slots where most generated values reach the warehouse or start work (a crawl of an
# unreachable site, a campaign update): fewer examples, to keep the run short.
DEEP_SLOTS = {
    ("crawl", 1), ("crawl", 2), ("crawl", 3), ("crawl", 4),
    *(("campaign edit", n) for n in range(1, 9)),
    ("entries", 1), ("entries", 2), ("backup", 0),
    ("user passwd", 0), ("user role", 0), ("user remove", 0), ("user add", 1),
}  # fmt: skip
PATH_SLOTS = {("backup", 0), ("restore", 0), ("restore", 1), ("check", 0), ("campaign list", 1), ("draw verify", 0), ("export", 3), ("publish", 1)}  # fmt: skip

# Parsing only: these would start a server or a loop.
PARSE_ONLY: dict[str, list[list[str]]] = {
    "dashboard": [["dashboard", "--port", V], ["dashboard", "--host", V], ["dashboard", V]],
    "replica serve": [["replica", "serve", option, V] for option in ("--port", "--posts", "--seed", "--slow-seconds")],
    "demo": [["demo", option, V] for option in ("--posts", "--seed", "--port", "--replica-port")],
    "schedule": [["schedule", option, V] for option in ("--interval", "--cron", "--after-close-days", "--rate", "--concurrency")],
}  # fmt: skip


def test_every_subcommand_is_fuzzed() -> None:
    parser = cli.build_parser()
    leaves: set[str] = set()

    def walk(p: object, prefix: list[str]) -> None:
        subs = [a for a in p._actions if a.__class__.__name__ == "_SubParsersAction"]  # type: ignore[attr-defined]
        if not subs:
            leaves.add(" ".join(prefix))
        for action in subs:
            for name, child in action.choices.items():
                walk(child, [*prefix, name])

    walk(parser, [])
    assert leaves == set(TEMPLATES) | set(PARSE_ONLY)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with campaign ``demo`` (its site unreachable: port 9), a post, a
    decision and a user ``alice``."""
    path = tmp_path_factory.mktemp("fuzz") / "tagdraw.duckdb"
    argv = ["--db", str(path), "campaign", "create", "demo", "--keyword", "สังคมออนไลน์"]
    argv += ["--opens", "2013-08-06", "--closes", "2013-08-31", "--prizes", "2"]
    assert cli.main([*argv, "--site-url", "http://127.0.0.1:9"]) == 0
    now = datetime(2013, 8, 20, tzinfo=BANGKOK)
    comment = Comment(11, 1, 1, None, "g", now, "c")
    post = Post(1, "/posts/1", "t", "a", "A", None, now, None, ("สังคมออนไลน์",), (), "b", None, 1, (comment,))  # fmt: skip
    with connect(path) as con:
        store_posts(con, [post], seen_at=now)
        record_decision(con, "demo", 1, "eligible", decided_by="mod")
    sys_stdin = sys.stdin
    try:
        sys.stdin = io.StringIO("a-long-password-1\n")
        assert cli.main(["--db", str(path), "user", "add", "alice", "--role", "admin", "--password-stdin"]) == 0  # fmt: skip
    finally:
        sys.stdin = sys_stdin
    return path


@pytest.fixture
def sandbox(
    template_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[list[str]], tuple[int, str, str]]]:
    """Run ``tagdraw --db <copy> ARGV`` in-process from an empty folder; return
    (code, stdout, stderr)."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(template_db, db)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("TAGDRAW_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("TAGDRAW_RETRY_BACKOFF_S", "0.01")
    monkeypatch.setenv("TAGDRAW_LOCK_TIMEOUT_S", "2")
    get_settings.cache_clear()
    # One parser for all examples: building it is most of a quick run's time.
    monkeypatch.setattr(cli, "build_parser", functools.cache(cli.build_parser))
    yield _runner(db, tmp_path, monkeypatch)
    monkeypatch.undo()
    get_settings.cache_clear()


def _runner(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[list[str]], tuple[int, str, str]]:
    def run(argv: list[str]) -> tuple[int, str, str]:
        full = argv if argv[:1] == ["--db"] else ["--db", str(db), *argv]
        # Byte buffers underneath, as real streams have (``export --out -`` writes bytes).
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
        err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
        monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password-1\n"))
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        try:
            code = cli.main(full)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        finally:
            monkeypatch.setattr(sys, "stdout", sys.__stdout__)
            monkeypatch.setattr(sys, "stderr", sys.__stderr__)
        partial = [str(p) for p in tmp_path.rglob("*partial*")]
        assert not partial, f"{full!r} left {partial}"
        return code, _text(out), _text(err)

    return run


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    return stream.buffer.getvalue().decode("utf-8", "replace")  # type: ignore[attr-defined]


def check_outcome(argv: list[str], code: int, out: str, err: str) -> None:
    shown = f"{argv!r} -> {code}: {err[-500:]!r}"
    assert code in ALLOWED, shown
    assert "Traceback" not in err and "Traceback" not in out, shown
    if code == 2:
        assert err.count("\n") == 1, shown
    if code not in (0, 130):
        assert err.strip(), shown


def fill(template: list[str], value: str) -> list[str]:
    return [value if part == V else part for part in template]


# TAGDRAW_FUZZ_EXAMPLES scales the run (e.g. 2000 for a long hunt); derandomized so
# that a failure reproduces.
EXAMPLES = int(os.environ.get("TAGDRAW_FUZZ_EXAMPLES", "100"))
FUZZ_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "database": None,
    "derandomize": True,
}
QUICK = settings(max_examples=EXAMPLES, **FUZZ_SETTINGS)
DEEP = settings(max_examples=max(EXAMPLES // 20, 5), **FUZZ_SETTINGS)
CASES = sorted(
    {
        (command, (command, slot) in DEEP_SLOTS)
        for command, templates in TEMPLATES.items()
        for slot in range(len(templates))
    }
)


@pytest.mark.parametrize(
    ("command", "deep"), CASES, ids=[f"{c}{' (deep)' if d else ''}" for c, d in CASES]
)
def test_bad_values_never_give_a_traceback(
    command: str, deep: bool, sandbox: Callable[[list[str]], tuple[int, str, str]]
) -> None:
    templates = TEMPLATES[command]
    slots = [n for n in range(len(templates)) if ((command, n) in DEEP_SLOTS) == deep]

    @(DEEP if deep else QUICK)
    @given(slot=st.sampled_from(slots), value=bad_values)
    def one(slot: int, value: str) -> None:
        if (command, slot) in PATH_SLOTS and not safe_path(value):
            value = "rel" + value
        argv = fill(templates[slot], value)
        code, out, err = sandbox(argv)
        check_outcome(argv, code, out, err)

    one()


@pytest.mark.parametrize("command", sorted(PARSE_ONLY))
def test_server_commands_refuse_bad_values_while_parsing(command: str) -> None:
    parser = cli.build_parser()
    templates = PARSE_ONLY[command]

    @QUICK
    @given(slot=st.integers(0, len(templates) - 1), value=bad_values)
    def one(slot: int, value: str) -> None:
        argv = fill(templates[slot], value)
        err = io.StringIO()
        saved = sys.stderr
        sys.stderr = err
        try:
            parser.parse_args(argv)
            code = 0  # parsed; the command itself is not started
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            sys.stderr = saved
        check_outcome(argv, code, "", err.getvalue())

    one()


def _real(*argv: str | bytes, stdin: bytes = b"", cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(TAGDRAW), *argv],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TAGDRAW_LOG_DIR": str(cwd / "logs")},
    )


def test_the_real_console_script_with_hostile_bytes(template_db: Path, tmp_path: Path) -> None:
    """Real argv bytes and real stdin: a non-UTF-8 title, a non-UTF-8 password, a
    restore from a path with a quote."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(template_db, db)
    results = [
        _real(
            b"--db",
            str(db).encode(),
            b"campaign",
            b"edit",
            b"demo",
            b"--title",
            b"\xff\xfe",
            cwd=tmp_path,
        ),
        _real(
            "--db",
            str(db),
            "user",
            "passwd",
            "alice",
            "--password-stdin",
            stdin=b"\xff\xfe-a-long-password\n",
            cwd=tmp_path,
        ),
        _real("--db", str(db), "restore", "o'brien/bk.duckdb", cwd=tmp_path),
    ]
    for result in results:
        err = result.stderr.decode("utf-8", "replace")
        assert result.returncode == 2, (result.args, err)
        assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "UTF-8" in results[0].stderr.decode() and "UTF-8" in results[1].stderr.decode()
