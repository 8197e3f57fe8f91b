"""``koken verify``: recompute a result file from its portfolio and explain every difference.

An auditor holds a JSON result (:mod:`koken.results`) and the portfolio it came from. Verification
recomputes the portfolio with the current engine, methodologies and factor tables, then compares
every row's single-year and lifetime figures. Each difference is explained by its cause, checked in
this order: the input file changed (a cell's value), a methodology default changed, a factor-table
value changed, the methodology changed (content hash), the engine version changed. The result
"stands" when no figure differs beyond a relative tolerance of 1e-9.
"""

from __future__ import annotations

import collections
import functools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from koken.base.errors import KokenError, KokenErrors, Location
from koken.base.i18n import _
from koken.base.version import __version__
from koken.base.vocabulary import FIGURES
from koken.calculation import calculate
from koken.methodology import Methodology
from koken.portfolio.build import read_portfolio
from koken.results import (
    DETAILS_METADATA,
    detail_arrays,
    detail_records,
    details_layout,
    document_head,
    document_tail,
    file_layout,
    frame_records,
    is_parquet,
    layout_problems,
    read_parquet_details,
    read_parquet_result,
    result_problems,
    row_details,
    row_records,
    shared_texts,
    strict_json,
)
from koken.totals import Totals

REL_TOL = 1e-9


@dataclass
class Verification:
    """Outcome of a verification.

    Attributes:
        stands: True when every figure reproduces.
        differences: one line per differing figure or row, with its causes.
        notes: changes that did not move any figure (e.g. a new engine version).
    """

    stands: bool
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verify(result_path: str | Path, portfolio_path: str | Path,
           library: Mapping[str, Methodology], ratios: str | Path | None = None,
           customer_data: str | Path | None = None) -> Verification:
    """Recompute ``portfolio_path`` and compare with ``result_path``.

    Everything the result discloses is compared (docs/audit.md): each row's figures and fields, the totals, the
    units, ``gwp_set`` and ``gwp``, the legitimacy flags, the input record (file, sha256, encoding), each
    methodology's version, content hash, roles and types, each factor table's content hash, the engine's version,
    the device ratio file and, for a Monte Carlo result, its ``uncertainty`` block and percentile columns, rerun
    from the recorded draws and seed (docs/uncertainty.md); any mismatch or deleted section is a difference, so
    the result does not stand.

    Args:
        ratios: the device ratio file the result names, when it is not the shipped one (a path a result names is
            never opened: only the shipped file or this one).
        customer_data: the customer-data file of a result computed with one (``--customer-data``): its sha256 must
            be the recorded one. The recomputation takes the run's recorded options: stale factors, the GWP rule,
            the installed-base year and survival rule, the factor path, and this file for the variants.
    Raises:
        KokenError: the result file is not JSON as koken writes it (a key twice, NaN), or names another ratio
            file than the shipped one and ``ratios`` is not given, or was computed with customer data and
            ``customer_data`` is not given.
        KokenErrors: the result is malformed (:func:`koken.results.result_problems`), or the portfolio no longer
            computes (its problems are listed).
    """
    where = Location(file=str(result_path))
    frame = None
    if is_parquet(result_path):  # koken calculate -o r.parquet: its record in the metadata, its rows a table
        old, frame = read_parquet_result(result_path)
    else:
        try:
            old = strict_json(Path(result_path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
            raise KokenError(_("cannot read the result file as JSON ({error}): verify needs the .json or .parquet "
                               "result written by koken calculate --output").format(error=type(err).__name__),
                             where) from None
        except ValueError as err:  # a key written twice, NaN or Infinity
            raise KokenError(_("the result file is not JSON as koken writes it: {error}").format(error=err),
                             where) from None
        problems = result_problems(old, where, totals=False)  # the totals are recomputed and compared below
        if problems:
            raise KokenErrors(problems)
    try:
        return _verify(old, portfolio_path, library, where, ratios, customer_data, frame)
    except (TypeError, KeyError, ValueError, AttributeError, RecursionError, LookupError) as err:
        raise KokenError(_("the result file is malformed ({error}: {detail}); it was not written by koken as it is "
                           "now").format(error=type(err).__name__, detail=str(err)[:200]), where) from None


MAX_OPTION_CHARS = 4096
"""Characters a recorded option may have (a ratio file's ``id (path, hash)``); a longer one is refused unread."""


def recorded_ratio_file(recorded: str) -> tuple[str, str, str]:
    """A result's ``options.device_ratios`` (``id (path, sha256:…)``) as (id, path, hash), read in one pass (a
    regular expression with two ``.*`` took 42 s on 240 KB).

    Raises:
        ValueError: not of that form, or longer than :data:`MAX_OPTION_CHARS`.
    """
    text = str(recorded)
    ident, opened, rest = text.partition(" (")
    path, comma, digest = rest[:-1].rpartition(", ")
    if len(text) > MAX_OPTION_CHARS or not opened or not rest.endswith(")") or not comma \
            or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise ValueError(_("device_ratios option {option!r} is not 'id (path, hash)'").format(option=text[:100]))
    return ident, path, digest


def _recorded_ratios(old: dict, out: Verification, given: str | Path | None, where: Location):
    """The device contribution-ratio file a result names in ``options.device_ratios`` (``id (path, hash)``): the
    shipped file when the result names it, else the file given (``--ratios``), whose content hash must be the
    recorded one (a difference otherwise); None when the result has no device shares. The path a result names is
    never opened: a result could name any file."""
    from koken.attribution import DEFAULT_RATIO_FILE, load_ratio_file

    recorded = (old.get("options") or {}).get("device_ratios")
    if not recorded:
        return None
    _ident, path, digest = recorded_ratio_file(recorded)
    if given is None and path != f"attribution/{DEFAULT_RATIO_FILE}":
        raise KokenError(_("the result names the ratio file {path}, not the shipped one: give it with --ratios (verify "
                           "opens only the shipped ratio file or one you name)").format(path=path[:200]), where)
    ratios = load_ratio_file(given)
    if ratios.content_hash != digest:
        out.differences.append(_("device ratio file: the result names {path} ({old}…), this check used {used} "
                                 "({new}…)").format(path=path[:200], old=digest[:15], used=ratios.path,
                                                     new=ratios.content_hash[:15]))
    return ratios


RECOMPUTED_OPTIONS = ("allow_stale_factors", "gwp_rule", "installed_base_year", "survival", "factor_path")
"""The recorded options a recomputation takes as they are (data, no file: a factor path is a shipped one's id)."""


def _customer_data(old: dict, given: str | Path | None, where: Location, out: Verification) -> dict | None:
    """The customer-data record to recompute with: the file given (``--customer-data``), whose sha256 must be the
    recorded one (a difference otherwise); None when the result has no customer data. The path a result names is
    never opened."""
    from koken.variants import read_customer_data

    recorded = (old.get("options") or {}).get("customer_data")
    if not recorded:
        return None
    if not isinstance(recorded, dict):
        raise ValueError(_("{field}: not a mapping").format(field="options.customer_data"))
    if given is None:
        raise KokenError(_("the result was computed with the customer data {file}: give it with --customer-data "
                           "(verify opens only files you name)").format(file=str(recorded.get("file"))[:200]), where)
    record = read_customer_data(given).record()
    if record["sha256"] != recorded.get("sha256"):
        out.differences.append(_("customer data: the result names {file} ({old}…), this check used {used} "
                                 "({new}…)").format(file=str(recorded.get("file"))[:200],
                                                     old=str(recorded.get("sha256"))[:15], used=record["file"],
                                                     new=record["sha256"][:15]))
    return record


def _verify(old: dict, portfolio_path, library, where: Location, given_ratios,
            given_customer_data=None, frame: pd.DataFrame | None = None) -> Verification:
    """The comparison; ``frame`` is the row table of a Parquet result (``old`` its record, without rows), None for a
    JSON result (``old`` the whole document)."""
    options = {k: v for k, v in (old.get("options") or {}).items() if k in RECOMPUTED_OPTIONS}
    out = Verification(stands=True)
    customer = _customer_data(old, given_customer_data, where, out)
    if customer is not None:
        options["customer_data"] = customer
    recorded = (old.get("options") or {}).get("methodologies")
    sources = getattr(library, "description", None)  # a Library names its sources as results record them
    other_sources = recorded not in (None, sources) and not (sources is None and recorded == "bundled")
    hint = (_("the result was computed with the methodologies in {recorded}, this check with {sources}: verify with "
              "the same --methodologies (and --no-bundled if it was used)").format(recorded=recorded, sources=sources)
            if sources else
            _("the result was computed with the methodologies in {recorded}, this check with others: verify with the "
              "same --methodologies (and --no-bundled if it was used)").format(recorded=recorded))
    try:
        portfolio = read_portfolio(portfolio_path, library, collect=True,
                                   encoding=(old.get("options") or {}).get("encoding"),
                                   sheet=(old.get("options") or {}).get("sheet"))
        calc = calculate(portfolio, library, options)
    except KokenErrors as errs:
        if other_sources:  # the likely cause first
            raise KokenErrors([KokenError(hint, where), *errs.errors]) from None
        raise
    ratios = _recorded_ratios(old, out, given_ratios, where)
    if ratios is not None:  # koken calculate adds device shares: recompute them with the same ratio file
        import dataclasses

        from koken.attribution import attribute

        calc = dataclasses.replace(calc, table=attribute(calc.table, ratios))
    monte_carlo = (old.get("options") or {}).get("uncertainty")
    uncertainty = None
    if monte_carlo:  # a Monte Carlo result: the same draws from the recorded seed (docs/uncertainty.md)
        import dataclasses

        from koken.montecarlo import add_columns, simulate

        sim = simulate(calc, int(monte_carlo["draws"]), int(monte_carlo["seed"]))
        calc = dataclasses.replace(calc, table=add_columns(calc.table, sim))
        uncertainty = sim.document()
    new = {**document_head(calc.provenance()), **document_tail(Totals.from_table(calc.table))}

    engine_changed = old.get("koken_version") != __version__
    if engine_changed:
        out.differences.append(_("engine version changed: {old} → {new}").format(old=old.get("koken_version"),
                                                                                 new=__version__))
    if not _same_value(old.get("input"), new["input"]):
        changed = [k for k in sorted(set(old["input"]) | set(new["input"]))
                   if not _same_value(old["input"].get(k), new["input"].get(k))]
        out.differences.append(_("the portfolio file differs from the one the result was computed from ({fields})").format(
            fields=", ".join(changed)))
    changed_methodologies = {}
    for mid in sorted(set(old["methodologies"]) | set(new["methodologies"])):
        info, now = old["methodologies"].get(mid), new["methodologies"].get(mid)
        if now is None:
            changed_methodologies[mid] = _("methodology {id}: no longer used by the portfolio").format(id=mid)
        elif not isinstance(info, dict):
            changed_methodologies[mid] = _("methodology {id}: used by the portfolio but not in the result").format(
                id=mid)
        elif now["content_hash"] != info.get("content_hash"):
            changed_methodologies[mid] = _("methodology {id} changed: version {old_version} → {new_version}, content "
                                           "hash {old_hash}… → {new_hash}…").format(
                id=mid, old_version=info.get("version"), new_version=now["version"],
                old_hash=str(info.get("content_hash", ""))[:15], new_hash=now["content_hash"][:15])
        elif now["version"] != info.get("version"):
            changed_methodologies[mid] = _("methodology {id}: the result records version {old_version}, but the "
                                           "methodology with this content hash is version {new_version}").format(
                id=mid, old_version=info.get("version"), new_version=now["version"])
        else:
            fields = [k for k in sorted(set(info) | set(now)) if k != "path" and info.get(k) != now.get(k)]
            if fields:  # roles and types, as a report discloses them
                changed_methodologies[mid] = _("methodology {id}: the result records {values}; the methodology "
                                               "says otherwise").format(
                    id=mid, values="; ".join(f"{k} {info.get(k)!r} → {now.get(k)!r}" for k in fields))
    out.differences.extend(changed_methodologies.values())
    old_tables, new_tables = old.get("factor_tables"), new.get("factor_tables", {})
    if not isinstance(old_tables, dict):
        out.differences.append(_("{field}: missing from the result").format(field="factor_tables"))
        old_tables = {}
    for table in sorted(set(old_tables) | set(new_tables)):
        if not _same_value(old_tables.get(table), new_tables.get(table)):
            out.differences.append(_("factor table {table} changed (content hash)").format(table=table))
    disclosed = ("format_version", "gwp_set", "gwp", "legitimacy", "units") if frame is None else \
        ("gwp_set", "gwp", "legitimacy")  # a Parquet result records no format version and states units in its columns
    for key in disclosed:  # what a report discloses beside the rows
        if not _same_value(old.get(key), new.get(key)):
            out.differences.append(_("{field}: the result records {old}, the recomputation gives {new}").format(
                field=key, old=json.dumps(old.get(key), ensure_ascii=False)[:200],
                new=json.dumps(new.get(key), ensure_ascii=False)[:200]))
    if other_sources:
        out.notes.append(hint)
    out.differences.extend(_uncertainty_differences(old.get("uncertainty"), uncertainty))
    for key in ("totals_by_market", "totals_by_methodology") if frame is None else ("totals_by_market",):
        if not _same_records(old.get(key), new.get(key)):
            out.differences.append(_("{key}: the totals in the result differ from the recomputed ones").format(key=key))
    if frame is None:
        old_rows, new_rows = old["rows"], row_records(calc.table, row_details(calc))
        old_keys, new_keys = [_row_key(r) for r in old_rows], [_row_key(r) for r in new_rows]

        def pairs(common):  # exactly equal rows (nearly all) are told apart at C speed; the others compared below
            return ((key, old_rows[i], new_rows[j]) for key, i, j in common if old_rows[i] != new_rows[j])
    else:
        old_keys, new_keys = _frame_keys(frame), _frame_keys(calc.table)

        out.differences.extend(_layout_differences(where))

        def pairs(common):
            made = functools.cache(lambda: detail_arrays(calc))  # the recomputed detail columns, made once if needed
            return _frame_pairs(frame, calc.table, common, _stored_details(where.file), _made_details(calc, made),
                                _details_differ(where.file, frame, calc, made))
    out.differences.extend(_row_differences(old_keys, new_keys, pairs, changed_methodologies, engine_changed))
    out.stands = not out.differences
    return out


def _row_differences(old_keys: list, new_keys: list, pairs, changed_methodologies: dict,
                     engine_changed: bool) -> list[str]:
    """Rows matched by (sheet, row), in linear time: a key the result holds more than once (its last copy is
    compared), a row only in the result or only in the recomputation, and each matched row whose figures or fields
    differ, with its causes. ``pairs(common)`` yields (key, old row, new row) for the matched ``(key, old position,
    new position)`` triples, sorted by key, that may differ (rows it leaves out are equal)."""
    differences = []
    counts = collections.Counter(old_keys)
    for row in sorted(k for k, n in counts.items() if n > 1):
        differences.append(_("{place}: appears {count} times in the result").format(place=_place(row),
                                                                                    count=counts[row]))
    old_at = {key: i for i, key in enumerate(old_keys)}  # the last copy of a key, as a mapping keeps it
    new_at = {key: i for i, key in enumerate(new_keys)}
    for row in sorted(set(old_at) - set(new_at)):
        differences.append(_("{place}: in the result but not in the portfolio any more").format(place=_place(row)))
    for row in sorted(set(new_at) - set(old_at)):
        differences.append(_("{place}: in the portfolio but not in the result").format(place=_place(row)))
    common = [(key, old_at[key], new_at[key]) for key in sorted(set(old_at) & set(new_at))]
    for row, a, b in pairs(common):
        moved = [f for f in FIGURES if not _close(a.get(f), b.get(f))]
        if a.get("methodology") != b.get("methodology"):
            differences.append(_("{place}: methodology {old} → {new} (input changed)").format(
                place=_place(row), old=a.get("methodology"), new=b.get("methodology")))
            continue
        fields = [k for k in sorted(set(a) | set(b)) if k not in FIGURES and not _same_value(a.get(k), b.get(k))]
        if not moved and not fields:
            continue
        causes = _causes(a, b, changed_methodologies.get(b["methodology"]), engine_changed)
        what = "; ".join(f"{f} {a.get(f):.10g} → {b.get(f):.10g}" for f in moved) if moved else \
            _("recorded fields differ: {fields}").format(fields=", ".join(fields))
        differences.append(_("{place} ({product_line}): {what} — because {causes}").format(
            place=_place(row), product_line=b.get("product_line", ""), what=what, causes="; ".join(causes)))
    return differences


def _frame_keys(table: pd.DataFrame) -> list[tuple[str, int]]:
    """A result table's row places, (sheet, file row), as :func:`_row_key` gives them for JSON rows."""
    rows = table["row"].to_numpy().tolist()
    if "sheet" not in table:
        return [("", int(r)) for r in rows]
    sheets = table["sheet"].astype(object).where(table["sheet"].notna(), "").to_numpy().tolist()
    return [(str(s or ""), int(r)) for s, r in zip(sheets, rows)]


def _stored_details(path: str):
    """A function of row positions to the inputs and steps a Parquet result stores for them
    (:func:`koken.results.read_parquet_details`; none, ``{}`` a row, for a result written before it stored them)."""
    def details(positions) -> dict[int, dict]:
        try:
            return read_parquet_details(path, positions)
        except KokenErrors:  # no inputs and steps: the rows are compared on their figures and fields alone
            return {}
    return details


def _made_details(calc, made):
    """A function of table positions to the recomputed rows' inputs and steps (mappings made for those rows only
    when asked: rows that differ are few); ``made()`` gives the recomputed detail columns
    (:func:`koken.results.detail_arrays`)."""
    def details(positions) -> dict[int, dict]:
        wanted = np.asarray(list(positions), dtype=np.int64)
        if not len(wanted):
            return {}
        arrays = made()
        ids = calc.table["methodology"].astype(object).to_numpy()[wanted]
        return dict(zip(wanted.tolist(), detail_records(arrays.take(wanted), ids,
                                                       details_layout(arrays.schema.metadata))))
    return details


def _no_nan(details: dict) -> dict:
    """A row's inputs and steps with NaN values (no value) as None, as a JSON result writes them."""
    return {key: {name: {k: (None if isinstance(v, float) and v != v else v) for k, v in item.items()}
                  for name, item in items.items()} for key, items in details.items()}


def _layout_differences(where: Location) -> list[str]:
    """A Parquet result whose inputs and steps cannot be read with the layout it states (edited; what
    :func:`koken.results.file_layout` refuses): its problems, as differences (the report refuses such a file). A
    result without any layout (written before it) gives none: its rows are compared on their figures and fields."""
    import pyarrow.parquet as pq

    source = pq.ParquetFile(where.file, pre_buffer=False)
    if DETAILS_METADATA.encode() not in (source.metadata.metadata or {}):
        return []
    try:
        file_layout(source, where)
    except KokenErrors as errs:
        return [e.message for e in errs.errors]
    return []


def _details_differ(path: str, frame: pd.DataFrame, calc, made_arrays):
    """A function of matched positions (old, new: int arrays of one length) to a boolean array: where the Parquet
    result's stored inputs and steps (its detail columns, :class:`koken.results.DetailLayout`) differ from the
    recomputed ones, a column at a time (a JSON result's rows hold them and are compared whole; empty cells equal).
    A result whose detail columns cannot be read with its layout: nothing differs (its rows are compared on their
    figures and fields alone, as :func:`_stored_details` gives no details). ``made_arrays()`` gives the recomputed
    detail columns (:func:`koken.results.detail_arrays`, made once for both this and :func:`_made_details`)."""
    import pyarrow.parquet as pq

    def differ(at_old: np.ndarray, at_new: np.ndarray) -> np.ndarray:
        out = np.zeros(len(at_old), dtype=bool)
        source = pq.ParquetFile(path, pre_buffer=False)
        try:
            stored = details_layout(source.metadata.metadata)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return out
        if layout_problems(source.schema_arrow, stored):
            return out
        made_table = made_arrays()
        made = details_layout(made_table.schema.metadata)
        old_ids = _column(frame, "methodology", at_old)
        new_ids = _column(calc.table, "methodology", at_new)
        old_codes, ids = pd.factorize(np.concatenate([old_ids, new_ids]).astype(object))
        same_layout = np.array([stored.methodologies.get(a) == made.methodologies.get(a) for a in ids], dtype=bool)
        out |= (old_codes[:len(at_old)] != old_codes[len(at_old):]) | ~same_layout[old_codes[:len(at_old)]]
        for name in dict.fromkeys([*stored.columns(), *made.columns()]):
            a = _cells(source.read(columns=[name]).column(0) if name in stored.columns() else None, at_old)
            b = _cells(made_table.column(name) if name in made.columns() else None, at_new)
            if a.dtype.kind == "f" and b.dtype.kind == "f":
                out |= ~((a == b) | (np.isnan(a) & np.isnan(b)))
            else:
                out |= ~((a == b) | (pd.isna(a) & pd.isna(b)))
        return out
    return differ


def _cells(column, positions: np.ndarray) -> np.ndarray:
    """A detail column's cells at ``positions``: numbers as floats (null as NaN), texts as objects
    (:func:`koken.results.shared_texts`); no column: all NaN."""
    import pyarrow as pa

    if column is None:
        return np.full(len(positions), np.nan)
    taken = column.take(positions)
    if pa.types.is_floating(taken.type):
        return np.asarray(taken.fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=float)
    return shared_texts(taken)


def _frame_pairs(old: pd.DataFrame, new: pd.DataFrame, common: list, old_details=None, new_details=None,
                 details_differ=None):
    """(key, old row, new row) of the matched rows of two result tables that are not equal cell for cell: found a
    column at a time (empty cells equal, a column absent from a table taken as empty), then only those rows turned
    into mappings (:func:`koken.results.frame_records`) for :func:`_row_differences`, with their inputs and steps
    where both sides give them (``old_details`` and ``new_details``: functions of positions to
    ``{position: {"inputs", "steps"}}``), so that a difference names the input that changed; ``details_differ``
    (:func:`_details_differ`) marks the rows whose inputs or steps alone differ."""
    if not common:
        return []
    at_old = np.fromiter((i for _key, i, _j in common), dtype=np.int64, count=len(common))
    at_new = np.fromiter((j for _key, _i, j in common), dtype=np.int64, count=len(common))
    differ = np.zeros(len(common), dtype=bool)
    for column in dict.fromkeys([*old.columns, *new.columns]):
        a = _column(old, column, at_old)
        b = _column(new, column, at_new)
        if a.dtype.kind in "fiu" and b.dtype.kind in "fiu":
            a, b = a.astype(float), b.astype(float)
            differ |= ~((a == b) | (np.isnan(a) & np.isnan(b)))
        else:
            empty_a, empty_b = pd.isna(a), pd.isna(b)
            differ |= ~((a == b) | (empty_a & empty_b))
    if details_differ is not None:
        differ |= details_differ(at_old, at_new)
    chosen = np.flatnonzero(differ)
    olds, news = frame_records(old, at_old[chosen]), frame_records(new, at_new[chosen])
    if len(chosen) and old_details is not None and new_details is not None:
        stored, made = old_details(at_old[chosen].tolist()), new_details(at_new[chosen].tolist())
        for i, j, a, b in zip(at_old[chosen].tolist(), at_new[chosen].tolist(), olds, news):
            if i in stored and made.get(j):  # a stored row read as none (its first value emptied): none
                a.update(_no_nan(stored[i] or {"inputs": {}, "steps": {}}))
                b.update(_no_nan(made[j]))
    return [(common[k][0], a, b) for k, a, b in zip(chosen.tolist(), olds, news)]


def _column(table: pd.DataFrame, column: str, positions: np.ndarray) -> np.ndarray:
    """A column's cells at ``positions``: numbers as a numeric array, anything else as objects; all empty (NaN)
    when the table has no such column."""
    if column not in table:
        return np.full(len(positions), np.nan)
    values = table[column]
    if values.dtype.kind in "fiu":
        return values.to_numpy()[positions]
    return values.astype(object).to_numpy()[positions]


def _uncertainty_differences(old, new: dict | None) -> list[str]:
    """The ``uncertainty`` block of a result against the one recomputed from its recorded draws and seed (None: the
    result's options record no Monte Carlo run): every key (method, draws, seed, percentiles, inputs, the totals'
    percentiles, the portfolio-total ``tornado``); the favourable-end notes are text in the language of the run, so
    their number is compared (they follow from the totals, compared in full). A block without a recorded run, or a
    recorded run without its block, is a difference too."""
    if old is None and new is None:
        return []
    if not isinstance(old, dict) or new is None:
        return [_("uncertainty: the result records {old}, the recomputation gives {new}").format(
            old=_("no Monte Carlo block") if old is None else _("a Monte Carlo block") if isinstance(old, dict)
            else json.dumps(old, ensure_ascii=False)[:200],
            new=_("no Monte Carlo run (its options record none)") if new is None else _("a Monte Carlo block"))]
    differences = []
    for key in sorted(set(old) | set(new)):
        mine, theirs = old.get(key), new.get(key)
        if key == "favourable_end":
            mine = len(mine) if isinstance(mine, list) else mine
            theirs = len(theirs)
        same = _same_records(mine, theirs) if isinstance(theirs, list) else _same_value(mine, theirs)
        if same:
            continue
        if key == "totals":
            differences.append(_("uncertainty: the percentiles of the totals in the result differ from the recomputed "
                                 "ones (same draws and seed)"))
        else:
            differences.append(_("{field}: the result records {old}, the recomputation gives {new}").format(
                field=f"uncertainty.{key}", old=json.dumps(mine, ensure_ascii=False)[:200],
                new=json.dumps(theirs, ensure_ascii=False)[:200]))
    return differences


def _row_key(row: dict) -> tuple[str, int]:
    """A result row's place: (sheet, file row); the sheet is '' for a file that is one table."""
    return (str(row.get("sheet") or ""), int(row["row"]))


def _place(key: tuple[str, int]) -> str:
    """``row 7``, or ``sheet 'refrigerator', row 7`` for a workbook read from several sheets."""
    sheet, row = key
    return str(Location(sheet=sheet or None, row=row))


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-12)


def _same_value(x, y) -> bool:
    """Equal, with floats compared to :data:`REL_TOL` and nested dicts compared field by field."""
    if isinstance(x, dict) and isinstance(y, dict):
        return set(x) == set(y) and all(_same_value(x[k], y[k]) for k in x)
    if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
        return _close(x, y)
    return x == y


def _same_records(x, y) -> bool:
    if not isinstance(x, list) or not isinstance(y, list) or len(x) != len(y):
        return x == y
    return all(_same_value(a, b) for a, b in zip(x, y))


def _causes(a: dict, b: dict, methodology_change: str | None, engine_changed: bool) -> list[str]:
    causes = []
    for key in ("fiscal_year", "market", "region", "product_line"):
        if a.get(key) != b.get(key):
            causes.append(_("input changed: {name} {old!r} → {new!r}").format(name=key, old=a.get(key), new=b.get(key)))
    old_inputs, new_inputs = a.get("inputs", {}), b.get("inputs", {})
    if a.get("units_shipped") != b.get("units_shipped"):
        causes.append(_("input changed: {change}").format(
            change=f"units_shipped {a.get('units_shipped_as_entered')} → {b.get('units_shipped_as_entered')}"))
    for name in sorted(set(old_inputs) | set(new_inputs)):
        x, y = old_inputs.get(name), new_inputs.get(name)
        if x is None or y is None:
            causes.append((_("parameter {name} added") if x is None else _("parameter {name} removed")).format(name=name))
            continue
        if _close(x["value"], y["value"]) and x["unit"] == y["unit"]:
            continue
        change = f"{name} {_g(x['value'])} → {_g(y['value'])} {y['unit']}"
        if y["origin"] == "portfolio" or x["origin"] == "portfolio":
            causes.append(_("input changed: {change}").format(change=change))
        elif str(y["origin"]).startswith("default") or str(x["origin"]).startswith("default"):
            causes.append(_("methodology default changed: {change} ({origin})").format(change=change, origin=y["origin"]))
        elif str(y["origin"]).startswith("factor table"):
            causes.append(_("factor changed: {change} ({origin})").format(change=change, origin=y["origin"]))
        else:
            causes.append(_("changed: {change}").format(change=change))
    if not causes and methodology_change:
        causes.append(_("{change} (its formulas)").format(change=methodology_change))
    if not causes and engine_changed:
        causes.append(_("the engine changed"))
    return causes or [_("the result file does not match its own inputs (edited after it was written?)")]


def _g(value) -> str:
    """An input's value in a difference: 10 significant digits; none (null in the result) as null."""
    return "null" if value is None else f"{value:.10g}"


def report(result: Verification) -> list[str]:
    """Lines for the console."""
    lines = [_("note: {note}").format(note=n) for n in result.notes]
    lines += [_("DIFFERS: {difference}").format(difference=d) for d in result.differences]
    lines.append(_("The result stands: every figure reproduces.") if result.stands
                 else _("The result does not stand: {count} difference(s).").format(count=len(result.differences)))
    return lines


__all__ = ["KokenErrors", "Verification", "report", "verify"]
