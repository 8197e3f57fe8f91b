"""koken.reporting.methodology_pages: generated methodology pages and their navigation are current and draw formulas
from the sympy tree."""

from click.testing import CliRunner

from koken.base.vocabulary import CATEGORIES
from koken.cli.commands import main
from koken.reporting.methodology_pages import NAV_FILE, index_page, methodology_page, nav_page

from conftest import REPO


def test_committed_pages_are_current(library):
    folder = REPO / "docs" / "methodologies"
    for m in library.values():
        assert (folder / f"{m.id}.md").read_text(encoding="utf-8") == methodology_page(m, library), \
            f"docs/methodologies/{m.id}.md is stale: run `koken docs`"
    assert (folder / "index.md").read_text(encoding="utf-8") == index_page(library)
    assert (folder / NAV_FILE).read_text(encoding="utf-8") == nav_page(library), \
        f"docs/methodologies/{NAV_FILE} is stale: run `koken docs`"
    assert {p.name for p in folder.glob("*.md")} == {f"{m}.md" for m in library} | {"index.md", NAV_FILE}


def test_navigation_lists_every_methodology_under_its_category(library):
    fewer = {k: m for k, m in library.items() if k != "television"}
    nav = nav_page(fewer)
    assert "(television.md)" not in nav
    sections = {}
    for line in nav.splitlines()[1:]:
        if line.startswith("* ") and "](" not in line:
            current = sections.setdefault(line[2:], [])
        elif line.startswith("    * "):
            current.append(line.rsplit("(", 1)[1].rstrip(")").removesuffix(".md"))
    assert sections == {f"{c.en} / {c.ja}": sorted(m.id for m in fewer.values() if m.category == c.id) for c in CATEGORIES}


def test_formula_rendered_as_latex_from_the_tree(library):
    latex = library["transformer"].step_latex("baseline_loss")
    assert latex.startswith(r"\mathrm{baseline\_loss} = ")
    assert r"\mathrm{baseline\_load\_factor}^{2}" in latex


def test_pages_draw_formulas_as_mathml_without_a_script(library):
    m = library["transformer"]
    page = methodology_page(m)
    assert page.count('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">') == len(m.steps)
    assert '<msup><mi mathvariant="normal">baseline_load_factor</mi><mn>2</mn></msup>' in m.step_mathml("baseline_loss")
    assert m.step_mathml("baseline_loss") in page.splitlines()  # a raw HTML block: a line of its own
    assert "$$" not in page and "\\mathrm" not in page


def test_page_has_parameters_formulas_examples_and_sources(library):
    page = methodology_page(library["refrigerator"])
    for heading in ("## Parameters", "## Formulas", "## Examples", "## Sources", "## Baseline"):
        assert heading in page
    assert "factor table `grid_emission_factor`" in page


def test_docs_removes_stale_generated_pages_but_never_files_it_did_not_write(tmp_path):
    keep = tmp_path / "README.md"
    keep.write_text("mine", encoding="utf-8")
    assert CliRunner().invoke(main, ["docs", "-o", str(tmp_path)]).exit_code == 0
    assert keep.read_text(encoding="utf-8") == "mine"
    stale = tmp_path / "retired_methodology.md"
    stale.write_text((tmp_path / "refrigerator.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert CliRunner().invoke(main, ["docs", "-o", str(tmp_path)]).exit_code == 0
    assert not stale.exists()   # a page koken generated for a methodology that is gone is removed
