"""koken.reporting.methodology_pages: generated methodology pages are current and render formulas from the sympy tree."""

from click.testing import CliRunner

from koken.cli.commands import main
from koken.reporting.methodology_pages import index_page, methodology_page

from conftest import REPO


def test_committed_pages_are_current(library):
    folder = REPO / "docs" / "methodologies"
    for m in library.values():
        assert (folder / f"{m.id}.md").read_text(encoding="utf-8") == methodology_page(m), \
            f"docs/methodologies/{m.id}.md is stale: run `koken docs`"
    assert (folder / "index.md").read_text(encoding="utf-8") == index_page(library)
    assert {p.stem for p in folder.glob("*.md")} == set(library) | {"index"}


def test_formula_rendered_as_latex_from_the_tree(library):
    latex = library["transformer"].step_latex("baseline_loss")
    assert latex.startswith(r"\mathrm{baseline\_loss} = ")
    assert r"\mathrm{baseline\_load\_factor}^{2}" in latex


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
