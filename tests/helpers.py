"""Builders for small methodology files and portfolios used by several tests, and the test data folders."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent  # the repository
DATA = Path(__file__).resolve().parent / "data"
PORTFOLIOS = DATA / "portfolios"  # portfolio inputs (CSV, XLSX, YAML)
METHODOLOGIES = DATA / "methodologies"  # methodology libraries, each a folder of <category>/<id>.yaml
RESULTS = DATA / "results"  # JSON result files
PROGRESS = DATA / "progress"  # action-plan submissions of three test companies (Alpha, Beta, Gamma)
MESSY = DATA / "messy"  # messy but valid portfolios (the hostile and messy corpus)

MINIMAL = {
    "id": "toy",
    "version": "1.0.0",
    "title": {"ja": "玩具", "en": "Toy"},
    "category": "home_appliances",
    "result_type": "avoided_emissions",
    "contribution_role": "direct",
    "functional_unit": {"description": {"ja": "1台", "en": "one unit"}, "unit": "台"},
    "baseline": {"type": "base_year_model", "description": {"ja": "基準", "en": "base"}, "sources": ["src"]},
    "operating_years": "operating_years",
    "parameters": {
        "baseline_energy": {"unit": "kWh/yr", "description": {"ja": "b", "en": "b"}},
        "product_energy": {"unit": "kWh/yr", "description": {"ja": "p", "en": "p"}},
        "grid_emission_factor": {"unit": "kg-CO2/kWh", "description": {"ja": "e", "en": "e"}, "range": [0, 2]},
        "operating_years": {"unit": "yr", "description": {"ja": "l", "en": "l"}},
    },
    "formulas": [
        {"name": "saved", "expression": "baseline_energy - product_energy", "unit": "kWh/yr"},
        {"name": "avoided_per_unit_year", "expression": "saved * grid_emission_factor"},
        {"name": "baseline_emissions", "expression": "baseline_energy * grid_emission_factor"},
        {"name": "product_emissions", "expression": "product_energy * grid_emission_factor"},
    ],
    "sources": [{"id": "src", "title": "t", "publisher": "p", "year": 2024}],
    "examples": [{
        "name": "hand", "description": "d", "source": "hand_calculation",
        "calculation": "(400 - 300) × 0.5 = 50 kg/yr",
        "inputs": {"baseline_energy": "400 kWh/yr", "product_energy": "300 kWh/yr",
                   "grid_emission_factor": "0.5 kg-CO2/kWh", "operating_years": "10 yr"},
        "expected": {"avoided_per_unit_year": {"value": 50, "unit": "kg-CO2/台/yr"}},
    }],
}


def methodology_dict(**changes) -> dict:
    """A deep copy of MINIMAL with top-level keys replaced."""
    data = copy.deepcopy(MINIMAL)
    data.update(changes)
    return data


def scale_scenarios(data: dict, factor: str) -> dict:
    """Multiply the toy's avoided emissions and both its scenarios by ``factor`` (an expression), so that
    avoided = baseline − product still holds (koken checks it); returns ``data``."""
    for index in (1, 2, 3):
        data["formulas"][index]["expression"] += f" * {factor}"
    return data


def write_methodology(root: Path, data: dict) -> Path:
    """Write ``data`` as ``root/<category>/<id>.yaml`` and return the path."""
    folder = root / str(data.get("category", "home_appliances"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data.get('id', 'toy')}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load_folder(root=None, check_examples=False):
    """(methodologies by id, problems) of one folder (or the bundled set when ``root`` is None), never raising."""
    from koken.library import scan_library

    scan = scan_library(root, bundled=root is None, check_examples=check_examples)
    return scan.library, scan.problems


def portfolio_problems(path, library, **kw) -> str:
    """The problems of reading and calculating a portfolio that has some, one per line (fails if it has none)."""
    from koken.base.errors import KokenErrors
    from koken.calculation import calculate
    from koken.portfolio.build import read_portfolio

    with pytest.raises(KokenErrors) as info:
        calculate(read_portfolio(path, library, collect=True, **kw), library)
    return "\n".join(str(e) for e in info.value.errors)


REFRIGERATOR_HEADER = (
    "product_line,methodology,fiscal_year,market,region,units_shipped[台],baseline_annual_energy[kWh/yr],"
    "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n")


def refrigerator_line(region="JP", shipped="100", market="domestic", label="F") -> str:
    """One CSV line under :data:`REFRIGERATOR_HEADER` (480 → 300 kWh/yr, 0.421 kg-CO2/kWh, 12 yr)."""
    return f"{label},refrigerator,2023,{market},{region},{shipped},480,300,0.421,12\n"


def run_pipeline(path, library, output=None, partition_rows=None):
    """The partitioned main job on a portfolio file (shipped device ratios, no factor overrides)."""
    from koken.attribution import load_ratio_file
    from koken.portfolio.readers import open_portfolio
    from koken.scale.pipeline import run

    return run(open_portfolio(path, library, partition_rows=partition_rows), library, load_ratio_file(None), {},
               output=output)


def run_isolated(code: str, *, timeout: float = 120, memory_mb: int | None = None):
    """Run Python ``code`` in a new interpreter (the repository as working folder, tests/ importable), under an
    address-space cap of ``memory_mb`` if given, and return ``(completed process, peak resident MB)``.

    For inputs whose fault is time or memory: a cubic parser or a decompression bomb ends in the timeout
    (``subprocess.TimeoutExpired``) or at the cap, never by exhausting the machine running the tests; the peak is
    the child's own high-water mark (``VmHWM``), printed last by the wrapper, so no other process counts.
    """
    import os
    import re
    import resource
    import subprocess
    import sys
    import textwrap

    # the peak is VmHWM, the high-water mark of the child's own memory: ru_maxrss would start from the resident size
    # of the test process at the fork (gigabytes after a test has built its input in memory)
    wrapped = ("import resource, sys\ntry:\n" + textwrap.indent(textwrap.dedent(code), "    ") +
               "\nfinally:\n    import re as _re\n    try:\n"
               "        _peak = int(_re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1))\n"
               "    except (OSError, AttributeError):\n"
               "        _peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
               "    print('PEAK_KB', _peak, flush=True)\n")

    def cap():
        if memory_mb is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", wrapped], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=cap)
    peaks = re.findall(r"PEAK_KB (\d+)", done.stdout)
    return done, (int(peaks[-1]) / 1024 if peaks else float("nan"))


def shortest_g(value: float) -> str:
    """A CSV result's number as issue 17 §4 changed it, written independently of koken: ``.15g`` where that reads
    back the same float, else the fewest digits (16 or 17) that do, in ``.15g``'s layout (plain notation for
    decimal exponents -4 to 14)."""
    text = f"{value:.15g}"
    if value != value or value in (float("inf"), float("-inf")) or float(text) == value:
        return text
    digits = next(d for d in (16, 17) if float(f"{value:.{d}g}") == value)
    exponent = int(f"{value:.{digits - 1}e}".split("e")[1])
    if -4 <= exponent < 15:
        return f"{value:.{max(digits - 1 - exponent, 0)}f}"
    return f"{value:.{digits - 1}e}"
