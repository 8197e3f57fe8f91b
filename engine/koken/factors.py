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
    """Every factor table under ``root`` (default: the bundled ``factors/``), with the problems found."""
    tables, problems = _load_all(str(Path(root or factors_dir()).resolve()))
    return dict(tables), list(problems)


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
    return Lookup(values=values, unit=table.unit, found=found, keys=keys, sources=sources, stale=stale,
                  statuses=statuses, bases=bases), problems


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

    def described(self, j: int) -> str:
        """Row ``j``'s basis and status (``adjusted, preliminary``), as results record them."""
        return describe(self.bases[j] or None, self.statuses[j] or None)


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
            problems.append(UnitError(_("{name}: the row has no region, so the factor table {table} cannot be used; "
                                        "give a region (e.g. JP, US) or the value").format(name=name, table=table.id),
                                      locate(i)))
        found, errs = lookup(table, fixed, row_keys, need & ~missing_region, name, locate, allow_stale)
        problems.extend(errs)
        failed |= need & ~found.found
        factor = float(registry().Quantity(1.0, table.unit).to(p.unit).magnitude)
        given[found.found] = found.values[found.found] * factor
        filled[name] = registry().Quantity(given, p.unit)
        origins[name] = FactorOrigin(table=table.id, from_table=found.found, keys=found.keys, sources=found.sources,
                                     stale=found.stale, statuses=found.statuses, bases=found.bases)
    return filled, origins, problems, failed
