"""Shared fixtures: the bundled methodology library and paths."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from helpers import load_folder

os.environ["KOKEN_LANG"] = "en"  # messages in English whatever the machine's locale (tests/base/test_i18n.py sets others)
os.environ.pop("KOKEN_NO_CACHE", None)
os.environ["KOKEN_CACHE_DIR"] = tempfile.mkdtemp(prefix="koken-test-cache-")  # the start-up cache, the tests' own
atexit.register(shutil.rmtree, os.environ["KOKEN_CACHE_DIR"], True)

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PORTFOLIO = REPO / "examples" / "portfolio_fy2023.csv"


@pytest.fixture(scope="session")
def library():
    lib, problems = load_folder(check_examples=False)
    assert not problems, problems
    return lib


@pytest.fixture(scope="session")
def browser():
    """The system's Chromium driven by Playwright (tests/browser.py): ``browser.open(path)`` → a ``Visit``
    with the page's console errors, page errors, network requests and a screenshot helper. Skips when no
    browser is installed, or fails when ``KOKEN_REQUIRE_BROWSER=1`` (CI)."""
    import browser as real_browser

    reason = real_browser.unavailable()
    if reason:
        if real_browser.required():
            pytest.fail(f"{reason}, and {real_browser.REQUIRE_ENV} is set", pytrace=False)
        pytest.skip(reason)
    chromium = real_browser.Browser()
    yield chromium
    chromium.close()


def pytest_terminal_summary(terminalreporter):
    """Name the screenshots the browser tests saved (CI keeps them in out/screenshots/)."""
    import browser as real_browser

    if real_browser.saved_screenshots:
        terminalreporter.write_sep("-", "screenshots")
        for path in real_browser.saved_screenshots:
            terminalreporter.write_line(str(path))
