"""koken.portfolio.layout: the header found below title rows, names per line, the company's own columns carried
through, misspelt headers with the spelling to use (unit kept), header problems beside row problems."""

from __future__ import annotations

import pytest

from koken.base.errors import KokenErrors
from koken.base.i18n import language
from koken.calculation import calculate
from koken.portfolio.build import read_portfolio
from koken.portfolio.layout import find_header, layout_from_header, methodology_names, split_header_cell

HEADER = ("product_line,methodology,fiscal_year,market,units_shipped,baseline_annual_energy[kWh/yr],"
          "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]")
ROW = "冷蔵庫 A,refrigerator,2023,domestic,4.5 万台,420,273,0.421,12"
# (420 - 273) kWh/yr × 0.421 kg-CO2/kWh = 61.887 kg-CO2e per unit-year; × 45,000 units = 2,784.915 t-CO2e
SINGLE_YEAR_T = (420 - 273) * 0.421 * 45_000 / 1000


def test_a_header_cell_may_name_its_column_on_two_lines():
    assert split_header_cell("出荷台数\nunits_shipped") == [("出荷台数", None), ("units_shipped", None)]
    assert split_header_cell("a[b]c") is None


def test_the_header_is_the_first_row_naming_two_known_columns(library):
    rows = [["削減貢献量 算定シート 2024年度"], ["作成：環境部"], [], HEADER.split(","), ROW.split(",")]
    assert find_header(rows, library) == 3
    assert find_header([["title"], ["note"]], library) is None


def test_title_and_note_rows_above_the_header_are_skipped_and_recorded(tmp_path, library):
    p = tmp_path / "titled.csv"
    p.write_text(f"削減貢献量 算定シート,,,,\n2024年6月 環境部,,,\n{HEADER}\n{ROW}\n", encoding="utf-8")
    portfolio = read_portfolio(p, library)
    assert list(portfolio.rows) == [4]
    assert portfolio.tables == ({"header_row": 3, "rows_above_header": [1, 2]},)
    assert calculate(portfolio, library).table["single_year[t-CO2e]"].iloc[0] == pytest.approx(SINGLE_YEAR_T)


def test_the_header_is_the_row_naming_most_columns_and_header_row_overrides_it(tmp_path, library):
    p = tmp_path / "given.csv"
    p.write_text(f"年度,2023,国,日本\n{HEADER}\n{ROW}\n", encoding="utf-8")
    # a key/value row above the table names two columns (年度, 国); the table's header names nine
    assert list(read_portfolio(p, library).rows) == [3]
    with pytest.raises(KokenErrors, match="required column 'methodology' is missing"):
        read_portfolio(p, library, header_row=1)


def test_columns_of_the_company_are_carried_into_the_results(tmp_path, library):
    p = tmp_path / "own.csv"
    p.write_text(f"{HEADER},備考,社内コード\n{ROW},主力機種,R-401\n", encoding="utf-8")
    calc = calculate(read_portfolio(p, library), library)
    assert list(calc.table[["備考", "社内コード"]].iloc[0]) == ["主力機種", "R-401"]


@pytest.mark.parametrize(("header", "expected"), [
    ("出荷台数（万台）", "a unit goes in square brackets: write '出荷台数[万台]'"),
    ("operatin_years[yr]", "did you mean 'operating_years[yr]'?"),
    ("basline_annual_energy", "did you mean 'baseline_annual_energy'?"),
    ("annual_energy_use[kWh/yr]", "a column with a unit is read as an input"),
])
def test_a_misspelt_or_unit_bearing_unknown_column_is_an_error_not_carried_through(library, header, expected):
    columns = HEADER.replace("units_shipped", "units_shipped[台]").split(",") + [header]
    layout = layout_from_header("p.csv", "utf-8", columns, library)
    assert not layout.passthrough
    assert any(expected in str(p) for p in layout.problems), [str(p) for p in layout.problems]


def test_a_unit_in_the_units_row_makes_an_unknown_column_an_error(tmp_path, library):
    p = tmp_path / "units_row.csv"
    p.write_text("methodology,fiscal_year,market,units_shipped,baseline_annual_energy,product_annual_energy,"
                 "grid_emission_factor,operating_years,社内評価\n"
                 "単位,,,台,kWh/yr,kWh/yr,kg-CO2/kWh,yr,W\n"
                 "refrigerator,2023,domestic,1,420,273,0.421,12,35\n", encoding="utf-8")
    with pytest.raises(KokenErrors, match="unknown column '社内評価': the units row gives it a unit"):
        read_portfolio(p, library)


def test_header_problems_and_row_problems_are_reported_together(tmp_path, library):
    p = tmp_path / "both.csv"
    p.write_text(f"{HEADER.replace('operating_years', 'operatin_years')}\n"
                 "冷蔵庫 A,refrigerator,2023,国外,1 台,420,273,0.421,12\n", encoding="utf-8")
    with pytest.raises(KokenErrors) as errs:
        read_portfolio(p, library)
    messages = [str(e) for e in errs.value]
    assert any("did you mean 'operating_years[yr]'" in m for m in messages)
    assert any("row 2" in m and "market must be domestic or overseas" in m for m in messages)


def test_header_problems_read_in_japanese(library):
    columns = HEADER.split(",") + ["出荷台数（万台）"]
    with language("ja"):
        layout = layout_from_header("p.csv", "utf-8", columns, library)
    assert "単位は角かっこで書きます。'出荷台数[万台]' と書いてください" in str(layout.problems[0])


def test_methodologies_answer_to_their_titles_and_the_parts_of_them(library):
    names = methodology_names(library)
    assert names["電気冷蔵庫"] == "refrigerator"
    assert names["household refrigerator"] == "refrigerator"
    assert names["磁気ディスク装置"] == "storage"  # ストレージ（磁気ディスク装置）
    assert names["パソコン"] == "client_pc"  # クライアント型電子計算機（パソコン）


@pytest.mark.parametrize(("header", "expected"), [
    ("CO2排出係数", "it holds the column name '排出係数'"),
    ("Grid Emission Factor", "it holds the column name 'grid_emission_factor'"),
    ("電力排出係数[kg-CO2/kWh]", "write '排出係数[kg-CO2/kWh]'"),  # not the generation factor difflib liked
    ("排出係数【kg-CO2/kWh】", "write '排出係数[kg-CO2/kWh]'"),
    ("排出係数\n（kg-CO2/kWh）", "is not a column name (the header names grid_emission_factor on another line)"),
    ("category", "a result column has that name"),
    ("inputs", "a result column has that name"),
    ("device_ratio:devices", "a result column has that name"),
])
def test_a_header_that_may_be_an_input_is_never_carried_through_silently(library, header, expected):
    """Each of these once became a column of the company's own: its 0.9 kg-CO2/kWh ignored, the table's 0.421 used
    (or a result column overwritten: an own 'category' emptied the report)."""
    columns = HEADER.split(",") + [header]
    layout = layout_from_header("p.csv", "utf-8", columns, library)
    assert not layout.passthrough
    assert any(expected in str(p) for p in layout.problems), [str(p) for p in layout.problems]


def test_an_own_column_holding_quantities_with_units_is_refused(tmp_path, library):
    p = tmp_path / "own_factor.csv"
    p.write_text(f"{HEADER},自社係数\n{ROW},0.9 kg-CO2/kWh\n", encoding="utf-8")
    with pytest.raises(KokenErrors, match="column '自社係数' holds quantities with units"):
        read_portfolio(p, library)


def test_two_own_columns_of_one_name_are_refused(library):
    layout = layout_from_header("p.csv", "utf-8", HEADER.split(",") + ["備考", "備考"], library)
    assert [str(p).split(": ", 1)[1] for p in layout.problems] == ["column '備考' appears twice"]


def test_a_product_line_named_units_is_a_product_line_not_the_units_row(tmp_path, library):
    p = tmp_path / "units_named.csv"
    p.write_text("product_line,methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
                 "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
                 "Units,refrigerator,2023,domestic,45000,420,273,0.421,12\n", encoding="utf-8")
    assert list(read_portfolio(p, library).rows) == [2]


def test_a_units_row_without_its_label_is_recognised_by_its_units(tmp_path, library):
    p = tmp_path / "unlabelled.csv"
    p.write_text("product_line,methodology,fiscal_year,market,units_shipped,baseline_annual_energy,"
                 "product_annual_energy,grid_emission_factor,operating_years\n"
                 ",,,,万台,kWh/yr,kWh/yr,kg-CO2/kWh,yr\n"
                 "冷蔵庫,refrigerator,2023,domestic,4.5,420,273,0.421,12\n", encoding="utf-8")
    portfolio = read_portfolio(p, library)
    assert list(portfolio.rows) == [3] and list(portfolio.units_shipped_entered) == ["4.5 万台"]


LONG_SPACES = 20_000
"""Spaces inside a pathological header cell: the old header regex backtracked cubically (3,000 spaces took 40 s,
20,000 would take hours) and the parenthesised-unit one quadratically; a linear parser answers at once."""


def test_header_lines_are_parsed_in_linear_time(tmp_path):
    """Issue 17 §3: a header cell ``a`` + spaces + ``b[`` is refused at once in a CSV file, as a Parquet column
    name and as a YAML key, and ``a`` + spaces + ``b(`` is a column of the company's own. Run in a new interpreter
    with a timeout, so that a regression ends the test instead of hanging it."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    from helpers import run_isolated

    bad, own = "a" + " " * LONG_SPACES + "b[", "a" + " " * LONG_SPACES + "b("
    head = ["methodology", "fiscal_year", "market", "units_shipped[台]"]
    row = ["refrigerator", "2023", "domestic", "1"]
    (tmp_path / "p.csv").write_text(",".join(head + [bad]) + "\n" + ",".join(row + ["x"]) + "\n", encoding="utf-8")
    (tmp_path / "p.yaml").write_text(yaml.safe_dump([dict(zip(head + [bad], row + ["x"]))]), encoding="utf-8")
    pq.write_table(pa.table({k: [v] for k, v in zip(head + [bad], row + ["x"])}), tmp_path / "p.parquet")
    done, _peak = run_isolated(f"""
        from pathlib import Path
        from koken.base.errors import KokenErrors
        from koken.portfolio.build import read_portfolio
        from koken.portfolio.layout import layout_from_header
        from helpers import load_folder
        library, _problems = load_folder()
        for name in ("p.csv", "p.yaml", "p.parquet"):
            try:
                read_portfolio(Path({str(tmp_path)!r}) / name, library)
            except KokenErrors as errs:
                assert "header must be 'name' or 'name[unit]'" in str(errs), str(errs)[:300]
            else:
                raise AssertionError(name)
        layout = layout_from_header("p.csv", "utf-8", {head!r} + [{own!r}], library)
        assert list(layout.passthrough.values()) == [{own!r}.strip()] and not layout.problems
        print("linear")
    """, timeout=90)
    assert "linear" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.mark.parametrize(("text", "parsed"), [
    ("units_shipped[万台]", [("units_shipped", "万台")]),
    ("  units_shipped  [ 万台 ]  ", [("units_shipped", "万台")]),
    ("units_shipped[]", [("units_shipped", "")]),
    ("出荷台数\nunits_shipped[万台]", [("出荷台数", None), ("units_shipped", "万台")]),
    ("a b c", [("a b c", None)]),
    ("a[b]c", None), ("a[b", None), ("a]b", None), ("[kWh]", None), ("a[[b]]", None), ("a[b][c]", None),
])
def test_header_lines_keep_their_meaning(text, parsed):
    """The linear parser reads what the regex ``name[unit]`` read."""
    assert split_header_cell(text) == parsed


def test_a_note_row_is_a_row_whose_only_text_is_a_note_whatever_its_length():
    """is_note_row stops at a row's second text (issue 17 §4: it stripped every cell of every row); it says what
    the whole-row rule says: exactly one non-empty cell, starting with a note marker."""
    from koken.base.vocabulary import fold_width
    from koken.portfolio.layout import NOTE_MARKERS, is_note_row

    def whole_row_rule(row):
        texts = [str(c).strip() for c in row if str(c).strip()]
        return len(texts) == 1 and fold_width(texts[0]).casefold().startswith(NOTE_MARKERS)

    rows = [["※ 排出係数は 2023年度の値", "", ""], ["", "  ", "注：単位は万台"], ["Note: synthetic"], ["", "", ""], [],
            ["冷蔵庫", "refrigerator", "2023"], ["※ a", "※ b"], ["", "", "備考", "x"], [" ＊ 参考 ", *[""] * 98],
            ["", "product", *[""] * 50], [1, ""], ["ｎｏｔｅ 全角"]]
    for row in rows:
        assert is_note_row(row) == whole_row_rule(row), row
    assert [is_note_row(r) for r in rows[:3]] == [True, True, True] and not is_note_row(rows[5])
