"""A real browser for tests: the system's Chromium (Debian's ``chromium``) driven by Playwright for Python.

Pages are opened from disk (``file://``), as a user opens a built site or a report without a server.
Every request that is not ``file:``, ``data:``, ``blob:`` or ``about:`` is recorded and blocked (the machine
may be offline, and a page must not need the network), and so are console errors, uncaught page errors
and local files that fail to load. Use the ``browser`` fixture (tests/conftest.py)::

    def test_my_page(browser, tmp_path):
        visit = browser.open(tmp_path / "report.html")     # a Path or a file:// URL; waits until idle
        assert visit.problems() == []                     # console errors, page errors, requests, missing files
        visit.page.locator("h1").inner_text()             # the Playwright Page, for anything else
        visit.fonts("h1")                                 # the platform fonts that drew the h1's text
        visit.screenshot("report")                        # out/screenshots/report.png (full page)

Without Chromium or Playwright the fixture skips its test with the reason; with ``KOKEN_REQUIRE_BROWSER=1``
(set by .ci/run, which installs both) it fails instead. Playwright never downloads a browser here: it
launches ``/usr/bin/chromium`` (or ``$KOKEN_CHROMIUM``) with a fresh profile per session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers import ROOT

REQUIRE_ENV = "KOKEN_REQUIRE_BROWSER"
"""Set to 1 (CI does) to make a missing browser a failure instead of a skip."""

CHROMIUM = Path(os.environ.get("KOKEN_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(os.environ.get("KOKEN_SCREENSHOTS", ROOT / "out" / "screenshots"))
"""Where :meth:`Visit.screenshot` saves (git-ignored ``out/``); the test run's summary lists the files."""

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

saved_screenshots: list[Path] = []
"""Every screenshot saved in this test session, for the run's summary."""


def unavailable() -> str | None:
    """Why no browser test can run here (no Chromium, no Playwright), or None."""
    if not CHROMIUM.is_file():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    return None


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


@dataclass
class Visit:
    """One page opened in the browser, and what happened while it loaded and since."""

    page: Any
    """The Playwright ``Page``."""
    console_errors: list[str] = field(default_factory=list)
    """Console messages of type ``error`` (text and source location)."""
    page_errors: list[str] = field(default_factory=list)
    """Uncaught exceptions in the page's scripts."""
    requests: list[str] = field(default_factory=list)
    """URLs of every request that was not ``file:``/``data:``/``blob:``/``about:`` (blocked, never sent)."""
    failed: list[str] = field(default_factory=list)
    """Local resources that failed to load (a missing file), with the error."""

    def problems(self) -> list[str]:
        """Everything above, each line prefixed by its kind; [] for a clean page."""
        return ([f"console error: {m}" for m in self.console_errors] + [f"page error: {m}" for m in self.page_errors]
                + [f"network request: {u}" for u in self.requests] + [f"failed to load: {u}" for u in self.failed])

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        """Save a PNG as ``SCREENSHOTS/<name>.png`` and return its path."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        saved_screenshots.append(path)
        return path

    def fonts(self, selector: str) -> list[dict]:
        """The platform fonts that drew the text of the first element matching ``selector``, from the Chrome
        DevTools protocol (``CSS.getPlatformFontsForNode``): dicts with ``familyName``, ``postScriptName``,
        ``isCustomFont`` and ``glyphCount``.

        Raises:
            LookupError: no element matches.
        """
        cdp = self.page.context.new_cdp_session(self.page)
        try:
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
            node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
            if not node:
                raise LookupError(f"no element matches {selector!r}")
            return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        finally:
            cdp.detach()


class Browser:
    """Chromium with a fresh profile; :meth:`open` gives a :class:`Visit`. Close it with :meth:`close`."""

    def __init__(self, *, width: int = 1280, height: int = 900):
        from playwright.sync_api import sync_playwright

        self._profile = tempfile.mkdtemp(prefix="koken-chromium-")
        self._playwright = sync_playwright().start()
        try:
            self.context = self._playwright.chromium.launch_persistent_context(
                self._profile, executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS,
                viewport={"width": width, "height": height})
        except Exception:
            self._playwright.stop()
            shutil.rmtree(self._profile, ignore_errors=True)
            raise
        self.context.route("**/*", _block_remote)

    def open(self, target: Path | str, *, wait_until: str = "networkidle") -> Visit:
        """Open a file (a path) or URL in a new tab and wait for ``wait_until`` (a Playwright load state; by
        default until nothing has loaded for 0.5 s, so that requests made after the load event are seen)."""
        url = target.resolve().as_uri() if isinstance(target, Path) else target
        page = self.context.new_page()
        visit = Visit(page)

        def on_console(message):
            if message.type == "error":
                where = message.location or {}
                visit.console_errors.append(f"{message.text} ({where.get('url', '')}:{where.get('lineNumber', '')})")

        def on_request_failed(request):
            if _is_local(request.url):
                visit.failed.append(f"{request.url}: {request.failure}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
        page.on("request", lambda request: None if _is_local(request.url) else visit.requests.append(request.url))
        page.on("requestfailed", on_request_failed)
        page.goto(url, wait_until=wait_until)
        return visit

    def close(self) -> None:
        try:
            self.context.close()
        finally:
            self._playwright.stop()
            shutil.rmtree(self._profile, ignore_errors=True)


def _is_local(url: str) -> bool:
    return url.startswith(LOCAL_SCHEMES)


def _block_remote(route) -> None:
    if _is_local(route.request.url):
        route.continue_()
    else:
        route.abort("blockedbyclient")
