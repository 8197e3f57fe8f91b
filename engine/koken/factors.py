"""Shared, sourced factor tables (grid, thermal-average and fuel emission factors, GWP sets).

Methodologies never write a factor as a number: a parameter refers to a table instead
(``factor: {table: grid_emission_factor}``), and koken looks the value up for each product line by
its region and fiscal year (or by a fixed key such as ``fuel: city_gas``). A value in the portfolio
overrides the table for that row; results record which was used. A lookup outside the table (a
region or year it does not have) is an error: koken never extrapolates a factor.

Tables live in ``factors/<id>.yaml`` (see docs/factors.md); each entry names its source.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pint
import pydantic
from pydantic import Field, model_validator

from koken.base.errors import (
    KokenError,
    KokenErrors,
    Location,
    MethodologyError,
    UnitError,
    gather,
)
from koken.base.grouping import group_codes
from koken.base.models import Number, StrictModel, validation_problems
from koken.base.paths import display_path, factors_dir
from koken.base.safe_yaml import load_yaml_file
from koken.base.units import conversion_factor, parse_unit, registry

KeyName = Literal["region", "fiscal_year", "fuel", "gas"]
ROW_KEYS = ("region", "fiscal_year")
"""Keys a lookup can take from the product line itself; others must be fixed by the parameter."""


class FactorSource(StrictModel):
    """A document a factor table cites."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")]
    title: Annotated[str, Field(min_length=1, max_length=1000)]
    publisher: Annotated[str, Field(min_length=1, max_length=300)]
    year: Annotated[int, Field(ge=1900, le=2100)]
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=1000)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class FactorEntry(StrictModel):
    """One value: its keys, the value in the table's unit, its source and whether it is confirmed."""

    region: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    fiscal_year: Annotated[int, Field(ge=1990, le=2100)] | None = None
    fuel: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    gas: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    value: Number
    source: str
    status: Literal["confirmed", "derived"] = "confirmed"
    note: Annotated[str, Field(max_length=2000)] | None = None


class FactorTableSpec(StrictModel):
    """A factor table file."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
    title: dict[Literal["ja", "en"], str]
    unit: Annotated[str, Field(min_length=1, max_length=100)]
    keys: list[KeyName] = Field(min_length=1)
    sources: list[FactorSource] = Field(min_length=1)
    entries: list[FactorEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _entries_match_keys(self) -> FactorTableSpec:
        ids = {s.id for s in self.sources}
        seen = set()
        for i, e in enumerate(self.entries):
            given = {k for k in ("region", "fiscal_year", "fuel", "gas") if getattr(e, k) is not None}
            if given != set(self.keys):
                raise ValueError(f"entries[{i}] has keys {sorted(given)}, the table's keys are {self.keys}")
            if e.source not in ids:
                raise ValueError(f"entries[{i}] cites unknown source {e.source!r}")
            key = tuple(getattr(e, k) for k in self.keys)
            if key in seen:
                raise ValueError(f"entries[{i}]: {dict(zip(self.keys, key))} appears twice")
            seen.add(key)
            if e.value < 0 or e.value != e.value or e.value in (float("inf"), float("-inf")):
                raise ValueError(f"entries[{i}]: a factor must be a finite number >= 0")
        return self


@dataclass(frozen=True)
class FactorTable:
    """A loaded factor table: spec, unit, lookup index and content hash."""

    spec: FactorTableSpec
    path: str
    unit: pint.Unit
    content_hash: str
    index: dict[tuple, FactorEntry]

    @property
    def id(self) -> str:
        return self.spec.id

    def origin(self, key_label: str) -> dict:
        """The entry a look-up recorded as ``key_label`` (``"JP 2023"``), described for a trace: table, keys,
        source id, title, publisher and year.

        Raises:
            KeyError: the table has no entry with that label.
        """
        key = next(k for k in self.index if " ".join(str(x) for x in k) == key_label)
        entry = self.index[key]
        src = next(s for s in self.spec.sources if s.id == entry.source)
        return {"source": "factor table", "table": self.id, "key": dict(zip(self.spec.keys, key)),
                "table_content_hash": self.content_hash, "entry_status": entry.status,
                "source_id": src.id, "title": src.title, "publisher": src.publisher, "year": src.year,
                **({"url": src.url} if src.url else {}), **({"note": entry.note} if entry.note else {})}

    def entry(self, key_label: str) -> FactorEntry:
        """The entry a look-up recorded as ``key_label``.

        Raises:
            KeyError: the table has no entry with that label.
        """
        try:
            return next(e for k, e in self.index.items() if " ".join(str(x) for x in k) == key_label)
        except StopIteration:
            raise KeyError(key_label) from None

    def describe_keys(self) -> str:
        """The keys the table has, for error messages (e.g. ``JP 2013, JP 2021, US 2022``)."""
        keys = [" ".join(str(k) for k in key) for key in sorted(self.index, key=str)]
        return ", ".join(keys[:20]) + (f" … ({len(keys)} in all)" if len(keys) > 20 else "")


def load_factor_table(path: str | Path) -> FactorTable:
    """Load and validate one factor table file.

    Raises:
        KokenErrors: format problems (unknown keys, entries without a known source, duplicates,
            negative or non-finite values, a unit that does not parse).
    """

    source = display_path(path)
    data = load_yaml_file(path)
    try:
        spec = FactorTableSpec.model_validate(data)
    except pydantic.ValidationError as err:
        raise KokenErrors([MethodologyError(message, Location(file=source, field=path or None))
                           for path, message, _ in validation_problems(err)]) from None
    try:
        unit = parse_unit(spec.unit, location=Location(file=source, field="unit"))
    except UnitError as err:
        raise KokenErrors([err]) from None
    if Path(source).stem != spec.id:
        raise KokenErrors([MethodologyError(f"file name must be the id: {spec.id}.yaml", Location(file=source))])
    canonical = json.dumps(spec.model_dump(mode="json", exclude_defaults=True), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    digest = "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    index = {tuple(getattr(e, k) for k in spec.keys): e for e in spec.entries}
    return FactorTable(spec=spec, path=source, unit=unit, content_hash=digest, index=index)


@functools.lru_cache(maxsize=8)
def _load_all(root: str) -> tuple[dict[str, FactorTable], tuple[KokenError, ...]]:
    tables: dict[str, FactorTable] = {}
    problems: list[KokenError] = []
    for path in sorted(Path(root).glob("*.yaml")):
        table = gather(load_factor_table, path, problems)
        if table is not None:
            tables[table.id] = table
    return tables, tuple(problems)


def load_factor_tables(root: str | Path | None = None) -> tuple[dict[str, FactorTable], list[KokenError]]:
    """Every factor table under ``root`` (default: the bundled ``factors/``), with the problems found."""
    tables, problems = _load_all(str(Path(root or factors_dir()).resolve()))
    return dict(tables), list(problems)


@dataclass(frozen=True)
class Lookup:
    """Factor values for a batch: values in the table's unit (NaN where not looked up) and provenance.

    Attributes:
        values: float array in ``unit``.
        unit: the table's unit.
        found: True where the table supplied the value.
        keys: per row the key used (e.g. ``"JP 2023"``) or ''.
        sources: per row the source id or ''.
    """

    values: np.ndarray
    unit: pint.Unit
    found: np.ndarray
    keys: np.ndarray
    sources: np.ndarray
    stale: np.ndarray


def lookup(table: FactorTable, fixed: Mapping[str, object], row_keys: Mapping[str, np.ndarray],
           need: np.ndarray, what: str, locate, allow_stale: bool = False) -> tuple[Lookup, list[KokenError]]:
    """Look ``table`` up for the rows where ``need`` is True.

    Args:
        table: the factor table.
        fixed: keys fixed by the methodology (e.g. ``{"fuel": "city_gas"}``).
        row_keys: per-row key arrays (``region``: str, ``fiscal_year``: int).
        need: boolean array: rows whose portfolio cell is empty.
        what: parameter name for messages.
        locate: ``locate(i) -> Location``.
        allow_stale: when the table has no value for the row's fiscal year, use its latest earlier year
            (the lookup records which, and ``stale`` marks the row); never a later year or another region.
    Returns:
        (Lookup, problems): one problem per row whose key the table does not have (no extrapolation).
    """
    n = len(need)
    values = np.full(n, np.nan)
    found = np.zeros(n, dtype=bool)
    keys = np.full(n, "", dtype=object)
    sources = np.full(n, "", dtype=object)
    problems: list[KokenError] = []
    columns = [row_keys[k] if k not in fixed else None for k in table.spec.keys]
    needed = np.flatnonzero(need)
    combos: dict[tuple, np.ndarray] = {}
    if len(needed):  # rows grouped by their key once, with array operations (not one tuple per row)
        key_arrays = [np.full(len(needed), fixed[k], dtype=object) if col is None
                      else np.asarray(col, dtype=object)[needed] for k, col in zip(table.spec.keys, columns)]
        codes, uniques = group_codes(key_arrays)
        order = np.argsort(codes, kind="stable")
        starts = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        for u, key in enumerate(uniques):
            combos[key] = needed[order[starts[u]:starts[u + 1]]]
    stale = np.zeros(n, dtype=bool)
    for key, rows in combos.items():
        entry = table.index.get(key)
        used_key = key
        if entry is None and allow_stale and "fiscal_year" in table.spec.keys:
            used_key = _latest_earlier(table, key)
            entry = table.index.get(used_key) if used_key is not None else None
            if entry is not None:
                stale[rows] = True
        if entry is None:
            label = ", ".join(f"{k} {v!r}" for k, v in zip(table.spec.keys, key))
            for i in rows:
                problems.append(UnitError(
                    f"{what}: the factor table {table.id} has no value for {label} and none is given "
                    f"(the table has: {table.describe_keys()}); koken does not extrapolate factors — give the "
                    f"value, or allow an earlier year explicitly (--allow-stale-factors, allow_stale_factors=True)",
                    locate(i)))
            continue
        values[rows] = entry.value
        found[rows] = True
        keys[rows] = " ".join(str(v) for v in used_key)
        sources[rows] = entry.source
    return Lookup(values=values, unit=table.unit, found=found, keys=keys, sources=sources, stale=stale), problems


def _latest_earlier(table: FactorTable, key: tuple) -> tuple | None:
    """The table key with the same non-year keys and the latest fiscal year before ``key``'s."""
    year_at = table.spec.keys.index("fiscal_year")
    year = key[year_at]
    same = [k for k in table.index if all(k[i] == key[i] for i in range(len(key)) if i != year_at)
            and isinstance(year, int) and k[year_at] < year]
    return max(same, key=lambda k: k[year_at]) if same else None


def _plain(value: object) -> object:
    return value.item() if hasattr(value, "item") else value


@dataclass(frozen=True)
class FactorOrigin:
    """Where a parameter's values came from in a batch: True in ``from_table`` where a table supplied it."""

    table: str
    from_table: np.ndarray
    keys: np.ndarray
    sources: np.ndarray
    stale: np.ndarray
    """True where an earlier year's value stood in (``--allow-stale-factors``)."""


def fill_from_tables(parameters: Mapping[str, object], inputs: Mapping[str, pint.Quantity],
                     region: np.ndarray, fiscal_year: np.ndarray, n: int,
                     locate, allow_stale: bool = False
                     ) -> tuple[dict[str, pint.Quantity], dict[str, FactorOrigin], list[KokenError], np.ndarray]:
    """Fill empty values of factor-table parameters from their tables (portfolio values win).

    Args:
        parameters: compiled parameters by name (each with ``factor``, ``factor_table``, ``unit``).
        inputs: parameter name → quantity array ``(n,)`` (NaN = empty); absent = all empty.
        region: per-row region codes (``JP``, ``US``); '' where unknown.
        fiscal_year: per-row fiscal years.
        n: number of rows.
        locate: ``locate(i) -> Location`` for errors.
        allow_stale: use a table's latest earlier year where the row's year is missing (recorded).
    Returns:
        (inputs with table values filled in, in each parameter's unit; origin per filled parameter;
        problems: rows the table cannot serve; a boolean array marking those rows).
    """
    failed = np.zeros(n, dtype=bool)
    filled = dict(inputs)
    origins: dict[str, FactorOrigin] = {}
    problems: list[KokenError] = []
    row_keys = {"region": np.asarray(region, dtype=object), "fiscal_year": np.asarray(fiscal_year)}
    for name, p in parameters.items():
        table = getattr(p, "factor_table", None)
        if table is None:
            continue
        q = inputs.get(name)
        if q is not None:
            try:
                given = np.asarray(q.magnitude, dtype=float) * conversion_factor(q.units, p.unit, name)
            except UnitError as err:
                problems.append(err.at(**vars(locate(0))) if n else err)
                failed[:] = True
                continue
        else:
            given = np.full(n, np.nan)
        given = np.asarray(given, dtype=float).copy()
        need = np.isnan(given)
        if not need.any():
            continue
        fixed = dict(p.factor.key)
        missing_region = need & (row_keys["region"] == "") if "region" in table.spec.keys and "region" not in fixed \
            else np.zeros(n, dtype=bool)
        for i in np.flatnonzero(missing_region):
            problems.append(UnitError(f"{name}: the row has no region, so the factor table {table.id} cannot be "
                                      "used; give a region (e.g. JP, US) or the value", locate(i)))
        found, errs = lookup(table, fixed, row_keys, need & ~missing_region, name, locate, allow_stale)
        problems.extend(errs)
        failed |= need & ~found.found
        factor = float(registry().Quantity(1.0, table.unit).to(p.unit).magnitude)
        given[found.found] = found.values[found.found] * factor
        filled[name] = registry().Quantity(given, p.unit)
        origins[name] = FactorOrigin(table=table.id, from_table=found.found, keys=found.keys, sources=found.sources,
                                     stale=found.stale)
    return filled, origins, problems, failed
