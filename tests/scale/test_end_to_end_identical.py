"""Parquet → Parquet end to end gives exactly what it gave before the speed work of issue 17 §4.

A messy generated portfolio (``tests/data/golden/e2e_messy_portfolio.parquet``: the benchmark's synthetic lines,
then text cells with thousands commas and their own units, 万 in units shipped, a domestic line without a region,
an uncertain value, a second fiscal year, a company's own column) is run through ``koken calculate`` in small
partitions, and its result file is compared, column by column and cell by cell, with the result the engine
wrote *before* the change (``e2e_messy_results.parquet``, kept as a fixture). A second portfolio, the same
lines with bad cells planted, must give the same problems, in the same words at the same places
(``e2e_messy_problems.json``).

The fixtures were made with the code of main at 11f96ec (the problems made again there when a seventh was
planted); to make them again (only when results are meant to change: a methodology's new version, a factor
table's new year)::

    KOKEN_LANG=en PYTHONPATH=engine:tests python tests/scale/test_end_to_end_identical.py --regenerate
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from koken.attribution import load_ratio_file
from koken.base.errors import KokenErrors
from koken.portfolio.readers import open_portfolio
from koken.results import details_layout, is_detail_column
from koken.scale.pipeline import run

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden"
PORTFOLIO = GOLDEN / "e2e_messy_portfolio.parquet"
RESULTS = GOLDEN / "e2e_messy_results.parquet"
PROBLEMS = GOLDEN / "e2e_messy_problems.json"
PARTITION_ROWS = 700  # several partitions: categories differ between them, dictionaries grow


def messy_portfolio() -> pd.DataFrame:
    """The benchmark's synthetic portfolio (2,500 lines, seed 17) made messy as company files are."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from generate import generate

    frame = generate(2_500, seed=17)
    rng = np.random.default_rng(17)
    n = len(frame)
    # units shipped: some with thousands commas, some in 万台
    shipped = frame["units_shipped"].to_numpy(dtype=object).copy()
    for i in np.flatnonzero(rng.random(n) < 0.15):
        value, unit = shipped[i].split(" ", 1)
        if unit == "台":
            shipped[i] = f"{float(value) / 10_000:g}万台" if i % 2 else f"{float(value):,.0f} 台"
    frame["units_shipped"] = shipped
    # operating years as text: plain, with a unit of its own, with a comma
    years = frame["operating_years[yr]"].to_numpy(dtype=float)
    text = np.array(["" if np.isnan(v) else f"{v:.6g}" for v in years], dtype=object)
    for i in np.flatnonzero(~np.isnan(years) & (rng.random(n) < 0.2)):
        text[i] = f"{years[i] * 365:.6g} d" if i % 3 else f"{years[i]:.6g} yr"
    frame["operating_years[yr]"] = text
    # the grid factor in another unit in some cells (g-CO2/kWh), as text
    grid = frame["grid_emission_factor[kg-CO2/kWh]"].to_numpy(dtype=float)
    cells = np.array(["" if np.isnan(v) else repr(float(v)) for v in grid], dtype=object)
    for i in np.flatnonzero(~np.isnan(grid) & (rng.random(n) < 0.2)):
        cells[i] = f"{grid[i] * 1000:,.4f} g-CO2/kWh"
    frame["grid_emission_factor[kg-CO2/kWh]"] = cells
    # an uncertain value in some rows' baseline energy
    energy = frame["baseline_annual_energy[kWh/yr]"].to_numpy(dtype=float)
    etext = np.array(["" if np.isnan(v) else repr(float(v)) for v in energy], dtype=object)
    for i in np.flatnonzero(~np.isnan(energy) & (rng.random(n) < 0.05)):
        etext[i] = f"{energy[i]:.6g} ± {energy[i] * 0.05:.4g}"
    frame["baseline_annual_energy[kWh/yr]"] = etext
    # a domestic line without a region (JP is taken), a second fiscal year, a company's own column
    domestic = np.flatnonzero(frame["market"].to_numpy() == "domestic")
    frame.loc[domestic[::7], "region"] = ""
    frame.loc[frame.index[::11], "fiscal_year"] = 2022
    frame["部署"] = np.where(np.arange(n) % 3 == 0, "家電事業部", np.where(np.arange(n) % 3 == 1, "", "電力 BU"))
    return frame


def with_problems(frame: pd.DataFrame) -> pd.DataFrame:
    """The messy portfolio with bad cells planted: text that is no number, negative units, an unknown methodology,
    a fraction above 1, an empty required value, a unit of another dimension, a value its methodology has no
    parameter for."""
    bad = frame.copy()
    bad.loc[3, "operating_years[yr]"] = "ten"
    bad.loc[40, "units_shipped"] = "-5 台" if bad.loc[40, "units_shipped"].endswith("台") else "-5 MW"
    bad.loc[77, "methodology"] = "toaster"
    fraction = [c for c in bad.columns if c.endswith("[fraction]")]
    for i in range(100, 400):
        present = [c for c in fraction if pd.notna(bad.loc[i, c])]
        if present:
            bad.loc[i, present[0]] = 1.5
            break
    bad.loc[500, "operating_years[yr]"] = ""
    bad.loc[612, "grid_emission_factor[kg-CO2/kWh]"] = "0.5 kg"
    refrigerator = int(np.flatnonzero(bad["methodology"].to_numpy() == "refrigerator")[5])
    bad.loc[refrigerator, "capacity_factor[fraction]"] = 0.5  # a value for a parameter its methodology lacks
    return bad


def _run(path: Path, library, output: Path):
    source = open_portfolio(path, library, partition_rows=PARTITION_ROWS)
    return run(source, library, load_ratio_file(None), {}, output=output)


def _metadata(path: Path) -> dict:
    meta = json.loads(pq.read_metadata(path).metadata[b"koken"])
    meta["input"].pop("file")  # where the test ran
    return meta


def _problems(path: Path, library, output: Path) -> list[list]:
    with pytest.raises(KokenErrors) as err:
        _run(path, library, output)
    assert not output.exists()
    return [[e.message, e.location.row, e.location.column, e.location.step] for e in err.value.errors]


def test_results_are_those_of_the_code_before_the_change(tmp_path, library):
    out = tmp_path / "r.parquet"
    result = _run(PORTFOLIO, library, out)
    assert result.partitions == 4
    written, expected = pq.read_table(out), pq.read_table(RESULTS)
    # each row's inputs and steps come after the row table since issue 17 §4 (the report's; the fixture has none)
    layout = details_layout(pq.read_metadata(out).metadata)
    assert written.schema.names == [*expected.schema.names, *layout.columns()]
    assert not any(is_detail_column(c) for c in expected.schema.names)
    written = written.drop_columns(layout.columns())
    assert [str(t) for t in written.schema.types] == [str(t) for t in expected.schema.types]
    for name in expected.schema.names:  # cell by cell, to the last bit
        assert written.column(name).to_pylist() == expected.column(name).to_pylist(), name
    pd.testing.assert_frame_equal(pd.read_parquet(out, columns=expected.schema.names), pd.read_parquet(RESULTS))
    written_record = _metadata(out)
    assert written_record.pop("created")  # the time it was written, as a JSON result's (since issue 17 §4)
    assert written_record == _metadata(RESULTS)
    assert result.rows == 2_500


def test_the_results_hold_what_the_floor_formulas_give(library):
    """An independent check of the fixture itself: every row's single-year figure is the hand-written formula's."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import floor

    table = pd.read_parquet(RESULTS)
    assert len(table) == 2_500
    assert np.isfinite(table["single_year[t-CO2e]"]).all()
    # lifetime = single year × operating years, row by row (the timeframes are never added)
    np.testing.assert_allclose(table["lifetime[t-CO2e]"], table["single_year[t-CO2e]"] * table["operating_years[yr]"],
                               rtol=1e-12)
    assert set(table["methodology"].astype(str)) <= set(floor.AVOIDED_PER_UNIT_YEAR)


def test_problems_are_those_of_the_code_before_the_change(tmp_path, library):
    bad = tmp_path / "bad.parquet"
    with_problems(pd.read_parquet(PORTFOLIO)).to_parquet(bad, index=False)
    assert _problems(bad, library, tmp_path / "r.parquet") == json.loads(PROBLEMS.read_text(encoding="utf-8"))


def _regenerate() -> None:
    import tempfile

    from koken.library import load_library

    library = load_library(check_examples=False)
    frame = messy_portfolio()
    frame.to_parquet(PORTFOLIO, index=False)
    _run(PORTFOLIO, library, RESULTS)
    with tempfile.TemporaryDirectory() as folder:
        bad = Path(folder) / "bad.parquet"
        with_problems(pd.read_parquet(PORTFOLIO)).to_parquet(bad, index=False)
        source = open_portfolio(bad, library, partition_rows=PARTITION_ROWS)
        try:
            run(source, library, load_ratio_file(None), {}, output=Path(folder) / "r.parquet")
        except KokenErrors as err:
            problems = [[e.message, e.location.row, e.location.column, e.location.step] for e in err.errors]
        else:
            raise SystemExit("the portfolio with planted problems ran without a problem")
    PROBLEMS.write_text(json.dumps(problems, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {PORTFOLIO.name}, {RESULTS.name}, {PROBLEMS.name} ({len(problems)} problems)")


if __name__ == "__main__" and "--regenerate" in sys.argv:
    _regenerate()
