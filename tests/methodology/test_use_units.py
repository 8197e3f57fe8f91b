"""Functional units of use: per-use (回) and per-page (枚) quantities are their own dimensions, unit invariance, and
lifetime usage given directly instead of annual use × operating years (issue 12 §5)."""

import copy

import pandas as pd
import pytest

from koken.api import calculate
from koken.base.errors import KokenErrors
from koken.library import load_methodology, scan_library

from helpers import MINIMAL, write_methodology

PRINTER = copy.deepcopy(MINIMAL)
PRINTER.update(id="page_printer", title={"ja": "印刷機", "en": "Printer"})
PRINTER["parameters"] = {
    "baseline_energy_per_page": {"unit": "Wh/枚", "description": {"ja": "b", "en": "b"}},
    "product_energy_per_page": {"unit": "Wh/枚", "description": {"ja": "p", "en": "p"}},
    "pages_per_year": {"unit": "枚/yr", "description": {"ja": "n", "en": "n"}},
    "lifetime_pages": {"unit": "枚", "description": {"ja": "L", "en": "L"}},
    "grid_emission_factor": {"unit": "kg-CO2/kWh", "description": {"ja": "e", "en": "e"}, "range": [0, 2]},
}
PRINTER["operating_years"] = "operating_years"
PRINTER["formulas"] = [
    # lifetime usage given directly: the operating years follow from it (life in pages ÷ pages a year)
    {"name": "operating_years", "expression": "lifetime_pages / pages_per_year", "unit": "yr", "range": [1, 30]},
    {"name": "baseline_emissions", "expression": "baseline_energy_per_page * pages_per_year * grid_emission_factor",
     "unit": "kg-CO2e/台/yr"},
    {"name": "product_emissions", "expression": "product_energy_per_page * pages_per_year * grid_emission_factor",
     "unit": "kg-CO2e/台/yr"},
    {"name": "avoided_per_unit_year", "expression": "baseline_emissions - product_emissions"},
]
PRINTER["examples"] = [{
    "name": "hand", "description": "d", "source": "hand_calculation",
    "calculation": "(20 − 12) Wh/枚 × 50,000 枚/yr = 400 kWh/yr × 0.5 = 200 kg/yr; life 300,000 枚 ÷ 50,000 = 6 yr",
    "inputs": {"baseline_energy_per_page": "20 Wh/枚", "product_energy_per_page": "12 Wh/枚",
               "pages_per_year": "50000 枚/yr", "lifetime_pages": "300000 枚", "grid_emission_factor": "0.5 kg-CO2/kWh"},
    "expected": {"avoided_per_unit_year": {"value": 200, "unit": "kg-CO2/台/yr"},
                 "operating_years": {"value": 6, "unit": "yr"}},
}]


def library(tmp_path):
    write_methodology(tmp_path, PRINTER)
    return scan_library(tmp_path, bundled=False, check_examples=True).library


@pytest.mark.parametrize("per_page, pages, life", [
    ("[Wh/枚]", ("[枚/yr]", 50000), ("[枚]", 300000)),
    ("[kWh/千枚]", ("[千枚/yr]", 50), ("[万枚]", 30)),
])
def test_per_page_figures_do_not_depend_on_the_unit_they_are_written_in(tmp_path, per_page, pages, life):
    frame = pd.DataFrame({
        "methodology": ["page_printer"], "fiscal_year": [2023], "market": ["domestic"], "region": ["JP"],
        "units_shipped[台]": [100], f"baseline_energy_per_page{per_page}": [20], f"product_energy_per_page{per_page}": [12],
        f"pages_per_year{pages[0]}": [pages[1]], f"lifetime_pages{life[0]}": [life[1]],
        "grid_emission_factor[kg-CO2/kWh]": [0.5]})
    table = calculate(frame, library(tmp_path)).table
    # hand: 200 kg-CO2/台/yr × 100 台 = 20 t single-year; × 6 yr (300,000 ÷ 50,000 pages) = 120 t lifetime
    assert table["single_year[t-CO2e]"].iloc[0] == pytest.approx(20.0)
    assert table["lifetime[t-CO2e]"].iloc[0] == pytest.approx(120.0)


def test_a_per_page_figure_written_per_year_is_a_unit_error(tmp_path):
    frame = pd.DataFrame({
        "methodology": ["page_printer"], "fiscal_year": [2023], "market": ["domestic"], "region": ["JP"],
        "units_shipped[台]": [100], "baseline_energy_per_page[kWh/yr]": [20], "product_energy_per_page[Wh/枚]": [12],
        "pages_per_year[枚/yr]": [50000], "lifetime_pages[枚]": [300000], "grid_emission_factor[kg-CO2/kWh]": [0.5]})
    with pytest.raises(KokenErrors) as info:
        calculate(frame, library(tmp_path))
    assert "baseline_energy_per_page[kWh/yr]" in str(info.value) and "枚" in str(info.value)  # per page expected


def test_a_formula_that_forgets_the_pages_is_refused_at_load(tmp_path):
    data = copy.deepcopy(PRINTER)
    data["formulas"][1]["expression"] = "baseline_energy_per_page * grid_emission_factor"
    with pytest.raises(KokenErrors) as info:
        load_methodology(write_methodology(tmp_path, data))
    assert "step 'baseline_emissions'" in str(info.value)
