"""Properties every bundled methodology must have (issue: the full library of 24)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koken.base.paths import methodologies_dir
from koken.base.units import registry
from koken.examples import check_properties, example_inputs, run_example
from koken.factors import fill_from_tables
from koken.library import find_methodology_files, load_methodology
from koken.methodology.evaluate import evaluate

EXPECTED = {
    "generation": {"coal_fired_power", "gas_combined_cycle", "nuclear_power", "geothermal_power", "solar_pv",
                   "wind_power", "hydro_power"},
    "home_appliances": {"refrigerator", "room_air_conditioner", "television", "led_lighting",
                        "heat_pump_water_heater", "residential_fuel_cell"},
    "industrial_equipment": {"transformer", "inverter_drive", "high_efficiency_motor", "industrial_heat_pump"},
    "it_equipment": {"server", "storage", "client_pc", "network_equipment", "multifunction_printer"},
    "solutions": {"ict_solution", "energy_management"},
}
FILES = find_methodology_files(methodologies_dir())


def test_one_category_methodology_per_category_that_every_product_methodology_extends(library):
    """The integrated methodology (統合版方法論, round2.md): one methodology per category, each product methodology
    extending the one of its own category."""
    categories = {m.id: m for m in library.values() if m.spec.kind == "category"}
    assert {m.category for m in categories.values()} == set(EXPECTED) and set(categories) == set(EXPECTED)
    for m in library.values():
        if m.spec.kind == "product":
            assert m.extends == m.category, m.id


def test_exactly_the_24_reference_methodologies(library):
    products = [m for m in library.values() if m.spec.kind == "product"]
    assert {c: {m.id for m in products if m.category == c} for c in EXPECTED} == EXPECTED
    assert [len(v) for v in EXPECTED.values()] == [7, 6, 4, 5, 2]


def first_example_inputs(m):
    """The first example's inputs as length-1 quantities (factor-table values filled in)."""
    ex = m.spec.examples[0]
    inputs, _ = example_inputs(m, 0)
    inputs, _, problems, _ = fill_from_tables(m.parameters, inputs, np.array([ex.region or ""], dtype=object),
                                              np.array([ex.fiscal_year or 0]), 1, lambda i: None)
    assert not problems
    return inputs


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_has_flags_checks_and_two_examples(path):
    m = load_methodology(path, check_examples=False)
    assert len(m.spec.examples) >= 2
    assert m.spec.checks is not None and m.spec.checks.equal_to_baseline
    assert m.spec.checks.worse_than_baseline is not None or m.spec.checks.note
    assert check_properties(m) == []


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
@settings(max_examples=15, deadline=None)
@given(k=st.floats(min_value=1e-3, max_value=1e6, allow_nan=False), shipped=st.floats(min_value=1, max_value=1e6))
def test_linear_in_units_shipped(path, k, shipped):
    m = load_methodology(path, check_examples=False)
    inputs = first_example_inputs(m)
    unit = m.shipment_unit
    one = evaluate(m, inputs, registry().Quantity(np.array([shipped]), unit)).lifetime.magnitude[0]
    many = evaluate(m, inputs, registry().Quantity(np.array([shipped * k]), unit)).lifetime.magnitude[0]
    assert many == pytest.approx(one * k, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_changing_input_units_changes_nothing(path):
    m = load_methodology(path, check_examples=False)
    inputs = first_example_inputs(m)
    shipped = registry().Quantity(np.array([1000.0]), m.shipment_unit)
    reference = evaluate(m, inputs, shipped)
    # every input re-expressed in SI base units (kWh -> J·…, W -> kg·m²/s³, kg-CO2/kWh -> …), shipments in 万
    rebased = {name: q.to_base_units() for name, q in inputs.items()}
    shipped_man = shipped.to(registry().parse_units("万") * m.shipment_unit)
    other = evaluate(m, rebased, shipped_man)
    assert np.allclose(other.lifetime.magnitude, reference.lifetime.magnitude, rtol=1e-9, atol=1e-12)
    assert np.allclose(other.avoided_per_unit_year.magnitude, reference.avoided_per_unit_year.magnitude,
                       rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_first_example_runs_through_the_public_runner(path):
    m = load_methodology(path, check_examples=False)
    assert np.isfinite(run_example(m, 0).avoided_per_unit_year.magnitude).all()
