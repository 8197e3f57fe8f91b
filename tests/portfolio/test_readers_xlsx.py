"""koken.portfolio.readers, workbooks: the streamed reader (openpyxl's read-only mode plus one pass over each sheet's
XML, issue 17 §4) reads messy workbooks to the same rows, texts, merged ranges and problems, word for word, as the
full-mode reader it replaced (kept for the workbooks it hands over)."""

from __future__ import annotations

import datetime
import io
import re
import zipfile

import openpyxl
import pandas as pd
import pytest
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

import koken.portfolio.readers as readers
from koken.base.errors import KokenErrors
from koken.portfolio.build import read_portfolio
from koken.portfolio.readers import _NotStreamable, _read_xlsx, _read_xlsx_full, _read_xlsx_streamed
from koken.portfolio.template import resolve_methodologies, template_workbook


def _edit(path, edits: dict) -> None:
    """Rewrite parts of a saved workbook: {part name: function of its XML text}."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename in edits:
                content = edits[item.filename](content.decode("utf-8")).encode("utf-8")
            dst.writestr(item, content)
    path.write_bytes(out.getvalue())


def _part(book, title: str) -> str:
    return f"xl/worksheets/sheet{book.sheetnames.index(title) + 1}.xml"


def _messy_book(path):
    """A workbook as people send them, one oddity or more a sheet; its sheet names say what each holds."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "main"  # merged title, note, header with a comment, units row, scaling and unit formats, saved formulas
    ws.append(["冷蔵庫 2023年度"])
    ws.merge_cells("A1:D1")
    ws.append(["note: figures from the sales ledger"])
    ws.append(["product_line", "units_shipped", "share", "total"])
    ws["B3"].comment = Comment("台数 (千台)", "koken")
    ws.append([None, "千台", "%", None])
    ws.append(["F-1", 45000, 0.5, "=B5*2"])
    ws.append(["F-2", 1234567, 12.25, "=B6*2"])
    ws["B5"].number_format = ws["B6"].number_format = "#,##0,"
    ws["C5"].number_format = ws["C6"].number_format = '0.0"%"'
    ws.append([])
    ws.append(["F-3", -7, 0, 0.914, True])
    ws["B8"].number_format, ws["C8"].number_format, ws["D8"].number_format = "#,##0,", '0.0"%"', "0%"
    ws["H12"].fill = PatternFill("solid", fgColor="FFFF00")  # a coloured empty cell: the sheet spans to it
    dated = wb.create_sheet("dated")
    dated.append(["product_line", "fiscal_year", "total"])
    dated.append(["F-1", datetime.datetime(2023, 4, 1), "=2*3"])
    dated.append(["F-2", datetime.time(12, 30), 5])
    formats = wb.create_sheet("formats")  # formats that hide or change what is shown
    formats.append(["product_line", "a", "b", "c"])
    formats.append(["F-1", 5, -3, 0])
    formats["B2"].number_format, formats["C2"].number_format, formats["D2"].number_format = ";;;", "0;", "# ?/?"
    for name, edit in (("hidden_row", lambda s: setattr(s.row_dimensions[3], "hidden", True)),
                       ("zero_height", lambda s: setattr(s.row_dimensions[2], "height", 0)),
                       ("hidden_column", lambda s: setattr(s.column_dimensions["B"], "hidden", True)),
                       ("zero_width", lambda s: setattr(s.column_dimensions["C"], "width", 0.5)),
                       ("thin_spacers", lambda s: (setattr(s.row_dimensions[9], "height", 1),
                                                   setattr(s.column_dimensions["F"], "width", 0.2)))):
        sheet = wb.create_sheet(name)  # thin_spacers: an empty row and column too small to be seen pass
        for r in range(1, 5):
            sheet.append([f"P-{r}", r * 10, r * 100])
        edit(sheet)
    many_dates = wb.create_sheet("many_dates")  # more dates than are named one by one
    for r in range(1, 13):
        many_dates.append([f"P-{r}", datetime.date(2023, r, 1), datetime.datetime(2024, r, 2, 9, 30)])
    far = wb.create_sheet("far")
    far["A1"], far["Z1000000"] = "product_line", "stray"
    only_merge = wb.create_sheet("only_merge")
    only_merge.merge_cells("B2:C3")
    wb.create_sheet("codes").sheet_state = "hidden"
    wb["codes"]["A1"] = "R-1"
    for name in ("no_r", "wrong_dimension", "eq_text", "shared_formula", "merged_values", "long", "endless_cols"):
        sheet = wb.create_sheet(name)
        for r in range(1, 5):
            sheet.append([f"P-{r}", r * 10, r * 0.5, f"=B{r}+1" if name == "shared_formula" else None])
    wb["merged_values"].merge_cells("B2:C3")
    for name in ("eq_text", "shared_formula"):  # an empty thin row: full mode reads it, unless it read formulas
        wb[name].row_dimensions[9].height = 1
    wb["long"]["B3"] = "x" * 40_000
    wb.save(path)
    formula_v = {"B5*2": "90000", "B6*2": "2469134"}
    _edit(path, {
        _part(wb, "main"): lambda x: re.sub(r"<f>(B[56]\*2)</f><v\s*/>",
                                            lambda m: f"<f>{m[1]}</f><v>{formula_v[m[1]]}</v>", x),
        _part(wb, "no_r"): lambda x: re.sub(r' r="[A-Z]*[0-9]+"', "", x),
        _part(wb, "endless_cols"): lambda x: x.replace(  # thin columns from B to far beyond Excel's last
            "<sheetData>", '<cols><col min="2" max="1000000000" width="0.1" customWidth="1"/></cols><sheetData>'),
        _part(wb, "wrong_dimension"): lambda x: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:B2"', x),
        _part(wb, "eq_text"): lambda x: x.replace('<c r="A2" t="inlineStr"><is><t>P-2</t></is></c>',
                                                  '<c r="A2" t="inlineStr"><is><t>=P-2</t></is></c>'),
        _part(wb, "shared_formula"): lambda x: re.sub(
            r'<f>B([1-4])\+1</f><v\s*/>',
            lambda m: ('<f t="shared" ref="D1:D4" si="0">B1+1</f><v>11</v>' if m[1] == "1" else
                       f'<f t="shared" si="0"/><v>{int(m[1]) * 10 + 1}</v>' if m[1] != "4" else
                       '<f t="shared" si="0"/><v/>'), x),
        _part(wb, "merged_values"): lambda x: x.replace(  # a value left in a merged range's other cell
            '<c r="A3" t="inlineStr"><is><t>P-3</t></is></c>',
            '<c r="A3" t="inlineStr"><is><t>P-3</t></is></c><c r="C3" t="inlineStr"><is><t>under</t></is></c>'),
    })
    return path


SHEETS = ["main", "dated", "many_dates", "formats", "hidden_row", "zero_height", "hidden_column", "zero_width", "thin_spacers",
          "far", "only_merge", "codes", "no_r", "wrong_dimension", "eq_text", "shared_formula", "merged_values", "long",
          "endless_cols"]


def _outcome(read, path, names):
    """What a reader makes of a workbook: its sheets (merged ranges as text) and hidden sheets, or its problems
    (file, sheet, cell, message)."""
    try:
        sheets, hidden = read(path, path.read_bytes(), names)
    except KokenErrors as errors:
        return "refused", [(e.location.file, e.location.sheet, e.location.cell, e.message) for e in errors.errors]
    return "read", [(n, rows, explicit, [str(m) for m in merged]) for n, rows, explicit, merged in sheets], hidden


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    return _messy_book(tmp_path_factory.mktemp("xlsx") / "messy.xlsx")


@pytest.mark.parametrize("names", [[name] for name in SHEETS] + [[], ["main", "thin_spacers", "no_r"]])
def test_the_streamed_reader_reads_messy_sheets_as_full_mode_did(messy, names):
    streamed = _outcome(_read_xlsx_streamed, messy, names)  # no _NotStreamable: these are read streamed
    assert streamed == _outcome(_read_xlsx_full, messy, names)
    assert streamed == _outcome(_read_xlsx, messy, names)


def test_the_messy_workbook_reads_to_what_people_see(messy):
    """The comparison above compares something: the texts and problems written by hand for a few sheets."""
    file = str(messy)
    assert _outcome(_read_xlsx_streamed, messy, ["main"]) == ("read", [("main", [
        ["冷蔵庫 2023年度", "", "", "", "", "", "", ""],
        ["note: figures from the sales ledger", "", "", "", "", "", "", ""],
        ["product_line", "units_shipped", "share", "total", "", "", "", ""],
        ["", "千台", "%", "", "", "", "", ""],
        ["F-1", "45", "0.5%", "90000", "", "", "", ""],
        ["F-2", "1234.567", "12.25%", "2469134", "", "", "", ""],
        ["", "", "", "", "", "", "", ""],
        ["F-3", "-0.007", "0%", "91.4%", "True", "", "", ""],
        *[[""] * 8] * 4], True, ["A1:D1"])], [])
    assert _outcome(_read_xlsx_streamed, messy, ["thin_spacers"])[1][0][1] == [
        ["P-1", "10", "100"], ["P-2", "20", "200"], ["P-3", "30", "300"], ["P-4", "40", "400"],
        *[["", "", ""]] * 5]  # the empty row 9, too thin to be seen, is read (as full mode read it)
    assert _outcome(_read_xlsx_streamed, messy, ["only_merge"])[1][0][1:] == ([["", "", ""]] * 3, True, ["B2:C3"])
    refused = _outcome(_read_xlsx_streamed, messy, ["hidden_row", "zero_width", "far", "codes"])
    assert refused == ("refused", [
        (file, "hidden_row", None, "the sheet has hidden rows [3]: unhide or delete them, so that what is computed is "
                                   "what people see"),
        (file, "zero_width", None, "the sheet has columns ['C'] too small to be seen (lower than 3 points or narrower "
                                   "than 1 characters) that hold values: give them their size or delete them, so "
                                   "that what is computed is what people see"),
        (file, "far", None, "the sheet spans 1,000,000 rows × 26 columns (limit 20,000,000 cells, 1000 columns): "
                            "clear stray cells far from the data"),
        (file, "codes", None, "the sheet is hidden: unhide it, so that what is computed is what people see")])
    dated = _outcome(_read_xlsx_streamed, messy, ["dated"])[1]
    assert [p[2] for p in dated] == ["B2", "B3", None]
    assert dated[2][3].startswith("cells C2 hold formulas whose results were never saved")
    assert [p[2] for p in _outcome(_read_xlsx_streamed, messy, ["shared_formula"])[1]] == [None]


@pytest.mark.parametrize("case", ["cells out of order", "hyperlink", "doctype", "bad merge", "cell beyond its row"])
def test_what_the_streamed_reader_does_not_rebuild_is_read_in_full_mode(tmp_path, case):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    for r in range(1, 4):
        ws.append([f"P-{r}", r * 10, r * 100])
    path = tmp_path / "odd.xlsx"
    wb.save(path)
    edit = {"cells out of order": lambda x: x.replace(  # read-only mode would drop C2 (after it, B2 ends the row)
                '<c r="B2" t="n"><v>20</v></c><c r="C2" t="n"><v>200</v></c>',
                '<c r="C2" t="n"><v>200</v></c><c r="B2" t="n"><v>20</v></c>'),
            "hyperlink": lambda x: x.replace("</sheetData>", '</sheetData><hyperlinks><hyperlink ref="E9" '
                                             'location="s!A1"/></hyperlinks>'),
            "doctype": lambda x: x.replace("<worksheet ", '<!DOCTYPE worksheet [<!ENTITY e "P">]><worksheet ', 1),
            "bad merge": lambda x: x.replace("</sheetData>", '</sheetData><mergeCells><mergeCell ref="A1:"/>'
                                             "</mergeCells>"),
            "cell beyond its row": lambda x: x.replace('<c r="C2"', '<c r="C7"')}[case]
    before = _part_text(path, "xl/worksheets/sheet1.xml")
    _edit(path, {"xl/worksheets/sheet1.xml": edit})
    assert _part_text(path, "xl/worksheets/sheet1.xml") != before  # the oddity is in the file
    with pytest.raises(_NotStreamable):
        _read_xlsx_streamed(path, path.read_bytes(), [])
    assert _outcome(_read_xlsx, path, []) == _outcome(_read_xlsx_full, path, [])


def _part_text(path, name):
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8")


def test_a_filled_template_and_a_generated_portfolio_read_streamed_as_in_full_mode(tmp_path, library):
    """koken's own template (comments on its headers, a units row, hidden code lists) and a portfolio written by
    pandas (the benchmark's workbook): the same portfolio through read_portfolio, read streamed or in full mode."""
    import sys

    import koken.portfolio.readers as readers
    from koken.calculation import calculate

    sys.path.insert(0, "benchmarks")
    from generate import generate

    book = openpyxl.load_workbook(io.BytesIO(template_workbook(resolve_methodologies(["refrigerator"], library),
                                                               library)))
    path = tmp_path / "template.xlsx"
    book.save(path)
    assert _outcome(_read_xlsx_streamed, path, []) == _outcome(_read_xlsx_full, path, [])
    frame = tmp_path / "generated.xlsx"
    generate(200, seed=5).to_excel(frame, index=False)
    assert _outcome(_read_xlsx_streamed, frame, []) == _outcome(_read_xlsx_full, frame, [])
    streamed = calculate(read_portfolio(frame, library), library).table
    full = pytest.MonkeyPatch()
    full.setattr(readers, "_read_xlsx_streamed", _read_xlsx_full)
    try:
        pd.testing.assert_frame_equal(calculate(read_portfolio(frame, library), library).table, streamed)
    finally:
        full.undo()


@pytest.mark.parametrize("limit", [0, 40, 95, 200, 10_000])
@pytest.mark.parametrize("names", [["main", "formats", "thin_spacers"], ["only_merge", "no_r", "long"],
                                   ["shared_formula", "eq_text"], ["merged_values", "many_dates"]])
def test_the_text_budget_and_long_cells_are_counted_as_in_full_mode(messy, names, limit, monkeypatch):
    """The texts of all sheets together are bounded (the sheet and row where they exceed it), cells longer than the
    limit named: smaller limits than koken's, to reach them."""
    monkeypatch.setattr(readers, "MAX_WHOLE_TEXT", limit)
    monkeypatch.setattr(readers, "MAX_CELL_CHARS", 3)
    streamed = _outcome(_read_xlsx_streamed, messy, names)
    assert streamed == _outcome(_read_xlsx_full, messy, names)
    if limit == 0:  # reached: the comparison covers it
        assert any("characters of text" in problem[3] for problem in streamed[1])
