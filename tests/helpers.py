"""Builders for small methodology files used by several tests."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

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
