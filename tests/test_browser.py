"""tests/browser.py: the harness sees what it is for — requests to the network, console errors, script errors and
missing local files — and reads fonts and saves screenshots (so a clean page in another test means something)."""

from __future__ import annotations


def test_a_clean_page_has_no_problems(browser, tmp_path):
    page = tmp_path / "clean.html"
    page.write_text('<!doctype html><html lang="ja"><meta charset="utf-8"><h1>削減貢献量</h1>'
                    '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">', encoding="utf-8")
    visit = browser.open(page)
    assert visit.problems() == []
    assert visit.page.locator("h1").inner_text() == "削減貢献量"


def test_every_kind_of_problem_is_recorded(browser, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("""<!doctype html><meta charset="utf-8">
        <link rel="stylesheet" href="https://cdn.example.invalid/style.css">
        <img src="missing.png">
        <script>console.error("koken test: logged"); fetch("http://127.0.0.1:9/data.json").catch(() => {});</script>
        <script>throw new Error("koken test: thrown")</script>""", encoding="utf-8")
    visit = browser.open(page)
    assert set(visit.requests) == {"https://cdn.example.invalid/style.css", "http://127.0.0.1:9/data.json"}
    assert any("koken test: logged" in m for m in visit.console_errors)
    assert any("koken test: thrown" in m for m in visit.page_errors)
    assert [u for u in visit.failed if u.startswith((tmp_path / "missing.png").as_uri())]
    kinds = {p.split(":")[0] for p in visit.problems()}
    assert kinds == {"console error", "page error", "network request", "failed to load"}


def test_fonts_and_screenshots(browser, tmp_path):
    page = tmp_path / "fonts.html"
    page.write_text('<!doctype html><html lang="ja"><meta charset="utf-8"><h1>電気冷蔵庫</h1><p id="latin" lang="en">koken</p>',
                    encoding="utf-8")
    visit = browser.open(page)
    japanese, latin = visit.fonts("h1"), visit.fonts("#latin")
    assert any("CJK" in f["familyName"] and f["glyphCount"] == 5 for f in japanese), japanese
    assert not any("CJK" in f["familyName"] for f in latin), latin
    shot = visit.screenshot("browser-harness")
    assert shot.read_bytes().startswith(b"\x89PNG")
