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
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
import pint
import pydantic
from pydantic import Field

from koken.base.errors import (
    KokenError,
    KokenErrors,
    Location,
    MethodologyError,
    UnitError,
    gather,
)
from koken.base.grouping import group_codes
from koken.base.i18n import _
from koken.base.models import Number, StrictModel, validation_problems
from koken.base.paths import display_path, factors_dir
from koken.base.regions import region_code
from koken.base.safe_yaml import load_yaml_file
from koken.base.units import conversion_factor, parse_unit, registry
from koken.uncertainty import DistributionError, DistributionSpec

if TYPE_CHECKING:
    import pandas as pd

KeyName = Literal["region", "fiscal_year", "fuel", "gas"]
ROW_KEYS = ("region", "fiscal_year")
"""Keys a lookup can take from the product line itself; others must be fixed by the parameter."""
KEY_NAMES = ("region", "fiscal_year", "fuel", "gas")
"""Every key an entry can have, in the order listings show them."""

Status = Literal["final", "preliminary", "published", "derived"]
"""How settled an entry's value is (docs/factors.md):

- ``final``: the source calls it final (確報) or it is a government's confirmed figure;
- ``preliminary``: the source calls it preliminary (速報, 暫定, an estimate) — it may still be revised;
- ``published``: printed in the source, which does not say whether it is preliminary or final (and values for
  which the distinction does not apply, such as GWPs);
- ``derived``: computed from a source's figures (a unit conversion, a stated change); the note says how.
"""

Basis = Literal["adjusted", "basic", "actual", "national_average", "energy_statistics", "generation",
                "generation_gross", "consumption", "sales", "combined_margin", "thermal_average"]
"""What a grid factor measures (docs/factors.md has one line each): Japan's 調整後 (``adjusted``), 基礎
(``basic``) and the former 実排出係数 (``actual``) per kWh sold, the Ministry of the Environment's or another
government's national average (``national_average``), METI's energy statistics (``energy_statistics``); per kWh
generated (``generation``, net; ``generation_gross``, gross, auto-producers included), consumed
(``consumption``) or sold (``sales``); the CDM combined margin (``combined_margin``); the thermal average."""


class FactorSource(StrictModel):
    """A document a factor table cites."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")]
    title: Annotated[str, Field(min_length=1, max_length=1000)]
    publisher: Annotated[str, Field(min_length=1, max_length=300)]
    year: Annotated[int, Field(ge=1900, le=2100)]
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=1000)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class FactorEntry(StrictModel):
    """One value: its keys, the value in the table's unit, its source, how settled it is and what it measures.

    ``default: true`` marks the entry a lookup returns when the table holds several values for one key
    (other bases, other releases); a key with one entry needs no mark.
    """

    region: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    fiscal_year: Annotated[int, Field(ge=1990, le=2100)] | None = None
    fuel: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    gas: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    value: Number
    source: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    status: Status = "published"
    basis: Basis | None = None
    default: bool = False
    note: Annotated[str, Field(max_length=2000)] | None = None
    distribution: DistributionSpec | None = None
    """The value's uncertainty from a cited source (docs/uncertainty.md): in a Monte Carlo run, one random variable
    per draw shared by every row that reads this entry."""

    def key(self, keys: Sequence[str]) -> tuple:
        """The entry's key in the order of ``keys`` (a table's ``keys``)."""
        return tuple(getattr(self, k) for k in keys)


class FactorTableSpec(StrictModel):
    """A factor table file. ``basis`` is the basis of entries that name none."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
    title: dict[Literal["ja", "en"], str]
    unit: Annotated[str, Field(min_length=1, max_length=100)]
    keys: list[KeyName] = Field(min_length=1)
    basis: Basis | None = None
    sources: list[FactorSource] = Field(min_length=1)
    entries: list[FactorEntry] = Field(min_length=1)


def entry_problems(spec: FactorTableSpec, file: str) -> list[KokenError]:
    """Every problem of a table's entries, each located at its field (``entries.3.source``).

    Rules (docs/factors.md): an entry has exactly the table's keys; it cites one of the table's sources; its
    value is finite and >= 0; a derived value says how in its note; an entry does not repeat another's key,
    basis and source; where several entries share a key, exactly one is marked ``default: true`` (the value a
    lookup returns).

    Returns:
        the problems, in entry order (empty: the entries are sound).
    """
    problems: list[KokenError] = []
    known = ", ".join(s.id for s in spec.sources)
    ids = {s.id for s in spec.sources}
    by_key: dict[tuple, list[int]] = {}
    seen: dict[tuple, int] = {}

    def at(i: int, field: str) -> Location:
        return Location(file=file, field=f"entries.{i}.{field}")

    for i, e in enumerate(spec.entries):
        given = [k for k in KEY_NAMES if getattr(e, k) is not None]
        if set(given) != set(spec.keys):
            problems.append(MethodologyError(_("has keys {given}, the table's keys are {keys}").format(
                given=given, keys=list(spec.keys)), Location(file=file, field=f"entries.{i}")))
            continue
        if e.source is None:
            problems.append(MethodologyError(_("no source: every value must cite one of the table's sources "
                                             "({known})").format(known=known), at(i, "source")))
        elif e.source not in ids:
            problems.append(MethodologyError(_("cites unknown source {source!r}; the table's sources are "
                                             "{known}").format(source=e.source, known=known), at(i, "source")))
        if not math.isfinite(e.value) or e.value < 0:
            problems.append(MethodologyError(_("a factor must be a finite number >= 0, not {value}").format(
                value=e.value), at(i, "value")))
        if e.distribution is not None:
            if e.distribution.source not in ids:
                problems.append(MethodologyError(_("cites unknown source {source!r}; the table's sources are "
                                                 "{known}").format(source=e.distribution.source, known=known),
                                                 at(i, "distribution.source")))
            try:
                e.distribution.around(e.value)
            except DistributionError as err:
                problems.append(MethodologyError(str(err), at(i, "distribution")))
        if e.status == "derived" and not e.note:
            problems.append(MethodologyError(_("a derived value needs a note saying how it was derived from its "
                                               "source"), at(i, "note")))
        key = e.key(spec.keys)
        identity = (key, e.basis or spec.basis, e.source)
        if identity in seen:
            problems.append(MethodologyError(_("repeats entries.{j}: the same {key}, basis and source").format(
                j=seen[identity], key=_key_text(spec.keys, key)), Location(file=file, field=f"entries.{i}")))
        seen.setdefault(identity, i)
        by_key.setdefault(key, []).append(i)
    for key, rows in by_key.items():
        marked = [i for i in rows if spec.entries[i].default]
        if len(rows) > 1 and len(marked) != 1:
            problems.append(MethodologyError(_(
                "{key} has {n} entries ({which}) and {marked} marked default: true; mark exactly one, the value a "
                "lookup by {keys} returns").format(key=_key_text(spec.keys, key), n=len(rows),
                                                  which=", ".join(f"entries.{i}" for i in rows),
                                                  marked=len(marked), keys=", ".join(spec.keys)),
                at(rows[0], "default")))
    return problems


def _key_text(keys: Sequence[str], key: tuple) -> str:
    return ", ".join(f"{k} {v!r}" for k, v in zip(keys, key))


FACTOR_LABEL = "{name}={table}[{key}] ({described})"
"""A result table's ``factors_from_tables`` entry: ``grid_emission_factor=grid_emission_factor[JP 2023]
(adjusted, preliminary)``."""
ORIGIN_TEXT = "factor table {table} [{key}] (source {source}; {described})"
"""An input's ``origin`` in JSON results when a factor table supplied it."""
LINE_FACTOR_TEXT = "{table}[{key}] (source {source}; {described})"
"""A :class:`koken.LineResult`'s ``factors_from_tables`` value."""


def describe(basis: str | None, status: str | None) -> str:
    """Basis and status as results print them: ``adjusted, preliminary`` (either left out when unknown).

    >>> describe("adjusted", "preliminary"), describe(None, "derived")
    ('adjusted, preliminary', 'derived')
    """
    return ", ".join(x for x in (basis, status) if x)


@dataclass(frozen=True)
class FactorTable:
    """A loaded factor table: spec, unit, lookup index, every entry by key, and content hash.

    Attributes:
        index: key → the entry a lookup returns (the only one, or the one marked ``default: true``).
        entries: key → every entry of that key, the lookup's first.
    """

    spec: FactorTableSpec
    path: str
    unit: pint.Unit
    content_hash: str
    index: dict[tuple, FactorEntry]
    entries: dict[tuple, tuple[FactorEntry, ...]]

    @property
    def id(self) -> str:
        return self.spec.id

    def basis(self, entry: FactorEntry) -> str | None:
        """What the entry measures: its own basis, else the table's (None: not stated)."""
        return entry.basis or self.spec.basis

    def source(self, entry: FactorEntry) -> FactorSource:
        """The source the entry cites (loading checked that it exists)."""
        return next(s for s in self.spec.sources if s.id == entry.source)

    def origin(self, key_label: str) -> dict:
        """The entry a look-up recorded as ``key_label`` (``"JP 2023"``), described for a trace: table, keys,
        status and basis of the value, source id, title, publisher, year and url.

        Raises:
            KeyError: the table has no entry with that label.
        """
        key = next(k for k in self.index if " ".join(str(x) for x in k) == key_label)
        entry = self.index[key]
        src = self.source(entry)
        return {"source": "factor table", "table": self.id, "key": dict(zip(self.spec.keys, key)),
                "table_content_hash": self.content_hash, "entry_status": entry.status,
                **({"basis": self.basis(entry)} if self.basis(entry) else {}),
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
        return ", ".join(keys[:20]) + (" … " + _("({count} in all)").format(count=len(keys)) if len(keys) > 20 else "")


def load_factor_table(path: str | Path) -> FactorTable:
    """Load and validate one factor table file.

    Raises:
        KokenErrors: format problems, all at once, each naming the file and field (unknown keys, entries
            without a known source, repeated entries, a key with several entries and no single default,
            negative or non-finite values, a derived value without a note, a unit that does not parse).
    """

    source = display_path(path)
    data = load_yaml_file(path)
    try:
        spec = FactorTableSpec.model_validate(data)
    except pydantic.ValidationError as err:
        raise KokenErrors([MethodologyError(message, Location(file=source, field=path or None))
                           for path, message, _kind in validation_problems(err)]) from None
    problems = entry_problems(spec, source)
    try:
        unit = parse_unit(spec.unit, location=Location(file=source, field="unit"))
    except UnitError as err:
        problems.insert(0, err)
    if Path(source).stem != spec.id:
        problems.append(MethodologyError(_("file name must be the id: {id}.yaml").format(id=spec.id),
                                         Location(file=source)))
    if problems:
        raise KokenErrors(problems)
    canonical = json.dumps(spec.model_dump(mode="json", exclude_defaults=True), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    digest = "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    grouped: dict[tuple, list[FactorEntry]] = {}
    for e in spec.entries:
        grouped.setdefault(e.key(spec.keys), []).append(e)
    index = {key: next((e for e in group if e.default), group[0]) for key, group in grouped.items()}
    entries = {key: (index[key], *(e for e in group if e is not index[key])) for key, group in grouped.items()}
    return FactorTable(spec=spec, path=source, unit=unit, content_hash=digest, index=index, entries=entries)


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
    """Every factor table under ``root`` (default: the bundled ``factors/``), with the problems found (those of its
    GWP rules file, ``rules/gwp.yaml``, included: :func:`load_gwp_rules`)."""
    folder = str(Path(root or factors_dir()).resolve())
    tables, problems = _load_all(folder)
    rule_problems = _load_rules(folder)[1] if gwp_rules_path(folder).is_file() else ()
    return dict(tables), [*problems, *rule_problems]


OVERVIEW_COLUMNS = ("table", "title", "unit", "keys", "regions", "fiscal_years", "entries", "sources")
"""Columns of :func:`overview`: one row per table."""
ENTRY_COLUMNS = ("value", "unit", "basis", "status", "default", "source", "source_title", "publisher",
                 "source_year", "url", "note")
"""Columns of :func:`listing` after the table id and its key columns."""


def overview(tables: Mapping[str, FactorTable]) -> pd.DataFrame:
    """What each factor table holds, one row per table (sorted by id).

    Returns:
        DataFrame with :data:`OVERVIEW_COLUMNS`: id, English and Japanese title, unit (text, e.g.
        ``kg-CO2/kWh``), keys (``region, fiscal_year``), regions and fiscal years present (text, years as
        ranges ``2013-2023``; '' for tables without those keys), number of entries and of sources.
    """
    import pandas as pd

    rows = []
    for t in sorted(tables.values(), key=lambda t: t.id):
        entries = [e for group in t.entries.values() for e in group]
        regions = sorted({e.region for e in entries if e.region is not None})
        years = sorted({e.fiscal_year for e in entries if e.fiscal_year is not None})
        rows.append({"table": t.id, "title": f"{t.spec.title.get('en', '')} / {t.spec.title.get('ja', '')}",
                     "unit": t.spec.unit, "keys": ", ".join(t.spec.keys), "regions": ", ".join(regions),
                     "fiscal_years": year_ranges(years), "entries": len(entries), "sources": len(t.spec.sources)})
    return pd.DataFrame(rows, columns=list(OVERVIEW_COLUMNS))


def listing(tables: Mapping[str, FactorTable], table: str | None = None, region: str | None = None,
            fiscal_year: int | None = None) -> pd.DataFrame:
    """Every entry of one table (or of every table), each with where its value comes from.

    Args:
        tables: factor tables by id (:func:`load_factor_tables`).
        table: a table id; None lists every table's entries.
        region: keep entries of this region: a code (compared case-insensitively) or a name the region table knows
            (米国); tables without a region key drop out.
        fiscal_year: keep entries of this fiscal year; tables without a fiscal-year key drop out.
    Returns:
        DataFrame, one row per entry in file order (tables by id): ``table``, the key columns the listed tables
        have (``region``, ``fiscal_year``, ``fuel``, ``gas``), then :data:`ENTRY_COLUMNS` — value (float, in
        ``unit``), basis ('' if not stated), status, default (True: the value a lookup by the keys returns),
        source id, title, publisher, year and url ('' if none), note.
    Raises:
        KokenError: ``table`` is not one of the tables (the message lists them).
    """
    import pandas as pd

    if table is not None and table not in tables:
        raise KokenError(_("no factor table {table!r}; the tables are: {known}").format(
            table=table, known=", ".join(sorted(tables))))
    chosen = [tables[table]] if table is not None else sorted(tables.values(), key=lambda t: t.id)
    if region is not None:
        region = region_code(region) or region  # 米国, United States → US, as a portfolio's region cell is read
        chosen = [t for t in chosen if "region" in t.spec.keys]
    if fiscal_year is not None:
        chosen = [t for t in chosen if "fiscal_year" in t.spec.keys]
    keys = [k for k in KEY_NAMES if any(k in t.spec.keys for t in chosen)]
    rows = []
    for t in chosen:
        lookup_values = {id(e) for e in t.index.values()}
        for e in t.spec.entries:
            if region is not None and str(e.region).casefold() != region.casefold():
                continue
            if fiscal_year is not None and e.fiscal_year != fiscal_year:
                continue
            src = t.source(e)
            rows.append({"table": t.id, **{k: getattr(e, k) for k in keys}, "value": float(e.value),
                         "unit": t.spec.unit, "basis": t.basis(e) or "", "status": e.status,
                         "default": id(e) in lookup_values, "source": src.id, "source_title": src.title,
                         "publisher": src.publisher, "source_year": src.year, "url": src.url or "",
                         "note": e.note or ""})
    frame = pd.DataFrame(rows, columns=["table", *keys, *ENTRY_COLUMNS])
    if "fiscal_year" in frame:
        frame["fiscal_year"] = frame["fiscal_year"].astype("Int64")
    return frame


def year_ranges(years: Sequence[int]) -> str:
    """Sorted years as runs: ``2013-2023`` or ``2014, 2017-2019``.

    >>> year_ranges([2013, 2014, 2015, 2021]), year_ranges([])
    ('2013-2015, 2021', '')
    """
    runs: list[list[int]] = []
    for y in sorted(set(years)):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


@dataclass(frozen=True)
class Lookup:
    """Factor values for a batch: values in the table's unit (NaN where not looked up) and provenance.

    Attributes:
        values: float array in ``unit``.
        unit: the table's unit.
        found: True where the table supplied the value.
        keys: per row the key used (e.g. ``"JP 2023"``) or ''.
        sources: per row the source id or ''.
        stale: True where an earlier year's value stood in.
        statuses: per row the status of the value used (``final``, ``preliminary``, …) or ''.
        bases: per row its basis (``adjusted``, ``generation``, …) or '' (not looked up, or not stated).
    """

    values: np.ndarray
    unit: pint.Unit
    found: np.ndarray
    keys: np.ndarray
    sources: np.ndarray
    stale: np.ndarray
    statuses: np.ndarray
    bases: np.ndarray
    groups: np.ndarray | None = None
    """Per row the number of the table key its value was found under (rows of one number share key, source, stale,
    status and basis), −1 where not found; None: not recorded (rows merged from several tables)."""


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
    statuses = np.full(n, "", dtype=object)
    bases = np.full(n, "", dtype=object)
    problems: list[KokenError] = []
    columns = [row_keys[k] if k not in fixed else None for k in table.spec.keys]
    needed = np.flatnonzero(need)
    combos: dict[tuple, np.ndarray] = {}
    if len(needed):  # rows grouped by their key once, with array operations (not one tuple per row)
        key_arrays = [np.full(len(needed), fixed[k], dtype=object) if col is None  # integers (years) numbered as such
                      else _key_column(col)[needed] for k, col in zip(table.spec.keys, columns)]
        codes, uniques = group_codes(key_arrays)
        order = np.argsort(codes, kind="stable")
        starts = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        for u, key in enumerate(uniques):
            combos[key] = needed[order[starts[u]:starts[u + 1]]]
    stale = np.zeros(n, dtype=bool)
    groups = np.full(n, -1, dtype=np.int64)
    for number, (key, rows) in enumerate(combos.items()):
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
                problems.append(UnitError((_(
                    "{what}: the factor table {table} has no value for {key} nor for an earlier year, and none is "
                    "given (the table has: {known}); give the value") if allow_stale else _(
                    "{what}: the factor table {table} has no value for {key} and none is given (the table has: "
                    "{known}); koken does not extrapolate factors — give the value, or allow an earlier year "
                    "explicitly (--allow-stale-factors, allow_stale_factors=True)")).format(
                    what=what, table=table.id, key=label, known=table.describe_keys()), locate(i)))
            continue
        values[rows] = entry.value
        found[rows] = True
        keys[rows] = " ".join(str(v) for v in used_key)
        sources[rows] = entry.source
        statuses[rows] = entry.status
        bases[rows] = table.basis(entry) or ""
        groups[rows] = number
    return Lookup(values=values, unit=table.unit, found=found, keys=keys, sources=sources, stale=stale,
                  statuses=statuses, bases=bases, groups=groups), problems


def _key_column(column) -> np.ndarray:
    """A row-key column for :func:`koken.base.grouping.group_codes`: an integer array (fiscal years) as it is (numbered
    as integers, its keys Python ints, as from an object array of them, only without one Python object per row),
    anything else as an object array."""
    column = np.asarray(column)
    return column if column.dtype.kind in "iu" else np.asarray(column, dtype=object)


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
    statuses: np.ndarray
    """Per row the status of the table value (``final``, ``preliminary``, ``published``, ``derived``) or ''."""
    bases: np.ndarray
    """Per row its basis (``adjusted``, ``generation``, …) or ''."""
    tables: np.ndarray | None = None
    """Per row the table that supplied the value, where rows read different tables (a GWP looked up in the set the
    run's rule gives each row's fiscal year); None: every row read ``table``."""
    unit_text: str = ""
    """The unit the table gives its values in, as the table writes it (``kg-CO2/kWh``)."""
    groups: np.ndarray | None = None
    """Per row a number shared only by rows that agree on ``keys``, ``stale``, ``statuses``, ``bases`` and ``tables``
    (the table key looked up: :attr:`Lookup.groups`), −1 where not from a table; None: not recorded."""

    def described(self, j: int) -> str:
        """Row ``j``'s basis and status (``adjusted, preliminary``), as results record them."""
        return describe(self.bases[j] or None, self.statuses[j] or None)

    def table_of(self, j: int) -> str:
        """The table that supplied row ``j``'s value."""
        return str(self.tables[j]) if self.tables is not None else self.table

    def take(self, positions: np.ndarray) -> FactorOrigin:
        """The origin of the rows at ``positions`` only."""
        return FactorOrigin(table=self.table, from_table=self.from_table[positions], keys=self.keys[positions],
                            sources=self.sources[positions], stale=self.stale[positions],
                            statuses=self.statuses[positions], bases=self.bases[positions],
                            tables=self.tables[positions] if self.tables is not None else None,
                            unit_text=self.unit_text,
                            groups=self.groups[positions] if self.groups is not None else None)


def fill_from_tables(parameters: Mapping[str, object], inputs: Mapping[str, pint.Quantity],
                     region: np.ndarray, fiscal_year: np.ndarray, n: int,
                     locate, allow_stale: bool = False, gwp: GwpRule | None = None
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
        gwp: the run's GWP rule, for parameters that read the table ``gwp`` (:data:`GWP_TABLE`): each row reads the
            set the rule gives its fiscal year (default: the rules file's default rule).
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
            problems.append(UnitError(_("{name}: the row has no region, so the factor table {table} cannot be used; "
                                        "give a region (e.g. JP, US) or the value").format(name=name, table=table.id),
                                      locate(i)))
        if p.factor.table == GWP_TABLE:  # each row reads the GWP set its fiscal year has under the run's rule
            rule = gwp if gwp is not None else gwp_rule(None)
            sets = rule.sets_for(row_keys["fiscal_year"])
            tables, _problems = load_factor_tables()
            parts = []
            for set_id in dict.fromkeys(sets[need & ~missing_region].tolist()):
                part, errs = lookup(tables[set_id], fixed, row_keys, need & ~missing_region & (sets == set_id), name,
                                    locate, allow_stale)
                problems.extend(errs)
                parts.append((tables[set_id], part))
            found = _merge_lookups(parts, n, table.unit)
            row_tables = np.where(found.found, sets, "").astype(object)
        else:
            found, errs = lookup(table, fixed, row_keys, need & ~missing_region, name, locate, allow_stale)
            problems.extend(errs)
            parts, row_tables = [(table, found)], None
        failed |= need & ~found.found
        for part_table, part in parts:
            factor = float(registry().Quantity(1.0, part_table.unit).to(p.unit).magnitude)
            given[part.found] = part.values[part.found] * factor
        filled[name] = registry().Quantity(given, p.unit)
        origins[name] = FactorOrigin(table=table.id if row_tables is None else GWP_TABLE, from_table=found.found,
                                     keys=found.keys, sources=found.sources, stale=found.stale,
                                     statuses=found.statuses, bases=found.bases, tables=row_tables,
                                     unit_text=table.spec.unit, groups=found.groups)
    return filled, origins, problems, failed


def _merge_lookups(parts: Sequence[tuple[FactorTable, Lookup]], n: int, unit: pint.Unit) -> Lookup:
    """Lookups of disjoint rows in several tables (the GWP sets of a rule) as one; values stay in each table's unit
    (the caller converts them table by table)."""
    merged = Lookup(values=np.full(n, np.nan), unit=unit, found=np.zeros(n, dtype=bool),
                    keys=np.full(n, "", dtype=object), sources=np.full(n, "", dtype=object),
                    stale=np.zeros(n, dtype=bool), statuses=np.full(n, "", dtype=object),
                    bases=np.full(n, "", dtype=object))
    for _table, part in parts:
        rows = part.found
        for field in ("values", "found", "keys", "sources", "stale", "statuses", "bases"):
            getattr(merged, field)[rows] = getattr(part, field)[rows]
    return merged


# --- GWP sets and the rule that picks one per fiscal year ------------------------------------------------------

GWP_TABLE = "gwp"
"""The table name a methodology gives for a greenhouse gas's GWP (``factor: {table: gwp, key: {gas: HFC-32}}``): each
row reads the GWP set (a ``gwp100_*`` table) that the run's rule (:func:`gwp_rule`) gives its fiscal year."""
GWP_UNIT = "kg-CO2e/kg"
"""The unit of every GWP set: kg of CO2e per kg of the gas."""
_INLINE_PERIOD = re.compile(r"^\s*(?P<set>[a-z][a-z0-9_]{1,63})\s*(?:@\s*(?:FY)?\s*(?P<year>\d{4}))?\s*$", re.I)


class GwpPeriod(StrictModel):
    """One set of a rule, from a fiscal year on (the first period: from the start)."""

    gwp_set: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
    from_fiscal_year: Annotated[int, Field(ge=1990, le=2100)] | None = None
    source: Annotated[str, Field(min_length=1, max_length=64)]


class GwpRuleSpec(StrictModel):
    """A named rule of ``factors/rules/gwp.yaml``: the GWP set by fiscal year."""

    title: dict[Literal["ja", "en"], str]
    periods: list[GwpPeriod] = Field(min_length=1)
    note: Annotated[str, Field(max_length=2000)] | None = None


class GwpRulesSpec(StrictModel):
    """``factors/rules/gwp.yaml``: the named rules, the one a run uses unless it names another, and their sources."""

    default: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    rules: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")], GwpRuleSpec] = Field(min_length=1)
    sources: list[FactorSource] = Field(min_length=1)


@dataclass(frozen=True)
class GwpRule:
    """Which GWP set applies to a fiscal year.

    Attributes:
        name: the rule's name in ``factors/rules/gwp.yaml`` (``ar5``), or the rule as the run declared it
            (``gwp100_ar4,gwp100_ar5@2024``).
        periods: (first fiscal year or None for the first period, GWP set id), in order.
    """

    name: str
    periods: tuple[tuple[int | None, str], ...]

    def set_for(self, fiscal_year: int) -> str:
        """The GWP set of ``fiscal_year``: the last period that starts at or before it."""
        chosen = self.periods[0][1]
        for start, set_id in self.periods[1:]:
            if start is not None and fiscal_year >= start:
                chosen = set_id
        return chosen

    def sets_for(self, fiscal_years: np.ndarray) -> np.ndarray:
        """Per row the GWP set id (object array) of its fiscal year."""
        years = np.asarray(fiscal_years)
        out = np.full(len(years), self.periods[0][1], dtype=object)
        for start, set_id in self.periods[1:]:
            out[years >= start] = set_id
        return out

    def record(self, fiscal_years) -> dict:
        """What results record: the rule, and per fiscal year of the results the GWP set used."""
        years = sorted({int(y) for y in fiscal_years})
        return {"rule": self.name, "periods": [{"from_fiscal_year": start, "gwp_set": set_id} if start is not None
                                               else {"gwp_set": set_id} for start, set_id in self.periods],
                "by_fiscal_year": {str(y): self.set_for(y) for y in years}}

    def used(self, fiscal_years) -> str:
        """The GWP sets the rule gives ``fiscal_years``, ``, ``-joined (the result's ``gwp_set``)."""
        years = sorted({int(y) for y in fiscal_years})
        sets = [self.set_for(y) for y in years] if years else [self.periods[0][1]]
        return ", ".join(dict.fromkeys(sets))


def gwp_rules_path(root: str | Path | None = None) -> Path:
    """The GWP rules file of a factor folder (default: the bundled ``factors/rules/gwp.yaml``)."""
    return Path(root or factors_dir()) / "rules" / "gwp.yaml"


@functools.lru_cache(maxsize=4)
def _load_rules(root: str) -> tuple[GwpRulesSpec | None, tuple[KokenError, ...]]:
    path = gwp_rules_path(root)
    source = display_path(path)
    try:
        spec = GwpRulesSpec.model_validate(load_yaml_file(path))
    except KokenErrors as errs:
        return None, tuple(errs.errors)
    except KokenError as err:
        return None, (err,)
    except pydantic.ValidationError as err:
        return None, tuple(MethodologyError(message, Location(file=source, field=where or None))
                           for where, message, _kind in validation_problems(err))
    tables, _problems = _load_all(root)
    problems: list[KokenError] = []
    ids = {s.id for s in spec.sources}
    if spec.default not in spec.rules:
        problems.append(MethodologyError(_("the default rule {rule!r} is not one of the rules ({rules})").format(
            rule=spec.default, rules=", ".join(spec.rules)), Location(file=source, field="default")))
    for name, rule in spec.rules.items():
        for i, period in enumerate(rule.periods):
            at = Location(file=source, field=f"rules.{name}.periods.{i}")
            problem = _gwp_set_problem(tables, period.gwp_set)
            if problem:
                problems.append(MethodologyError(problem, at))
            if period.source not in ids:
                problems.append(MethodologyError(_("cites unknown source {source!r}; the file's sources are "
                                                 "{known}").format(source=period.source, known=", ".join(sorted(ids))),
                                                 at))
        problems.extend(MethodologyError(p, Location(file=source, field=f"rules.{name}.periods"))
                        for p in _period_problems([(p.from_fiscal_year, p.gwp_set) for p in rule.periods]))
    return spec, tuple(problems)


def load_gwp_rules(root: str | Path | None = None) -> tuple[GwpRulesSpec | None, list[KokenError]]:
    """The GWP rules of ``factors/rules/gwp.yaml`` (default: the bundled factor folder), with the problems found:
    an unknown default, a set that is not a GWP table, an unknown source, periods out of order."""
    spec, problems = _load_rules(str(Path(root or factors_dir()).resolve()))
    return spec, list(problems)


def is_gwp_set(table: FactorTable) -> bool:
    """Whether a factor table is a GWP set: keyed by gas alone, in kg of CO2e per kg of gas."""
    if list(table.spec.keys) != ["gas"]:
        return False
    try:
        return conversion_factor(table.unit, parse_unit(GWP_UNIT)) == 1.0
    except UnitError:
        return False


def _gwp_set_problem(tables: Mapping[str, FactorTable], set_id: str) -> str | None:
    """Why ``set_id`` cannot be a rule's GWP set, or None."""
    sets = sorted(t.id for t in tables.values() if is_gwp_set(t))
    if set_id not in tables or not is_gwp_set(tables[set_id]):
        return _("{set!r} is not a GWP set (a factor table keyed by gas, in {unit}); the sets are {sets}").format(
            set=set_id, unit=GWP_UNIT, sets=", ".join(sets))
    return None


def _period_problems(periods: Sequence[tuple[int | None, str]]) -> list[str]:
    """A rule's periods: the first has no starting year, every later one a starting year after the one before."""
    problems = []
    if periods and periods[0][0] is not None:
        problems.append(_("the first period of a rule applies from the start: it takes no fiscal year"))
    years = [start for start, _set in periods[1:]]
    if any(y is None for y in years):
        problems.append(_("every period after the first names the fiscal year it starts in"))
    elif years != sorted(set(years)):
        problems.append(_("the periods' fiscal years must increase"))
    return problems


METHANE = "CH4"
"""Methane without its origin: AR6 gives fossil methane (29.8) and other methane (27.0) different GWPs."""


def fixed_key_problem(table: FactorTable, fixed: Mapping[str, object]) -> str | None:
    """Why a parameter's fixed keys (``{gas: HFC-32}``, ``{fuel: city_gas}``) find no entry of ``table``, or None.

    Methane must name its origin (``CH4-fossil`` or ``CH4-non-fossil``): the GWP sets hold no plain ``CH4``, since AR6
    gives the two different values (Table 7.15: 29.8 and 27.0) and a run may use AR6."""
    if not fixed:
        return None
    names = [k for k in table.spec.keys if k in fixed]
    known = {tuple(key[table.spec.keys.index(k)] for k in names) for key in table.index}
    wanted = tuple(fixed[k] for k in names)
    if wanted in known:
        return None
    if fixed.get("gas") == METHANE:
        return _("the GWP of methane depends on its origin (IPCC AR6, Table 7.15: fossil 29.8, non-fossil 27.0): "
                 "declare it as gas: CH4-fossil or gas: CH4-non-fossil")
    values = sorted(", ".join(str(v) for v in key) for key in known)
    return _("factor table {table} has no entry for {key}; it has {known}").format(
        table=table.id, key=_key_text(names, wanted), known="; ".join(values[:20]))


def gwp_reference_problems(fixed: Mapping[str, object]) -> list[str]:
    """Problems of a parameter that reads the table ``gwp`` with the fixed keys ``fixed``: it must fix the gas (a row
    gives no gas), and every GWP set must have that gas, since a run may choose any of them."""
    tables, _problems = load_factor_tables()
    if set(fixed) != {"gas"}:
        return [_("the table {table} is keyed by gas alone: fix it (key: {{gas: HFC-32}}) and no other key").format(
            table=GWP_TABLE)]
    problems = []
    for table in sorted((t for t in tables.values() if is_gwp_set(t)), key=lambda t: t.id):
        problem = fixed_key_problem(table, fixed)
        if problem and problem not in problems:
            problems.append(problem)
    return problems


def gwp_rule(text: str | None, root: str | Path | None = None) -> GwpRule:
    """The GWP rule a run uses: a rule of ``factors/rules/gwp.yaml`` by name (``ar5``; None: its default), or one
    declared as text — GWP sets, each from a fiscal year after the first: ``gwp100_ar4,gwp100_ar5@2024`` (AR4 before
    FY2024, AR5 from FY2024; ``@FY2024`` is read too).

    Raises:
        KokenError: an unknown rule or set, periods out of order, or a broken rules file.

    >>> gwp_rule("gwp100_ar4,gwp100_ar5@FY2024").set_for(2023), gwp_rule(None).set_for(2023)
    ('gwp100_ar4', 'gwp100_ar5')
    """
    spec, problems = load_gwp_rules(root)
    if problems or spec is None:
        raise KokenErrors(problems)
    name = spec.default if text is None or not str(text).strip() else str(text).strip()
    if name in spec.rules:
        return GwpRule(name=name, periods=tuple((p.from_fiscal_year, p.gwp_set) for p in spec.rules[name].periods))
    tables, _problems = load_factor_tables(root)
    periods = []
    for item in name.split(","):
        match = _INLINE_PERIOD.match(item)
        if match is None:
            raise KokenError(_("GWP rule {text!r}: {item!r} is neither a rule ({rules}) nor a GWP set with an optional "
                               "first fiscal year (gwp100_ar5@2024)").format(text=name, item=item.strip(),
                                                                             rules=", ".join(spec.rules)))
        problem = _gwp_set_problem(tables, match.group("set"))
        if problem:
            raise KokenError(_("GWP rule {text!r}: {problem}").format(text=name, problem=problem))
        periods.append((int(match.group("year")) if match.group("year") else None, match.group("set")))
    problems = _period_problems(periods)
    if problems:
        raise KokenError(_("GWP rule {text!r}: {problem}").format(text=name, problem=problems[0]))
    return GwpRule(name=",".join(s if y is None else f"{s}@{y}" for y, s in periods), periods=tuple(periods))

