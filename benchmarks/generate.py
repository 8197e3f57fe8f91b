"""Generate a synthetic portfolio over all methodologies, for benchmarks and scale tests.

Run: python benchmarks/generate.py ROWS OUT.(csv|parquet) [--seed N]

Each row picks one of the library's methodologies at random and starts from that methodology's first
worked example (its published or hand-calculated inputs, so value ranges are realistic); every input
that is not a fraction is jittered by ±10 %, and units shipped by ×0.1-10. About 70 % of rows are
domestic (region JP, half of them leaving factor-table parameters empty so that the grid and fuel
tables are looked up) and 30 % overseas (US, CN, DE, TH, IN, VN, always giving their own grid
factor, since the shipped table has no value for most of them). ``units_shipped`` cells carry their
unit (``"4200 台"``, ``"35.2 MW"``), as in the company files koken reads; every other column has its
unit in the header (``baseline_annual_energy[kWh/yr]``).

The data are synthetic: they exercise the engine at scale and mean nothing as emissions figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from koken.base.units import parse_quantity
from koken.examples import example_inputs
from koken.library import load_library

OVERSEAS_REGIONS = ("US", "CN", "DE", "TH", "IN", "VN")
DOMESTIC_SHARE = 0.7
JITTER = 0.10


def _column_units(library) -> dict[str, str]:
    """Parameter name → the unit of its column: the one declared by the first methodology (by id)."""
    units: dict[str, str] = {}
    for mid in sorted(library):
        for name, p in library[mid].parameters.items():
            units.setdefault(name, p.unit_text)
    return units


def _base_inputs(m, column_units: dict[str, str]) -> dict[str, float]:
    """The first example's inputs, as magnitudes in each column's unit."""
    inputs, _ = example_inputs(m, 0)
    values = {}
    for name, q in inputs.items():
        column_unit = parse_quantity(f"1 {column_units[name]}", None, m.spec.hours_per_year).units
        values[name] = float(q.to(column_unit).magnitude[0])
    return values


def generate(rows: int, seed: int = 0) -> pd.DataFrame:
    """A synthetic portfolio of ``rows`` product lines (columns as koken reads them)."""
    library = load_library(check_examples=False)  # raises KokenErrors listing every problem
    rng = np.random.default_rng(seed)
    ids = sorted(library)
    column_units = _column_units(library)
    pick = rng.integers(0, len(ids), rows)
    domestic = rng.random(rows) < DOMESTIC_SHARE
    use_table = rng.random(rows) < 0.5
    data: dict[str, np.ndarray] = {
        "product_line": np.empty(rows, dtype=object),
        "methodology": np.array(ids, dtype=object)[pick],
        "fiscal_year": np.zeros(rows, dtype=np.int64),
        "market": np.where(domestic, "domestic", "overseas").astype(object),
        "region": np.where(domestic, "JP", np.array(OVERSEAS_REGIONS, dtype=object)[
            rng.integers(0, len(OVERSEAS_REGIONS), rows)]).astype(object),
        "units_shipped": np.empty(rows, dtype=object),
    }
    numeric = {name: np.full(rows, np.nan) for name in column_units}
    for k, mid in enumerate(ids):
        m = library[mid]
        rows_m = np.flatnonzero(pick == k)
        n = len(rows_m)
        if not n:
            continue
        example = m.spec.examples[0]
        data["fiscal_year"][rows_m] = example.fiscal_year or 2023
        data["product_line"][rows_m] = [f"{mid} line {i}" for i in range(n)]
        for name, value in _base_inputs(m, column_units).items():
            p = m.parameters[name]
            fraction = p.unit.dimensionless
            jitter = 1.0 if fraction else rng.uniform(1 - JITTER, 1 + JITTER, n)
            column = value * jitter
            if p.factor_table is not None and "region" in p.factor_table.spec.keys:
                column = np.where(domestic[rows_m] & use_table[rows_m], np.nan, column)
            numeric[name][rows_m] = column
        for name, p in m.parameters.items():  # a table parameter the example leaves to the table
            if p.factor_table is not None and "region" in p.factor_table.spec.keys and name not in example.inputs:
                overseas = ~domestic[rows_m]
                numeric[name][rows_m[overseas]] = rng.uniform(0.3, 0.7, overseas.sum()) * (
                    1000.0 if column_units[name].startswith("kg-CO2/MWh") else 1.0)
        shipped = parse_quantity(example.inputs.get("units_shipped", f"1000 {m.spec.functional_unit.unit}"),
                                 None, m.spec.hours_per_year)
        magnitudes = shipped.magnitude * rng.uniform(0.1, 10.0, n)
        count = m.spec.functional_unit.unit in ("台", "件", "基")
        if count:
            magnitudes = np.maximum(np.round(magnitudes), 1.0)
        unit_text = example.inputs.get("units_shipped", f"1 {m.spec.functional_unit.unit}").split(" ", 1)[1]
        data["units_shipped"][rows_m] = [f"{v:.6g} {unit_text}" for v in magnitudes]
    frame = pd.DataFrame(data)
    for name, values in numeric.items():
        frame[f"{name}[{column_units[name]}]"] = values
    return frame


def write(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV (UTF-8) or Parquet, by the file's extension."""
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        raise SystemExit(f"{path}: use .csv or .parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write(generate(args.rows, args.seed), args.out)
    print(f"wrote {args.rows:,} rows to {args.out}")


if __name__ == "__main__":
    main()
