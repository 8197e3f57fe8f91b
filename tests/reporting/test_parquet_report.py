"""koken report of a Parquet result (and of a portfolio, --portfolio) against koken report of the JSON result of the
same portfolio (issue 17 §4).

The messy generated portfolio of ``tests/scale/test_end_to_end_identical.py`` (2,500 lines, two fiscal years,
text cells with their own units, uncertain values, lines without a region, a company's own column) is calculated in
four partitions once as JSON and once as Parquet; each report is then built from both, and every output is compared
with the JSON one: the table, the disclosures, the lines, Markdown, CSV, HTML and the workbook, cell for cell. Only
what names the file itself differs (its name, its hash, when it was written); those are put alike before comparing.
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from koken.api import calculate, report
from koken.attribution import load_ratio_file
from koken.base.errors import KokenError, KokenErrors
from koken.portfolio.readers import open_portfolio
from koken.reporting import action_plan
from koken.reporting.action_plan import build_report, load_result_documents
from koken.reporting.html.blocks import Context
from koken.reporting.output import report_bytes
from koken.results import (
    DETAIL_KEYS,
    DETAILS_METADATA,
    GRID_FACTOR_COLUMNS,
    detail_arrays,
    detail_records,
    detail_width,
    details_layout,
    frame_document,
    is_detail_column,
    read_parquet_lines,
    read_result,
    result_document,
    row_details,
)
from koken.scale.pipeline import run

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden"
PORTFOLIO = GOLDEN / "e2e_messy_portfolio.parquet"
OLD_RESULT = GOLDEN / "e2e_messy_results.parquet"  # written by a koken before the inputs and steps columns
PARTITION_ROWS = 700


@pytest.fixture(scope="module")
def results(tmp_path_factory, library):
    """The messy portfolio's JSON and Parquet results (four partitions each)."""
    folder = tmp_path_factory.mktemp("results")
    out = {}
    for suffix in (".json", ".parquet"):
        path = folder / f"r{suffix}"
        run(open_portfolio(PORTFOLIO, library, partition_rows=PARTITION_ROWS), library, load_ratio_file(None), {},
            output=path)
        out[suffix] = path
    return out


def _dumped(value) -> str:
    """A value as JSON text (NaN written as NaN), for comparing mappings holding NaN."""
    return json.dumps(value, ensure_ascii=False, allow_nan=True, sort_keys=False)


def test_the_parquet_columns_give_every_rows_inputs_and_steps_as_the_json_result(library):
    calc = calculate(PORTFOLIO, library)
    arrays = detail_arrays(calc, detail_width(library))
    layout = details_layout(arrays.schema.metadata)
    assert arrays.num_rows == len(calc.table) == 2_500
    assert arrays.column_names == layout.columns() and all(is_detail_column(c) for c in arrays.column_names)
    assert (layout.inputs, layout.steps) == detail_width(library) == (max(len(m.parameters) for m in library.values()),
                                                                      max(len(m.steps) for m in library.values()))
    assert set(layout.methodologies) == set(calc.table["methodology"].astype(str))
    back = detail_records(arrays, calc.table["methodology"].astype(str).tolist(), layout)
    assert _dumped(back) == _dumped(row_details(calc))  # names, order, values, units, origins and levels


def test_a_parquet_result_holds_the_rows_of_the_json_result_and_their_inputs(results):
    doc = read_result(results[".json"])
    head, lines, digest = read_parquet_lines(results[".parquet"])
    assert digest.startswith("sha256:")
    assert pq.ParquetFile(results[".parquet"]).num_row_groups == 4
    table = pd.DataFrame(doc["rows"])
    pd.testing.assert_frame_equal(lines.drop(columns=list(GRID_FACTOR_COLUMNS)),
                                  table.drop(columns=list(DETAIL_KEYS)))
    grid = [row["inputs"].get("grid_emission_factor") for row in doc["rows"]]
    values, units, origins = (lines[c].tolist() for c in GRID_FACTOR_COLUMNS)
    assert [g["origin"] if g else None for g in grid] == origins
    assert [g["unit"] if g else None for g in grid] == units
    assert all((g is None and math.isnan(v)) or g["value"] == v for g, v in zip(grid, values))
    assert sum(g is not None for g in grid) > 100
    assert head["created"] >= doc["created"]  # written after it, in the same form
    for key in ("methodologies", "input", "gwp_set", "koken_version", "totals_by_market"):
        assert head[key] == doc[key], key


def _alike(text: str, docs: dict) -> str:
    """The text with what names the result file itself (name, hash, creation time) put alike."""
    for doc in docs.values():
        text = text.replace(Path(doc["_path"]).name, "RESULT").replace(doc["_sha256"], "HASH")
    return re.sub(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(\+00:00| UTC)?", "TIME", text)


def _cells(data: bytes, docs: dict) -> dict:
    book = load_workbook(io.BytesIO(data))
    return {ws.title: [[_alike(v, docs) if isinstance(v, str) else v for v in row]
                       for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def _same_details(whole: pd.DataFrame, lines: pd.DataFrame, listed: bool) -> None:
    """``lines`` carry the inputs and steps of ``whole`` (the JSON report's lines) for each methodology's largest,
    and, when the detail sheet lists every line (``listed``), the inputs not from the portfolio of the others."""
    shown = 0
    for line, full in zip(lines.to_dict(orient="records"), whole.to_dict(orient="records")):
        if isinstance(line["steps"], dict):
            shown += 1
            assert _dumped(line["inputs"]) == _dumped(full["inputs"]) and _dumped(line["steps"]) == _dumped(full["steps"])
        elif listed:
            given = {k: v for k, v in full["inputs"].items() if v["origin"] != "portfolio"}
            assert _dumped(line["inputs"]) == _dumped(given)
        else:
            assert line["inputs"] is None and line["steps"] is None
    groups = lines.groupby(["methodology", "methodology_version"]).ngroups
    assert shown == sum(min(n, action_plan.LINES_SHOWN_PER_METHODOLOGY)
                        for n in lines.groupby(["methodology", "methodology_version"]).size()) and groups


def _same_reports(one, other, docs: dict, formats=(".md", ".csv", ".html", ".xlsx")) -> None:
    """The two reports give the same figures, disclosures, lines and outputs (``formats``), cell for cell."""
    pd.testing.assert_frame_equal(one.table, other.table)
    pd.testing.assert_frame_equal(one.years, other.years)
    pd.testing.assert_frame_equal(one.stock, other.stock)
    assert one.fiscal_year == other.fiscal_year
    for key in set(one.disclosures) | set(other.disclosures):
        if key not in ("result_files", "created"):
            assert _dumped(one.disclosures[key]) == _dumped(other.disclosures[key]), key
    figures = [c for c in one.lines.columns if c not in (*DETAIL_KEYS, "result_file")]
    pd.testing.assert_frame_equal(one.lines[figures], other.lines[figures])
    for suffix in formats:
        if suffix == ".xlsx":
            assert _cells(report_bytes(one, ".xlsx", 2), docs) == _cells(report_bytes(other, ".xlsx", 2), docs)
            continue
        texts = [_alike(report_bytes(r, suffix, 2).decode("utf-8-sig"), docs) for r in (one, other)]
        assert texts[0] == texts[1], suffix


@pytest.mark.parametrize(("year", "formats"), [(2022, (".md", ".csv", ".xlsx")), (2023, (".md", ".html", ".xlsx"))])
def test_the_report_of_the_parquet_result_is_the_report_of_the_json_result(results, year, formats):
    docs = dict(zip((".json", ".parquet"), load_result_documents([results[".json"], results[".parquet"]])))
    ratios = load_ratio_file(None)
    from_json = build_report([docs[".json"]], ratios, year)
    from_parquet = build_report([docs[".parquet"]], ratios, year)
    assert from_json.disclosures["grid_emission_factors"]  # the factors the lines used are disclosed
    assert from_json.disclosures.get("other_years")  # the other year's lines are counted apart
    assert len(from_parquet.lines) <= action_plan.DETAIL_LINES_LIMIT  # every line in the detail sheet
    _same_details(from_json.lines, from_parquet.lines, listed=True)
    _same_reports(from_json, from_parquet, docs, formats)


def test_beyond_the_detail_limit_only_the_lines_shown_carry_their_inputs_and_the_report_is_the_same(
        results, monkeypatch):
    monkeypatch.setattr(action_plan, "DETAIL_LINES_LIMIT", 300)
    monkeypatch.setattr(action_plan, "LINES_SHOWN_PER_METHODOLOGY", 10)
    docs = dict(zip((".json", ".parquet"), load_result_documents([results[".json"], results[".parquet"]])))
    ratios = load_ratio_file(None)
    from_json = build_report([docs[".json"]], ratios, 2023)
    from_parquet = build_report([docs[".parquet"]], ratios, 2023)
    detailed = from_parquet.lines["inputs"].map(lambda v: isinstance(v, dict))
    groups = from_parquet.lines.groupby(["methodology", "methodology_version"]).ngroups
    assert 0 < detailed.sum() <= 10 * groups < len(from_parquet.lines)
    _same_details(from_json.lines, from_parquet.lines, listed=False)
    # the lines shown one by one are each methodology's largest: the same as the JSON report's
    _same_reports(from_json, from_parquet, docs, (".md", ".html", ".xlsx"))
    detail = [v for row in _cells(report_bytes(from_parquet, ".xlsx"), docs).values() for r in row for v in r
              if isinstance(v, str) and "300" in v]
    assert detail  # the detail sheet says the lines are more than it lists, and where they are


def test_the_html_report_shows_no_more_lines_one_by_one_than_carry_their_inputs():
    context = Context()
    assert action_plan.LINES_SHOWN_PER_METHODOLOGY >= max(context.top_lines, context.lines_per_methodology)


def test_report_of_a_portfolio_is_what_it_was_from_the_whole_json_document(library):
    """--portfolio: the calculation reported through its row table and Arrow inputs (frame_document), against the
    same calculation reported through its whole JSON document (result_document, the path before)."""
    calc = calculate(PORTFOLIO, library)
    ratios = load_ratio_file(None)
    place = {"_path": str(PORTFOLIO), "_kind": "portfolio"}
    before = build_report([{**result_document(calc), **place}], ratios, 2023)
    after = build_report([{**frame_document(calc), **place}], ratios, 2023)
    assert after.lines["inputs"].map(lambda v: isinstance(v, dict)).all()
    _same_details(before.lines, after.lines, listed=True)
    _same_reports(before, after, {}, (".md", ".csv", ".html"))


def _rewritten(source: Path, target: Path, change) -> Path:
    """The Parquet result with its table changed by ``change`` (an Arrow table to another), its record kept."""
    metadata = pq.read_metadata(source).metadata
    changed = change(pq.read_table(source))
    with pq.ParquetWriter(target, changed.schema) as writer:
        writer.write_table(changed)
        writer.add_key_value_metadata({key: metadata[key.encode()].decode("utf-8")
                                       for key in ("koken", DETAILS_METADATA)})
    return target


def test_a_parquet_result_is_checked_as_a_json_result_and_nothing_is_written(results, tmp_path):
    def edited(table):  # a figure changed without its totals
        column = table.column("lifetime[t-CO2e]").to_numpy().copy()
        column[5] *= 2
        return table.set_column(table.schema.get_field_index("lifetime[t-CO2e]"), "lifetime[t-CO2e]",
                                pa.array(column))

    def infinite(table):
        column = table.column("single_year[t-CO2e]").to_numpy().copy()
        column[7] = np.inf
        return table.set_column(table.schema.get_field_index("single_year[t-CO2e]"), "single_year[t-CO2e]",
                                pa.array(column))

    def unknown(table):
        return table.set_column(table.schema.get_field_index("market"), "market",
                                pa.array(["abroad"] + table.column("market").to_pylist()[1:]))

    out = tmp_path / "report.xlsx"
    for change, expected in ((edited, "totals_by_market differ from the sums of the rows"),
                             (infinite, "rows[7] (portfolio row"), (unknown, "market 'abroad' is none of")):
        bad = _rewritten(results[".parquet"], tmp_path / f"{change.__name__}.parquet", change)
        with pytest.raises(KokenErrors) as err:
            report([bad], output=out, fiscal_year=2023)
        assert any(expected in e.message and e.location.file == str(bad) for e in err.value.errors), \
            [e.message for e in err.value.errors]
        assert not out.exists()


def test_a_parquet_result_without_inputs_and_steps_is_refused(tmp_path):
    with pytest.raises(KokenErrors) as err:
        report([OLD_RESULT], fiscal_year=2023)
    (problem,) = err.value.errors
    assert "inputs and steps" in problem.message and problem.location.file == str(OLD_RESULT)


def _with_layout(source: Path, target: Path, layout: bytes | None) -> Path:
    """The result rewritten with another detail layout in its metadata (None: without one)."""
    table = pq.read_table(source)
    metadata = {b"koken": pq.read_metadata(source).metadata[b"koken"]}
    if layout is not None:
        metadata[DETAILS_METADATA.encode()] = layout
    with pq.ParquetWriter(target, table.schema) as writer:
        writer.write_table(table)
        writer.add_key_value_metadata({k.decode(): v.decode() for k, v in metadata.items()})
    return target


def _written_like(source: pq.ParquetFile, table: pa.Table, target: Path) -> Path:
    """``table`` written as a Parquet result with ``source``'s key-value metadata (its record and detail layout)."""
    with pq.ParquetWriter(target, table.schema) as writer:
        writer.write_table(table)
        writer.add_key_value_metadata({k.decode(): v.decode() for k, v in source.metadata.metadata.items()
                                       if k != b"ARROW:schema"})
    return target


def _the_one_refusal(bad: Path, out: Path) -> KokenError:
    """The single problem ``koken report`` gives for ``bad`` (nothing written to ``out``)."""
    with pytest.raises(KokenErrors) as err:
        report([bad], output=out, fiscal_year=2023)
    (problem,) = err.value.errors
    assert not out.exists()
    return problem


def test_the_inputs_and_steps_are_flat_columns_laid_out_in_the_metadata(results, library):
    # nested list columns made a 1M-line run 3.65x the floor pipeline (issue 17 §4): values are float64 columns,
    # texts dictionary-coded, names and units once per methodology in the metadata
    source = pq.ParquetFile(results[".parquet"])
    layout = details_layout(source.metadata.metadata)
    assert (layout.inputs, layout.steps) == detail_width(library)
    for name in layout.columns():
        kind = source.schema_arrow.field(name).type
        assert pa.types.is_float64(kind) if name.endswith(".value") else pa.types.is_dictionary(kind), name
    assert not any(pa.types.is_nested(t) for t in source.schema_arrow.types)
    # Parquet dictionary pages for texts only (tried on distinct numbers they cost more than the rest of the write)
    group = source.metadata.row_group(0)
    encodings = {group.column(i).path_in_schema: group.column(i).encodings for i in range(group.num_columns)}
    assert not any("DICTIONARY" in e for e in encodings["lifetime[t-CO2e]"] + encodings["inputs.1.value"])
    assert any("DICTIONARY" in e for e in encodings["inputs.1.origin"] + encodings["methodology"])
    doc = read_result(results[".json"])
    assert {row["methodology"] for row in doc["rows"]} == set(layout.methodologies)
    for row in doc["rows"][:50]:
        given, done = layout.methodologies[row["methodology"]]
        assert [(k, v["unit"]) for k, v in row["inputs"].items()] == list(given)
        assert [(k, v["unit"]) for k, v in row["steps"].items()] == list(done)


@pytest.mark.parametrize(("layout", "expected"), [
    (b"{", "koken_details metadata is malformed"),
    (b'{"inputs": 1, "steps": 1}', "koken_details metadata is malformed (not a mapping of inputs, steps"),
    (b'{"inputs": -1, "steps": 1, "methodologies": {}}', "whole numbers from 0"),
    (b'{"inputs": 1, "steps": 0, "methodologies": {"a": {"inputs": [["x", "kWh"], ["y", "kWh"]], "steps": []}}}',
     "methodologies.a.inputs: not a list of at most 1"),
    (b'{"inputs": 1, "inputs": 1, "steps": 0, "methodologies": {}}', "malformed"),  # a key twice
    # a name twice in one methodology: the report disclosed the first one's values (a fraction) as grid factors
    (b'{"inputs": 2, "steps": 0, "methodologies": {"a": {"inputs": [["grid_emission_factor", "fraction"], '
     b'["grid_emission_factor", "kg-CO2/kWh"]], "steps": []}}}', "methodologies.a.inputs: grid_emission_factor twice"),
    (b'{"inputs": 0, "steps": 2, "methodologies": {"a": {"inputs": [], "steps": [["s", "kWh"], ["s", "kWh"]]}}}',
     "methodologies.a.steps: s twice"),
    # columns it does not have: said "written by an earlier koken"
    (b'{"inputs": 99, "steps": 0, "methodologies": {}}', "malformed (no column inputs.14.value)"),
    (None, "holds no inputs and steps"),
])
def test_a_parquet_result_with_a_wrong_detail_layout_is_refused_naming_it(results, tmp_path, layout, expected):
    bad = _with_layout(results[".parquet"], tmp_path / "bad.parquet", layout)
    out = tmp_path / "report.xlsx"
    with pytest.raises(KokenErrors) as err:
        report([bad], output=out, fiscal_year=2023)
    (problem,) = err.value.errors
    assert expected in problem.message and problem.location.file == str(bad), problem.message
    assert not out.exists()


def test_a_parquet_result_whose_layout_lacks_a_methodology_of_its_rows_is_refused(results, tmp_path):
    # the bug: those rows were read as having no inputs, and their grid factors left out of the report's disclosure
    layout = json.loads(pq.read_metadata(results[".parquet"]).metadata[DETAILS_METADATA.encode()])
    gone = sorted(layout["methodologies"])[0]
    del layout["methodologies"][gone]
    bad = _with_layout(results[".parquet"], tmp_path / "bad.parquet", json.dumps(layout).encode())
    out = tmp_path / "report.xlsx"
    with pytest.raises(KokenErrors) as err:
        report([bad], output=out, fiscal_year=2023)
    (problem,) = err.value.errors
    assert f"no methodology {gone}" in problem.message and problem.location.file == str(bad), problem.message
    assert not out.exists()


def test_csv_and_workbook_results_are_still_refused(tmp_path, library):
    path = tmp_path / "r.csv"
    calculate(PORTFOLIO, library).to_file(path)
    with pytest.raises(KokenErrors) as err:
        report([path])
    assert "JSON or Parquet result" in err.value.errors[0].message
    assert isinstance(err.value.errors[0], KokenError)


def test_a_parquet_result_with_an_infinite_grid_factor_is_refused_naming_its_row(results, tmp_path):
    # the bug: the report disclosed "inf kg-CO2/kWh" (a JSON result cannot hold Infinity: strict JSON refuses it)
    source = pq.ParquetFile(results[".parquet"])
    layout = details_layout(source.metadata.metadata)
    table = pq.read_table(results[".parquet"])
    ids = table["methodology"].to_pylist()
    row, at = next((r, [n for n, _u in layout.methodologies[m][0]].index(GRID_FACTOR_COLUMNS[0].split(".")[0]) + 1)
                   for r, m in enumerate(ids) if any(n == "grid_emission_factor" for n, _u in layout.methodologies[m][0])
                   and table[f"inputs.{[n for n, _u in layout.methodologies[m][0]].index('grid_emission_factor') + 1}"
                                 ".value"][r].is_valid)
    name = f"inputs.{at}.value"
    values = table[name].to_pylist()
    values[row] = math.inf
    table = table.set_column(table.schema.get_field_index(name), name, pa.array(values, pa.float64()))
    bad, out = _written_like(source, table, tmp_path / "bad.parquet"), tmp_path / "report.xlsx"
    problem = _the_one_refusal(bad, out)
    assert f"rows[{row}]" in problem.message and "not a finite number" in problem.message, problem.message
    assert problem.location.file == str(bad) and not out.exists()


def test_a_parquet_result_with_a_detail_column_twice_is_refused_naming_it(results, tmp_path):
    # the bug: a portfolio column named inputs.1.value (carried through) gave the result that name twice, and the
    # report stopped with a KeyError traceback
    source = pq.ParquetFile(results[".parquet"])
    table = pq.read_table(results[".parquet"])
    table = table.append_column("inputs.1.value", pa.array(["hack"] * table.num_rows))
    bad, out = _written_like(source, table, tmp_path / "bad.parquet"), tmp_path / "report.xlsx"
    problem = _the_one_refusal(bad, out)
    assert "column inputs.1.value 2 times" in problem.message and problem.location.file == str(bad), problem.message
    assert not out.exists()
