"""The hostile and messy input corpus (tests/data/): refused clearly, or read exactly like clean input."""

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koken.base.errors import KokenError, KokenErrors
from koken.calculation import calculate
from koken.library import load_methodology
from koken.portfolio.build import read_portfolio

DATA = Path(__file__).parent / "data"
HOSTILE = {
    "billion_laughs.yaml": "YAML aliases",
    "python_tag.yaml": "tags such as",
    "deep_nesting.yaml": "nesting deeper",
    "unknown_key_untis.yaml": "parameters.baseline_energy.untis: unknown key",
    "default_and_factor.yaml": "either a default or a factor table, not both",
    "formula_injection.yaml": "only the functions min, max, abs, where may be called",
    "exponent_tower.yaml": "exponent of \\*\\* must be between",
    "ambiguous_ton.yaml": "'ton' is ambiguous",
    "parameter_and_formula.yaml": "'product_energy' is already a parameter",
    "invalid_date_key.yaml": "baseline.reference_year: 'reference_year' must be a whole number",
}


@pytest.mark.parametrize("name, message", sorted(HOSTILE.items()))
def test_hostile_methodology_files_are_refused_quickly_with_their_location(name, message):
    start = time.perf_counter()
    with pytest.raises((KokenErrors, KokenError)) as info:
        load_methodology(DATA / "hostile" / name)
    assert time.perf_counter() - start < 10.0  # a guard against blow-up (minutes), not a speed goal
    errors = info.value.errors if isinstance(info.value, KokenErrors) else [info.value]
    text = "\n".join(str(e) for e in errors)
    assert pd.Series([text]).str.contains(message).iloc[0], text
    assert all(name in str(e) for e in errors)


def lifetimes(path, library, **kw):
    return calculate(read_portfolio(path, library, **kw), library, kw.get("options")).table["lifetime[t-CO2e]"].to_numpy()


def test_cp932_excel_export_computes_the_same_as_its_clean_utf8_twin(library):
    clean = lifetimes(DATA / "messy" / "clean_utf8.csv", library)
    messy = read_portfolio(DATA / "messy" / "excel_export_cp932.csv", library)
    assert messy.encoding == "cp932"
    assert np.array_equal(calculate(messy, library).table["lifetime[t-CO2e]"].to_numpy(), clean)
    bom = read_portfolio(DATA / "messy" / "utf8_bom.csv", library)
    assert bom.encoding == "utf-8 (BOM)"
    assert np.array_equal(calculate(bom, library).table["lifetime[t-CO2e]"].to_numpy(), clean)
    # hand check of the first line: (420 - 273) × 0.421 × 45,000 台 × 12 yr / 1,000 = 33,418.98 t-CO2e
    assert clean[0] == pytest.approx(33418.98)


def test_man_in_cells_multiplies_the_column_unit(library):
    # 4.5万台 = 45,000 台 and 0.042万 kWh/yr = 420 kWh/yr: the same line as above
    assert lifetimes(DATA / "messy" / "man_in_cells.csv", library)[0] == pytest.approx(33418.98)


def test_xlsx_with_merged_header_units_row_and_percent_cells(library):
    table = calculate(read_portfolio(DATA / "messy" / "merged_header_units_row.xlsx", library), library).table
    # the Ministry of the Environment case, 120 units, Japan FY2023 factor 0.421:
    # 544.96 W × 8,760 h = 4,773.85 kWh/yr × 0.421 = 2,009.79 kg/台/yr × 120 = 241.17 t
    assert table["single_year[t-CO2e]"].iloc[0] == pytest.approx(4773.8496 * 0.421 * 120 / 1000)


def test_horizontally_merged_headers_are_refused(library):
    with pytest.raises(KokenErrors, match="F1:G1 are merged across columns"):
        read_portfolio(DATA / "messy" / "merged_across_columns.xlsx", library)


def test_total_row_is_refused_not_summed_twice(library):
    with pytest.raises(KokenErrors, match="row 5.*total row"):
        read_portfolio(DATA / "messy" / "total_row.csv", library)


def test_every_bad_value_is_reported_in_one_run(library):
    with pytest.raises(KokenErrors) as info:
        calculate(read_portfolio(DATA / "messy" / "bad_values.csv", library, collect=True), library)
    rows = {e.location.row: str(e) for e in info.value.errors}
    assert "finite number >= 0, got -100" in rows[2]        # full-width minus sign
    assert "is required" in rows[3]                          # empty required value
    assert "'inf' is not a finite number" in rows[4]
    assert "1990-2100" in rows[5]
    assert "did you mean 'refrigerator'" in rows[6]
    assert "dimension mass" in rows[7] and "is expected" in rows[7]  # incompatible unit names the dimension
    assert 8 not in rows                                     # '12 years' in a cell is a valid quantity


def test_percent_over_100_is_refused(library):
    with pytest.raises(KokenErrors, match="140 % .* outside the allowed range"):
        calculate(read_portfolio(DATA / "messy" / "percent_over_100.csv", library, collect=True), library)


def test_stale_factor_is_an_error_unless_explicitly_allowed(library):
    path = DATA / "messy" / "stale_year.csv"
    with pytest.raises(KokenErrors, match="does not extrapolate"):
        calculate(read_portfolio(path, library, collect=True), library)
    table = calculate(read_portfolio(path, library), library, {"allow_stale_factors": True}).table
    # FY2023's 0.421 stands in for FY2024: 147 kWh/yr × 0.421 × 1,000 台 / 1,000 = 61.887 t
    assert table["single_year[t-CO2e]"].iloc[0] == pytest.approx(61.887)
    assert table["factors_from_tables"].iloc[0] == ("grid_emission_factor=grid_emission_factor[JP 2023] (adjusted, "
                                                    "preliminary) (stale: earlier year)")


def test_share_groups_must_sum_to_100_percent(tmp_path):
    from koken.base.units import registry
    from koken.methodology.evaluate import evaluate

    from helpers import methodology_dict, write_methodology

    data = methodology_dict()
    data["parameters"]["share_a"] = {"unit": "%", "description": {"ja": "a", "en": "a"}}
    data["parameters"]["share_b"] = {"unit": "%", "description": {"ja": "b", "en": "b"}}
    data["share_groups"] = [["share_a", "share_b"]]
    data["formulas"][1]["expression"] = "saved * grid_emission_factor * (share_a + share_b)"
    data["formulas"][2]["expression"] = "baseline_energy * grid_emission_factor * (share_a + share_b)"
    data["formulas"][3]["expression"] = "product_energy * grid_emission_factor * (share_a + share_b)"
    data["examples"][0]["inputs"].update(share_a="30 %", share_b="70 %")
    m = load_methodology(write_methodology(tmp_path, data))
    q = registry().Quantity
    inputs = {"baseline_energy": q(np.array([400.0, 400.0]), "kWh/year_8760h"),
              "product_energy": q(np.array([300.0, 300.0]), "kWh/year_8760h"),
              "grid_emission_factor": q(np.array([0.5, 0.5]), "kg*CO2e/kWh"),
              "operating_years": q(np.array([10.0, 10.0]), "year_8760h"),
              "share_a": q(np.array([30.0, 30.0]), "percent"), "share_b": q(np.array([70.0, 60.0]), "percent")}
    with pytest.raises(KokenErrors, match="row 2.*must add up to 100 %, but 30 % \\+ 60 % = 90 %"):
        evaluate(m, inputs)


CELL = st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True).map(str),
                 st.sampled_from(["", "１２，３４５", "－5", "▲3", "4.5 万台", "50%", "1e309", "nan", "合計", "ton",
                                  "refrigerator", "国内", "2023", "kWh/yr", "=1+1", "\x00"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=9, max_size=10), min_size=1, max_size=4))
def test_fuzzed_portfolio_rows_raise_only_located_koken_errors(tmp_path_factory, library, rows):
    import csv

    path = tmp_path_factory.mktemp("fuzz") / "p.csv"
    header = ["product_line", "methodology", "fiscal_year", "market", "units_shipped",
              "baseline_annual_energy[kWh/yr]", "product_annual_energy[kWh/yr]",
              "grid_emission_factor[kg-CO2/kWh]", "operating_years[yr]"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(["".join(ch for ch in c if ch not in "\r\n") for c in r] for r in rows)
    try:
        calc = calculate(read_portfolio(path, library, collect=True), library)
    except KokenErrors as errs:
        assert errs.errors and all(e.location.file for e in errs.errors)
    else:
        totals = calc.table[["single_year[t-CO2e]", "lifetime[t-CO2e]"]].to_numpy()
        assert np.isfinite(totals).all()


@pytest.mark.parametrize("label", ["冷蔵庫 小計", "【小計】", "小計（冷蔵庫）", "Subtotal", "TOTAL"])
def test_subtotal_labels_are_refused(tmp_path, library, label):
    path = tmp_path / "sub.csv"
    path.write_text((DATA / "messy" / "clean_utf8.csv").read_text(encoding="utf-8")
                    + f"{label},refrigerator,2023,domestic,69000,420,273,,12\n", encoding="utf-8")
    with pytest.raises(KokenErrors, match="total or subtotal row \\(product_line"):
        read_portfolio(path, library)


def test_a_product_whose_name_ends_in_kei_is_not_a_total(tmp_path, library):
    path = tmp_path / "clock.csv"
    path.write_text((DATA / "messy" / "clean_utf8.csv").read_text(encoding="utf-8")
                    + "電波時計,refrigerator,2023,domestic,10,420,273,,12\n", encoding="utf-8")
    assert len(read_portfolio(path, library)) == 4
