"""koken.portfolio.readers: CSV (encodings, rows), XLSX, YAML and Parquet portfolios; read in partitions (CSV streamed,
Parquet by record batches), the same rows either way."""

from __future__ import annotations

import io
import time
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from koken.base.errors import KokenError, KokenErrors
from koken.calculation import calculate
from koken.portfolio.build import build_portfolio, read_portfolio
from koken.portfolio.readers import open_portfolio

from helpers import (
    MESSY,
    PORTFOLIOS,
    REFRIGERATOR_HEADER,
    load_folder,
    portfolio_problems,
    refrigerator_line,
    run_pipeline,
)

EXAMPLE = "examples/portfolio_fy2023.csv"
TRANSFORMER_HEADER = ["product_line", "methodology", "fiscal_year", "market", "units_shipped[台]",
                      "baseline_no_load_loss[W]", "baseline_load_loss[W]", "baseline_load_factor[%]",
                      "product_no_load_loss[W]", "product_load_loss[W]", "product_load_factor[%]",
                      "grid_emission_factor[kg-CO2/kWh]", "operating_years[yr]"]


def _concat(source, library):
    """Every partition built, their arrays joined (for comparing with a one-partition read)."""
    parts = [build_portfolio(p.layout, source.sha256, p.block, library, first=False) for p in source.partitions()]
    return parts


def test_csv_partitions_hold_the_same_rows_as_one_read(library):
    whole = read_portfolio(EXAMPLE, library)
    source = open_portfolio(EXAMPLE, library, partition_rows=7)
    parts = _concat(source, library)
    assert [len(p) for p in parts] == [7, 7, 7, 7, 7, 5]  # 40 product lines
    assert np.array_equal(np.concatenate([p.rows for p in parts]), whole.rows)
    assert list(np.concatenate([p.product_line for p in parts])) == list(whole.product_line)
    for name, (values, units, _) in whole.parameters.items():
        joined = np.concatenate([p.parameters[name][0] for p in parts])
        assert np.array_equal(joined, values, equal_nan=True), name
        assert list(np.concatenate([np.asarray(p.parameters[name][1]) for p in parts])) == list(units), name
    assert source.sha256 == whole.sha256


def test_units_row_applies_to_every_partition(tmp_path, library):
    csv = tmp_path / "units_row.csv"
    lines = ["methodology,fiscal_year,market,region,units_shipped,baseline_annual_energy,product_annual_energy,"
             "grid_emission_factor,operating_years",
             "単位,,,,台,kWh/yr,kWh/yr,kg-CO2/kWh,yr"]
    lines += [f"refrigerator,2023,domestic,JP,{100 + i},420,273,0.457,12" for i in range(5)]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parts = _concat(open_portfolio(csv, library, partition_rows=2), library)
    assert [len(p) for p in parts] == [1, 2, 2]  # the first block of two rows holds the units row
    last = parts[-1]
    assert last.rows.tolist() == [6, 7]  # file rows: header, units row, then five lines
    assert last.parameters["baseline_annual_energy"][1][0] == "kWh/yr"
    calc = calculate(last, library)
    # file row 6 is the fourth line (103 units): (420 - 273) kWh/yr × 0.457 kg-CO2/kWh = 67.179 kg-CO2e per
    # unit per year; × 103 units / 1000 = 6.919437 t-CO2e
    assert calc.table["single_year[t-CO2e]"].iloc[0] == pytest.approx(6.919437, rel=1e-12)


def test_cp932_csv_is_detected_while_streaming(tmp_path, library):
    text = open(EXAMPLE, encoding="utf-8").read()
    target = tmp_path / "sjis.csv"
    target.write_bytes(text.encode("cp932"))
    source = open_portfolio(target, library, partition_rows=10)
    assert source.encoding == "cp932"
    parts = _concat(source, library)
    assert sum(len(p) for p in parts) == 40
    assert "万台" in {str(u) for p in parts for u in p.units_shipped[1]}


def test_utf8_error_offset_is_counted_across_chunks(tmp_path, library):
    target = tmp_path / "bad.csv"
    body = ("methodology,fiscal_year,market,units_shipped\n" + "refrigerator,2023,domestic,1 台\n" * 50_000).encode()
    target.write_bytes(body + b"\xff\xfe\n")
    with pytest.raises(KokenErrors) as err:
        open_portfolio(target, library, encoding="utf-8")
    assert f"byte {len(body)}" in str(err.value)


def _parquet(path, columns: dict):
    pq.write_table(pa.table(columns), path)


def test_parquet_typed_columns_compute_like_csv(tmp_path, library):
    target = tmp_path / "lines.parquet"
    _parquet(target, {
        "product_line": ["Fridge A", "Fridge B"],
        "methodology": ["refrigerator", "refrigerator"],
        "fiscal_year": pa.array([2023, 2023], pa.int16()),
        "market": ["domestic", "overseas"],
        "region": ["JP", "US"],
        "units_shipped[台]": pa.array([1000, 2500], pa.int64()),
        "baseline_annual_energy[kWh/yr]": [420.0, 470.0],
        "product_annual_energy[kWh/yr]": [273.0, 273.0],
        "grid_emission_factor[kg-CO2/kWh]": [0.457, 0.39],
        "operating_years[yr]": pa.array([12, 12], pa.int32()),
    })
    source = open_portfolio(target, library)
    assert source.encoding == "parquet" and source.total_rows == 2
    part = next(source.partitions())
    portfolio = build_portfolio(part.layout, source.sha256, part.block, library, first=True)
    assert portfolio.rows.tolist() == [1, 2]  # record numbers
    table = calculate(portfolio, library).table
    # row 1: (420 - 273) × 0.457 = 67.179 kg/unit/yr × 1000 units = 67.179 t; row 2: 197 × 0.39 = 76.83 × 2.5
    assert table["single_year[t-CO2e]"].tolist() == pytest.approx([67.179, 76.83 * 2.5], rel=1e-12)
    assert table["units_shipped_as_entered"].tolist() == ["1000 台", "2500 台"]


def test_parquet_text_cells_with_units_and_nulls(tmp_path, library):
    target = tmp_path / "text.parquet"
    _parquet(target, {
        "methodology": ["refrigerator", None],
        "fiscal_year": [2023, 2023],
        "market": ["国内", "domestic"],
        "units_shipped": ["2.4 万台", "10 台"],
        "baseline_annual_energy": ["420 kWh/yr", "420 kWh/yr"],
        "product_annual_energy[kWh/yr]": [273.0, 273.0],
        "grid_emission_factor[kg-CO2/kWh]": [None, 0.457],
        "operating_years[yr]": [12.0, 12.0],
    })
    source = open_portfolio(target, library)
    part = next(source.partitions())
    portfolio = build_portfolio(part.layout, source.sha256, part.block, library, first=True)
    assert [str(e) for e in portfolio.problems] == [f"{target}, row 2, column 'methodology': methodology is empty"]
    assert portfolio.units_shipped[0][0] == 2.4 and portfolio.units_shipped[1][0] == "万台"


def test_parquet_column_of_dates_is_refused_by_name(tmp_path, library):
    import datetime

    target = tmp_path / "dates.parquet"
    _parquet(target, {"methodology": ["refrigerator"], "fiscal_year": [datetime.date(2023, 4, 1)],
                      "market": ["domestic"], "units_shipped[台]": [1.0]})
    with pytest.raises(KokenErrors) as err:
        list(open_portfolio(target, library).partitions())
    assert "column 'fiscal_year': column type date32[day] is not read" in str(err.value)


def test_a_file_that_is_not_parquet_is_refused(tmp_path, library):
    target = tmp_path / "fake.parquet"
    target.write_text("methodology,fiscal_year\n", encoding="utf-8")
    with pytest.raises(KokenErrors) as err:
        open_portfolio(target, library)
    assert "not a readable Parquet file" in str(err.value)


def test_nbsp_between_number_and_unit_reads_as_python_whitespace(tmp_path, library):
    """Arrow's RE2 \\s is ASCII only; koken's patterns spell out Python's whitespace (NBSP included)."""
    target = tmp_path / "nbsp.csv"
    target.write_text("methodology,fiscal_year,market,region,units_shipped,baseline_annual_energy[kWh/yr],"
                      "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
                      "refrigerator,2023,domestic,JP,2.4\u00a0万台,420,273,0.457,12\n", encoding="utf-8")
    portfolio = read_portfolio(target, library)
    assert portfolio.units_shipped[0][0] == 2.4 and portfolio.units_shipped[1][0] == "万台"


def test_generated_portfolio_reads_the_same_from_csv_and_parquet(tmp_path, library):
    import sys

    sys.path.insert(0, "benchmarks")
    from generate import generate

    frame = generate(600, seed=3)
    frame.to_csv(tmp_path / "g.csv", index=False)
    frame.to_parquet(tmp_path / "g.parquet", index=False)
    from_csv = calculate(read_portfolio(tmp_path / "g.csv", library), library).table
    from_parquet = calculate(read_portfolio(tmp_path / "g.parquet", library), library).table
    for column in ("single_year[t-CO2e]", "lifetime[t-CO2e]", "units_shipped", "methodology", "factors_from_tables"):
        pd.testing.assert_series_equal(from_csv[column], from_parquet[column], check_dtype=False)


# --- encodings -------------------------------------------------------------------------------------------


def test_euc_jp_text_read_as_utf8_is_refused_with_a_hint_to_give_the_encoding(library):
    # the EUC-JP labels were read garbled
    assert "give --encoding" in portfolio_problems(PORTFOLIOS / "euc_jp.csv", library)


def test_euc_jp_file_reads_with_the_encoding_given(library):
    portfolio = read_portfolio(PORTFOLIOS / "euc_jp.csv", library, encoding="euc_jp")
    assert portfolio.product_line[0] == "冷蔵庫 大型"


def test_utf16_csv_with_a_bom_is_detected_and_an_unknown_encoding_is_refused(tmp_path, library):
    text = ("product_line,methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
            "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
            "冷蔵庫（米国）,refrigerator,2023,overseas,1000,420,273,0.421,12\n")
    path = tmp_path / "u16.csv"
    path.write_bytes(text.encode("utf-16"))
    portfolio = read_portfolio(path, library)
    assert portfolio.encoding == "utf-16"
    assert portfolio.product_line[0] == "冷蔵庫（米国）"  # labels are kept as written
    with pytest.raises(KokenErrors, match="unknown encoding 'foo'"):
        read_portfolio(path, library, encoding="foo")


def test_utf16_without_a_bom_is_refused_and_utf8_with_a_bom_reads_under_encoding_utf8(tmp_path, library):
    (tmp_path / "u16.csv").write_bytes((REFRIGERATOR_HEADER + refrigerator_line()).encode("utf-16-le"))
    with pytest.raises(KokenErrors) as err:
        open_portfolio(tmp_path / "u16.csv", library, encoding="utf-16")
    assert "file is not utf-16 text" in str(err.value)
    (tmp_path / "bom.csv").write_bytes((REFRIGERATOR_HEADER + refrigerator_line()).encode("utf-8-sig"))
    assert len(read_portfolio(tmp_path / "bom.csv", library, encoding="utf-8")) == 1


def test_an_undecodable_csv_names_the_offset_of_the_bad_byte(tmp_path):
    """One bad byte deep in a CSV (after 3,000 good ones) is reported with its offset."""
    data = open("examples/portfolio_fy2023.csv", "rb").read()[:3000] + b"\x80\xff\xfe\n"
    (tmp_path / "bad.csv").write_bytes(data)
    with pytest.raises(KokenErrors) as err:
        read_portfolio(tmp_path / "bad.csv", {})
    assert "not utf-8 at byte 3,000" in str(err.value)


# --- CSV rows --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    "",
    ",,,,\n,,,,\n",
    "units,,,台\n",
])
def test_a_csv_without_product_lines_is_a_clear_error_not_a_traceback(tmp_path, library, body):
    path = tmp_path / "empty.csv"
    path.write_text("methodology,fiscal_year,market,units_shipped\n" + body, encoding="utf-8")
    with pytest.raises(KokenErrors, match="no product lines"):
        read_portfolio(path, library)


def test_two_million_blank_lines_are_skipped_quickly(tmp_path, library):
    path = tmp_path / "blank.csv"
    path.write_text((MESSY / "clean_utf8.csv").read_text(encoding="utf-8") + "\n" * 2_000_000,
                    encoding="utf-8")
    start = time.perf_counter()
    assert len(read_portfolio(path, library)) == 3
    assert time.perf_counter() - start < 10


def test_row_numbers_are_file_lines_after_a_cell_with_a_line_break(tmp_path, library):
    body = '"two\nlines",refrigerator,2023,domestic,JP,100,480,300,0.421,12\n' + refrigerator_line(market="mars")
    (tmp_path / "p.csv").write_text(REFRIGERATOR_HEADER + body, encoding="utf-8")
    with pytest.raises(KokenErrors) as err:  # one row per partition, so that both problems are reached
        run_pipeline(tmp_path / "p.csv", library, partition_rows=1)
    assert [e.location.row for e in err.value.errors] == [2, 4]  # the quoted cell starts on line 2; 'mars' is on 4


# --- YAML portfolios -------------------------------------------------------------------------------------


def test_yaml_portfolio_values_are_read_by_the_core_schema_not_yaml_1_1(library):
    # region: NO stays Norway (YAML 1.1: False); 0100 units stay 100 (YAML 1.1: octal 64)
    portfolio = read_portfolio(PORTFOLIOS / "yaml11_scalars.yaml", library)
    assert portfolio.region[0] == "NO" and portfolio.units_shipped[0][0] == 100


@pytest.mark.parametrize("name, message", [
    ("duplicate_keys.yaml", "'units_shipped' appears twice"),
    ("unpaired_surrogate.yaml", "unpaired surrogate"),
])
def test_yaml_portfolio_with_a_duplicate_key_or_an_unpaired_surrogate_is_refused(library, name, message):
    with pytest.raises(KokenError, match=message):
        read_portfolio(PORTFOLIOS / name, library)


def test_yaml_portfolio_rows_are_named_by_the_line_their_item_starts_on(tmp_path, library):
    """Issue 17 §3: rows of a YAML portfolio were numbered by their place in the list (row 2), which names no line
    a person can find in the file; now the line where the item starts (14), in problems and in the results."""
    problems = portfolio_problems(PORTFOLIOS / "yaml_rows_on_their_lines.yaml", library)
    assert "yaml_rows_on_their_lines.yaml, row 14, column 'fiscal_year'" in problems, problems
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text((PORTFOLIOS / "yaml_rows_on_their_lines.yaml").read_text(encoding="utf-8").replace(
        "twenty", "2023"), encoding="utf-8")
    assert list(read_portfolio(fixed, library).rows) == [4, 14]
    plain = tmp_path / "list.yaml"
    plain.write_text("- {methodology: refrigerator, fiscal_year: 2023, market: domestic, 'units_shipped[台]': 1}\n"
                     "# a comment\n- {methodology: refrigerator, fiscal_year: 2023, market: domestic, "
                     "'units_shipped[台]': 2}\n", encoding="utf-8")
    assert list(read_portfolio(plain, library).rows) == [1, 3]


def test_a_yaml_portfolio_with_thousands_of_distinct_keys_is_refused_in_bounded_memory(tmp_path):
    """Issue 17 §3: a 1 MB YAML portfolio whose rows each bring new keys made a header of 40,000 columns, found
    one by one in a list (quadratic), then a 5,000 × 40,000 table of cells: 15 GB. The keys are counted first and
    refused beyond the column limit, as a CSV header is, and rows × columns beyond the cell limit (1,000 keys over
    50,000 short rows). Measured in a new interpreter under a memory cap."""
    from helpers import run_isolated

    lines = ["- {methodology: refrigerator, fiscal_year: 2023, market: domestic, 'units_shipped[台]': 1, "
             + ", ".join(f"k{r}_{j}: 1" for j in range(8)) + "}" for r in range(5000)]
    path = tmp_path / "keys.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wide = tmp_path / "wide.yaml"  # 999 keys in the first row, then 50,000 rows of one key: 50 million cells
    wide.write_text("- {methodology: refrigerator, fiscal_year: 2023, market: domestic, 'units_shipped[台]': 1, "
                    + ", ".join(f"k{j}: 1" for j in range(995)) + "}\n" + "- {a: 1}\n" * 50_000, encoding="utf-8")
    assert path.stat().st_size < 1_000_000 and wide.stat().st_size < 1_000_000
    done, peak = run_isolated(f"""
        from koken.base.errors import KokenErrors
        from koken.portfolio.build import read_portfolio
        from helpers import load_folder
        library, _problems = load_folder()
        for path in ({str(path)!r}, {str(wide)!r}):
            try:
                read_portfolio(path, library)
            except KokenErrors as errs:
                print(str(errs))
    """, timeout=240, memory_mb=2000)
    assert "40,004 different keys (columns; limit 1000)" in done.stdout, done.stdout[-1000:] + done.stderr[-1000:]
    assert "50,001 rows × 1,000 columns make 50,001,000 cells (limit 2,000,000" in done.stdout, done.stdout[-1000:]
    assert peak < 500, peak


@pytest.mark.parametrize("name, message", [
    ("yaml_tag_int.yaml", "YAML tags such as"),                   # !!int 0x10 crashed the loader
    ("extra_top_level_keys.yaml", "only 'rows:' at the top"),     # top-level keys were silently dropped
    ("hidden_rows_and_columns.xlsx", "hidden rows"),              # hidden cells were computed
    ("far_stray_cell.xlsx", "clear stray cells"),                 # one far cell took all memory
])
def test_yaml_and_xlsx_portfolios_that_would_be_misread_are_refused(library, name, message):
    with pytest.raises((KokenError, KokenErrors), match=message):
        read_portfolio(PORTFOLIOS / name, library)


# --- XLSX workbooks --------------------------------------------------------------------------------------


def test_xlsx_formulas_without_saved_results_are_refused(library):
    with pytest.raises(KokenErrors, match="F2, G2 hold formulas whose results were never saved"):
        read_portfolio(PORTFOLIOS / "unsaved_formulas.xlsx", library)


def test_xlsx_zip_bomb_is_refused_before_expanding(tmp_path, library):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 300_000_000 + b">")
    start = time.perf_counter()
    with pytest.raises(KokenErrors, match="would expand to"):
        read_portfolio(bomb, library)
    assert time.perf_counter() - start < 5


def test_xlsx_reads_the_active_visible_sheet_not_a_hidden_first_one(library):
    # the active, visible sheet is read (a hidden first sheet held a 999,999-unit line)
    portfolio = read_portfolio(PORTFOLIOS / "hidden_first_sheet.xlsx", library)
    assert 999_999 not in portfolio.units_shipped[0]


def test_xlsx_percent_formatted_cells_are_read_as_the_percent_they_show(tmp_path, library):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(TRANSFORMER_HEADER)
    ws.append(["T", "transformer", 2024, "domestic", 95, 1900, 10000, 0.5, 1300, 8500, 0.5, 0.421, 25])
    ws["H2"].number_format = "0%"
    ws["K2"].number_format = "0%"
    path = tmp_path / "pct.xlsx"
    wb.save(path)
    single = calculate(read_portfolio(path, library), library).table["single_year[t-CO2e]"].iloc[0]
    # baseline 1,900 + 10,000 × 0.5² = 4,400 W; product 1,300 + 8,500 × 0.25 = 3,425 W; 975 W × 8,760 h
    # = 8,541 kWh/yr × 0.421 = 3,595.761 kg/台/yr × 95 台 = 341.597295 t
    assert single == pytest.approx(341.597295)


# --- Parquet ---------------------------------------------------------------------------------------------


def test_parquet_text_that_is_not_utf8_is_a_located_problem(tmp_path, library):
    label = pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(b"\x00\x00\x00\x00\x02\x00\x00\x00"),
                                                   pa.py_buffer(b"\xff\xfe")])
    pq.write_table(pa.table({"product_line": label, "methodology": ["refrigerator"], "fiscal_year": [2023],
                             "market": ["domestic"], "units_shipped[台]": [1.0]}), tmp_path / "bad.parquet")
    with pytest.raises(KokenErrors) as err:
        read_portfolio(tmp_path / "bad.parquet", library)
    assert "column 'product_line': column holds bytes that are not UTF-8 text" in str(err.value)
    assert open_portfolio(tmp_path / "bad.parquet", library).total_rows == 1


def test_a_named_pandas_index_in_parquet_is_read_as_a_column(tmp_path, library):
    """set_index('product_line').to_parquet(): a named index is data (a filter for pandas' index once dropped
    the product lines silently)."""
    frame = pd.read_csv(io.StringIO(REFRIGERATOR_HEADER + refrigerator_line(label="Fridge A")
                                    + refrigerator_line(label="Fridge B")))
    frame.set_index("product_line").to_parquet(tmp_path / "p.parquet")
    assert list(read_portfolio(tmp_path / "p.parquet", library).product_line) == ["Fridge A", "Fridge B"]


def test_parquet_from_a_filtered_dataframe_leaves_out_the_unnamed_pandas_index(tmp_path):
    """df[df.market == 'domestic'].to_parquet(path) adds __index_level_0__: pandas' index, not an unknown column."""
    frame = pd.read_csv("examples/portfolio_fy2023.csv", dtype=str, keep_default_na=False)
    frame[frame.market == "domestic"].to_parquet(tmp_path / "dom.parquet")
    library, _ = load_folder()
    table = calculate(read_portfolio(tmp_path / "dom.parquet", library), library).table
    assert len(table) == 30 and set(table["market"]) == {"domestic"}


def test_parquet_integers_beyond_float_precision_are_read_as_floats(tmp_path, library):
    pq.write_table(pa.table({"methodology": ["refrigerator"], "fiscal_year": [2023], "market": ["domestic"],
                             "units_shipped[台]": pa.array([2**53 + 1], pa.int64())}), tmp_path / "big.parquet")
    portfolio = read_portfolio(tmp_path / "big.parquet", library, collect=True)
    assert portfolio.units_shipped[0][0] == float(2**53)  # the nearest float, as "9007199254740993" in a CSV


def test_an_infinite_parquet_number_is_a_problem_named_plainly(tmp_path, library):
    pq.write_table(pa.table({"methodology": ["refrigerator"], "fiscal_year": [2023], "market": ["domestic"],
                             "units_shipped[台]": [float("inf")]}), tmp_path / "inf.parquet")
    portfolio = read_portfolio(tmp_path / "inf.parquet", library, collect=True)
    assert "inf is not a finite number" in str(portfolio.problems[0])


# --- XLSX display formats (issue 17 §1): what the sheet shows, or refused ----------------------------------


def _refrigerator_book(path, shipped, number_format, header_unit="千台"):
    """A workbook with one refrigerator line (480 → 300 kWh/yr, 0.421 kg-CO2/kWh, 12 yr) whose units-shipped cell
    holds ``shipped`` displayed with ``number_format``."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(REFRIGERATOR_HEADER.strip().replace("units_shipped[台]", f"units_shipped[{header_unit}]").split(","))
    ws.append(["F", "refrigerator", 2023, "domestic", "JP", shipped, 480, 300, 0.421, 12])
    ws["F2"].number_format = number_format
    wb.save(path)
    return path


def test_a_thousands_scaling_format_is_read_as_the_thousands_it_shows(tmp_path, library):
    """45,000 formatted '#,##0,' shows 45 under 出荷台数[千台]: 45 千台. It was read as 45,000 千台 (1,000× too many)."""
    path = _refrigerator_book(tmp_path / "k.xlsx", 45000, "#,##0,")
    portfolio = read_portfolio(path, library)
    assert list(portfolio.units_shipped_entered) == ["45 千台"]
    # (480 − 300) × 0.421 = 75.78 kg/台/yr × 45,000 台 = 3,410.1 t-CO2e single-year
    assert calculate(portfolio, library).table["single_year[t-CO2e]"].tolist() == pytest.approx([3410.1])
    # two commas: millions ('#,##0,,' shows 0.045 of 45,000), read as shown
    path = _refrigerator_book(tmp_path / "m.xlsx", 45_000_000, "#,##0,,", header_unit="百万台")
    assert read_portfolio(path, library).units_shipped[0].tolist() == [45.0]


def test_a_literal_percent_sign_in_a_format_is_not_a_percentage_scaling(tmp_path, library):
    """A load factor of 0.5 formatted '0.0"%"' shows 0.5% (the quoted % is text and does not multiply by 100); it was
    read as 50 %."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(TRANSFORMER_HEADER)
    ws.append(["T", "transformer", 2024, "domestic", 95, 1900, 10000, 0.5, 1300, 8500, 0.5, 0.421, 25])
    ws["H2"].number_format = '0.0"%"'
    ws["K2"].number_format = '0.0"%"'
    path = tmp_path / "literal_pct.xlsx"
    wb.save(path)
    single = calculate(read_portfolio(path, library), library).table["single_year[t-CO2e]"].iloc[0]
    # load factor 0.5 % = 0.005: baseline 1,900 + 10,000 × 0.005² = 1,900.25 W; product 1,300 + 8,500 × 0.005² =
    # 1,300.2125 W; 600.0375 W × 8,760 h = 5,256.3285 kWh/yr × 0.421 = 2,212.9143 kg/台/yr × 95 台 = 210.226858 t
    assert single == pytest.approx(210.226858)


def test_a_unit_written_by_the_format_is_read_as_the_sheet_shows_it(tmp_path, library):
    """4.5 formatted '0.0"万台"' shows 4.5万台 under 出荷台数[台]: 45,000 台 (it was read as 4.5 台)."""
    path = _refrigerator_book(tmp_path / "man.xlsx", 4.5, '0.0"万台"', header_unit="台")
    portfolio = read_portfolio(path, library)
    assert list(portfolio.units_shipped_entered) == ["4.5万台"]
    assert calculate(portfolio, library).table["units_shipped"].tolist() == [45000.0]


@pytest.mark.parametrize(("value", "number_format", "message"), [
    (-45000, "#,##0;#,##0", "shows it without a minus sign"),      # −45,000 shown as 45,000
    (45000, '[>=100000]#,##0,"千";#,##0', "conditions"),           # what is shown depends on the value
    (4500000, "000-0000", "text inside the number"),              # 4,500,000 shown as 450-0000
    (45000, ";;;", "hides the value"),                            # nothing shown at all
    (0.5, "# ?/?", "a fraction"),                                 # 0.5 shown as 1/2
    (0, "#,##0;-#,##0;", "hides the value"),                      # 0 shown as an empty cell
])
def test_a_format_whose_display_cannot_be_read_as_a_number_is_refused(tmp_path, library, value, number_format, message):
    path = _refrigerator_book(tmp_path / "f.xlsx", value, number_format)
    with pytest.raises(KokenErrors) as info:
        read_portfolio(path, library)
    assert "cell F2" in str(info.value) and message in str(info.value), str(info.value)


@pytest.mark.parametrize(("value", "number_format", "shown"), [
    (-45, "#,##0;▲#,##0", "▲45"), (-45, "#,##0;(#,##0)", "-45"), (-45, "#,##0;[Red]#,##0", "-45"),
    (-45, "#,##0", "-45"), (45, "0.00E+00", "45"), (45, '[$-411]#,##0"台"', "45台"), (45, "General", "45"),
    (45, "[$-411]General", "45"), (0, '#,##0;-#,##0;"-"', "0"),   # General after a locale tag; a zero shown as a dash
])
def test_formats_that_keep_the_number_read_as_shown(tmp_path, value, number_format, shown):
    """Accounting negatives (▲, parentheses, red), scientific notation, a locale tag, a unit as text and a zero shown
    as a dash."""
    from koken.portfolio.readers import excel_cell_text

    openpyxl = pytest.importorskip("openpyxl")
    cell = openpyxl.Workbook().active["A1"]
    cell.value, cell.number_format = value, number_format
    assert excel_cell_text(cell) == shown


def _with_xml(path, edit):
    """Rewrite the first sheet's XML of a saved workbook (openpyxl never writes a zero width or height itself)."""
    data = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = edit(content.decode("utf-8")).encode("utf-8")
            dst.writestr(item, content)
    path.write_bytes(out.getvalue())


@pytest.mark.parametrize(("edit", "message"), [
    (lambda x: x.replace('<row r="3"', '<row r="3" ht="0" customHeight="1"'), "rows [3]"),
    (lambda x: x.replace("<sheetData>", '<cols><col min="6" max="6" width="0" customWidth="1"/></cols><sheetData>'),
     "columns ['F']"),
])
def test_zero_height_rows_and_zero_width_columns_count_as_hidden(tmp_path, library, edit, message):
    """A row of height 0 or a column of width 0 is not shown but was computed (a 999,999-unit line among them)."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(REFRIGERATOR_HEADER.strip().split(","))
    for shipped in (100, 999_999, 100):
        ws.append(["F", "refrigerator", 2023, "domestic", "JP", shipped, 480, 300, 0.421, 12])
    path = tmp_path / "zero.xlsx"
    wb.save(path)
    _with_xml(path, edit)
    with pytest.raises(KokenErrors) as info:
        read_portfolio(path, library)
    assert "too small to be seen" in str(info.value) and message in str(info.value), str(info.value)


def test_a_thin_empty_spacer_row_or_column_is_no_problem(tmp_path, library):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(REFRIGERATOR_HEADER.strip().split(","))
    ws.append([])
    ws.append(["F", "refrigerator", 2023, "domestic", "JP", 100, 480, 300, 0.421, 12])
    path = tmp_path / "spacer.xlsx"
    wb.save(path)
    _with_xml(path, lambda x: x.replace("<sheetData>", '<cols><col min="12" max="12" width="0.5" customWidth="1"/>'
                                        '</cols><sheetData>').replace('</row><row r="3"',
                                                                     '</row><row r="2" ht="2" customHeight="1"/><row r="3"'))
    assert len(read_portfolio(path, library)) == 1


def test_a_csv_row_of_100_mb_is_refused_in_bounded_memory(tmp_path):
    """Issue 17 §3: one 100 MB line (a product line followed by 100 million commas) was read whole, then split into
    100 million cells: 2.5 GB before the column limit refused it. A line (or a record over several lines) is read
    at most 1,000,000 characters at a time and refused beyond, naming its row. Measured in a new interpreter under
    a memory cap."""
    from helpers import run_isolated

    path = tmp_path / "long_row.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write(REFRIGERATOR_HEADER + refrigerator_line().rstrip("\n"))
        out.write("," * 100_000_000 + "\n")
        out.write(refrigerator_line())
    done, peak = run_isolated(f"""
        from koken.base.errors import KokenErrors
        from koken.portfolio.build import read_portfolio
        from helpers import load_folder
        library, _problems = load_folder()
        try:
            read_portfolio({str(path)!r}, library)
        except KokenErrors as errs:
            print(str(errs))
    """, timeout=240, memory_mb=2000)
    assert "long_row.csv, row 2: the row is longer than 1,000,000 characters" in done.stdout, \
        done.stdout[-1000:] + done.stderr[-1000:]
    assert peak < 400, peak


def test_a_row_with_too_many_cells_above_the_header_is_named_as_a_row(tmp_path, library):
    """A row read while the header is looked for (among the first 30) with more cells than a portfolio has columns
    was reported as 'the header has 5,000 columns'; it is a row, and its number is given."""
    path = tmp_path / "p.csv"
    path.write_text("title" + "," * 5000 + "\n" + REFRIGERATOR_HEADER + refrigerator_line(), encoding="utf-8")
    with pytest.raises(KokenErrors, match=r"p.csv, row 1: the row has 5,001 cells, more than a portfolio's 1000"):
        read_portfolio(path, library)


def test_parquet_text_that_decodes_to_gigabytes_is_refused_before_it_is_decoded(tmp_path):
    """Issue 17 §3: a 2 KB Parquet file whose text column repeats one 1 MB value (one dictionary entry, or one
    value compressed a thousandfold) decoded to 2 GB (6.2 GB in the issue's file) before any check. Decoded sizes
    are bounded, not file sizes: a cell longer than Excel's 32,767 characters is refused from the dictionary's
    lengths before decoding, and a column chunk that would decompress beyond 256 MB from the file's metadata."""
    from helpers import run_isolated

    n, big = 2000, "x" * 1_000_000
    head = {"methodology": ["refrigerator"] * n, "fiscal_year": [2023] * n, "market": ["domestic"] * n,
            "units_shipped[台]": [1.0] * n}
    pq.write_table(pa.table({**head, "product_line": pa.array([big] * n).dictionary_encode()}),
                   tmp_path / "dictionary.parquet", compression="zstd")
    pq.write_table(pa.table({**head, "product_line": pa.array([big] * n)}), tmp_path / "encoded.parquet",
                   compression="zstd")
    pq.write_table(pa.table({**head, "product_line": pa.array([big] * n)}), tmp_path / "plain.parquet",
                   compression="zstd", use_dictionary=False)
    assert max(p.stat().st_size for p in tmp_path.glob("*.parquet")) < 200_000
    done, peak = run_isolated(f"""
        from koken.base.errors import KokenErrors
        from koken.portfolio.build import read_portfolio
        from helpers import load_folder
        library, _problems = load_folder()
        for name in ("dictionary.parquet", "encoded.parquet", "plain.parquet"):
            try:
                read_portfolio({str(tmp_path)!r} + "/" + name, library)
            except KokenErrors as errs:
                print(str(errs))
    """, timeout=300, memory_mb=2500)
    out = done.stdout
    assert "dictionary.parquet, row 1, column 'product_line': a cell holds 1,000,000 characters (limit 32,767)" in out, \
        out[-1500:] + done.stderr[-1500:]
    assert "encoded.parquet, row 1, column 'product_line': a cell holds 1,000,000 characters (limit 32,767)" in out, out
    assert "plain.parquet, column 'product_line': row group 1 decompresses to 2,000 MB (limit 256 MB)" in out, out
    assert peak < 600, peak


def test_parquet_text_is_read_in_slices_of_bounded_size(tmp_path, library):
    """A record batch whose text decodes beyond the budget of a partition is read in slices, each built alone:
    the same rows, the same figures."""
    import koken.portfolio.readers as readers

    n = 50
    table = pa.table({"methodology": ["refrigerator"] * n, "fiscal_year": [2023] * n, "market": ["domestic"] * n,
                      "units_shipped[台]": [1.0] * n, "baseline_annual_energy[kWh/yr]": [420.0] * n,
                      "product_annual_energy[kWh/yr]": [273.0] * n, "grid_emission_factor[kg-CO2/kWh]": [0.421] * n,
                      "operating_years[yr]": [12.0] * n, "note": pa.array([f"{i:04d}" + "y" * 1000 for i in range(n)])})
    pq.write_table(table, tmp_path / "p.parquet")
    whole = read_portfolio(tmp_path / "p.parquet", library)
    original = readers.MAX_PARTITION_TEXT
    readers.MAX_PARTITION_TEXT = 10_000  # ten rows of notes
    try:
        source = open_portfolio(tmp_path / "p.parquet", library)
        blocks = [p.block for p in source.partitions()]
    finally:
        readers.MAX_PARTITION_TEXT = original
    assert [len(b.rows) for b in blocks] == [9, 9, 9, 9, 9, 5]
    assert list(np.concatenate([b.rows for b in blocks])) == list(whole.rows) == list(range(1, n + 1))


def _sha(path) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_csv_file_written_between_hashing_and_parsing_is_refused(tmp_path, library):
    """Issue 17 §2: the file was hashed in one pass and parsed in another; a file swapped in between gave one file's
    hash with another's numbers. The bytes parsed are hashed as they are read and compared with the hash recorded."""
    path = tmp_path / "p.csv"
    path.write_text(REFRIGERATOR_HEADER + refrigerator_line(shipped="100"), encoding="utf-8")
    source = open_portfolio(path, library)
    assert source.sha256 == _sha(path)
    path.write_text(REFRIGERATOR_HEADER + refrigerator_line(shipped="900"), encoding="utf-8")
    with pytest.raises(KokenErrors, match=r"p.csv: the file changed while it was read"):
        list(source.partitions())
    same = open_portfolio(path, library)  # unchanged: read as before
    assert [len(p.block.rows) for p in same.partitions()] == [1]


def test_an_xlsx_or_parquet_file_replaced_after_it_was_opened_gives_the_numbers_of_the_hash(tmp_path, library):
    """Issue 17 §2: a workbook is read once (the bytes hashed are the bytes parsed); a Parquet file is read through
    the handle that was hashed, so a file renamed over it is not read, and bytes written into it are refused."""
    import openpyxl

    def workbook(units, name):
        wb = openpyxl.Workbook()
        wb.active.append(REFRIGERATOR_HEADER.strip().split(","))
        wb.active.append([float(c) if c.replace(".", "").isdigit() else c
                          for c in refrigerator_line(shipped=str(units)).strip().split(",")])
        wb.save(tmp_path / name)

    workbook(100, "p.xlsx")
    workbook(900, "other.xlsx")
    source = open_portfolio(tmp_path / "p.xlsx", library)
    digest = _sha(tmp_path / "p.xlsx")
    (tmp_path / "other.xlsx").replace(tmp_path / "p.xlsx")
    [part] = list(source.partitions())
    assert source.sha256 == digest
    assert list(build_portfolio(part.layout, source.sha256, part.block, library).units_shipped[0]) == [100]

    table = pd.read_csv(io.StringIO(REFRIGERATOR_HEADER + refrigerator_line(shipped="100")))
    table.to_parquet(tmp_path / "p.parquet", index=False)
    table.assign(**{"units_shipped[台]": [900]}).to_parquet(tmp_path / "other.parquet", index=False)
    source = open_portfolio(tmp_path / "p.parquet", library)
    digest = _sha(tmp_path / "p.parquet")
    (tmp_path / "other.parquet").replace(tmp_path / "p.parquet")
    [part] = list(source.partitions())
    assert source.sha256 == digest
    assert list(build_portfolio(part.layout, source.sha256, part.block, library).units_shipped[0]) == [100]

    table.to_parquet(tmp_path / "q.parquet", index=False)
    source = open_portfolio(tmp_path / "q.parquet", library)
    with open(tmp_path / "q.parquet", "r+b") as fh:  # the same file, written into (its footer, already read)
        fh.seek((tmp_path / "q.parquet").read_bytes().index(b"pandas_version"))
        fh.write(b"PANDAS_version")
    with pytest.raises(KokenErrors, match=r"q.parquet: the file changed while it was read"):
        list(source.partitions())


def _hand_written_workbook(path, rows: list[str], shared: list[str] = (), pad: int = 0) -> None:
    """A workbook written by hand, as any program may write one: ``rows`` are the sheet's <row> elements,
    ``shared`` its shared strings, ``pad`` bytes of incompressible data beside them (a file of ordinary size)."""
    import os

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.'
        'xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}"><Relationship Id="rId1" '
        f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        f'Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>'
        + "".join(rows) + "</sheetData></worksheet>",
        "xl/sharedStrings.xml": f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}">'
        + "".join(f"<si><t>{t}</t></si>" for t in shared) + "</sst>"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        if pad:
            book.writestr("docProps/pad.bin", os.urandom(pad))
        for name, text in files.items():
            book.writestr(name, text)


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


XLSX_HEADER = ('<row r="1">' + "".join(_inline(f"{c}1", t) for c, t in zip(
    "ABCDE", ("methodology", "product_line", "fiscal_year", "market", "units_shipped[台]"))) + "</row>")


def test_an_xlsx_shared_string_reused_by_every_cell_is_refused_in_bounded_memory(tmp_path):
    """Issue 17 §3: a 76 KB workbook whose cells all refer to one 5 MB shared string reached 5.9-9 GB (each cell
    became its own 5 MB text downstream). A cell longer than Excel's 32,767 characters is refused as it is read,
    naming it, and the texts of a workbook are bounded in total. Measured in a new interpreter under a memory cap."""
    from helpers import run_isolated

    path = tmp_path / "shared.xlsx"
    _hand_written_workbook(path, [XLSX_HEADER] + [
        f'<row r="{i}">{_inline(f"A{i}", "refrigerator")}<c r="B{i}" t="s"><v>0</v></c><c r="C{i}"><v>2023</v></c>'
        f'{_inline(f"D{i}", "domestic")}<c r="E{i}"><v>1</v></c></row>' for i in range(2, 1002)],
        shared=["x" * 5_000_000], pad=70_000)
    assert path.stat().st_size < 120_000
    done, peak = run_isolated(f"""
        from koken.base.errors import KokenErrors
        from koken.portfolio.build import read_portfolio
        from helpers import load_folder
        library, _problems = load_folder()
        try:
            read_portfolio({str(path)!r}, library)
        except KokenErrors as errs:
            print(str(errs))
    """, timeout=240, memory_mb=2500)
    assert "shared.xlsx, sheet 'Sheet1', cell B2: a cell holds 5,000,000 characters (limit 32,767) (and 999 other " \
           "cells: B3, B4, B5, B6, B7 …)" in done.stdout, done.stdout[-1000:] + done.stderr[-1000:]
    assert peak < 500, peak


def test_a_workbook_of_millions_of_cells_is_refused_before_it_is_loaded(tmp_path):
    """Issue 17 §3: 4 million cells took 2 GB in openpyxl before the (generous) limit of 20 million refused them.
    The cells of the worksheets' XML are counted before loading: beyond 2,000,000 (the limit of a portfolio read
    whole) the workbook is refused, naming the limit. Measured in a new interpreter under a memory cap."""
    from helpers import run_isolated

    path = tmp_path / "cells.xlsx"
    _hand_written_workbook(path, [XLSX_HEADER] + [
        f'<row r="{i}"><c r="A{i}"><v>1</v></c><c r="B{i}"><v>1</v></c><c r="C{i}"><v>2023</v></c>'
        f'<c r="D{i}"><v>1</v></c><c r="E{i}"><v>1</v></c></row>' for i in range(2, 440_002)], pad=2_000_000)
    done, peak = run_isolated(f"""
        from koken.base.errors import KokenErrors
        from koken.portfolio.build import read_portfolio
        from helpers import load_folder
        library, _problems = load_folder()
        try:
            read_portfolio({str(path)!r}, library)
        except KokenErrors as errs:
            print(str(errs))
    """, timeout=240, memory_mb=2500)
    assert "cells.xlsx: the workbook has 2,200,005 cells (limit 2,000,000 for a workbook, which is read whole)" in \
        done.stdout, done.stdout[-1000:] + done.stderr[-1000:]
    assert peak < 400, peak


def test_xlsx_date_cells_are_refused_naming_the_cell_and_what_to_write(tmp_path, library):
    """Issue 17 §3 (leftover): a fiscal year typed as a date (Excel shows 2023/4/1) was read as the text
    '2023-04-01 00:00:00' and refused as a year without saying why; a date in a quantity column likewise. Each date
    cell is named, with what to write instead."""
    import datetime

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(REFRIGERATOR_HEADER.strip().split(","))
    row = [float(c) if c.replace(".", "").isdigit() else c for c in refrigerator_line().strip().split(",")]
    row[2], row[5] = datetime.datetime(2023, 4, 1), datetime.date(2023, 1, 5)
    wb.active.append(row)
    wb.save(tmp_path / "dates.xlsx")
    with pytest.raises(KokenErrors) as err:
        read_portfolio(tmp_path / "dates.xlsx", library)
    text = str(err.value)
    assert "dates.xlsx, sheet 'Sheet', cell C2: the cell holds a date or time (2023-04-01T00:00:00, its number " \
           "format 'yyyy-mm-dd h:mm:ss'); koken reads numbers and text: write a fiscal year as digits (2023)" in text
    assert "cell F2: the cell holds a date or time (2023-01-05T00:00:00" in text


def test_a_workbook_with_an_unreadable_chart_sheet_says_so(tmp_path, library):
    """Issue 17 §3 (leftover): a chart sheet without a drawing made openpyxl fail, reported as 'not a readable
    .xlsx workbook (AttributeError)'; the message names the chart sheets and what to do."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(REFRIGERATOR_HEADER.strip().split(","))
    wb.create_chartsheet("chart")
    wb.save(tmp_path / "chart.xlsx")
    with pytest.raises(KokenErrors, match=r"chart.xlsx: not a readable .xlsx workbook \(AttributeError\): it has chart "
                                          r"sheets \(xl/chartsheets/sheet1.xml\) that could not be read; koken reads "
                                          r"worksheets only"):
        read_portfolio(tmp_path / "chart.xlsx", library)
