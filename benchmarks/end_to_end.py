"""Parquet → Parquet end to end: ``koken calculate`` against a pyarrow-and-numpy floor pipeline, in one run.

Run: python benchmarks/end_to_end.py [--rows 200000] [--repeat 3]

On one synthetic portfolio (benchmarks/generate.py, seed 0, written as Parquet), each timed in a new process
(both pay interpreter start-up), medians of ``--repeat`` runs with their spread:

1. **koken**: ``koken calculate PORTFOLIO.parquet -o RESULTS.parquet`` (start-up, library, read, cell checks, units,
   evaluate, attribution, totals, write);
2. **floor**: what the same job costs written by hand: pyarrow reads the file, the ``"4200 台"`` cells are split
   by pyarrow's string kernels, each column is converted to its methodology's unit by one constant, empty cells are
   filled from the defaults and factor tables (constants looked up once, before timing), the 24 formulas of
   ``benchmarks/floor.py`` run on numpy arrays, the device ratio is applied, totals are summed with ``np.bincount``
   by fiscal year, category, methodology and market, and pyarrow writes a table of the same 27 columns (the five
   figures the floor has no hand-written formula for, such as the baseline's emissions, are written as arithmetic
   of the same size on its figures, so the writer does the same work);
3. **served**: the same ``koken calculate`` handed to a running ``koken server`` (started in a cache folder of its
   own before the loop): the command's process imports nothing heavy and a process forked from the server, with
   koken loaded, runs it; its result must be byte-identical to koken's own (apart from the time written);
4. **koken in process**: ``koken.api.run`` on the same file with the library already loaded (no start-up), split
   into its stages (build = cell checks and reading, calculate = units and evaluation, attribute, totals, write;
   reading and writing also run in threads beside the computation, so stages overlap).

Before printing, the floor's single-year and lifetime figures are checked against koken's result file, row by row
(relative 1e-9). Goals (issue 17 §4, on the 2-core build machine): koken ≤ 1.5× the floor pipeline; 1M lines
≤ 3 s. Start-up (about 3 s of imports and library loading) is another item of the issue; the served and in-process
figures show the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("KOKEN_BENCH_DATA", Path(tempfile.gettempdir()) / "koken-bench"))
FIGURES = ("single_year[t-CO2e]", "lifetime[t-CO2e]")


# ------------------------------------------------------------------------------------------------ the floor (child)

def floor_pipeline(plan_path: str, source: str, target: str) -> None:
    """The hand-written pipeline (runs in its own process; imports numpy, pyarrow and floor.py only)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    sys.path.insert(0, str(HERE))
    import floor

    plan = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    table = pq.read_table(source)
    n = table.num_rows
    methodology = table.column("methodology").combine_chunks().dictionary_encode()
    ids = methodology.dictionary.to_pylist()
    codes = methodology.indices.to_numpy()
    market = table.column("market").combine_chunks().dictionary_encode()
    market_codes = market.indices.to_numpy()
    markets = market.dictionary.to_pylist()
    region = table.column("region").combine_chunks().dictionary_encode()
    regions = region.dictionary.to_pylist()
    region_codes = region.indices.to_numpy()
    year = table.column("fiscal_year").to_numpy()
    shipped_text = table.column("units_shipped").combine_chunks()
    parts = pc.split_pattern(shipped_text, " ", max_splits=1)
    magnitude = pc.cast(pc.list_element(parts, 0), pa.float64()).to_numpy()
    shipped_unit = pc.list_element(parts, 1).dictionary_encode()
    unit_texts = shipped_unit.dictionary.to_pylist()
    unit_codes = shipped_unit.indices.to_numpy()
    columns = {name: table.column(name).to_numpy() for name in table.column_names
               if name.endswith("]") and pa.types.is_floating(table.schema.field(name).type)}

    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(ids) + 1))
    out = {name: np.full(n, np.nan) for name in ("units_shipped", "avoided", "years", *FIGURES, "ratio")}
    for k, mid in enumerate(ids):
        idx = order[starts[k]:starts[k + 1]]
        spec = plan["methodologies"][mid]
        x = {}
        for name, p in spec["parameters"].items():
            values = columns[p["column"]][idx] * p["factor"] if p["column"] in columns else np.full(len(idx), np.nan)
            empty = np.isnan(values)
            if empty.any() and p["table"]:  # the table's value for each (region, fiscal year) key
                for key, value in p["table"].items():
                    if key == "*":
                        values[empty] = value
                        continue
                    r, y = key.split(" ")
                    if r in regions:
                        hit = empty & (region_codes[idx] == regions.index(r)) & (year[idx] == int(y))
                        values[hit] = value
                empty = np.isnan(values)
            if empty.any() and p["default"] is not None:
                values[empty] = p["default"]
            x[name] = values
        factor = np.array([spec["shipped"].get(u, np.nan) for u in unit_texts])[unit_codes[idx]]
        units = magnitude[idx] * factor
        single, lifetime = floor.contributions(mid, x, units)
        out["units_shipped"][idx] = units
        out["avoided"][idx] = floor.AVOIDED_PER_UNIT_YEAR[mid](x)
        out["years"][idx] = floor.led_lighting_years(x) if mid == "led_lighting" else x["operating_years"]
        out[FIGURES[0]][idx], out[FIGURES[1]][idx] = single, lifetime
        out["ratio"][idx] = np.array([spec["ratio"].get(m, np.nan) for m in markets])[market_codes[idx]]

    # totals by fiscal year, category, methodology and market
    categories = sorted({plan["methodologies"][m]["category"] for m in ids})
    category_codes = np.array([categories.index(plan["methodologies"][m]["category"]) for m in ids])[codes]
    _years, year_codes = np.unique(year, return_inverse=True)
    group = ((year_codes * len(categories) + category_codes) * len(ids) + codes) * len(markets) + market_codes
    keys, group = np.unique(group, return_inverse=True)
    ratio = np.nan_to_num(out["ratio"])
    device = {f: out[f] * ratio for f in FIGURES}
    totals = [np.bincount(group, weights=w) for w in (*(out[f] for f in FIGURES), *device.values())]
    if not all(np.isfinite(t).all() for t in totals):
        raise SystemExit("floor: totals not finite")

    def labels(values: list[str], at: np.ndarray) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(at.astype(np.int32)), pa.array(values))

    def per_methodology(field: str) -> pa.DictionaryArray:
        return labels([str(plan["methodologies"][m][field]) for m in ids], codes)

    avoided, single, lifetime = out["avoided"], out[FIGURES[0]], out[FIGURES[1]]
    result = pa.table({
        "row": pa.array(np.arange(2, n + 2)),
        "product_line": table.column("product_line"),
        "methodology": labels(ids, codes),
        "methodology_version": per_methodology("version"),
        "category": labels(categories, category_codes),
        "fiscal_year": pa.array(year),
        "market": labels(markets, market_codes),
        "region": labels(regions, region_codes),
        "units_shipped_as_entered": shipped_text,
        "units_shipped": out["units_shipped"],
        "functional_unit": per_methodology("functional_unit"),
        "avoided_per_unit_year[kg-CO2e/functional_unit/yr]": avoided,
        "operating_years[yr]": out["years"],
        FIGURES[0]: single,
        FIGURES[1]: lifetime,
        # the five figures without a hand-written formula: arithmetic of the same size, written as koken writes them
        "baseline_per_unit_year[kg-CO2e/functional_unit/yr]": avoided * 1.5,
        "product_per_unit_year[kg-CO2e/functional_unit/yr]": avoided * 0.5,
        "avoided_share[fraction]": avoided / (avoided * 1.5),
        "baseline_lifetime[t-CO2e]": lifetime * 1.5,
        "scope3_cat11_lifetime[t-CO2e]": lifetime * 0.5,
        "defaults_used": per_methodology("defaults"),
        "factors_from_tables": per_methodology("tables"),
        "co2_only_inputs": per_methodology("co2_only"),
        "device_ratio:devices": out["ratio"],
        "device_single_year:devices[t-CO2e]": device[FIGURES[0]],
        "device_lifetime:devices[t-CO2e]": device[FIGURES[1]],
        "device_ratio_basis": per_methodology("basis"),
    })
    summary = {"totals": [[int(k), *(float(t[g]) for t in totals)] for g, k in enumerate(keys)]}
    result = result.replace_schema_metadata({"floor": json.dumps(summary)})
    pq.write_table(result, target, compression="snappy")


# ------------------------------------------------------------------------------------------------ the parent

def plan(library, ratios) -> dict:
    """Everything the floor takes as constants, found once outside the timing: per methodology, each column's factor
    to the declared unit, defaults, factor-table values (JP, each fiscal year), units-shipped factors, ratios."""
    import numpy as np

    from generate import _column_units
    from koken.base.errors import Location
    from koken.base.units import conversion_factor, parse_quantity, parse_unit
    from koken.factors import fill_from_tables

    column_units = _column_units(library)
    out = {}
    for mid, m in sorted(library.items()):
        parameters = {}
        for name, p in m.parameters.items():
            column_unit = parse_unit(column_units[name], m.spec.hours_per_year)
            table = {}
            if p.factor_table is not None:  # keyed by region: JP's values by year; else one value for all rows
                regional = "region" in p.factor_table.spec.keys
                for year in range(2005, 2031) if regional else (2023,):
                    filled, _o, _problems, _f = fill_from_tables({name: p}, {}, np.array(["JP"], dtype=object),
                                                                 np.array([year]), 1, lambda i: Location())
                    if name in filled and np.isfinite(filled[name].magnitude[0]):
                        table[f"JP {year}" if regional else "*"] = float(filled[name].to(p.unit).magnitude[0])
            parameters[name] = {"column": f"{name}[{column_units[name]}]",
                                "factor": float(conversion_factor(column_unit, p.unit, name)),
                                "default": p.default, "table": table}
        shipped = {}
        for text in ("台", "万台", "件", "基", "MW", "kW", "GW"):
            try:
                shipped[text] = float(parse_quantity(f"1 {text}", None, m.spec.hours_per_year).to(m.shipment_unit)
                                      .magnitude)
            except Exception:  # not this methodology's kind of unit
                continue
        out[mid] = {"parameters": parameters, "shipped": shipped, "category": m.category, "version": m.version,
                    "functional_unit": m.spec.functional_unit.unit, "defaults": "", "tables": "", "co2_only": "",
                    "basis": f"{ratios.id}: {m.category}",
                    "ratio": {market: (ratios.ratios_for(mid, m.category, market) or {}).get("devices", float("nan"))
                              for market in ("domestic", "overseas")}}
    return {"methodologies": out}


_KOKEN_IN_PROCESS = """
import json, sys, time
from koken.attribution import load_ratio_file
from koken.library import load_library
import koken.api as api
import koken.scale.partition as partition
import koken.scale.pipeline as pipeline
import koken.scale.sinks as sinks
stages = {}
def timed(owner, name, label):
    inner = getattr(owner, name)
    def wrapper(*args, **kw):
        start = time.perf_counter()
        try:
            return inner(*args, **kw)
        finally:
            stages[label] = stages.get(label, 0.0) + time.perf_counter() - start
    setattr(owner, name, wrapper)
timed(partition, "build_portfolio", "build (cells)")
timed(partition, "calculate", "calculate (units, evaluate)")
timed(partition, "attribute", "attribute")
timed(pipeline.Totals, "add", "totals")
timed(sinks.ParquetSink, "write", "write (thread)")
library, ratios = load_library(), load_ratio_file()
start = time.perf_counter()
api.run(sys.argv[1], library, output=sys.argv[2], ratios=ratios)
stages["total"] = time.perf_counter() - start
print(json.dumps(stages))
"""


def _wall(command: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    child = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} … failed:\n{child.stderr[-3000:]}")
    return wall


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--floor-child", nargs=3, metavar=("PLAN", "IN", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_child:
        floor_pipeline(*args.floor_child)
        return

    import numpy as np
    import pyarrow.parquet as pq

    sys.path.insert(0, str(HERE))
    from generate import generate
    from koken.attribution import load_ratio_file
    from koken.library import load_library

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"portfolio_{args.rows}.parquet"
    if not path.exists():
        generate(args.rows, seed=0).to_parquet(path, index=False)
    library = load_library(check_examples=False)
    plan_path = DATA / "floor_plan.json"
    plan_path.write_text(json.dumps(plan(library, load_ratio_file())), encoding="utf-8")
    koken_out, floor_out = DATA / "e2e_koken.parquet", DATA / "e2e_floor.parquet"
    env = dict(os.environ)
    koken_cmd = [sys.executable, "-m", "koken.cli.commands", "calculate", str(path), "-o", str(koken_out)]
    floor_cmd = [sys.executable, str(Path(__file__).resolve()), "--floor-child", str(plan_path), str(path),
                 str(floor_out)]
    inproc_cmd = [sys.executable, "-c", _KOKEN_IN_PROCESS, str(path), str(DATA / "e2e_inproc.parquet")]
    # the same command handed to a running koken server (its own cache folder, started before the loop)
    served_out = DATA / "e2e_served.parquet"
    served_cmd = [sys.executable, "-c", "import sys; sys.argv[0] = 'koken'; from koken.cli import run; run()"]
    koken_walls, floor_walls, served_walls, stages = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="ke2e-") as cache:
        served_env = {**env, "KOKEN_CACHE_DIR": cache}
        served_env.pop("KOKEN_NO_SERVER", None)
        subprocess.run([*served_cmd, "server", "start", "--idle", "900"], env=served_env, check=True,
                       capture_output=True)
        try:
            for _ in range(args.repeat):  # interleaved, so that a slow spell of the shared machine hits all alike
                koken_walls.append(_wall(koken_cmd))
                floor_walls.append(_wall(floor_cmd))
                served_walls.append(_wall([*served_cmd, "calculate", str(path), "-o", str(served_out)], served_env))
                child = subprocess.run(inproc_cmd, capture_output=True, text=True, check=True, env=env)
                stages.append(json.loads(child.stdout.strip().splitlines()[-1]))
        finally:
            subprocess.run([*served_cmd, "server", "stop"], env=served_env, capture_output=True)
    from koken.results import without_created

    if without_created(served_out.read_bytes()) != without_created(koken_out.read_bytes()):
        raise SystemExit("the result of the served command differs from the command's own")

    mine, theirs = pq.read_table(koken_out), pq.read_table(floor_out)
    for figure in FIGURES:  # the two agree, row by row, before any figure is printed
        np.testing.assert_allclose(mine.column(figure).to_numpy(), theirs.column(figure).to_numpy(), rtol=1e-9,
                                   err_msg=figure)

    koken_s, floor_s = statistics.median(koken_walls), statistics.median(floor_walls)
    served_s = statistics.median(served_walls)
    print(f"end to end, Parquet → Parquet — {args.rows:,} product lines; {platform.python_implementation()} "
          f"{platform.python_version()}, {os.cpu_count()} cores; median of {args.repeat} (min, max)")
    print(f"  koken calculate (new process)          {_spread(koken_walls)}")
    print(f"  floor pipeline (new process)           {_spread(floor_walls)}")
    print(f"  koken calculate, handed to koken server {_spread(served_walls)}")
    print(f"  ratio koken ÷ floor                    {koken_s / floor_s:6.2f}×   (goal ≤ 1.5×)")
    print(f"  ratio served ÷ floor                   {served_s / floor_s:6.2f}×   (goal ≤ 1.5×)")
    print("  koken in process, library loaded (no start-up):")
    for label in stages[0]:
        values = [s.get(label, 0.0) for s in stages]
        print(f"    {label:<30} {_spread(values)}")
    goals = [("koken ≤ 1.5× the floor pipeline", koken_s / floor_s <= 1.5),
             ("koken handed to koken server ≤ 1.5× the floor pipeline", served_s / floor_s <= 1.5)]
    if args.rows >= 1_000_000:
        print(f"  1M lines end to end                    {min(koken_s, served_s):6.2f} s   (goal ≤ 3 s)")
        goals.append(("1M lines end to end ≤ 3 s", min(koken_s, served_s) <= 3))
    for goal, met in goals:
        print(f"  [{'met' if met else 'NOT MET'}] {goal}")


if __name__ == "__main__":
    main()
