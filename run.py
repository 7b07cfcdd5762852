#!/usr/bin/env python3
"""Set up everything and run tagdraw. Needs only python3 (3.11 or newer).

    python3 run.py demo     # the demo: replica -> crawl -> dashboard
    python3 run.py test     # lint, the import contracts and the whole test suite
    python3 run.py setup    # only set up (.venv, locked packages, a Chromium)
    python3 run.py ARGS...  # any other tagdraw command, e.g. `python3 run.py crawl my-campaign`

Set-up is skipped when nothing changed since the last run, so later runs start at once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PYTHON = BIN / "python"
STAMP = VENV / ".tagdraw-setup"
UV_VERSION = "0.13.8"
LOCK = ROOT / "requirements.lock"


def say(message: str) -> None:
    print(f"[run.py] {message}", flush=True)


def sh(*cmd: str | Path, check: bool = True, timeout: float | None = None) -> int:
    return subprocess.run([str(c) for c in cmd], check=check, timeout=timeout).returncode


def setup_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py itself may meet an old python3
        sys.exit("tagdraw needs Python 3.11 or newer; this is " + sys.version.split()[0])
    fingerprint = setup_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint and PYTHON.exists():
        return
    if not PYTHON.exists():
        say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing the locked packages (uv)")
    sh(
        PYTHON,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        f"uv=={UV_VERSION}",
    )
    uv = BIN / "uv"
    sh(uv, "pip", "install", "--quiet", "--python", PYTHON, "--require-hashes", "-r", LOCK)
    sh(uv, "pip", "install", "--quiet", "--python", PYTHON, "--no-deps", "-e", ROOT)
    STAMP.write_text(fingerprint)


def browser_found() -> bool:
    result = subprocess.run([str(PYTHON), "-m", "scraper.browser"], capture_output=True, text=True)
    return result.returncode == 0


def ensure_browser() -> None:
    if browser_found():
        return
    say("no Chromium yet: trying `playwright install chromium`")
    try:
        ok = sh(PYTHON, "-m", "playwright", "install", "chromium", check=False, timeout=300) == 0
    except subprocess.TimeoutExpired:
        ok = False
    if ok and browser_found():
        return
    if os.name == "posix" and os.geteuid() == 0:
        say("falling back to Debian's chromium package (apt-get)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        # Thai fonts, so that screenshots (test artifacts) show Thai instead of boxes.
        packages = ["chromium", "fonts-thai-tlwg"]
        subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=False, env=env)
        if browser_found():
            return
    sys.exit(
        "No Chromium could be installed. Either run `.venv/bin/playwright install chromium` "
        "with internet access, or as root on Debian/Ubuntu `apt-get install -y chromium`, "
        "or set TAGDRAW_CHROMIUM to a Chromium executable; then run this again."
    )


def run_tests(extra: list[str]) -> int:
    os.chdir(ROOT)
    for step in (
        [BIN / "ruff", "check", "."],
        [BIN / "ruff", "format", "--check", "."],
    ):
        if sh(*step, check=False) != 0:
            say("lint failed: `.venv/bin/ruff format .` fixes formatting")
            return 1
    # The layers' import contracts ([tool.importlinter] in pyproject.toml).
    if sh(BIN / "lint-imports", "--no-cache", "--no-logo", check=False) != 0:
        say("an import breaks a layer contract (listed above)")
        return 1
    # The type checker over the product packages ([tool.mypy] in pyproject.toml).
    if sh(BIN / "mypy", check=False) != 0:
        say("the type checker found errors (listed above)")
        return 1
    # Two test processes (pytest-xdist): most tests wait on servers, browsers and polite
    # delays rather than on the CPU, so two at a time nearly halve the wall time on two
    # cores. `-n 0` runs them in one process.
    if not any(a.startswith(("-n", "--numprocesses", "--dist")) for a in extra):
        extra = ["-n", "2", *extra]
    # pytest exits 5 when it collects nothing; that is a failure here too.
    code = sh(PYTHON, "-m", "pytest", *extra, check=False)
    return code if code != 5 else 1


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    ensure_environment()
    ensure_browser()
    command, rest = argv[0], argv[1:]
    if command == "setup":
        say("ready: .venv/bin/tagdraw --help")
        return 0
    if command == "test":
        return run_tests(rest)
    os.execv(BIN / "tagdraw", [str(BIN / "tagdraw"), *argv])
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
