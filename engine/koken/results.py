"""The result document (JSON); the result files themselves are written by
:mod:`koken.scale.sinks`, partition by partition.

JSON results carry a format id and version, koken's version, the input file's hash and every
methodology's id, version and content hash (for auditors); the creation time is in its own
field, so the same inputs give the same bytes apart from ``created``.
"""

from __future__ import annotations

import collections
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from koken.base.errors import KokenError, KokenErrors, Location
from koken.base.i18n import _
from koken.base.safe_yaml import UNPAIRED_SURROGATE, UNPAIRED_SURROGATE_PROBLEM
from koken.base.vocabulary import (
    AVOIDED_SHARE_COLUMN,
    CATEGORY_IDS,
    DATA_QUALITY_PREFIX,
    FIGURES,
    GROUP_KEYS,
    INSTALLED_BASE_COLUMN,
    MARKET_IDS,
)
from koken.calculation import Calculation
from koken.factors import ORIGIN_TEXT
from koken.totals import MAN, Totals

RESULT_FORMAT = "koken-result"
RESULT_FORMAT_VERSION = 1
RESULT_UNITS = {"single_year": "t-CO2e", "lifetime": "t-CO2e",
                "avoided_per_unit_year": "kg-CO2e per functional unit per year", "operating_years": "yr"}
"""The units a JSON result states for its figures (a result stating others is not read)."""
TOTALS_TOLERANCE = 1e-9
"""Relative difference allowed between a stored total and the sum of the rows (the order of additions)."""


def result_document(calc: Calculation) -> dict:
    """The JSON result of an in-memory run: provenance, per-row results and totals (timeframes apart)."""
    return {**document_head(calc.provenance()), "rows": row_records(calc.table, row_details(calc)),
            **document_tail(Totals.from_table(calc.table))}


def frame_document(calc: Calculation) -> dict:
    """An in-memory run's result as ``koken report`` reads a Parquet result (:func:`read_parquet_lines`): the fields
    of :func:`result_document` but ``rows``, and instead ``_frame``, its rows as ``pandas.DataFrame(rows)`` makes
    them without ``inputs`` and ``steps`` (the same values and types) and with each row's grid emission factor
    (:data:`GRID_FACTOR_COLUMNS`), and ``_details``, a function of row positions to ``{position: {"inputs",
    "steps"}}`` (:func:`detail_records`). Every row's inputs and steps are held as Arrow columns
    (:func:`detail_arrays`), not as a mapping a row."""
    arrays = detail_arrays(calc)
    layout = details_layout(arrays.schema.metadata)
    table = calc.table
    frame = pd.DataFrame({key: _plain_column(table.iloc[:, i], key) for i, key in enumerate(table.columns)})
    ids = table["methodology"].astype(object).to_numpy() if len(table) else np.zeros(0, dtype=object)
    for key, values in zip(GRID_FACTOR_COLUMNS, input_items(arrays, ids, layout, GRID_FACTOR_INPUT)):
        frame[key] = pd.Series(values, index=frame.index, dtype=values.dtype)  # texts stay objects, None for none

    def details(positions) -> dict[int, dict]:
        wanted = np.asarray(list(positions), dtype=np.int64)
        return dict(zip(wanted.tolist(), detail_records(arrays.take(wanted), ids[wanted], layout)))

    return {**document_head(calc.provenance()), **document_tail(Totals.from_table(table)), "_frame": frame,
            "_details": details}


def document_head(provenance: dict) -> dict:
    """The fields of a JSON result before its rows: format, provenance, units and the timeframe note (in the
    current language)."""
    return {
        "format": RESULT_FORMAT,
        "format_version": RESULT_FORMAT_VERSION,
        **provenance,
        "units": dict(RESULT_UNITS),
        "note": _("single_year and lifetime are separate timeframes and fiscal years are kept apart; they are never "
                  "added together"),
    }


CREATED_FIELD = re.compile(rb'"created": ?"[^"]*"')
"""The ``created`` field of a result's record (JSON document, or the ``koken`` metadata of a Parquet result)."""


def without_created(data: bytes) -> bytes:
    """A result file's bytes with its ``created`` time blanked (the same length in every run): two runs of the same
    inputs give equal bytes (what ``tests/scale/test_dask_engine.py`` and ``benchmarks/startup.py`` compare).

    >>> without_created(b'{"a": 1, "created": "2026-12-07T18:00:01+00:00"}')
    b'{"a": 1, "created": ""}'
    """
    return CREATED_FIELD.sub(b'"created": ""', data)


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
    """Result rows as JSON-ready dicts (table columns, then ``inputs`` and ``steps``), in table order.

    Built a column at a time (a float column checked and turned into Python floats at once), then zipped into rows:
    the same dicts as converting every cell of ``table.to_dict(orient="records")`` with :func:`_plain`.
    """
    keys = list(table.columns)
    columns = [_plain_column(table.iloc[:, i], key) for i, key in enumerate(keys)]
    rows = [dict(zip(keys, values)) for values in zip(*columns)] if keys else [{} for _row in range(len(table))]
    for position, row in enumerate(rows):
        row.update(details[position])
    return rows


def _plain_column(column: pd.Series, key: str) -> list:
    """A table column's cells as :func:`_plain` gives them, one by one."""
    values = column.to_numpy() if isinstance(column.dtype, np.dtype) else None
    if values is not None and values.dtype.kind in "iub":
        return values.tolist()  # Python ints and bools
    if values is not None and values.dtype.kind == "f":
        finite = np.isfinite(values)
        if finite.all():
            return values.tolist()
        return [_plain(value, key) for value in values.tolist()]  # NaN as None where allowed, else refused
    cells = column.tolist()
    if all(type(value) is str for value in cells):  # text (no empty cell): what to_dict and _plain give, as it is
        return cells
    # other categories, nullable numbers, objects: their cells as to_dict gives them (pd.NA as None, numpy scalars
    # as Python's), each through _plain
    (cells,) = column.to_frame().to_dict(orient="list").values()
    return [_plain(value, key) for value in cells]


def row_details(calc: Calculation) -> list[dict]:
    """Per result row (in table order): every input in its declared unit and every step's value.

    Returns:
        list of ``{"inputs": {name: {"value", "unit", "origin", "data_quality"}}, "steps": {name: {"value",
        "unit"}}}``;
        ``origin`` is ``portfolio`` (the company's value), ``default (<source id>)`` or
        ``factor table <table> [<keys>] (source <source id>; <basis>, <status>)`` — a ``preliminary`` or
        ``derived`` value is flagged there. These are codes, the same in every language (``koken verify``
        compares them, whatever the language of the result and of the check). ``data_quality`` is the input's
        level (:func:`data_quality`); None (null) for a neutral default, a term that does not apply (no data).
    """
    computed = _computed_rows(calc)  # a row's position in the table is its rank among the computed rows
    details: list[dict] = [{} for _row in range(len(calc.table))]
    for batch in calc.batches:
        columns = [(name, values.tolist(), unit, said.tolist(), levels)
                   for name, values, unit, said, levels in batch_inputs(calc, batch)]
        steps = [(name, values.tolist(), unit) for name, values, unit in batch_steps(batch)]
        for j, position in enumerate(np.searchsorted(computed, batch.index).tolist()):
            details[position] = {
                "inputs": {name: {"value": values[j], "unit": unit, "origin": said[j], "data_quality": levels[j]}
                           for name, values, unit, said, levels in columns},
                "steps": {name: {"value": values[j], "unit": unit} for name, values, unit in steps}}
    return details


@dataclass(frozen=True)
class InputColumn:
    """One input of a batch's rows (:func:`batch_input_codes`)."""

    name: str
    values: np.ndarray
    """float, one a row, in the declared unit (NaN: no value)."""
    unit: str
    """the declared unit's text."""
    origin_codes: np.ndarray
    """int32, one a row: its origin in ``origins``."""
    origins: list
    """the origin texts (:func:`row_details` says which)."""
    level_codes: np.ndarray
    """int32, one a row: its data-quality level in ``levels``; -1 for none (a neutral default)."""
    levels: list
    """the levels (:func:`data_quality`)."""


def batch_input_codes(calc: Calculation, batch) -> list[InputColumn]:
    """One batch's inputs as columns, in the methodology's parameter order (:class:`InputColumn`: values in the
    declared unit, origins and data-quality levels as codes into short lists of texts, each distinct text made once).
    The one place where a result row's inputs, origins and levels are made (JSON rows, :func:`batch_inputs`; the
    Parquet result's detail columns, :func:`detail_arrays`)."""
    m = batch.methodology
    result = batch.result
    n = len(batch.index)
    origins = batch.factor_origins
    out = []
    for name, p in m.parameters.items():
        q = batch.inputs.get(name)
        values = q.to(p.unit).magnitude if q is not None else np.full(n, np.nan)
        mask = np.broadcast_to(np.asarray(result.defaults_used.get(name, np.zeros(n, dtype=bool)), dtype=bool), (n,))
        values = np.broadcast_to(np.asarray(np.where(mask, p.default if p.default is not None else np.nan, values),
                                            dtype=float), (n,))
        texts = ["portfolio", f"default ({p.default_source})"]
        codes = mask.astype(np.int32)
        o = origins[name] if name in origins else None
        if o is not None:
            at = np.flatnonzero(np.asarray(o.from_table, dtype=bool))
            if len(at):
                same, first = _distinct_origins(o, at)
                for j in first.tolist():  # each distinct origin's text made once (a few per batch, many rows each)
                    text = ORIGIN_TEXT.format(table=o.table_of(j), key=o.keys[j], source=o.sources[j],
                                              described=o.described(j))
                    if bool(o.stale[j]):
                        text += " — stale: an earlier year's value, allowed by --allow-stale-factors"
                    texts.append(text)
                codes[at] = same + 2
        level = calc.portfolio.passthrough.get(DATA_QUALITY_PREFIX + name)
        unstated = m.spec.parameters[name].default_reason is not None  # a neutral default: no level
        if level is None:  # each distinct origin's level once, put in place (an origin text names its level)
            level_codes, levels = pd.factorize(np.array([data_quality(t) for t in texts], dtype=object))
            level_codes = np.asarray(level_codes, dtype=np.int32)[codes]
            levels = list(levels)
            if unstated:
                level_codes[mask] = -1
        else:
            said = np.asarray(texts, dtype=object)[codes].tolist()
            declared = [str(level[r]) for r in batch.index.tolist()]
            made = [None if masked and unstated else data_quality(origin, stated)
                    for masked, origin, stated in zip(mask.tolist(), said, declared)]
            level_codes, levels = pd.factorize(np.asarray(made, dtype=object), use_na_sentinel=True) if n else \
                (np.zeros(0, dtype=np.intp), [])
            level_codes, levels = np.asarray(level_codes, dtype=np.int32), list(levels)
        out.append(InputColumn(name, values, p.unit_text, codes, texts, level_codes, levels))
    return out


def _distinct_origins(o, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``at`` of a factor origin grouped by what their origin text says (table, key, source, basis, status,
    stale; equal as a dict key is equal): (each row's group, 0-based in order of first appearance; the first row of
    each group)."""
    parts = [o.keys[at], o.sources[at], o.bases[at], o.statuses[at], np.asarray(o.stale, dtype=bool)[at]]
    if o.tables is not None:
        parts.insert(0, o.tables[at])
    combined = np.zeros(len(at), dtype=np.int64)
    for part in parts:  # each part's codes folded in, re-coded so that the combined code stays below len(at)
        codes, distinct = pd.factorize(np.asarray(part, dtype=object))
        combined, _seen = pd.factorize(combined * len(distinct) + codes)
    _groups, first, same = np.unique(combined, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # groups numbered in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[same].astype(np.int32), at[first[order]]


def batch_inputs(calc: Calculation, batch) -> list[tuple[str, np.ndarray, str, np.ndarray, list]]:
    """One batch's inputs as columns, in the methodology's parameter order: (name, values in the declared unit
    (float array, one a row of the batch), the unit's text, origins (object array of texts, :func:`row_details`
    says which), data-quality levels (list: :func:`data_quality`, None for a neutral default)), made from
    :func:`batch_input_codes`."""
    out = []
    for c in batch_input_codes(calc, batch):
        said = np.asarray(c.origins, dtype=object)[c.origin_codes]
        levels = np.asarray([*c.levels, None], dtype=object)[c.level_codes].tolist()  # code -1: the None at the end
        out.append((c.name, c.values, c.unit, said, levels))
    return out


def batch_steps(batch) -> list[tuple[str, np.ndarray, str]]:
    """One batch's steps as columns, in the methodology's order: (name, values (float array, one a row), unit)."""
    step_units = {f.name: f.unit for f in batch.methodology.spec.formulas}
    n = len(batch.index)
    return [(s.name, np.broadcast_to(np.asarray(batch.result.steps[s.name].magnitude, dtype=float), (n,)),
             step_units.get(s.name) or f"{s.unit:~}") for s in batch.methodology.steps]


DETAIL_KEYS = ("inputs", "steps")
"""A row's details: its inputs and steps (the keys of a JSON result's row, :func:`row_details`; the columns of the
report's lines)."""

DETAILS_METADATA = "koken_details"
"""The Parquet result's metadata key holding the layout of its detail columns (:class:`DetailLayout`)."""

_DETAIL_COLUMN = re.compile(r"(inputs|steps)\.[1-9][0-9]{0,5}\.(value|origin|data_quality)")
_LAYOUT_LIMIT = 100_000
"""Most inputs or steps a layout may declare (a result's file is read as untrusted input)."""


@dataclass(frozen=True)
class DetailLayout:
    """Where a Parquet result keeps each row's inputs and steps, beside its row table (issue 17 §4: flat columns,
    written and read at the speed of its figures).

    Columns, ``i`` from 1 to ``inputs`` and ``j`` from 1 to ``steps``: ``inputs.<i>.value`` (float64, the row's
    i-th input in its declared unit; NaN where the row has no value, null where its methodology has no i-th input),
    ``inputs.<i>.origin`` and ``inputs.<i>.data_quality`` (texts, dictionary-coded: :func:`row_details` says what
    they hold), ``steps.<j>.value`` (float64, the j-th step's value in its unit). Which input or step the i-th is,
    and its unit, depends only on the row's methodology: ``methodologies`` maps each methodology id of the file to
    ``(((name, unit), …) of its inputs, ((name, unit), …) of its steps)``, in the methodology's order. The layout is
    written as JSON in the file's metadata under :data:`DETAILS_METADATA` (:meth:`to_json`).
    """

    inputs: int
    steps: int
    methodologies: dict

    def columns(self) -> list[str]:
        """The detail columns' names, in the file's order."""
        return [f"inputs.{i}.{part}" for i in range(1, self.inputs + 1) for part in ("value", "origin", "data_quality")
                ] + [f"steps.{j}.value" for j in range(1, self.steps + 1)]

    def to_json(self) -> str:
        """The layout as the file's metadata holds it: JSON text, methodologies sorted by id (:meth:`from_json`)."""
        return json.dumps({"inputs": self.inputs, "steps": self.steps,
                           "methodologies": {mid: {"inputs": [list(x) for x in given], "steps": [list(x) for x in done]}
                                             for mid, (given, done) in sorted(self.methodologies.items())}},
                          ensure_ascii=False)

    def merged(self, other: DetailLayout) -> DetailLayout:
        """This layout and another's methodologies (partitions of one run: the same widths, a methodology the same
        names and units in both).

        Raises:
            ValueError: the widths differ, or a methodology's inputs or steps (a programming error)."""
        if (self.inputs, self.steps) != (other.inputs, other.steps) or any(
                self.methodologies.get(mid, items) != items for mid, items in other.methodologies.items()):
            raise ValueError("partitions of one result with different detail layouts")
        return DetailLayout(self.inputs, self.steps, {**self.methodologies, **other.methodologies})

    @classmethod
    def from_json(cls, text: bytes | str) -> DetailLayout:
        """The layout a Parquet result's metadata holds, checked (strict JSON; widths whole numbers up to
        :data:`_LAYOUT_LIMIT`; every methodology's lists of ``[name, unit]`` texts no longer than the widths, each
        name once in a list).

        Raises:
            ValueError: what is wrong, in words (the caller names the file)."""
        doc = strict_json(text.decode("utf-8") if isinstance(text, bytes) else text)
        if not isinstance(doc, dict) or set(doc) != {"inputs", "steps", "methodologies"}:
            raise ValueError("not a mapping of inputs, steps and methodologies")
        widths = doc["inputs"], doc["steps"]
        if not all(type(w) is int and 0 <= w <= _LAYOUT_LIMIT for w in widths):
            raise ValueError(f"inputs and steps: whole numbers from 0 to {_LAYOUT_LIMIT}")
        if not isinstance(doc["methodologies"], dict):
            raise ValueError("methodologies: not a mapping")
        methodologies = {}
        for mid, items in doc["methodologies"].items():
            if not isinstance(items, dict) or set(items) != {"inputs", "steps"}:
                raise ValueError(f"methodologies.{mid}: not a mapping of inputs and steps")
            parts = []
            for key, width in zip(("inputs", "steps"), widths):
                listed = items[key]
                if not isinstance(listed, list) or len(listed) > width or not all(
                        isinstance(x, list) and len(x) == 2 and all(isinstance(t, str) for t in x) for x in listed):
                    raise ValueError(f"methodologies.{mid}.{key}: not a list of at most {width} [name, unit] texts")
                twice = next((name for name, count in collections.Counter(x[0] for x in listed).items() if count > 1),
                             None)
                if twice is not None:  # a JSON result's row holds each name once
                    raise ValueError(f"methodologies.{mid}.{key}: {twice[:100]} twice")
                parts.append(tuple(tuple(x) for x in listed))
            methodologies[mid] = tuple(parts)
        return cls(widths[0], widths[1], methodologies)


def is_detail_column(name: str) -> bool:
    """Whether a Parquet result's column is one of its rows' inputs or steps (:class:`DetailLayout`)."""
    return _DETAIL_COLUMN.fullmatch(name) is not None


def detail_width(library: Mapping) -> tuple[int, int]:
    """The most inputs and the most steps of any methodology of ``library`` (a :class:`koken.library.Library`, whose
    specifications are read without compiling a methodology, or a mapping of compiled methodologies): the widths of
    a run's :class:`DetailLayout`, the same for every partition of its result."""
    specs = getattr(library, "specs", None)
    if specs is not None:
        sizes = [(len(s.parameters), len(s.formulas)) for s in specs.values()]
    else:
        sizes = [(len(m.parameters), len(m.steps)) for m in library.values()]
    return (max((a for a, _b in sizes), default=0), max((b for _a, b in sizes), default=0))


def detail_arrays(calc: Calculation, width: tuple[int, int] | None = None):
    """Every row's inputs and steps, in table order, as flat Arrow columns (:class:`DetailLayout`; what
    :func:`row_details` gives, made a column at a time: each distinct origin and level text once, the values as
    numpy arrays; a row outside every batch: null throughout).

    Args:
        calc: the calculation.
        width: (inputs, steps) columns to make (:func:`detail_width` of the library, so that every partition of a
            run has the same columns); None: the most of the calculation's own methodologies.
    Returns:
        pyarrow.Table of ``len(calc.table)`` rows, its layout as JSON in the schema metadata under
        :data:`DETAILS_METADATA` (:func:`details_layout`).
    Raises:
        ValueError: a methodology with more inputs or steps than ``width`` (a programming error).
    """
    import pyarrow as pa

    made = [(batch, batch_input_codes(calc, batch), batch_steps(batch)) for batch in calc.batches]
    methodologies = {b.methodology.id: (tuple((c.name, c.unit) for c in given), tuple((s[0], s[2]) for s in done))
                     for b, given, done in made}
    widths = width or (max((len(g) for _b, g, _d in made), default=0), max((len(d) for _b, _g, d in made), default=0))
    if any(len(g) > widths[0] or len(d) > widths[1] for _b, g, d in made):
        raise ValueError(f"a methodology with more inputs or steps than the result's {widths}")
    layout = DetailLayout(widths[0], widths[1], methodologies)
    n = len(calc.table)
    computed = _computed_rows(calc)
    values = np.full((widths[0], n), np.nan)
    present = np.zeros((widths[0], n), dtype=bool)
    origin_codes = np.full((widths[0], n), -1, dtype=np.int32)
    level_codes = np.full((widths[0], n), -1, dtype=np.int32)
    steps = np.full((widths[1], n), np.nan)
    stepped = np.zeros((widths[1], n), dtype=bool)
    origins: dict[str, int] = {}  # every distinct text of the table once, in order of first appearance
    levels: dict[str, int] = {}
    for batch, given, done in made:
        at = np.searchsorted(computed, batch.index)
        for i, c in enumerate(given):
            values[i, at] = c.values
            present[i, at] = True
            lut = np.array([origins.setdefault(t, len(origins)) for t in c.origins], dtype=np.int32)
            origin_codes[i, at] = lut[c.origin_codes]
            lut = np.array([levels.setdefault(t, len(levels)) for t in c.levels] + [-1], dtype=np.int32)
            level_codes[i, at] = lut[c.level_codes]  # code -1 (no level): the -1 at the end
        for j, (_name, stepped_values, _unit) in enumerate(done):
            steps[j, at] = stepped_values
            stepped[j, at] = True
    origin_texts, level_texts = pa.array(list(origins), pa.string()), pa.array(list(levels), pa.string())
    columns = {}
    for i in range(widths[0]):
        columns[f"inputs.{i + 1}.value"] = pa.array(values[i], pa.float64(), mask=~present[i])
        for part, codes, texts in (("origin", origin_codes[i], origin_texts), ("data_quality", level_codes[i],
                                                                               level_texts)):
            columns[f"inputs.{i + 1}.{part}"] = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), texts)
    for j in range(widths[1]):
        columns[f"steps.{j + 1}.value"] = pa.array(steps[j], pa.float64(), mask=~stepped[j])
    schema = pa.schema([pa.field(k, v.type) for k, v in columns.items()],
                       metadata={DETAILS_METADATA: layout.to_json()})
    return pa.table(list(columns.values()), schema=schema)


def details_layout(metadata: Mapping | None) -> DetailLayout | None:
    """The :class:`DetailLayout` in a Parquet file's or Arrow table's metadata, None where there is none.

    Raises:
        ValueError: malformed (:meth:`DetailLayout.from_json`)."""
    text = (metadata or {}).get(DETAILS_METADATA.encode())
    return None if text is None else DetailLayout.from_json(text)


def layout_problems(schema, layout: DetailLayout | None) -> str:
    """What keeps a Parquet result's detail columns from being read with its layout ('' if nothing): a layout that
    is missing, a column missing, named twice or of another type (values float64; origins and levels texts,
    dictionary-coded or not)."""
    import pyarrow as pa

    if layout is None:
        return "no layout"
    counts = collections.Counter(schema.names)
    for name in layout.columns():
        if name not in counts:
            return f"no column {name}"
        if counts[name] > 1:  # e.g. a portfolio's own column of that name, carried through
            return f"column {name} {counts[name]} times"
        kind = schema.field(name).type
        if name.endswith(".value"):
            ok = pa.types.is_float64(kind)
        else:
            ok = pa.types.is_string(kind) or (pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type))
        if not ok:
            return f"column {name}: {kind}"
    return ""


def detail_records(details, methodologies, layout: DetailLayout) -> list[dict]:
    """Rows of detail columns (:class:`DetailLayout`; a pyarrow Table or RecordBatch) back as JSON rows' ``inputs`` and
    ``steps``: one ``{"inputs": {name: {...}}, "steps": {name: {...}}}`` a row, the mappings of :func:`row_details`
    (a null row, or a methodology the layout does not know: ``{}``).

    Args:
        details: the detail columns of the rows.
        methodologies: each row's methodology id (a sequence as long as ``details``).
        layout: the file's layout.
    """
    names = set(details.column_names if hasattr(details, "column_names") else details.schema.names)
    cells = {name: details.column(name).to_pylist() for name in layout.columns() if name in names}
    out = []
    for r, mid in enumerate(list(methodologies)):
        items = layout.methodologies.get(mid)
        first = "inputs.1.value" if items and items[0] else "steps.1.value" if items and items[1] else None
        if items is None or (first is not None and cells[first][r] is None):
            out.append({})
            continue
        given, done = items
        out.append({"inputs": {name: {"value": cells[f"inputs.{i}.value"][r], "unit": unit,
                                      "origin": cells[f"inputs.{i}.origin"][r],
                                      "data_quality": cells[f"inputs.{i}.data_quality"][r]}
                               for i, (name, unit) in enumerate(given, 1)},
                    "steps": {name: {"value": cells[f"steps.{j}.value"][r], "unit": unit}
                              for j, (name, unit) in enumerate(done, 1)}})
    return out


def input_items(details, methodologies, layout: DetailLayout, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One input of every row of a table of detail columns (:class:`DetailLayout`; pyarrow Table or RecordBatch):
    (values, float, NaN where the row has no such input; units, object, None there; origins, object, None there).

    Args:
        methodologies: each row's methodology id (array-like as long as ``details``).
    """
    n = details.num_rows
    values = np.full(n, np.nan)
    units, origins = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    codes, ids = pd.factorize(np.asarray(methodologies, dtype=object)) if n else (np.zeros(0, dtype=np.intp), [])
    for k, mid in enumerate(list(ids)):
        items = layout.methodologies.get(mid)
        at = [i for i, (given, _unit) in enumerate(items[0] if items else (), 1) if given == name]
        if not at:
            continue
        rows = np.flatnonzero(codes == k)
        value = details.column(f"inputs.{at[0]}.value").take(rows)
        there = np.asarray(value.is_valid(), dtype=bool)
        rows, value = rows[there], value.filter(there)
        values[rows] = np.asarray(value.fill_null(np.nan), dtype=float)
        units[rows] = items[0][at[0] - 1][1]
        origins[rows] = shared_texts(details.column(f"inputs.{at[0]}.origin").take(rows))
    return values, units, origins


def shared_texts(column) -> np.ndarray:
    """An Arrow text column as an object array, each distinct text one Python object shared by its rows (a
    dictionary-coded column's dictionary, made once; ``to_pylist`` makes a text a row); null as None."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    codes = column.indices.to_numpy(zero_copy_only=False)
    codes = np.where(np.asarray(column.is_valid(), dtype=bool), codes, -1).astype(np.intp)
    return np.asarray([*column.dictionary.to_pylist(), None], dtype=object)[codes]  # code -1: the None at the end


def data_quality(origin: str, declared: str = "") -> str:
    """The data-quality level (:data:`~koken.base.vocabulary.DATA_QUALITY_IDS`) of an input of a result row.

    The rule (docs/claim.md): a level the portfolio declares for the value (column ``data_quality:<parameter>``,
    allowed only where the portfolio gives the value) is taken as declared; otherwise it follows the value's
    origin: a methodology default is ``default``; a factor table's value is ``secondary`` (a published
    average, not the product's own measurement); a portfolio value without a declared level is ``secondary``
    (koken cannot tell that it was measured: declare ``primary_measured`` where it was).

    >>> data_quality("default (jema_2014)"), data_quality("factor table grid [JP 2023] (source x; adjusted, final)")
    ('default', 'secondary')
    >>> data_quality("portfolio"), data_quality("portfolio", "primary_measured")
    ('secondary', 'primary_measured')
    """
    if declared:
        return declared
    return "default" if origin.startswith("default") else "secondary"


def input_columns(calc: Calculation) -> pd.DataFrame:
    """Every row's inputs, in table order: ``inputs``, one text per row (:func:`input_texts`, a CSV result's
    column), then per parameter the value used in its declared unit (``baseline_annual_energy[kWh/yr]``: the
    company's value, a default or a factor table's) and the cell as the company wrote it
    (``baseline_annual_energy (as entered)``: ``"0.42 MWh/yr"``, each number formatted ``.15g``, empty where a
    default or a table supplied the value). Columns of a methodology's parameters are empty (NaN, '') on other
    methodologies' rows. Built per methodology and parameter with array operations.

    Returns:
        DataFrame with ``len(calc.table)`` rows and the table's index.
    """
    n = len(calc.table)
    computed = _computed_rows(calc)
    used: dict[str, np.ndarray] = {}
    entered: dict[str, np.ndarray] = {}
    order: list[str] = []  # each parameter's columns side by side, in the order they first come
    for batch in calc.batches:
        m = batch.methodology
        at = np.searchsorted(computed, batch.index)
        for name, p in m.parameters.items():
            key = f"{name}[{p.unit_text}]"
            if key not in used:
                order.append(key)
            used.setdefault(key, np.full(n, np.nan))[at] = _used_values(batch, name, p, len(at))
            if f"{name} (as entered)" not in entered:
                order.append(f"{name} (as entered)")
            as_entered = entered.setdefault(f"{name} (as entered)", np.full(n, "", dtype=object))
            column = calc.portfolio.parameters.get(name)
            if column is not None:
                raw, units = column[0][batch.index], np.asarray(column[1], dtype=object)[batch.index]
                given = ~np.isnan(raw)
                as_entered[at[given]] = [f"{v:.15g} {_written_unit(u)}".strip()
                                         for v, u in zip(raw[given].tolist(), units[given])]
    columns = {"inputs": input_texts(calc)["inputs"].array,
               **{key: used[key] if key in used else entered[key] for key in order}}
    return pd.DataFrame(columns, index=calc.table.index)


def input_texts(calc: Calculation) -> pd.DataFrame:
    """Every row's inputs as one text, in table order, in the methodology's parameter order: ``name=value unit``
    joined by ``"; "`` (``"baseline_annual_energy=420 kWh/yr; operating_years=12 yr"``), each value the one used
    (the company's, a default or a factor table's) in the parameter's declared unit, written by
    :func:`number_texts`; ``nan`` where a parameter has no value. A CSV result's ``inputs`` column (all a CSV needs
    of the inputs: :func:`input_columns` adds the workbook's columns). Composed per methodology by Arrow's compute
    kernels, no Python code per row.

    Returns:
        DataFrame with ``len(calc.table)`` rows and the table's index, one column ``inputs`` of Arrow text
        (``pd.ArrowDtype(pa.large_string())``; empty for a row no methodology computed).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(value: str):
        return pa.scalar(value, pa.large_string())

    n = len(calc.table)
    computed = _computed_rows(calc)
    places, pieces = [], []
    for batch in calc.batches:
        at = np.searchsorted(computed, batch.index)
        parts: list = []  # "name=", values, " unit; name=", values, … " unit": joined in one call
        between = ""  # the text before the next values: the last unit and the next name
        for name, p in batch.methodology.parameters.items():
            parts += [text(f"{between}; {name}=" if parts else f"{name}="),
                      number_texts(_used_values(batch, name, p, len(at)))]
            between = f" {p.unit_text}"
        places.append(at)
        pieces.append(pc.binary_join_element_wise(*parts, text(between), text("")) if parts else
                      pa.array([""] * len(at), pa.large_string()))
    every = np.concatenate(places) if places else np.zeros(0, dtype=np.int64)
    if not len(every) or np.bincount(every, minlength=n).max() <= 1:  # each row once: each batch's texts in place
        where = np.full(n, len(every), dtype=np.int64)
        where[every] = np.arange(len(every))
        texts = pa.concat_arrays([*pieces, pa.array([""], pa.large_string())]).take(pa.array(where))
    else:  # a row in several batches: their texts one after the other
        joined = np.full(n, "", dtype=object)
        for at, piece in zip(places, pieces):
            label = np.asarray(piece.to_pylist(), dtype=object)
            joined[at] = np.where(joined[at] == "", label, joined[at] + "; " + label)
        texts = pa.array(joined, pa.large_string())
    return pd.DataFrame({"inputs": pd.arrays.ArrowExtensionArray(texts)}, index=calc.table.index)


def _used_values(batch, name: str, p, count: int) -> np.ndarray:
    """A batch's values of parameter ``name`` as used, in its declared unit (the company's, else the default where
    one was used; NaN where there is none)."""
    q = batch.inputs.get(name)
    values = q.to(p.unit).magnitude if q is not None else np.full(count, np.nan)
    mask = batch.result.defaults_used.get(name, np.zeros(count, dtype=bool))
    return np.where(mask, p.default if p.default is not None else np.nan, values)


def number_texts(values: np.ndarray):
    """Floats as text: ``format(value, ".15g")`` where that reads back the same number (``12``, ``0.421``,
    ``1e-05``: any number of at most 15 significant digits), else the 16 or 17 digits that do, in the same layout
    (``0.30000000000000004``, where ``.15g`` wrote ``0.3``): plain notation for decimal exponents from -4 to 14,
    without a trailing ``.0``, else ``d.ddde±XX``; ``nan``, ``inf``, ``-inf``.

    Arrow's cast writes the shortest digits that read back the same number, which are ``.15g``'s wherever those
    read back (a normal number's shortest digits, when 15 or fewer, are its 15-digit rounding), in plain notation
    from 1e-6 to 1e10: its texts of numbers from 1e-4 to 1e10 (and of zeros) are kept; the others are written by
    Python (:func:`_g_text`). tests/test_results.py compares the two on numbers of every size.

    Args:
        values: float64 array (flattened).
    Returns:
        ``pyarrow`` large_string array, one text per value.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    values = np.asarray(values, dtype=np.float64).ravel()
    shown, plain = arrow_number_texts(values)
    other = ~plain  # NaN and infinities too
    if other.any():
        texts = [_g_text(v) for v in values[other].tolist()]
        shown = pc.replace_with_mask(shown, pa.array(other), pa.array(texts, type=pa.large_string()))
    return shown


def arrow_number_texts(values: np.ndarray):
    """Arrow's texts of floats (its cast to text: the shortest digits that read back the same number, a whole number
    without ``.0``, plain notation from 1e-6 to 1e10), and which of them :func:`number_texts` and the CSV writer keep:
    those of numbers from 1e-4 to 1e10 and of zeros. When every kept number is whole (counts, years) and none is
    -0.0 (``-0`` to Arrow), the texts are cast from int64 instead: the same texts, about four times faster.
    tests/test_results.py compares the two casts on whole numbers of every size.

    Args:
        values: float64 array (flat).
    Returns:
        (``pyarrow`` large_string array, one text per value; boolean numpy array, True where the text is kept).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    size = np.abs(values)
    with np.errstate(invalid="ignore"):
        plain = ((size >= 1e-4) & (size < 1e10)) | (values == 0)
        kept = values[plain]
        if len(kept) and float(kept[0]).is_integer():  # else not all whole: the mask not computed
            whole = (kept == np.floor(kept)) & ~((kept == 0) & np.signbit(kept))
            if whole.all():
                return pc.cast(pa.array(np.where(plain, values, 0).astype(np.int64)), pa.large_string()), plain
    return pc.cast(pa.array(values), pa.large_string()), plain


def _g_text(value: float) -> str:
    """One float as :func:`number_texts` writes it."""
    text = f"{value:.15g}"
    if not math.isfinite(value) or float(text) == value:
        return text
    digits, power = 17, 0
    for digits in (16, 17):
        text = f"{value:.{digits - 1}e}"  # correctly rounded, as Python's repr
        power = int(text.partition("e")[2])
        if float(text) == value:
            break
    return text if not -4 <= power < 15 else f"{value:.{max(digits - 1 - power, 0)}f}"


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
    if key == INSTALLED_BASE_COLUMN and isinstance(value, float) and math.isnan(value):
        return None  # a vintage shipped after the installed-base year: not in service in that year (docs/figures.md)
    if key == AVOIDED_SHARE_COLUMN and isinstance(value, float) and math.isnan(value):
        return None  # a baseline of no emissions (0 / 0): no share to state (docs/figures.md)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("non-finite number in results")  # evaluate() refuses these; a bug if reached
    return value


class _Duplicate(ValueError):
    pass


def strict_json(text: str):
    """JSON as koken writes it: a key written twice in one object (a reader keeping the first would see one
    value, a reader keeping the last another) and ``NaN``/``Infinity`` (not JSON) are refused.

    Raises:
        ValueError: (json.JSONDecodeError, or the duplicate key or the constant named).
    """
    def pairs(items):
        out = dict(items)  # at C speed; a key written twice leaves fewer entries than pairs
        if len(out) != len(items):
            seen: set = set()
            key = next(k for k, _value in items if k in seen or seen.add(k))  # the first key written again
            raise _Duplicate(_("the key {key!r} is written twice in one object").format(key=key))
        return out

    def constant(name):
        raise ValueError(_("{name} is not a number JSON allows").format(name=name))

    def whole(digits: str) -> int:
        if len(digits.lstrip("-")) > _FLOAT_DIGITS:
            raise ValueError(_("a whole number of {count} digits is beyond the numbers koken computes with (about "
                               "10**308)").format(count=len(digits.lstrip("-"))))
        return int(digits)

    huge = _LONG_DIGITS.search(text) is not None  # numbers are read at C speed unless a run of digits is that long
    doc = json.loads(text, object_pairs_hook=pairs, parse_constant=constant, parse_int=whole if huge else None)
    if _SURROGATE_ESCAPE.search(text) and any(UNPAIRED_SURROGATE.search(t) for t in _texts(doc)):
        # a \ud800 escape alone decodes to no character: Arrow, a workbook or a terminal cannot write it
        raise ValueError(_(UNPAIRED_SURROGATE_PROBLEM))
    return doc


def _texts(doc):
    """Every text of a JSON document, keys too (without recursion: a result may nest deeply)."""
    stack = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            yield from value.keys()
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
"""A surrogate's escape in JSON text: only then are the decoded texts searched for one left unpaired."""


_FLOAT_DIGITS = 309
"""Digits of the longest whole number a float can hold (about 1.8 × 10**308): a longer one, read as an int, ended
in OverflowError where a figure is compared."""
_LONG_DIGITS = re.compile(rf"\d{{{_FLOAT_DIGITS + 1}}}")


def read_result(path: str | Path, totals: bool = True) -> dict:
    """A JSON result file (``koken calculate -o r.json``), read strictly and checked before anything is taken from
    it: every problem of :func:`result_problems` at once.

    Args:
        path: the file.
        totals: also check the stored totals against the sum of the rows (``koken report``; ``koken verify``
            recomputes them and lists the difference instead).
    Returns:
        the document (a dict).
    Raises:
        KokenErrors: unreadable, not JSON, a key twice, NaN or Infinity, or :func:`result_problems`.
    """
    return read_result_hashed(path, totals)[0]


def read_result_hashed(path: str | Path, totals: bool = True) -> tuple[dict, str]:
    """:func:`read_result`, with the ``sha256:<hex>`` of the bytes read: the bytes parsed, read once (a file
    replaced between a hash and a parse would give one file's hash with another's figures; issue 17 §2).

    Raises:
        KokenErrors: as :func:`read_result`.
    """
    where = Location(file=str(path))
    try:
        data = Path(path).read_bytes()
        doc = strict_json(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        detail = err.strerror if isinstance(err, OSError) else str(err) if isinstance(err, ValueError) else \
            type(err).__name__
        raise KokenErrors([KokenError(_("cannot read the result file: {error}").format(error=detail), where)]) from None
    problems = result_problems(doc, where, totals=totals)
    if problems:
        raise KokenErrors(problems)
    return doc, "sha256:" + hashlib.sha256(data).hexdigest()


def _shown(value) -> str:
    """A value as a problem shows it: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _finite(value) -> bool:
    """A number koken could have written: an int or float, not a bool, finite (a whole number beyond a float's
    range, 10**400 in a JSON file, is not one: it would turn into inf in a sum)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def result_problems(doc, where: Location, totals: bool = True) -> list[KokenError]:
    """What is wrong with a JSON result document, each problem naming its place (``rows[3].market``).

    Checked: the format; ``units`` as koken writes them (:data:`RESULT_UNITS`); ``gwp_set`` and ``input`` (file,
    sha256) present; every row's ``row`` and ``fiscal_year`` whole numbers, ``category`` and ``market`` known
    (:data:`koken.base.vocabulary.CATEGORY_IDS`, ``MARKET_IDS``), ``methodology`` a text, every figure in t-CO2e a
    finite number (never text: ``"1"``; device shares may be empty, and the installed-base figure of a vintage shipped
    after the installed-base year is null); and with ``totals``, ``totals_by_market`` and
    ``totals_by_methodology`` equal to the sums of the rows (:data:`TOTALS_TOLERANCE`). A Monte Carlo result's
    percentile columns (``single_year_p5[t-CO2e]`` …) are figures like the others where a row has them (a row may
    lack them); its ``uncertainty`` block is checked by :data:`UNCERTAINTY_FIGURES`; ``legitimacy`` is a list.
    """
    def problem(text: str) -> KokenError:
        return KokenError(text, where)

    if not isinstance(doc, dict) or doc.get("format") != RESULT_FORMAT or not isinstance(doc.get("rows"), list):
        return [problem(_("not a koken JSON result (format {format!r})").format(format=RESULT_FORMAT))]
    problems = []
    if doc.get("units") != RESULT_UNITS:
        problems.append(problem(_("units: {units} is not what koken writes ({expected}); figures in other units would "
                                  "be misread").format(units=json.dumps(doc.get("units"), ensure_ascii=False)[:200],
                                                       expected=json.dumps(RESULT_UNITS))))
    for key in ("gwp_set", "koken_version"):
        if not isinstance(doc.get(key), str):
            problems.append(problem(_("{field}: missing or not a text").format(field=key)))
    record = doc.get("input")
    if not isinstance(record, dict) or not isinstance(record.get("file"), str) or not isinstance(record.get("sha256"), str):
        problems.append(problem(_("{field}: missing or not a text").format(field="input.file, input.sha256")))
    if not isinstance(doc.get("methodologies"), dict):
        problems.append(problem(_("{field}: missing or not a mapping").format(field="methodologies")))
    rows_ok = True
    figures_of: dict[tuple, tuple[str, ...]] = {}  # a row's keys → its figures (rows share their keys)
    for i, row in enumerate(doc["rows"]):
        place = f"rows[{i}]"
        if not isinstance(row, dict):
            problems.append(problem(_("{field}: not a mapping").format(field=place)))
            rows_ok = False
            continue
        keys = tuple(row)
        figures = figures_of.get(keys)
        if figures is None:
            figures = figures_of[keys] = tuple(k for k in row if k.endswith("[t-CO2e]"))
        if _plainly_fine(row, figures):  # nearly every row: no message to make
            continue
        found = row_problems(row)
        if found:
            rows_ok = False
            problems.append(problem(_("{field} (portfolio row {row}): {what}").format(
                field=place, row=row.get("row"), what="; ".join(found))))
    problems += [problem(text) for text in _uncertainty_problems(doc.get("uncertainty", {}))]
    if not isinstance(doc.get("legitimacy", []), list):
        problems.append(problem(_("{field}: not a list").format(field="legitimacy")))
    if totals and rows_ok and not problems:
        problems += _totals_problems(doc, where)
    return problems


def row_problems(row: dict) -> list[str]:
    """What is wrong with one result row (a mapping): ``row`` and ``fiscal_year`` whole numbers, ``category`` and
    ``market`` known, ``methodology`` a text, every figure in t-CO2e a finite number (device shares, the installed
    base and the avoided share may be null)."""
    found = []
    for key in ("row", "fiscal_year"):
        if not (isinstance(row.get(key), int) and not isinstance(row.get(key), bool)):
            found.append(_("{field} is {value}, not a whole number").format(field=key, value=_shown(row.get(key))))
    if row.get("category") not in CATEGORY_IDS:
        found.append(_("category {value} is none of {known}").format(value=_shown(row.get("category")),
                                                                     known=", ".join(CATEGORY_IDS)))
    if row.get("market") not in MARKET_IDS:
        found.append(_("market {value} is none of {known}").format(value=_shown(row.get("market")),
                                                                   known=", ".join(MARKET_IDS)))
    if not isinstance(row.get("methodology"), str):
        found.append(_("{field} is {value}, not a text").format(field="methodology", value=_shown(row.get("methodology"))))
    for key in [f for f in FIGURES if f not in row] + [k for k in row if k.endswith("[t-CO2e]")]:
        value = row.get(key)
        if not _finite(value) and not (value is None and _may_be_null(key)):
            found.append(_("{field} is {value}, not a finite number").format(field=key, value=_shown(value)))
    return found


_CATEGORIES, _MARKETS, _NULLABLE = frozenset(CATEGORY_IDS), frozenset(MARKET_IDS), (INSTALLED_BASE_COLUMN,
                                                                                      AVOIDED_SHARE_COLUMN)


def _plainly_fine(row: dict, figures: tuple[str, ...]) -> bool:
    """A quick test that :func:`row_problems` finds nothing in ``row`` (``figures``: its keys ending in
    ``[t-CO2e]``); False sends the row to :func:`row_problems`, which says what is wrong, if anything."""
    category, market = row.get("category"), row.get("market")
    if type(row.get("row")) is not int or type(row.get("fiscal_year")) is not int or \
            type(category) is not str or category not in _CATEGORIES or \
            type(market) is not str or market not in _MARKETS or type(row.get("methodology")) is not str:
        return False  # (a list or mapping is not hashable: tested as a text first)
    for key in figures:
        value = row[key]
        if type(value) is float and value - value == 0.0:  # finite (inf - inf and nan - nan are nan)
            continue
        if value is None and (key.startswith("device_") or key in _NULLABLE):
            continue
        if not _finite(value):
            return False
    return all(f in row for f in FIGURES)


def _may_be_null(key: str) -> bool:
    """A figure column that may be empty on a row: a device share, the installed base, the avoided share."""
    return key.startswith("device_") or key in (INSTALLED_BASE_COLUMN, AVOIDED_SHARE_COLUMN)


PARQUET_MAGIC = b"PAR1"
"""The first bytes of a Parquet file."""


def is_parquet(path: str | Path) -> bool:
    """Whether the file starts as a Parquet file does (whatever its name)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == PARQUET_MAGIC
    except OSError:
        return False


def frame_records(frame: pd.DataFrame, positions) -> list[dict]:
    """Rows ``positions`` of a result table as JSON rows: plain Python values, an empty (NaN) cell as None, a column
    absent from the table absent from the row."""
    part = frame.iloc[np.asarray(positions, dtype=np.int64)]
    out = []
    for record in part.to_dict(orient="records"):
        row = {}
        for key, value in record.items():
            if hasattr(value, "item"):
                value = value.item()
            if value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
                value = None
            row[key] = value
        out.append(row)
    return out


def read_parquet_result(path: str | Path) -> tuple[dict, pd.DataFrame]:
    """A Parquet result (``koken calculate -o r.parquet``): the record in its ``koken`` metadata (provenance,
    ``totals_by_market``, a Monte Carlo run's ``uncertainty``; strict JSON) and its row table, checked as
    :func:`result_problems` checks a JSON result's (rows found wrong by whole-column tests are then described row by
    row, with :func:`row_problems`).

    Raises:
        KokenError: not readable as Parquet, or without koken's record.
        KokenErrors: the record or the rows are malformed.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    where = Location(file=str(path))
    try:
        source = pq.ParquetFile(path)
        metadata = source.metadata.metadata or {}  # the file's key-value metadata, where the sink puts the record
        if b"koken" not in metadata:
            raise KokenError(_("the Parquet file holds no koken record (its 'koken' metadata): verify needs the result "
                               "written by koken calculate --output result.parquet (or .json)"), where)
        head = strict_json(metadata[b"koken"].decode("utf-8"))
        # a whole-number column with a null stays whole numbers beside a None (not floats: every row would read 3.0);
        # each row's inputs and steps (the report's) are not read here
        frame = source.read(columns=[c for c in source.schema_arrow.names if not is_detail_column(c)]) \
            .to_pandas(integer_object_nulls=True, split_blocks=True, self_destruct=True)
    except (OSError, pa.ArrowException, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise KokenError(_("cannot read the result file as Parquet ({error}: {detail})").format(
            error=type(err).__name__, detail=str(err)[:200]), where) from None
    if not isinstance(head, dict):
        raise KokenErrors([KokenError(_("{field}: not a mapping").format(field="koken"), where)])
    problems = result_problems({**head, "format": RESULT_FORMAT, "units": RESULT_UNITS, "rows": []}, where,
                               totals=False)
    suspect = np.zeros(len(frame), dtype=bool)
    for key in ("row", "fiscal_year"):
        column = frame.get(key)
        if column is None or not pd.api.types.is_integer_dtype(column.dtype):
            suspect[:] = True
    for key, known in (("category", CATEGORY_IDS), ("market", MARKET_IDS)):
        suspect |= ~frame[key].isin(known).to_numpy() if key in frame else True
    if "methodology" not in frame or (not isinstance(frame["methodology"].dtype, pd.CategoricalDtype) and
            not pd.api.types.is_string_dtype(frame["methodology"].dtype)):
        suspect[:] = True
    else:
        suspect |= frame["methodology"].isna().to_numpy()
    for key in [f for f in FIGURES if f not in frame] + [k for k in frame.columns if str(k).endswith("[t-CO2e]")]:
        column = frame.get(key)
        if column is None or (not pd.api.types.is_float_dtype(column.dtype) and
                not pd.api.types.is_integer_dtype(column.dtype)):
            suspect[:] = True
            continue
        values = column.to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(values)
        suspect |= bad & ~np.isnan(values) if _may_be_null(key) else bad
    for i, row in zip(np.flatnonzero(suspect).tolist(), frame_records(frame, np.flatnonzero(suspect))):
        found = row_problems(row)
        if found:
            problems.append(KokenError(_("{field} (portfolio row {row}): {what}").format(
                field=f"rows[{i}]", row=row.get("row"), what="; ".join(found)), where))
    if problems:
        raise KokenErrors(problems)
    return head, frame


def read_parquet_lines(path: str | Path) -> tuple[dict, pd.DataFrame, str]:
    """A Parquet result for ``koken report``: its record and its rows as a JSON result's rows make a table
    (``pandas.DataFrame(doc["rows"])``: the same columns, values and types; an empty figure None as the JSON result
    writes it), without their ``inputs`` and ``steps`` (read for the rows shown, :func:`read_parquet_details`) but
    with each row's grid emission factor (:data:`GRID_FACTOR_COLUMNS`, read :data:`READ_BATCH_ROWS` rows at a time),
    and the file's
    ``sha256:<hex>`` (read a megabyte at a time). Checked as :func:`read_parquet_result` checks it, and its rows'
    sums against its ``totals_by_market``.

    Raises:
        KokenError / KokenErrors: as :func:`read_parquet_result`; a result without ``inputs`` and ``steps`` (written
            by a koken before them: calculate it again); totals that differ from the rows' sums.
    """
    import pyarrow.parquet as pq

    where = Location(file=str(path))
    head, frame = read_parquet_result(path)
    source = pq.ParquetFile(path, pre_buffer=False)
    layout = file_layout(source, where)
    lines = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for key in list(frame.columns):  # one column's Python values at a time, each typed as DataFrame(rows) types it
        lines[key] = pd.Series(_json_cells(frame.pop(key), key), index=lines.index)
    del frame
    problems = _totals_problems(head, where, lines[[k for k in (*GROUP_KEYS, *FIGURES) if k in lines]],
                                keys=("totals_by_market",))
    if problems:
        raise KokenErrors(problems)
    ids = lines["methodology"].to_numpy(dtype=object)
    unknown = sorted(set(pd.unique(ids[pd.notna(ids)])) - set(layout.methodologies), key=str)
    if unknown:  # its rows would be read as having no inputs (their grid factors left out of the disclosure)
        raise _malformed_layout(f"no methodology {', '.join(map(str, unknown))}", where)
    at = sorted({i for given, _done in layout.methodologies.values()
                 for i, (name, _unit) in enumerate(given, 1) if name == GRID_FACTOR_INPUT})
    grid = {key: [] for key in GRID_FACTOR_COLUMNS}
    start = 0
    for batch in source.iter_batches(batch_size=READ_BATCH_ROWS,
                                     columns=[f"inputs.{i}.{part}" for i in at for part in ("value", "origin")]):
        for key, values in zip(GRID_FACTOR_COLUMNS, input_items(batch, ids[start:start + batch.num_rows], layout,
                                                                GRID_FACTOR_INPUT)):
            grid[key].append(values)
        start += batch.num_rows
    if not at:  # no methodology of the file has a grid factor: no column read
        grid = {key: [np.full(len(lines), np.nan) if key.endswith("value") else np.full(len(lines), None, dtype=object)]
                for key in GRID_FACTOR_COLUMNS}
    for key, parts in grid.items():
        values = np.concatenate(parts) if parts else np.zeros(0, dtype=float if key.endswith("value") else object)
        lines[key] = pd.Series(values, index=lines.index, dtype=values.dtype)  # texts stay objects, None for none
    infinite = np.flatnonzero(np.isinf(lines[GRID_FACTOR_COLUMNS[0]].to_numpy()))
    if len(infinite):  # a JSON result cannot hold one (strict JSON); the report would disclose it
        raise KokenErrors([KokenError(_("{field} (portfolio row {row}): {what}").format(
            field=f"rows[{i}]", row=int(lines["row"].iat[i]), what=_("{field} is {value}, not a finite number").format(
                field=GRID_FACTOR_COLUMNS[0], value=_shown(float(lines[GRID_FACTOR_COLUMNS[0]].iat[i])))), where)
            for i in infinite.tolist()])
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return head, lines, "sha256:" + digest.hexdigest()


READ_BATCH_ROWS = 8_192
"""Rows of a Parquet result's inputs and steps read at a time (a row group holds a partition, up to 250,000 rows:
its inputs alone would take hundreds of megabytes; 32,768 rows at a time made a report of 100,000 lines peak at 1.59×
the report of 10,000, 8,192 at 1.45×: docs/performance.md)."""

GRID_FACTOR_INPUT = "grid_emission_factor"
"""The input whose values a report discloses (koken.reporting.action_plan)."""

GRID_FACTOR_COLUMNS = (f"{GRID_FACTOR_INPUT}.value", f"{GRID_FACTOR_INPUT}.unit", f"{GRID_FACTOR_INPUT}.origin")
"""The columns :func:`read_parquet_lines` adds: each row's grid emission factor (value in its unit, the unit, its
origin; NaN and None where the row has none)."""


def read_parquet_details(path: str | Path, positions) -> dict[int, dict]:
    """The inputs and steps of the Parquet result's rows at ``positions`` (0-based, in file order), as
    :func:`detail_records` gives them, read :data:`READ_BATCH_ROWS` rows at a time (the file is read through once;
    only the rows asked for become mappings).

    Returns:
        {position: {"inputs": {...}, "steps": {...}}}.
    Raises:
        KokenErrors: the file's detail columns cannot be read with its layout (:func:`layout_problems`).
    """
    import pyarrow.parquet as pq

    wanted = np.unique(np.asarray(list(positions), dtype=np.int64))
    out: dict[int, dict] = {}
    if not len(wanted):
        return out
    source = pq.ParquetFile(path, pre_buffer=False)
    layout = file_layout(source, Location(file=str(path)))
    start = 0
    for batch in source.iter_batches(batch_size=READ_BATCH_ROWS, columns=["methodology", *layout.columns()]):
        local = wanted[(wanted >= start) & (wanted < start + batch.num_rows)] - start
        if len(local):
            part = batch.take(local)
            ids = part.column("methodology").to_pylist()
            out.update(zip((local + start).tolist(), detail_records(part, ids, layout)))
        start += batch.num_rows
        if start > wanted[-1]:
            break
    return out


def file_layout(source, where: Location) -> DetailLayout:
    """The detail layout of an open Parquet result (``pyarrow.parquet.ParquetFile``), checked against its columns.

    Raises:
        KokenErrors: no layout (a result of a koken before it: calculate it again), a malformed one, or columns that
            do not match it (:func:`layout_problems`, named)."""
    try:
        layout = details_layout(source.metadata.metadata)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise _malformed_layout(str(err), where) from None
    problem = layout_problems(source.schema_arrow, layout)
    if problem and layout is not None:  # a layout its columns do not match: the file was edited
        raise _malformed_layout(problem, where)
    if problem:
        raise KokenErrors([KokenError(_("the Parquet result holds no inputs and steps of its rows (columns inputs.1.value "
                                        "… steps.1.value … and their layout in the {key} metadata), which the report "
                                        "discloses: it was written by an earlier koken; calculate it again (koken "
                                        "calculate -o result.parquet)").format(key=DETAILS_METADATA), where)])
    return layout


def _malformed_layout(detail: str, where: Location) -> KokenErrors:
    """The error of a Parquet result whose detail layout is malformed (``detail``: what is wrong, in words)."""
    return KokenErrors([KokenError(_("the Parquet result's {key} metadata is malformed ({detail})").format(
        key=DETAILS_METADATA, detail=detail[:200]), where)])


def _json_cells(column: pd.Series, key: str) -> list:
    """A column of a Parquet result's table as a JSON result's rows hold it: plain Python values, an empty cell
    None (texts of a category shared, not made once a row)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        labels = np.asarray(column.cat.categories.astype(object).tolist() + [None], dtype=object)
        return labels[column.cat.codes.to_numpy()].tolist()  # code -1 (empty): the None at the end
    values = column.to_numpy() if isinstance(column.dtype, np.dtype) else None
    if values is not None and values.dtype.kind in "iub":
        return values.tolist()
    if values is not None and values.dtype.kind == "f":
        cells = values.tolist()
        if np.isnan(values).any():
            return [None if v != v else v for v in cells]
        return cells
    return [None if v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v) else
            v.item() if hasattr(v, "item") else v for v in column.tolist()]


UNCERTAINTY_FIGURES = {"totals": ("central", "p5", "p50", "p95"),
                       "tornado": ("central", "result_at_low", "result_at_high", "swing")}
"""The figures (t-CO2e) of each record of a Monte Carlo result's ``uncertainty.totals`` and ``uncertainty.tornado``
(:meth:`koken.montecarlo.Simulation.document`)."""


def _uncertainty_problems(block) -> list[str]:
    """What is wrong with a result's ``uncertainty`` block (absent on a point run): a mapping whose ``draws`` and
    ``seed`` are whole numbers and whose totals and tornado records hold finite numbers (never text)."""
    if not isinstance(block, dict):
        return [_("{field}: not a mapping").format(field="uncertainty")]
    if not block:
        return []
    found = []
    for key in ("draws", "seed"):
        value = block.get(key)
        if not (isinstance(value, int) and not isinstance(value, bool)):
            found.append(_("{field} is {value}, not a whole number").format(field=f"uncertainty.{key}",
                                                                            value=_shown(value)))
    for key, figures in UNCERTAINTY_FIGURES.items():
        records = block.get(key, [])
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            found.append(_("{field}: missing or not a list of totals").format(field=f"uncertainty.{key}"))
            continue
        for i, record in enumerate(records):
            for figure in figures:
                if not _finite(record.get(figure)):
                    found.append(_("{field} is {value}, not a finite number").format(
                        field=f"uncertainty.{key}[{i}].{figure}", value=_shown(record.get(figure))))
            if key == "totals" and all(_finite(record.get(f)) for f in figures) and not (
                    record["p5"] <= record["p50"] <= record["p95"]):
                # percentiles out of order: a range edited by hand, or P5 and P95 swapped
                found.append(_("{field}: P5 {p5}, P50 {p50} and P95 {p95} are not in order (P5 <= P50 <= P95)").format(
                    field=f"uncertainty.{key}[{i}]", p5=record["p5"], p50=record["p50"], p95=record["p95"]))
    return found


def _totals_problems(doc: dict, where: Location, rows: pd.DataFrame | None = None,
                     keys: tuple[str, ...] = ("totals_by_market", "totals_by_methodology")) -> list[KokenError]:
    """The stored totals ``keys`` against the sums of the rows (``doc["rows"]``, or the table ``rows``), group by
    group (a row added, removed or changed without its totals, or totals edited)."""
    if rows is None:
        rows = pd.DataFrame({k: [r.get(k) for r in doc["rows"]] for k in (*GROUP_KEYS, *FIGURES)})
    problems = []
    for key, by in (("totals_by_market", ["fiscal_year", "market"]),
                    ("totals_by_methodology", ["fiscal_year", "category", "methodology", "market"])):
        if key not in keys:
            continue
        stored = doc.get(key)
        if not isinstance(stored, list) or not all(isinstance(r, dict) for r in stored):
            problems.append(KokenError(_("{field}: missing or not a list of totals").format(field=key), where))
            continue
        summed = {tuple(r[k] for k in by): r for r in Totals.from_table(rows).summarise(by).to_dict(orient="records")}
        kept = {}
        for r in stored:
            kept.setdefault(tuple(r.get(k) for k in by), []).append(r)
        differing = []
        for group in sorted(set(summed) | set(kept), key=str):
            mine, theirs = summed.get(group), kept.get(group, [])
            if mine is None or len(theirs) != 1 or not _same_total(mine, theirs[0]):
                differing.append(" ".join(map(str, group)))
        if differing:
            problems.append(KokenError(_("{field} differ from the sums of the rows for {groups}: the file was edited "
                                         "after koken wrote it").format(field=key, groups=", ".join(differing[:5]) + (
                " …" if len(differing) > 5 else "")), where))
    return problems


def _same_total(summed: dict, stored: dict) -> bool:
    if stored.get("product_lines") != summed["product_lines"] or isinstance(stored.get("product_lines"), bool):
        return False
    for figure in FIGURES:
        for key, scale in ((figure, 1.0), (figure.replace("[t-CO2e]", "[万t-CO2e]"), MAN)):
            value = stored.get(key)
            if not _finite(value) or not math.isclose(value, summed[figure] / scale, rel_tol=TOTALS_TOLERANCE,
                                                      abs_tol=1e-9):
                return False
    return True


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
