"""Compare koken's vectorised evaluation with a per-row Pint computation of the same formula.

Run: python benchmarks/kernel_vs_pint.py [ROWS]

Both compute the refrigerator methodology's lifetime contribution,
(baseline kWh/yr - product kWh/yr) x EF x units x years, on the same random data. The per-row Pint
loop (what a naive engine does) runs on a sample and is extrapolated. Prints seconds and ratios;
asserts nothing (speed goals are read, not tested).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from engine.evaluate import evaluate
from engine.methodology import load_library
from engine.units import parse_unit, registry


def main(rows: int = 100_000, sample: int = 2_000) -> None:
    library, problems = load_library()
    assert not problems, problems
    m = library["refrigerator"]
    ureg = registry()
    rng = np.random.default_rng(0)
    base = rng.uniform(300, 600, rows)
    prod = base * rng.uniform(0.5, 0.95, rows)
    ef = rng.uniform(0.3, 0.6, rows)
    years = rng.integers(8, 15, rows).astype(float)
    shipped = rng.integers(100, 50_000, rows).astype(float)
    kwh_yr, ef_unit, yr, unit = (parse_unit(u) for u in ("kWh/yr", "kg-CO2/kWh", "yr", "台"))

    start = time.perf_counter()
    result = evaluate(m, {
        "baseline_annual_energy": ureg.Quantity(base, kwh_yr),
        "product_annual_energy": ureg.Quantity(prod, kwh_yr),
        "grid_emission_factor": ureg.Quantity(ef, ef_unit),
        "operating_years": ureg.Quantity(years, yr),
    }, ureg.Quantity(shipped, unit))
    koken_s = time.perf_counter() - start

    start = time.perf_counter()
    floor = (base - prod) * ef * shipped * years / 1000.0  # t-CO2: the hand-written numpy floor
    floor_s = time.perf_counter() - start

    t_co2 = parse_unit("t-CO2e")
    start = time.perf_counter()
    naive = []
    for i in range(sample):
        saved = ureg.Quantity(base[i], kwh_yr) - ureg.Quantity(prod[i], kwh_yr)
        avoided = saved * ureg.Quantity(ef[i], ef_unit)
        naive.append((avoided * ureg.Quantity(shipped[i], unit) * ureg.Quantity(years[i], yr)).to(t_co2).magnitude)
    pint_s = (time.perf_counter() - start) * rows / sample

    assert np.allclose(result.lifetime.magnitude, floor, rtol=1e-9)
    assert np.allclose(result.lifetime.magnitude[:sample], naive, rtol=1e-9)
    print(f"rows: {rows:,}")
    print(f"koken evaluate (units + kernel): {koken_s:.4f} s")
    print(f"hand-written numpy floor:        {floor_s:.4f} s   koken/floor = {koken_s / floor_s:.1f}x")
    print(f"per-row Pint (extrapolated from {sample:,}): {pint_s:.2f} s   pint/koken = {pint_s / koken_s:.0f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
