"""Monte Carlo on the compiled kernels (koken.montecarlo): ± and low/high inputs, shared defaults, seeds, engines.

The toy methodology (tests/helpers.py) is linear in each input: avoided per unit and year = (baseline − product)
× grid factor, single-year = units × avoided ÷ 1000 (t), lifetime = single-year × operating years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from koken.base.errors import KokenErrors
from koken.base.i18n import language
from koken.calculation import calculate
from koken.montecarlo import simulate
from koken.portfolio.build import read_portfolio

from helpers import load_folder, methodology_dict, write_methodology

HEADER = ("product_line,methodology,fiscal_year,market,units_shipped[台],baseline_energy[kWh/yr],"
          "product_energy[kWh/yr],product_energy:low[kWh/yr],product_energy:high[kWh/yr],"
          "grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n")


def _library(tmp_path, **parameter_changes):
    data = methodology_dict()
    for name, change in parameter_changes.items():
        data["parameters"][name].update(change)
    write_methodology(tmp_path / "lib", data)
    library, problems = load_folder(tmp_path / "lib")
    assert not problems, problems
    return library


def _calc(tmp_path, lines, library):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return calculate(read_portfolio(path, library, collect=True), library)


def test_plus_minus_and_low_high_columns_give_the_hand_calculated_percentiles(tmp_path):
    library = _library(tmp_path)
    calc = _calc(tmp_path, ["A,toy,2023,domestic,100,400 ± 10 %,300,,,0.5,10\n",
                            "B,toy,2023,domestic,100,400,300,290,320,0.5,10\n"], library)
    # Point run: (400 − 300) × 0.5 = 50 kg/台/yr × 100 台 = 5 t single-year; 50 t lifetime.
    assert list(calc.table["single_year[t-CO2e]"]) == [5.0, 5.0]
    sim = simulate(calc, 20_000, seed=11)
    # A: baseline triangular(360, 400, 440); single = 0.05 t/kWh·yr × (b − 300). P5 of b = 360 + √(0.05·80·40).
    p5_a = 0.05 * (360 + (0.05 * 80 * 40) ** 0.5 - 300)
    # B: product triangular(290, 300, 320); single = 0.05 × (400 − p), so its P95 is at p's P5 = 290 + √(0.05·30·10).
    p95_b = 0.05 * (400 - (290 + (0.05 * 30 * 10) ** 0.5))
    assert sim.rows["single_year_p5[t-CO2e]"][0] == pytest.approx(p5_a, abs=0.03)  # quantile SE ≈ 0.01 t
    assert sim.rows["single_year_p95[t-CO2e]"][1] == pytest.approx(p95_b, abs=0.03)
    assert sim.rows["lifetime_p5[t-CO2e]"][0] == pytest.approx(10 * p5_a, abs=0.3)
    central = sim.document()["totals"]
    assert [(t["figure"], t["central"]) for t in central] == [("single_year[t-CO2e]", 10.0), ("lifetime[t-CO2e]", 100.0)]


def test_monte_carlo_mean_is_within_its_standard_error_of_the_analytic_mean(tmp_path):
    library = _library(tmp_path)
    calc = _calc(tmp_path, ["A,toy,2023,domestic,100,\"triangular(360, 400, 460)\",300,,,\"uniform(0.4, 0.7)\",10\n"],
                 library)
    sim = simulate(calc, 40_000, seed=3, samples=True)
    single = sim.samples["single_year[t-CO2e]"].to_numpy()
    # Independent inputs: E[(b − p)·g] = (E[b] − p)·E[g] = ((360 + 400 + 460)/3 − 300) × 0.55 = 56.8333… kg → × 0.1 t.
    analytic = ((360 + 400 + 460) / 3 - 300) * 0.55 * 100 / 1000
    standard_error = single.std(ddof=1) / len(single) ** 0.5
    assert abs(single.mean() - analytic) < 3 * standard_error
    assert calc.table["single_year[t-CO2e]"][0] == pytest.approx((400 - 300) * 0.55 * 0.1)  # central: mode, midpoint


def test_a_shared_methodology_default_moves_every_row_together(tmp_path):
    library = _library(tmp_path, grid_emission_factor={
        "default": 0.5, "default_source": "src",
        "default_distribution": {"kind": "triangular", "low": 0.4, "high": 0.6, "source": "src"}})
    calc = _calc(tmp_path, ["A,toy,2023,domestic,100,400,300,,,,10\n", "B,toy,2023,domestic,7,900,100,,,,10\n",
                            "C,toy,2023,domestic,100,400 ± 50,300,,,0.5 ± 0.1,10\n",
                            "D,toy,2023,domestic,100,400 ± 50,300,,,0.5 ± 0.1,10\n"], library)
    sim = simulate(calc, 2_000, seed=5, samples=True)
    draws = sim.samples.pivot(index="draw", columns="product_line", values="single_year[t-CO2e]")
    assert np.corrcoef(draws["A"], draws["B"])[0, 1] == pytest.approx(1.0, abs=1e-12)  # one variable, not one per row
    assert abs(np.corrcoef(draws["C"], draws["D"])[0, 1]) < 0.1  # cells of their own: independent rows
    shared = [i for i in sim.document()["inputs"] if i["shared"]]
    assert shared == [{"parameter": "grid_emission_factor", "methodology": "toy", "kind": "triangular", "shared": True,
                       "source": "methodology"}]


def test_a_default_distribution_must_stay_within_the_parameter_range(tmp_path):
    data = methodology_dict()
    data["parameters"]["grid_emission_factor"].update({"default": 0.5, "default_source": "src", "default_distribution": {
        "kind": "uniform", "low": 0.4, "high": 2.5, "source": "src"}})
    write_methodology(tmp_path / "lib", data)
    _unused, problems = load_folder(tmp_path / "lib")
    assert "go beyond the parameter's range [0, 2]" in "\n".join(str(p) for p in problems)


def _portfolio_file(tmp_path, rows=300):
    lines = [f"L{i},toy,2023,{'domestic' if i % 3 else 'overseas'},{10 + i},{400 + i % 7} ± 5 %,300,290,310,"
             f"\"triangular(0.4, 0.5, {0.6 + (i % 5) / 100})\",{8 + i % 4}\n" for i in range(rows)]
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "".join(lines).replace(",290,310,", ",,,", rows // 2), encoding="utf-8")
    return path


def test_the_same_seed_gives_identical_samples_whatever_the_partitions(tmp_path):
    from koken.api import run

    library = _library(tmp_path)
    path = _portfolio_file(tmp_path)
    first = run(path, library, draws=50, seed=9, samples=tmp_path / "a.parquet", partition_rows=1000)
    second = run(path, library, draws=50, seed=9, samples=tmp_path / "b.parquet", partition_rows=100)
    other = run(path, library, draws=50, seed=10, samples=tmp_path / "c.parquet", partition_rows=1000)
    a, b = (pd.read_parquet(tmp_path / f).sort_values(["row", "draw"]).reset_index(drop=True)
            for f in ("a.parquet", "b.parquet"))
    assert a.equals(b) and len(a) == 300 * 50
    assert not a.equals(pd.read_parquet(tmp_path / "c.parquet").sort_values(["row", "draw"]).reset_index(drop=True))
    assert first.uncertainty["seed"] == 9 and other.uncertainty["seed"] == 10
    for x, y in zip(first.uncertainty["totals"], second.uncertainty["totals"]):
        assert x["p5"] == pytest.approx(y["p5"], rel=1e-12) and x["central"] == pytest.approx(y["central"], rel=1e-12)


def test_the_same_seed_gives_identical_samples_on_both_engines(tmp_path):
    from koken.api import run

    library = _library(tmp_path)
    path = _portfolio_file(tmp_path, rows=120)
    local = run(path, library, draws=40, seed=21, samples=tmp_path / "local.parquet", output=tmp_path / "l.json")
    dask = run(path, library, draws=40, seed=21, samples=tmp_path / "dask.parquet", output=tmp_path / "d.json",
               engine="dask", workers=1)
    assert pd.read_parquet(tmp_path / "local.parquet").equals(pd.read_parquet(tmp_path / "dask.parquet"))
    assert local.uncertainty["totals"] == dask.uncertainty["totals"]
    import json

    rows = json.loads((tmp_path / "l.json").read_text(encoding="utf-8"))["rows"]
    assert rows[0]["single_year_p5[t-CO2e]"] < rows[0]["single_year[t-CO2e]"] < rows[0]["single_year_p95[t-CO2e]"]


@pytest.mark.parametrize(("lang", "cell", "expected"), [
    ("en", "0.98 ± 5 %", "the range [0.931, 1.029] fraction goes beyond the allowed range [0, 1] fraction"),
    ("ja", "0.98 ± 5 %", "範囲 [0.931, 1.029] fraction は許容範囲 [0, 1] fraction を超えています"),
    ("en", '"uniform(0.7, 0.3)"', "the low value 0.7 is above the high value 0.3"),
    ("ja", '"uniform(0.7, 0.3)"', "低い値 0.7 が高い値 0.3 を上回っています"),
])
def test_bad_shapes_are_located_refusals_in_both_languages(tmp_path, lang, cell, expected):
    data = methodology_dict()
    data["parameters"]["share"] = {"unit": "fraction", "description": {"ja": "s", "en": "s"}}
    data["formulas"][1]["expression"] = "saved * grid_emission_factor * share"
    data["formulas"][2]["expression"] = "baseline_energy * grid_emission_factor * share"
    data["formulas"][3]["expression"] = "product_energy * grid_emission_factor * share"
    write_methodology(tmp_path / "lib", data)
    library, problems = load_folder(tmp_path / "lib")
    assert not problems
    path = tmp_path / "p.csv"
    path.write_text("product_line,methodology,fiscal_year,market,units_shipped[台],baseline_energy[kWh/yr],"
                    "product_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr],share[fraction]\n"
                    f"A,toy,2023,domestic,100,400,300,0.5,10,{cell}\n"
                    "B,toy,2023,domestic,100,\"normal(400, -3)\",300,0.5,10,0.5\n", encoding="utf-8")
    with language(lang), pytest.raises(KokenErrors) as info:
        calculate(read_portfolio(path, library, collect=True), library)
    messages = [str(e) for e in info.value.errors]
    row = {"en": "row {n},", "ja": "{n}行目"}[lang]
    assert any(row.format(n=2) in m and "share" in m and expected in m for m in messages), messages
    assert any(row.format(n=3) in m and "baseline_energy" in m for m in messages), messages  # all problems at once


def test_a_factor_table_entry_is_one_variable_shared_by_the_rows_that_read_it(tmp_path, monkeypatch):
    import shutil

    import yaml

    import koken.factors as factors_module

    tables = tmp_path / "factors"
    shutil.copytree(factors_module.factors_dir(), tables)
    monkeypatch.setattr(factors_module, "factors_dir", lambda: tables)
    grid = yaml.safe_load((tables / "grid_emission_factor.yaml").read_text(encoding="utf-8"))
    for entry in grid["entries"]:
        if entry.get("region") == "JP" and entry.get("fiscal_year") in (2022, 2023):
            entry["distribution"] = {"kind": "triangular", "low": round(entry["value"] * 0.9, 4),
                                     "high": round(entry["value"] * 1.1, 4), "source": entry["source"]}
    (tables / "grid_emission_factor.yaml").write_text(yaml.safe_dump(grid, allow_unicode=True), encoding="utf-8")
    library = _library(tmp_path, grid_emission_factor={"factor": {"table": "grid_emission_factor"}})
    path = tmp_path / "p.csv"
    path.write_text("product_line,methodology,fiscal_year,market,region,units_shipped[台],baseline_energy[kWh/yr],"
                    "product_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
                    "A,toy,2023,domestic,JP,100,400,300,,10\nB,toy,2023,domestic,JP,5,900,100,,10\n"
                    "C,toy,2022,domestic,JP,100,400,300,,10\nD,toy,2023,domestic,JP,100,400,300,0.5,10\n",
                    encoding="utf-8")
    calc = calculate(read_portfolio(path, library, collect=True), library)
    sim = simulate(calc, 2_000, seed=8, samples=True)
    draws = sim.samples.pivot(index="draw", columns="product_line", values="single_year[t-CO2e]")
    assert np.corrcoef(draws["A"], draws["B"])[0, 1] == pytest.approx(1.0, abs=1e-12)  # JP 2023: one variable
    assert abs(np.corrcoef(draws["A"], draws["C"])[0, 1]) < 0.1  # JP 2022: another entry, another variable
    assert draws["D"].nunique() == 1  # the row's own value: a point
    assert sim.document()["inputs"] == [{"parameter": "grid_emission_factor", "methodology": "toy",
                                         "kind": "triangular", "shared": True, "source": "factor_table"}]


def test_a_reported_figure_at_the_top_of_its_own_range_is_flagged_as_the_favourable_end(tmp_path):
    library = _library(tmp_path)
    # A: baseline triangular(350, 400, 400): every draw is ≤ the central 400, so the central single-year figure
    # (400 − 300) × 0.5 × 100 / 1000 = 5 t is at or above its P95. B (fiscal year 2024): symmetric, no note.
    calc = _calc(tmp_path, ['A,toy,2023,domestic,100,"triangular(350, 400, 400)",300,,,0.5,10\n',
                            "B,toy,2024,domestic,100,400 ± 50,300,,,0.5,10\n"], library)
    document = simulate(calc, 2_000, seed=4).document()
    notes = document["favourable_end"]
    assert len(notes) == 2 and all(n.startswith("FY2023 home_appliances domestic") for n in notes)
    assert "the reported figure 5.0 t-CO2e is at the favourable end" in notes[0]


def test_rows_without_ranges_keep_their_point_figure_in_every_draw(tmp_path):
    library = _library(tmp_path)
    calc = _calc(tmp_path, ["A,toy,2023,domestic,100,400,300,,,0.5,10\n", "B,toy,2023,domestic,3,400 ± 40,300,,,0.5,10\n"],
                 library)
    sim = simulate(calc, 100, seed=2, samples=True)
    a = sim.samples[sim.samples["product_line"] == "A"]
    assert set(a["single_year[t-CO2e]"]) == {5.0} and set(a["lifetime[t-CO2e]"]) == {50.0}
    assert [sim.rows[f"single_year_p{p}[t-CO2e]"][0] for p in (5, 50, 95)] == [5.0, 5.0, 5.0]


def test_a_failed_monte_carlo_run_writes_no_samples_file(tmp_path):
    from koken.api import run

    library = _library(tmp_path)
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "A,toy,2023,domestic,100,400 ± 40,300,,,0.5,10\nB,toy,2023,domestic,100,400,300,,,9,10\n",
                    encoding="utf-8")  # B: a grid factor of 9 is beyond the declared range [0, 2]
    with pytest.raises(KokenErrors):
        run(path, library, draws=10, seed=1, samples=tmp_path / "s.parquet", output=tmp_path / "r.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib", "p.csv"]


def test_seed_and_samples_without_draws_are_refused(tmp_path):
    from koken.api import run
    from koken.base.errors import KokenError

    library = _library(tmp_path)
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "A,toy,2023,domestic,100,400 ± 40,300,,,0.5,10\n", encoding="utf-8")
    with pytest.raises(KokenError, match="go with draws"):
        run(path, library, seed=3)
    with pytest.raises(KokenError, match=r"\.parquet"):
        run(path, library, draws=10, samples=tmp_path / "s.csv")
    assert run(path, library).uncertainty is None  # a point run has no uncertainty record
    assert run(path, library, draws=10).uncertainty["seed"] >= 0  # a seed is drawn and recorded


def test_a_range_refused_names_the_column_it_was_written_in(tmp_path):
    library = _library(tmp_path)
    path = tmp_path / "p.csv"
    # A: the cell's own range beyond the factor's range [0, 2]; B: the low column above the value.
    path.write_text(HEADER + "A,toy,2023,domestic,100,400,300,,,1.9 ± 0.2,10\n"
                             "B,toy,2023,domestic,100,400,300,305,320,0.5,10\n", encoding="utf-8")
    with pytest.raises(KokenErrors) as info:
        calculate(read_portfolio(path, library, collect=True), library)
    messages = sorted(str(e) for e in info.value.errors)
    assert len(messages) == 2
    assert "row 2, column 'grid_emission_factor[kg-CO2/kWh]': grid_emission_factor: the range [1.7, 2.1]" in messages[0]
    assert "row 3, column 'product_energy:low[kWh/yr]': product_energy: the central value 300 is outside its range " \
           "[305, 320]" in messages[1]


def test_the_portfolio_total_tornado_by_hand(tmp_path):
    """Each uncertain input at its P5 and P95 on every row that uses it, the others central: the FY2023 total's
    swing, single-year and lifetime apart. The shared default (grid factor, triangular 0.4–0.6 on rows A and B) is
    one bar; a cell's range another; the order is by swing."""
    from koken.montecarlo import portfolio_tornado

    library = _library(tmp_path, grid_emission_factor={
        "default": 0.5, "default_source": "src",
        "default_distribution": {"kind": "triangular", "low": 0.4, "high": 0.6, "source": "src"}})
    calc = _calc(tmp_path, ["A,toy,2023,domestic,100,400,300,,,,10\n", "B,toy,2023,domestic,100,400,300,,,,10\n",
                            "C,toy,2023,domestic,1000,400 ± 10 %,300,,,0.5,10\n"], library)
    sim = simulate(calc, 100, seed=1)
    frame = portfolio_tornado(sim)
    single = frame[frame["figure"] == "single_year[t-CO2e]"].reset_index(drop=True)
    lifetime = frame[frame["figure"] == "lifetime[t-CO2e]"].reset_index(drop=True)
    # Central total: 3 lines × (400 − 300) × 0.5 kg/台/yr: (100 + 100 + 1000) × 50 kg = 60 t single-year.
    assert single["central"].tolist() == pytest.approx([60.0, 60.0])
    # C's baseline, triangular(360, 400, 440): P5 = 360 + √(0.05 × 80 × 40) = 372.649, P95 = 427.351; swing
    # (427.351 − 372.649) kWh × 0.5 kg/kWh × 1,000 台 ÷ 1,000 = 27.351 t.
    root = (0.05 * 80 * 40) ** 0.5
    assert single.loc[0, "parameter"] == "baseline_energy" and single.loc[0, "variable"] == "toy"
    assert single.loc[0, "swing"] == pytest.approx(2 * (40 - root) * 0.5)
    assert single.loc[0, "result_at_low"] == pytest.approx(60 - (40 - root) * 0.5)
    # The grid factor default, triangular(0.4, 0.5, 0.6): P5 = 0.4 + √(0.05 × 0.2 × 0.1) = 0.43162, P95 = 0.56838,
    # on rows A and B only (C gives 0.5 itself): (0.56838 − 0.43162) × 100 kWh × 200 台 ÷ 1,000 = 2.7351 t.
    assert single.loc[1, "parameter"] == "grid_emission_factor" and single.loc[1, "source"] == "methodology"
    assert single.loc[1, "swing"] == pytest.approx(2 * (0.1 - (0.05 * 0.2 * 0.1) ** 0.5) * 100 * 200 / 1000)
    assert lifetime["swing"].tolist() == pytest.approx((10 * single["swing"]).tolist())   # × 10 operating years
    records = sim.document()["tornado"]
    assert len(records) == 4 and records[0]["parameter"] == "baseline_energy"
