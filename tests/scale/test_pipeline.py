"""The partitioned main job: results do not depend on partitioning, and nothing is written on a problem."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from koken.attribution import load_ratio_file
from koken.base.errors import KokenError, KokenErrors
from koken.calculation import calculate
from koken.portfolio.build import read_portfolio
from koken.portfolio.readers import open_portfolio
from koken.results import result_document
from koken.scale.pipeline import run

from helpers import REFRIGERATOR_HEADER, refrigerator_line, run_pipeline

EXAMPLE = "examples/portfolio_fy2023.csv"


@pytest.fixture(scope="module")
def ratios():
    return load_ratio_file(None)


def _run(path, library, ratios, output, partition_rows=None, **kw):
    source = open_portfolio(path, library, partition_rows=partition_rows)
    return run(source, library, ratios, {}, output=output, **kw)


def test_rows_do_not_depend_on_partitioning(tmp_path, library, ratios):
    one = _run(EXAMPLE, library, ratios, tmp_path / "one.csv")
    many = _run(EXAMPLE, library, ratios, tmp_path / "many.csv", partition_rows=3)
    assert (one.partitions, many.partitions) == (1, 14)  # 40 lines in partitions of 3
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "many.csv").read_bytes()
    for by in (["fiscal_year", "market"], ["fiscal_year", "category", "methodology", "market"]):
        pd.testing.assert_frame_equal(one.totals.summarise(by), many.totals.summarise(by), check_exact=False,
                                      rtol=1e-12)


def test_streamed_json_is_the_in_memory_document(tmp_path, library, ratios):
    _run(EXAMPLE, library, ratios, tmp_path / "r.json", partition_rows=9)
    streamed = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    calc = calculate(read_portfolio(EXAMPLE, library), library)
    import dataclasses

    from koken.attribution import attribute

    expected = result_document(dataclasses.replace(calc, table=attribute(calc.table, ratios)))
    for doc in (streamed, expected):
        doc.pop("created")
        doc.pop("options")
    assert streamed["rows"] == expected["rows"]
    assert streamed.keys() == expected.keys()
    for key in ("totals_by_market", "totals_by_methodology"):
        for a, b in zip(streamed[key], expected[key]):
            assert a.keys() == b.keys()
            for k in a:
                if isinstance(a[k], float):
                    assert a[k] == pytest.approx(b[k], rel=1e-12), (key, k)
                else:
                    assert a[k] == b[k], (key, k)


def test_parquet_results_carry_rows_and_provenance(tmp_path, library, ratios):
    result = _run(EXAMPLE, library, ratios, tmp_path / "r.parquet", partition_rows=16)
    table = pq.read_table(tmp_path / "r.parquet")
    assert table.num_rows == 40 and pq.ParquetFile(tmp_path / "r.parquet").metadata.num_row_groups == 3
    csv = _run(EXAMPLE, library, ratios, tmp_path / "r.csv")
    assert csv.rows == 40
    from_csv = pd.read_csv(tmp_path / "r.csv", encoding="utf-8-sig")
    assert table.column("single_year[t-CO2e]").to_pylist() == pytest.approx(
        from_csv["single_year[t-CO2e]"].tolist(), rel=1e-15)
    meta = json.loads(pq.read_metadata(tmp_path / "r.parquet").metadata[b"koken"])
    assert meta["input"]["sha256"] == result.provenance["input"]["sha256"]
    assert set(meta["methodologies"]) == set(result.methodologies)
    assert sum(r["product_lines"] for r in meta["totals_by_market"]) == 40


def _lines(tmp_path, rows: list[str]):
    path = tmp_path / "p.csv"
    path.write_text("methodology,fiscal_year,market,region,units_shipped[台],baseline_annual_energy[kWh/yr],"
                    "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    return path


GOOD = "refrigerator,2023,domestic,JP,100,420,273,0.457,12"


def test_problems_in_every_partition_are_listed_and_nothing_is_written(tmp_path, library, ratios):
    path = _lines(tmp_path, [GOOD, "refrigerator,2023,domestic,JP,abc,420,273,0.457,12", GOOD, GOOD,
                             "refrigerator,2023,domestic,JP,100,420,273,0.457,-1"])
    out = tmp_path / "out.parquet"
    with pytest.raises(KokenErrors) as err:
        _run(path, library, ratios, out, partition_rows=2)
    rows = [e.location.row for e in err.value.errors]
    assert rows == [3, 6]  # one problem in the first partition, one in the third
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["p.csv"]  # no temporary file left behind


def test_totals_that_overflow_only_across_partitions_are_refused(tmp_path, library, ratios):
    # per row: (1e10 - 0) kWh/yr × 1 kg-CO2/kWh = 1e10 kg per unit per year; × 1e300 units / 1000 = 1e307 t
    # single-year and 1.2e308 t lifetime (both finite, below 1.797e308); two rows: 2.4e308 t overflows
    path = _lines(tmp_path, ["refrigerator,2023,domestic,JP,1e300,1e10,0,1,12"] * 2)
    with pytest.raises(KokenErrors) as err:
        _run(path, library, ratios, None, partition_rows=1)
    assert "the portfolio's totals overflow" in str(err.value)


def test_an_unwritable_output_is_an_error_not_a_traceback(tmp_path, library, ratios):
    with pytest.raises(KokenError) as err:
        _run(EXAMPLE, library, ratios, tmp_path / "missing" / "r.parquet")
    assert "cannot write here" in str(err.value)


def test_unsupported_output_type(tmp_path, library, ratios):
    with pytest.raises(KokenError) as err:
        _run(EXAMPLE, library, ratios, tmp_path / "r.ods")
    assert "use .csv, .json, .parquet or .xlsx" in str(err.value)


def test_only_a_units_row_is_no_product_lines(tmp_path, library, ratios):
    path = tmp_path / "p.csv"
    path.write_text("methodology,fiscal_year,market,units_shipped\nunits,,,台\n", encoding="utf-8")
    with pytest.raises(KokenErrors) as err:
        _run(path, library, ratios, None, partition_rows=1)
    assert "no product lines (only a header and a units row)" in str(err.value)


def test_a_run_stopped_midway_leaves_no_temporary_file(tmp_path, library, ratios):
    """SIGTERM is turned into SystemExit by the CLI, so a terminated run leaves no .koken-*.tmp behind."""
    def stop(rows, read):
        raise SystemExit(143)

    with pytest.raises(SystemExit):
        _run(EXAMPLE, library, ratios, tmp_path / "r.parquet", partition_rows=5, progress=stop)
    assert list(tmp_path.iterdir()) == []


def test_parquet_results_take_more_categories_in_later_partitions(tmp_path, library):
    """300 rows of one region, then 300 distinct regions: the second partition overflowed int8 codes."""
    regions = "".join(refrigerator_line(region=f"R{i}", market="overseas") for i in range(300))
    (tmp_path / "p.csv").write_text(REFRIGERATOR_HEADER + refrigerator_line() * 300 + regions, encoding="utf-8")
    run_pipeline(tmp_path / "p.csv", library, tmp_path / "r.parquet", partition_rows=300)
    assert pq.read_table(tmp_path / "r.parquet").column("region").to_pylist()[-1] == "R299"


@pytest.mark.parametrize("partition_rows", [None, 100])
def test_overflowing_totals_are_refused_and_nothing_written_whatever_the_partitioning(tmp_path, library,
                                                                                      partition_rows):
    """Rows finite, their sum not: refused in one partition and in several (several once wrote 'inf' totals)."""
    (tmp_path / "p.csv").write_text(REFRIGERATOR_HEADER + refrigerator_line(shipped="1e306") * 220, encoding="utf-8")
    with pytest.raises(KokenErrors) as err:
        run_pipeline(tmp_path / "p.csv", library, tmp_path / "r.csv", partition_rows=partition_rows)
    assert "totals overflow" in str(err.value)
    assert not (tmp_path / "r.csv").exists()


def test_rows_longer_than_the_header_are_listed_in_every_partition(tmp_path, library):
    rows = [refrigerator_line() for _ in range(250)]
    for at in (52, 152, 222):  # file rows 54, 154, 224 (the header is row 1)
        rows[at] = rows[at].rstrip("\n") + ",extra\n"
    (tmp_path / "p.csv").write_text(REFRIGERATOR_HEADER + "".join(rows), encoding="utf-8")
    with pytest.raises(KokenErrors) as err:
        run_pipeline(tmp_path / "p.csv", library, partition_rows=100)
    assert [e.location.row for e in err.value.errors] == [54, 154, 224]


def test_the_runs_problems_read_in_the_chosen_language(tmp_path, library, ratios):
    from koken.base.i18n import language

    units_only = tmp_path / "p.csv"
    units_only.write_text("methodology,fiscal_year,market,units_shipped\nunits,,,台\n", encoding="utf-8")
    with language("ja"):
        with pytest.raises(KokenErrors) as empty:
            _run(units_only, library, ratios, None)
        with pytest.raises(KokenError) as output:
            _run(EXAMPLE, library, ratios, tmp_path / "r.ods")
        with pytest.raises(KokenError) as engine:
            _run(EXAMPLE, library, ratios, None, engine="spark")
    assert "ファイルに製品行がありません（見出しと単位行だけです）" in str(empty.value)
    assert "対応していない出力形式 '.ods'：.csv、.json、.parquet、.xlsx のいずれかにしてください" in str(output.value)
    assert "不明なエンジン 'spark' です。local か dask を指定してください。" in str(engine.value)
    with language("en"), pytest.raises(KokenError, match="unknown engine 'spark': use local or dask"):
        _run(EXAMPLE, library, ratios, None, engine="spark")
