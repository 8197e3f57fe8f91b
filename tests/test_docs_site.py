"""The documentation site (mkdocs.yml, docs/): it builds with --strict, works opened from disk with no
network, lists every methodology in its navigation, draws formulas as MathML and Japanese text with a CJK
font, in a real browser (tests/browser.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from helpers import ROOT


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built from this checkout into a temporary folder (the command .ci/run runs)."""
    target = tmp_path_factory.mktemp("site")
    env = {key: value for key, value in os.environ.items() if "MKDOCS_2_WARNING" not in key}
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)], cwd=ROOT,
                         env={**env, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    # No plugin's banner urging another build tool (mkdocs-literate-nav is pinned below the release that added it);
    # real warnings still fail the build (--strict). NO_MKDOCS_2_WARNING only quiets Material's end-of-life notice.
    assert "ProperDocs" not in run.stderr and "MkDocs may break" not in run.stderr, run.stderr[:2000]
    return target


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (tag, url)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name, tag) in {("href", "a"), ("href", "link"), ("src", "script"), ("src", "img")}:
                self.links.append((tag, value))


def links(page: Path) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.links


def test_every_link_of_every_page_opens_a_file_from_disk(site):
    """Directory URLs (``methodologies/``) open a folder listing from disk: every local link names a file."""
    pages = sorted(p for p in site.rglob("*.html") if p.name != "404.html")  # a server's page: site-root links
    assert len(pages) > 50
    broken, remote_assets = [], []
    for page in pages:
        for tag, url in links(page):
            parts = urlsplit(url)
            if parts.scheme in ("http", "https"):
                if tag != "a":
                    remote_assets.append(f"{page.relative_to(site)}: {url}")
                continue
            if parts.scheme or not parts.path:  # mailto:, data:, or a #fragment on the same page
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.is_file():
                broken.append(f"{page.relative_to(site)}: {url}")
    assert not remote_assets, f"pages load assets from the network: {remote_assets[:10]}"
    assert not broken, f"{len(broken)} links do not name a file: {broken[:10]}"


def test_every_methodology_is_in_the_navigation_of_both_languages(site, library):
    for home in (site / "index.html", site / "ja" / "index.html"):
        html = home.read_text(encoding="utf-8")
        nav = html.split('<nav class="md-nav md-nav--primary"', 1)[1].split('md-sidebar--secondary', 1)[0]
        listed = set(re.findall(r'href="methodologies/([a-z0-9_]+)\.html"', nav))
        assert listed == set(library) | {"index"}, f"{home.relative_to(site)}: {set(library) ^ listed}"
    assert not (site / "methodologies" / "SUMMARY.html").exists()  # the nav file is read, not published


def test_the_html_report_page_and_the_tutorials_report_step_in_both_languages(site):
    """The Japanese site has its own HTML-report page (it fell back to the English one), and each tutorial's HTML
    step links to the page of its own language."""
    titles = {}
    for folder, lang in ((site, "en"), (site / "ja", "ja")):
        page = (folder / "html-report.html").read_text(encoding="utf-8")
        assert f'<html lang="{lang}"' in page
        titles[lang] = re.search(r"<h1[^>]*>([^<]+)", page).group(1).strip()
        tutorial = (folder / "tutorial.html").read_text(encoding="utf-8")
        step = tutorial.split("report.html", 1)[1]                    # after the command that writes the page
        assert 'href="html-report.html"' in step
    assert titles == {"en": "The HTML report", "ja": "HTML 報告書"}


def test_a_methodology_page_in_a_browser(browser, site, library):
    m = library["residential_fuel_cell"]
    visit = browser.open(site / "methodologies" / f"{m.id}.html")
    assert visit.problems() == []
    formulas = visit.page.evaluate("""() => Array.from(document.querySelectorAll('article math'), math => {
        const box = math.getBoundingClientRect();
        return {display: getComputedStyle(math).display, width: box.width, height: box.height};
    })""")
    assert len(formulas) == len(m.steps)
    for f in formulas:
        assert f["display"] == "block math" and f["width"] > 0 and f["height"] > 0, f  # drawn by the browser's MathML
    # A fraction is laid out as one: the numerator stands above the denominator (raw text would sit on one line).
    numerator, denominator = (visit.page.locator("article mfrac").first.locator(f":scope > :nth-child({n})").bounding_box()
                              for n in (1, 2))
    assert numerator["y"] + numerator["height"] <= denominator["y"] + 1, (numerator, denominator)
    visit.page.locator("#formulas").scroll_into_view_if_needed()
    visit.screenshot("docs-methodology-formulas", full_page=False)


def test_the_japanese_tutorial_in_a_browser(browser, site):
    visit = browser.open(site / "ja" / "tutorial.html")
    page = visit.page
    assert page.locator("html").get_attribute("lang") == "ja"
    heading = page.locator("article h1").inner_text()
    assert heading == "はじめに"
    fonts = visit.fonts("article h1")
    cjk = [f for f in fonts if "CJK" in f["familyName"]]
    assert cjk and sum(f["glyphCount"] for f in cjk) >= len(heading), fonts  # Noto Sans CJK, not tofu boxes
    # Search works from disk (Material's offline plugin and the vendored iframe-worker shim).
    page.locator("input.md-search__input").click()
    page.locator("input.md-search__input").fill("冷蔵庫")
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    assert page.locator(".md-search-result__item").count() > 0
    visit.screenshot("docs-tutorial-ja", full_page=False)
    page.wait_for_timeout(500)
    assert visit.problems() == []


def search(visit, site: Path, query: str) -> list[str]:
    """Type ``query`` into the site's search box: the results' pages (without their #anchors), relative to the
    site's root."""
    box = visit.page.locator("input.md-search__input")
    box.click()
    box.fill(query)
    visit.page.wait_for_selector(".md-search-result__item", timeout=15_000)
    visit.page.wait_for_timeout(300)                                       # every result shown, not the first
    links = visit.page.evaluate("() => Array.from(document.querySelectorAll('.md-search-result__item > a'), a => a.href)")
    root = site.resolve().as_uri() + "/"
    assert all(link.startswith(root) for link in links), links
    return [link[len(root):].split("#")[0] for link in links]


def test_each_language_searches_its_own_pages(browser, site):
    """The Japanese site searches the Japanese pages, and the English ones it shows (no translation) within itself;
    the English site never offers a Japanese page. The new user searching 検証 on the Japanese tutorial was offered
    English pages, and a result took them out of the Japanese site."""
    visit = browser.open(site / "ja" / "tutorial.html")
    found = search(visit, site, "検証")                                    # a word of the Japanese pages
    assert found and all(link.startswith("ja/") for link in found), found
    assert "ja/tutorial.html" in found                                    # ## 6. 検証する
    assert visit.problems() == []
    visit = browser.open(site / "ja" / "tutorial.html")                   # a fresh page: no results of before
    found = search(visit, site, "冷蔵庫")
    assert "ja/methodologies/refrigerator.html" in found, found           # a page with no Japanese version, kept
    assert all(link.startswith("ja/") for link in found), found            # in the Japanese site
    assert visit.problems() == []
    visit = browser.open(site / "tutorial.html")
    found = search(visit, site, "verify")
    assert "tutorial.html" in found and not any(link.startswith("ja/") for link in found), found
    assert visit.problems() == []


def test_the_japanese_site_has_japanese_navigation_and_marks_english_pages(site):
    """Every navigation label of the Japanese site is Japanese (the new user saw Architecture, Units, Factor tables
    …); a page shown in English there says so (lang="en" on its content, for screen readers), a Japanese one not."""
    english_labels = re.findall(r'md-ellipsis">\s*([^<]+?)\s*<', _primary_nav(site / "index.html"))
    japanese_labels = re.findall(r'md-ellipsis">\s*([^<]+?)\s*<', _primary_nav(site / "ja" / "index.html"))
    assert "Factor tables" in english_labels and "係数表" in japanese_labels
    untranslated = [label for label in japanese_labels                 # the methodologies' are bilingual
                    if not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", label) and label != "Python API"]
    assert untranslated == []
    for page, english in (("api.html", True), ("tutorial.html", False)):
        html = (site / "ja" / page).read_text(encoding="utf-8")
        assert '<html lang="ja"' in html
        assert ('<div lang="en"' in html) is english, page


def _primary_nav(page: Path) -> str:
    html = page.read_text(encoding="utf-8")
    return html.split('<nav class="md-nav md-nav--primary"', 1)[1].split('md-sidebar--secondary', 1)[0]
