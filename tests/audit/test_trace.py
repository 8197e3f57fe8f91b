"""koken.audit.trace: independent per-row Pint recomputation, origins, formats, and a golden snapshot."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from koken.audit.trace import TraceInput, render_markdown, trace_calculation, trace_portfolio
from koken.base.errors import KokenErrors
from koken.base.paths import methodologies_dir
from koken.base.units import is_dimensionless, parse_quantity, registry
from koken.calculation import calculate
from koken.cli.commands import main
from koken.examples import run_example
from koken.factors import fill_from_tables
from koken.library import find_methodology_files, load_methodology
from koken.portfolio.build import read_portfolio

from conftest import EXAMPLE_PORTFOLIO, REPO

FILES = find_methodology_files(methodologies_dir())
GOLDEN = REPO / "tests" / "data" / "golden" / "trace_transformer_moe.json"


def example_trace(m, index):
    ex = m.spec.examples[index]
    inputs, shipped = {}, None
    result = run_example(m, index)  # the vectorised kernel, for comparison
    for name, raw in ex.inputs.items():
        p = m.parameters.get(name)
        q = parse_quantity(raw, p.unit_text if p is not None and is_dimensionless(p.unit) else None,
                           m.spec.hours_per_year)
        entry = TraceInput(q, {"source": "example", "as_written": str(raw)})
        if name == "units_shipped":
            shipped = entry
        else:
            inputs[name] = entry
    arrays = {k: registry().Quantity(np.array([float(v.quantity.magnitude)]), v.quantity.units)
              for k, v in inputs.items()}
    filled, origins, problems, _ = fill_from_tables(m.parameters, arrays, np.array([ex.region or ""], dtype=object),
                                                    np.array([ex.fiscal_year or 0]), 1, lambda i: None)
    assert not problems
    for name, origin in origins.items():  # factor-table values the example leaves to the table
        if origin.from_table[0]:
            q = filled[name]
            inputs[name] = TraceInput(registry().Quantity(float(q.magnitude[0]), q.units), {"source": "factor table"})
    return trace_calculation(m, inputs, shipped, {"example": ex.name}), result


def flatten(node, out=None):
    out = {} if out is None else out
    out.setdefault((node.kind, node.name), node)
    for c in node.children:
        flatten(c, out)
    return out


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_trace_equals_the_vectorised_kernel_for_every_example(path):
    m = load_methodology(path, check_examples=False)
    for index in range(len(m.spec.examples)):
        trace, result = example_trace(m, index)
        nodes = flatten(trace)
        # the trace holds the steps the result rests on: both scenarios always (avoided = baseline − product)
        assert {("step", "baseline_emissions"), ("step", "product_emissions")} <= set(nodes)
        for step in m.steps:
            if ("step", step.name) not in nodes:
                continue
            vectorised = result.steps[step.name].magnitude[0]
            assert nodes[("step", step.name)].value == pytest.approx(vectorised, rel=1e-9, abs=1e-12)
        if len(result.single_year.magnitude):
            assert nodes[("result", "single_year")].value == pytest.approx(result.single_year.magnitude[0], rel=1e-9)
            assert nodes[("result", "lifetime")].value == pytest.approx(result.lifetime.magnitude[0], rel=1e-9)


def test_portfolio_trace_names_cells_conversions_and_factor_tables(library):
    calc = calculate(read_portfolio(EXAMPLE_PORTFOLIO, library), library)
    row = int(calc.table.loc[calc.table["product_line"] == "Refrigerator 401-450 L", "row"].iloc[0])
    (trace,) = trace_portfolio(calc, [row])
    nodes = flatten(trace)
    grid = nodes[("input", "grid_emission_factor")].detail["origin"]
    assert grid["source"] == "factor table" and grid["key"] == {"region": "JP", "fiscal_year": 2023}
    # the FY2023 value is the council's preliminary (速報) 0.421, adjusted basis (Argus Media, 2024)
    assert grid["source_id"] == "argus_fy2023"
    assert grid["entry_status"] == "preliminary" and grid["basis"] == "adjusted"
    shipped = nodes[("shipment", "units_shipped")]
    assert shipped.value == 45000 and shipped.detail["origin"]["column"] == "units_shipped"
    assert shipped.children[0].kind == "conversion"  # 4.5 万台 -> 45,000 台
    # (420 - 273) × 0.421 × 45,000 / 1,000 = 2,784.915 t-CO2e
    assert nodes[("result", "single_year")].value == pytest.approx(2784.915)
    table_value = calc.table.loc[calc.table["row"] == row, "single_year[t-CO2e]"].iloc[0]
    assert nodes[("result", "single_year")].value == pytest.approx(table_value, rel=1e-12)
    markdown = render_markdown([trace])
    assert f"## Row {row}: Refrigerator 401-450 L" in markdown and "$$" in markdown


def test_unknown_row_is_an_error(library):
    calc = calculate(read_portfolio(EXAMPLE_PORTFOLIO, library), library)
    from koken.base.errors import KokenErrors

    with pytest.raises(KokenErrors, match="row 999 is not a product line"):
        trace_portfolio(calc, [999])


def moe_trace_json():
    result = CliRunner().invoke(main, [
        "trace", "transformer", "--format", "json",
        "--set", "baseline_no_load_loss=2160 W", "--set", "baseline_load_loss=13376 W",
        "--set", "baseline_load_factor=0.2", "--set", "product_no_load_loss=1080 W",
        "--set", "product_load_loss=6688 W", "--set", "product_load_factor=0.4",
        "--set", "grid_emission_factor=0.555 kg-CO2/kWh", "--set", "operating_years=20 yr",
        "--set", "units_shipped=1 台"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    doc[0]["detail"].pop("koken_version")
    return doc


def test_golden_trace_of_the_ministry_of_the_environment_transformer_example():
    doc = moe_trace_json()
    # Ministry of the Environment: 544.96 W saved, 4,773.85 kWh/yr, × 0.555 = 2.649 t-CO2/yr
    single = next(c for c in doc[0]["children"] if c["name"] == "single_year")
    assert single["value"] == pytest.approx(2.649486528)
    assert GOLDEN.read_text(encoding="utf-8") == json.dumps(doc, ensure_ascii=False, indent=2) + "\n", \
        "golden trace changed: if intended, regenerate tests/data/golden/trace_transformer_moe.json"


def test_trace_command_formats(tmp_path):
    out = tmp_path / "t.md"
    result = CliRunner().invoke(main, ["trace", str(EXAMPLE_PORTFOLIO), "--row", "2", "--format", "markdown",
                                       "-o", str(out)])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").startswith("# koken calculation trace")
    text = CliRunner().invoke(main, ["trace", str(EXAMPLE_PORTFOLIO), "--row", "2", "--depth", "1"])
    assert "more (raise --depth)" in text.output
    bad = CliRunner().invoke(main, ["trace", "refrigeratr"])
    assert bad.exit_code == 1 and "did you mean 'refrigerator'" in bad.output


def test_shared_steps_are_written_once_in_json_traces():
    result = CliRunner().invoke(main, ["trace", "refrigerator", "--format", "json",
                                       "--set", "baseline_annual_energy=420 kWh/yr",
                                       "--set", "product_annual_energy=273 kWh/yr", "--set", "operating_years=12 yr",
                                       "--set", "units_shipped=1 台", "--region", "JP", "--fiscal-year", "2023"])
    assert result.exit_code == 0 and '"shown_above": true' in result.output


def test_trace_reads_in_japanese_with_the_figures_of_the_english_one(library):
    import re

    from koken.audit.trace import render
    from koken.base.errors import KokenErrors
    from koken.base.i18n import language

    calc = calculate(read_portfolio(EXAMPLE_PORTFOLIO, library), library)
    row = int(calc.table.loc[calc.table["product_line"] == "Refrigerator 301-350 L", "row"].iloc[0])
    with language("en"):
        english = render(trace_portfolio(calc, [row]), "text")
        english_md = render(trace_portfolio(calc, [row]), "markdown")
    with language("ja"):
        japanese = render(trace_portfolio(calc, [row]), "text")
        japanese_md = render(trace_portfolio(calc, [row]), "markdown")
        with pytest.raises(KokenErrors) as err:
            trace_portfolio(calc, [999])
    assert f"{row}行目: Refrigerator 301-350 L" in japanese and "2023年度、国内 JP" in japanese
    assert "  結果 single_year = 740.96 t-CO2e" in japanese and "（記入値 2.2 万台、× 10000 で 台 に換算）" in japanese
    assert "列 'units_shipped': 2.2 万台" in japanese and "（上に表示）" in japanese and " row " not in japanese
    assert "| 入力 | 値 | 単位 | 出所 |" in japanese_md and "### 式のステップ" in japanese_md
    assert f"## {row}行目: Refrigerator 301-350 L" in japanese_md
    # the factor table's keys, basis and status in Japanese (the English trace keeps the codes' own words)
    assert "係数表 grid_emission_factor [地域 JP、年度 2023]（調整後排出係数、速報）" in japanese
    assert "(adjusted" not in japanese and "（adjusted" not in japanese and "region JP" not in japanese
    assert "[地域 JP、年度 2023]（調整後排出係数、速報）" in japanese_md
    assert "factor table grid_emission_factor [region JP, fiscal_year 2023] (adjusted, preliminary)" in english
    assert "  result single_year = 740.96 t-CO2e" in english and "| input | value | unit | origin |" in english_md
    figures = re.compile(r"= (\S+) ")  # every value of the tree, in the same order and digits
    assert figures.findall(japanese) == figures.findall(english) and len(figures.findall(english)) > 5
    assert "999行目はファイルの製品行ではありません（製品行は 2-41 行目です）" in str(err.value)
    with language("en"), pytest.raises(KokenErrors, match="row 999 is not a product line of the file"):
        trace_portfolio(calc, [999])


def test_a_row_number_on_several_sheets_needs_its_sheet_and_the_trace_names_sheet_and_cell(library):
    """examples/template_filled.xlsx has a row 6 on both its sheets: tracing it without a sheet would pick one
    silently; with the sheet, the origins name sheet and cell."""
    from koken.api import trace_rows
    from koken.audit.trace import render
    from koken.base.errors import KokenErrors

    workbook = REPO / "examples" / "template_filled.xlsx"
    with pytest.raises(KokenErrors, match=r"row 6 is on several sheets \(refrigerator, room_air_conditioner\): name "
                                          "one with --sheet"):
        trace_rows(workbook, [6], library)
    node = trace_rows(workbook, [6], library, sheet="refrigerator")[0]
    assert node.detail["sheet"] == "refrigerator" and node.detail["product_line"] == "冷蔵庫 401-450L"
    text = render([node], "text", None)
    assert "template_filled.xlsx sheet 'refrigerator' cell E6 column '出荷台数 / units_shipped': 4.5 万台" in text
    # (420 − 273) kWh/yr × 0.421 kg-CO2/kWh × 45,000 units = 2,784.915 t-CO2e
    assert "single_year = 2784.915 t-CO2e" in text


def test_a_neutral_default_is_traced_with_its_reason_in_both_languages(library):
    """A default of 0 that says a term does not apply (a refrigerator burns no fuel) has no source to cite: the
    trace gives the methodology's default_reason instead (home_appliances.yaml, baseline_fuel_emissions)."""
    from koken.audit.trace import render
    from koken.base.i18n import language

    calc = calculate(read_portfolio(EXAMPLE_PORTFOLIO, library), library)
    row = int(calc.table.loc[calc.table["product_line"] == "Refrigerator 401-450 L", "row"].iloc[0])
    (trace,) = trace_portfolio(calc, [row])
    fuel = flatten(trace)[("default", "baseline_fuel_emissions")]
    assert fuel.value == 0
    assert fuel.detail["origin"]["reason"]["en"] == "A baseline product that runs on electricity only burns no fuel on site"
    with language("en"):
        assert "methodology default — A baseline product that runs on electricity only burns no fuel on site" in \
            render([trace], "text")
    with language("ja"):
        assert "電気だけを使うベースライン製品は、その場で燃料を燃やさない" in render([trace], "text")


def test_an_input_set_twice_is_refused_naming_both(tmp_path):
    """Issue 17 §3 (leftover): `--set a=420 --set a=500` kept the last value silently; it is refused, naming both."""
    done = CliRunner().invoke(main, [
        "trace", "refrigerator", "--region", "JP", "--fiscal-year", "2023",
        "--set", "baseline_annual_energy=420 kWh/yr", "--set", "baseline_annual_energy=500 kWh/yr",
        "--set", "product_annual_energy=273 kWh/yr", "--set", "operating_years=12 yr"])
    assert done.exit_code == 1
    assert "field --set baseline_annual_energy=500 kWh/yr: baseline_annual_energy is set twice (also --set " \
           "baseline_annual_energy=420 kWh/yr): give each input once" in done.output, done.output
    once = CliRunner().invoke(main, [
        "trace", "refrigerator", "--region", "JP", "--fiscal-year", "2023", "--set", "baseline_annual_energy=420 kWh/yr",
        "--set", "product_annual_energy=273 kWh/yr", "--set", "operating_years=12 yr"])
    assert once.exit_code == 0, once.output


def test_the_trace_of_a_row_with_a_range_names_it_beside_the_central_value():
    result = CliRunner().invoke(main, ["trace", str(REPO / "examples" / "portfolio_uncertain.csv"), "--row", "2",
                                       "--lang", "en"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # 420 ± 5 % is triangular from 399 to 441 kWh/yr; the figures traced are those at 420 kWh/yr.
    assert ("420 kWh/yr (uncertain: triangular from 399 kWh/yr to 441 kWh/yr; the point figures use 420 kWh/yr)"
            in " ".join(result.output.split()))


# issue 17 §4: koken trace --row computes only the rows asked for


@pytest.mark.parametrize(("name", "sheet"), [("portfolio_fy2023.csv", None), ("portfolio_uncertain.csv", None),
                                              ("template_filled.xlsx", "refrigerator")])
def test_the_trace_of_a_row_is_that_row_of_the_trace_of_every_row(library, name, sheet):
    """Tracing rows alone gives, for each, the very trace (every node, value, unit and origin) that tracing every
    row of the file gives it; several rows asked for come in the order asked, a row asked twice twice."""
    from koken.api import trace_rows

    from conftest import REPO

    path = REPO / "examples" / name
    every = trace_rows(path, None, library, sheet=sheet)
    by_row = {t.detail["row"]: t.to_dict() for t in every}
    assert len(by_row) == len(every) >= 2
    rows = sorted(by_row)
    asked = [rows[-1], rows[0], rows[len(rows) // 2], rows[0]]
    alone = trace_rows(path, asked, library, sheet=sheet)
    assert [t.to_dict() for t in alone] == [by_row[r] for r in asked]


def test_a_traced_row_is_computed_alone_and_a_cell_problem_elsewhere_still_stops_the_trace(tmp_path, library):
    """Only the rows asked for are evaluated: a value out of its range on another row does not stop the trace of a
    good one (it stops calculate and the trace of every row); a cell that cannot be read anywhere in the file still
    does, as the file is read and checked whole."""
    from koken.api import trace_rows

    from conftest import REPO

    lines = (REPO / "examples" / "portfolio_fy2023.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    fridge = next(i for i, line in enumerate(lines) if line.split(",")[header.index("methodology")] == "refrigerator")
    cells = lines[fridge].split(",")
    column = next(i for i, h in enumerate(header) if h.startswith("grid_emission_factor"))
    cells[column] = "5"  # kg-CO2/kWh: outside the declared range [0, 2]
    bad = [*lines[:fridge], ",".join(cells), *lines[fridge + 1:]]
    path = tmp_path / "p.csv"
    path.write_text("\n".join(bad) + "\n", encoding="utf-8")
    good_row = 2 if fridge != 1 else 3
    with pytest.raises(KokenErrors):
        trace_rows(path, None, library)
    (alone,) = trace_rows(path, [good_row], library)
    original = REPO / "examples" / "portfolio_fy2023.csv"
    (expected,) = trace_rows(original, [good_row], library)
    assert json.dumps(alone.to_dict()["children"]).replace(str(path), "P") == \
        json.dumps(expected.to_dict()["children"]).replace(str(original), "P")
    cells[header.index("fiscal_year")] = "twenty"
    path.write_text("\n".join([*lines[:fridge], ",".join(cells), *lines[fridge + 1:]]) + "\n", encoding="utf-8")
    with pytest.raises(KokenErrors, match="fiscal_year"):
        trace_rows(path, [good_row], library)


def test_rows_traced_alone_equal_the_full_trace_on_a_generated_portfolio_of_every_methodology(tmp_path, library):
    """On a generated Parquet portfolio (every methodology; domestic lines looking their grid factor up in the table,
    overseas lines giving theirs; units in cells), one row of each methodology traced alone gives exactly the trace
    that tracing every row gives it."""
    import sys

    from koken.api import trace_rows

    sys.path.insert(0, "benchmarks")
    from generate import generate

    frame = generate(150, seed=5)
    path = tmp_path / "g.parquet"
    frame.to_parquet(path, index=False)
    every = trace_rows(path, None, library)
    by_row = {t.detail["row"]: t.to_dict() for t in every}
    assert len(by_row) == len(frame)
    first: dict[tuple, int] = {}  # the first row of each methodology and market
    for row, trace in sorted(by_row.items()):
        first.setdefault((trace["detail"]["methodology"]["id"], trace["detail"]["market"]), row)
    asked = sorted(first.values(), reverse=True)  # asked out of file order
    assert len({m for m, _market in first}) >= 10 and len({market for _m, market in first}) == 2
    alone = trace_rows(path, asked, library)
    assert [t.to_dict() for t in alone] == [by_row[r] for r in asked]


def test_rows_asked_for_are_found_where_the_list_of_every_row_has_them(library):
    """The positions of rows asked for (found a row at a time over the whole column) are those the list of every
    row's position gives; a row that is not a product line is still refused, naming the rows that are."""
    from koken.audit.trace import traced_positions
    from koken.portfolio.build import read_portfolio

    from conftest import REPO

    portfolio = read_portfolio(REPO / "examples" / "portfolio_fy2023.csv", library)
    every = traced_positions(portfolio, None)
    file_rows = [int(portfolio.rows[i]) for i in every]
    asked = [file_rows[-1], file_rows[0], file_rows[1], file_rows[-1]]
    assert traced_positions(portfolio, asked) == [every[file_rows.index(r)] for r in asked]
    with pytest.raises(KokenErrors, match=f"row 1 is not a product line of the file .product lines are rows "
                                          f"{file_rows[0]}-{file_rows[-1]}"):
        traced_positions(portfolio, [file_rows[0], 1])


def test_the_asked_row_s_own_problem_is_named_beside_a_cell_problem_elsewhere(tmp_path, library):
    """A cell that cannot be read in row 3 stops the trace of row 2, and row 2's own problem (a required value left
    empty, a unit of another dimension) is named with it: every problem at once, as before rows were traced alone
    (found by comparing the engine before and after)."""
    from koken.api import trace_rows

    header = ("product_line,methodology,fiscal_year,market,region,units_shipped,baseline_annual_energy[kWh/yr],"
              "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n")
    tv = "TV,television,2023,domestic,JP,10 万台,abc,105,,10\n"
    for fridge, own in (("Fridge,refrigerator,2023,domestic,JP,4.5 万台,420,,,12\n", "product_annual_energy"),
                        ("Fridge,refrigerator,2023,domestic,JP,4.5 万台,420 kg,273,,12\n", "'kg'")):
        path = tmp_path / "p.csv"
        path.write_text(header + fridge + tv, encoding="utf-8")
        with pytest.raises(KokenErrors) as info:
            trace_rows(path, [2], library)
        problems = [str(e) for e in info.value.errors]
        assert any("row 3" in p and "'abc'" in p for p in problems), problems
        assert any("row 2" in p and own in p for p in problems), problems
