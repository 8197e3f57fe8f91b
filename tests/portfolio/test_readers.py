"""Reading portfolios in partitions: CSV streamed, Parquet by record batches, the same rows either way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from koken.base.errors import KokenErrors
from koken.calculation import calculate
from koken.portfolio.build import build_portfolio, read_portfolio
from koken.portfolio.readers import open_portfolio

EXAMPLE = "examples/portfolio_fy2023.csv"


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
