"""The result document (JSON); the result files themselves are written by
:mod:`koken.scale.sinks`, partition by partition.

JSON results carry a format id and version, koken's version, the input file's hash and every
methodology's id, version and content hash (for auditors); the creation time is in its own
field, so the same inputs give the same bytes apart from ``created``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from koken.base.i18n import _
from koken.calculation import Calculation
from koken.factors import ORIGIN_TEXT
from koken.totals import Totals

RESULT_FORMAT = "koken-result"
RESULT_FORMAT_VERSION = 1


def result_document(calc: Calculation) -> dict:
    """The JSON result of an in-memory run: provenance, per-row results and totals (timeframes apart)."""
    return {**document_head(calc.provenance()), "rows": row_records(calc.table, row_details(calc)),
            **document_tail(Totals.from_table(calc.table))}


def document_head(provenance: dict) -> dict:
    """The fields of a JSON result before its rows: format, provenance, units and the timeframe note (in the
    current language)."""
    return {
        "format": RESULT_FORMAT,
        "format_version": RESULT_FORMAT_VERSION,
        **provenance,
        "units": {"single_year": "t-CO2e", "lifetime": "t-CO2e",
                  "avoided_per_unit_year": "kg-CO2e per functional unit per year", "operating_years": "yr"},
        "note": _("single_year and lifetime are separate timeframes and fiscal years are kept apart; they are never "
                  "added together"),
    }


def document_tail(totals: Totals) -> dict:
    """The fields of a JSON result after its rows: totals by market and by methodology, creation time."""
    by_market = totals.summarise(["fiscal_year", "market"]).to_dict(orient="records")
    by_methodology = totals.summarise(["fiscal_year", "category", "methodology", "market"]).to_dict(orient="records")
    return {
        "totals_by_market": [{k: _plain(v) for k, v in r.items()} for r in by_market],
        "totals_by_methodology": [{k: _plain(v) for k, v in r.items()} for r in by_methodology],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def row_records(table: pd.DataFrame, details: list[dict]) -> list[dict]:
    """Result rows as JSON-ready dicts (table columns, then ``inputs`` and ``steps``), in table order."""
    rows = [{key: _plain(value, key) for key, value in record.items()} for record in table.to_dict(orient="records")]
    for position, row in enumerate(rows):
        row.update(details[position])
    return rows


def row_details(calc: Calculation) -> list[dict]:
    """Per result row (in table order): every input in its declared unit and every step's value.

    Returns:
        list of ``{"inputs": {name: {"value", "unit", "origin"}}, "steps": {name: {"value", "unit"}}}``;
        ``origin`` is ``portfolio`` (the company's value), ``default (<source id>)`` or
        ``factor table <table> [<keys>] (source <source id>; <basis>, <status>)`` — a ``preliminary`` or
        ``derived`` value is flagged there. These are codes, the same in every language (``koken verify``
        compares them, whatever the language of the result and of the check).
    """
    computed = _computed_rows(calc)  # a row's position in the table is its rank among the computed rows
    details: list[dict] = [{} for _row in range(len(calc.table))]
    for batch in calc.batches:
        m = batch.methodology
        result = batch.result
        n = len(batch.index)
        declared = {}  # each input column converted once, never per row
        for name, p in m.parameters.items():
            q = batch.inputs.get(name)
            values = q.to(p.unit).magnitude if q is not None else np.full(n, np.nan)
            mask = result.defaults_used.get(name, np.zeros(n, dtype=bool))
            declared[name] = (np.where(mask, p.default if p.default is not None else np.nan, values), mask)
        step_units = {f.name: f.unit for f in m.spec.formulas}
        origins = batch.factor_origins
        for j, portfolio_index in enumerate(batch.index):
            inputs = {}
            for name, p in m.parameters.items():
                values, mask = declared[name]
                origin = f"default ({p.default_source})" if mask[j] else "portfolio"
                if name in origins and origins[name].from_table[j]:
                    o = origins[name]
                    origin = ORIGIN_TEXT.format(table=o.table_of(j), key=o.keys[j], source=o.sources[j],
                                                described=o.described(j))
                    if o.stale[j]:
                        origin += " — stale: an earlier year's value, allowed by --allow-stale-factors"
                inputs[name] = {"value": float(values[j]), "unit": p.unit_text, "origin": origin}
            steps = {s.name: {"value": float(result.steps[s.name].magnitude[j]),
                              "unit": step_units.get(s.name) or f"{s.unit:~}"} for s in m.steps}
            details[int(np.searchsorted(computed, portfolio_index))] = {"inputs": inputs, "steps": steps}
    return details


def input_columns(calc: Calculation) -> pd.DataFrame:
    """Every row's inputs, in table order: ``inputs``, one text per row in the methodology's parameter order
    (``"baseline_annual_energy=420 kWh/yr; operating_years=12 yr"``, a CSV result's column), then per parameter
    the value used in its declared unit (``baseline_annual_energy[kWh/yr]``: the company's value, a default or a
    factor table's) and the cell as the company wrote it (``baseline_annual_energy (as entered)``: ``"0.42
    MWh/yr"``, empty where a default or a table supplied the value). Columns of a methodology's parameters are
    empty (NaN, '') on other methodologies' rows. Built per methodology and parameter with array operations.

    Returns:
        DataFrame with ``len(calc.table)`` rows and the table's index.
    """
    n = len(calc.table)
    computed = _computed_rows(calc)
    text = np.full(n, "", dtype=object)
    used: dict[str, np.ndarray] = {}
    entered: dict[str, np.ndarray] = {}
    order: list[str] = []  # each parameter's columns side by side, in the order they first come
    for batch in calc.batches:
        m = batch.methodology
        at = np.searchsorted(computed, batch.index)
        for name, p in m.parameters.items():
            q = batch.inputs.get(name)
            values = q.to(p.unit).magnitude if q is not None else np.full(len(at), np.nan)
            mask = batch.result.defaults_used.get(name, np.zeros(len(at), dtype=bool))
            values = np.where(mask, p.default if p.default is not None else np.nan, values)
            key = f"{name}[{p.unit_text}]"
            if key not in used:
                order.append(key)
            used.setdefault(key, np.full(n, np.nan))[at] = values
            label = np.array([f"{name}={v:.15g} {p.unit_text}" for v in values.tolist()], dtype=object)
            text[at] = np.where(text[at] == "", label, text[at] + "; " + label)
            if f"{name} (as entered)" not in entered:
                order.append(f"{name} (as entered)")
            as_entered = entered.setdefault(f"{name} (as entered)", np.full(n, "", dtype=object))
            column = calc.portfolio.parameters.get(name)
            if column is not None:
                raw, units = column[0][batch.index], np.asarray(column[1], dtype=object)[batch.index]
                given = ~np.isnan(raw)
                as_entered[at[given]] = [f"{v:.15g} {_written_unit(u)}".strip()
                                         for v, u in zip(raw[given].tolist(), units[given])]
    columns = {"inputs": text, **{key: used[key] if key in used else entered[key] for key in order}}
    return pd.DataFrame(columns, index=calc.table.index)


def _written_unit(unit: str) -> str:
    """A unit as the company wrote it: ``万*(kWh/yr)`` (a bare 万 in a kWh/yr column) back to ``万 kWh/yr``."""
    multiplier, star, rest = unit.partition("*(")
    return f"{multiplier} {rest[:-1]}" if star and rest.endswith(")") else unit


def _computed_rows(calc: Calculation) -> np.ndarray:
    """The portfolio indices of the table's rows, in table order (the table holds the computed rows in
    portfolio order)."""
    return np.sort(np.concatenate([b.index for b in calc.batches])) if calc.batches else np.zeros(0, dtype=int)


def _plain(value, key: str = ""):
    if hasattr(value, "item"):
        value = value.item()
    if key.startswith("device_ratio:") and isinstance(value, float) and math.isnan(value):
        return None  # no ratio reported for this line: the device share is not computed (stated in the basis)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("non-finite number in results")  # evaluate() refuses these; a bug if reached
    return value


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet treats a cell starting with these as a formula (CSV injection, OWASP)."""


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe (numbers untouched)."""
    out = table.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):  # labels are text too: checked like text
            out[column] = out[column].astype(object)
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            text = out[column].astype(str)
            risky = text.str.startswith(FORMULA_TRIGGERS)
            out[column] = out[column].where(~risky, "'" + text)
    return out
