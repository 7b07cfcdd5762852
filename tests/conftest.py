"""Shared fixtures. Browser tests use the project's one launcher (scraper.browser), which
finds Playwright's Chromium or the system one (e.g. Debian's /usr/bin/chromium)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from replica.server import ReplicaServer
from replica.site import build_site
from scraper.browser import find_browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch arguments, pointed at the browser our launcher chose."""
    return {**browser_type_launch_args, **find_browser().launch_kwargs()}


@pytest.fixture(scope="session")
def base_url() -> None:
    """No base URL: every browser test opens full addresses of the servers it starts.
    (pytest-playwright's own fixture is a method, which pytest warns about.)"""
    return None


# pytest-playwright keeps one sync Playwright for the whole session, and its event loop
# counts as running in the main thread: every later test that runs the crawler in process
# (asyncio.run) would then fail. One Playwright per module instead, stopped with it.
@pytest.fixture(scope="module")
def playwright(_pw_api_request_contexts: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    yield pw
    pw.stop()


@pytest.fixture(scope="module")
def browser_type(playwright: Any, browser_name: str) -> Any:
    return getattr(playwright, browser_name)


@pytest.fixture(scope="module")
def launch_browser(browser_type_launch_args: dict[str, Any], browser_type: Any) -> Any:
    def launch(**kwargs: Any) -> Any:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="module")
def browser(launch_browser: Any) -> Iterator[Any]:
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def browser_context_args(
    pytestconfig: Any, playwright: Any, device: str | None, base_url: str | None
) -> dict[str, Any]:
    # pytest-playwright's own, at the scope of the Playwright above (no video recording).
    args: dict[str, Any] = dict(playwright.devices[device]) if device else {}
    if base_url:
        args["base_url"] = base_url
    return args


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and other evidence that tests keep (not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh warehouse file for one test."""
    return tmp_path / "tagdraw.duckdb"


@pytest.fixture
def replica() -> Iterator[Callable[..., ReplicaServer]]:
    """Start replicas for one test: ``replica(n_posts=50, seed=3, drift=3, validators=True)``
    returns a started ``ReplicaServer`` (its site is ``server.site``); all stop at the end."""
    started: list[ReplicaServer] = []

    def start(
        n_posts: int = 50,
        seed: int = 7,
        drift: int | None = None,
        **server_options: Any,
    ) -> ReplicaServer:
        server = ReplicaServer(build_site(n_posts, seed, drift), **server_options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The published sites of one replica campaign at each stage (collecting, frozen,
    drawn), built once for the publish tests of both modules."""
    from test_publish import published_sites

    return published_sites(tmp_path_factory.mktemp("publish"))
