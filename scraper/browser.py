"""The one browser launcher, used by the crawler, the dashboard tests and every test.

Playwright's own Chromium is used where it is installed; otherwise a system Chromium
(Debian's ``chromium`` package). The choice is made once per process.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from warehouse.errors import BrowserMissing
from warehouse.settings import get_settings

# Flags that a system Chromium needs in a container with a closed network.
SYSTEM_CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

# Chromium keeps only the last --disable-features and the last --enable-features it is
# given, and Playwright passes its own before ours: ours repeat Playwright's lists (1.65,
# server/chromium/chromiumSwitches.ts; HttpsUpgrades among them keeps navigations on
# HTTP). tests/test_browser.py fails when a Playwright upgrade adds one not copied here.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
PLAYWRIGHT_ENABLED_FEATURES = ("CDPScreenshotNewSurface", "SkipListAccountsWithoutGaiaCookies")

# Processes a headless crawl never uses, each 75-160 MB of RSS (measured with Debian's
# Chromium 156): the omnibox popup's WebUI renderer that every window starts, the spare
# renderer kept warm for the next site, the network service's own process, the GPU process
# (with --disable-gpu it only composites in software) and the two zygotes.
LEAN_DISABLED_FEATURES = (
    "WebUIOmniboxPopup",
    "WebUIOmniboxFullPopup",
    "WebUIOmniboxAimPopup",
    "SpareRendererForSitePerProcess",
)
LEAN_ENABLED_FEATURES = ("NetworkServiceInProcess2",)
LEAN_SWITCHES = ("--in-process-gpu", "--no-zygote")


def lean_args() -> tuple[str, ...]:
    """The process-saving flags, with Playwright's feature lists merged into ours."""
    enabled = [
        f
        for f in PLAYWRIGHT_ENABLED_FEATURES
        # Playwright leaves this one out when PLAYWRIGHT_LEGACY_SCREENSHOT is set.
        if not (f == "CDPScreenshotNewSurface" and os.environ.get("PLAYWRIGHT_LEGACY_SCREENSHOT"))
    ]
    return (
        *LEAN_SWITCHES,
        "--disable-features=" + ",".join((*PLAYWRIGHT_DISABLED_FEATURES, *LEAN_DISABLED_FEATURES)),
        "--enable-features=" + ",".join((*enabled, *LEAN_ENABLED_FEATURES)),
    )


SYSTEM_CHROMIUM_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
)
HOW_TO_GET_ONE = (
    "No Chromium found. Run `python3 run.py setup` (it tries `playwright install chromium`, "
    "then Debian's `apt-get install -y chromium` as root), or set TAGDRAW_CHROMIUM to a "
    "Chromium executable."
)


@dataclass(frozen=True)
class BrowserChoice:
    source: str  # 'settings' | 'playwright' | 'system'
    executable_path: str | None  # None: Playwright's own build
    args: tuple[str, ...]

    def launch_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"headless": True, "args": list(self.args)}
        if self.executable_path:
            kwargs["executable_path"] = self.executable_path
        return kwargs


def _playwright_chromium_path() -> Path | None:
    """Where ``playwright install chromium`` puts its build, without starting Playwright."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache/ms-playwright")
    candidates = sorted(root.glob("chromium-*/chrome-linux*/chrome"), reverse=True)
    candidates += sorted(
        root.glob("chromium_headless_shell-*/chrome-*/headless_shell"), reverse=True
    )
    return candidates[0] if candidates else None


@lru_cache(maxsize=1)
def find_browser() -> BrowserChoice:
    """Decide once which Chromium to drive; raise ``BrowserMissing`` with how to get one."""
    configured = get_settings().chromium
    if configured:
        if not Path(configured).exists():
            raise BrowserMissing(f"TAGDRAW_CHROMIUM={configured} does not exist. {HOW_TO_GET_ONE}")
        return BrowserChoice("settings", configured, (*SYSTEM_CHROMIUM_ARGS, *lean_args()))
    own = _playwright_chromium_path()
    if own is not None and own.exists():
        # Playwright's build launches with its own defaults; no path needed.
        return BrowserChoice("playwright", None, ("--disable-dev-shm-usage", *lean_args()))
    for candidate in SYSTEM_CHROMIUM_CANDIDATES:
        if Path(candidate).exists() or shutil.which(Path(candidate).name) == candidate:
            return BrowserChoice("system", candidate, (*SYSTEM_CHROMIUM_ARGS, *lean_args()))
    raise BrowserMissing(HOW_TO_GET_ONE)


def launch_kwargs(**overrides: Any) -> dict[str, Any]:
    kwargs = find_browser().launch_kwargs()
    kwargs.update(overrides)
    return kwargs


async def launch(playwright: Any, **overrides: Any) -> Any:
    """Launch Chromium with the async API: ``await launch(pw)``."""
    return await playwright.chromium.launch(**launch_kwargs(**overrides))


def launch_sync(playwright: Any, **overrides: Any) -> Any:
    """Launch Chromium with the sync API."""
    return playwright.chromium.launch(**launch_kwargs(**overrides))


# Images, fonts and media are never needed to read a page; blocking them saves memory.
BLOCKED_RESOURCE_TYPES = frozenset({"image", "font", "media", "stylesheet"})


def main() -> int:
    """``python -m scraper.browser``: print which Chromium would be used; exit 1 if none."""
    try:
        choice = find_browser()
    except BrowserMissing as exc:
        print(exc)
        return 1
    print(f"{choice.source}: {choice.executable_path or 'Playwright-managed Chromium'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
