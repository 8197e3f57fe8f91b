"""Audit traces: how one product line's figures were obtained, recomputed independently with units.

A trace is a tree. Its root holds the single-year and lifetime results; below them are the formula
steps (as written and as rendered from the sympy tree), and below those every input with its value,
unit and origin: a portfolio cell (file, row, column), a methodology default (with its source), or a
factor-table entry (table, key, source, year). A unit conversion is a node of its own. Nothing
happens off the record: if koken filled, converted or looked something up, the trace shows it.

The trace recomputes each step with Pint quantities, per row (the slow, unit-carrying path that the
vectorised kernel avoids), so an auditor gets a second, independent computation; the test suite
checks that both agree for every example of every methodology.

Design sources: OpenFisca's tracer (a tree of computed variables with their parameters) and
boaviztapi's per-value provenance (value, unit, status, source), with a versioned format
(PolicyEngine's request for versioned trace exports, policyengine-core #512).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pint

from koken.base.errors import EvaluationError, KokenError, KokenErrors, Location, PortfolioError, UnitError
from koken.base.i18n import N_, _, named, pick
from koken.base.units import conversion_factor, parse_unit, registry
from koken.base.version import __version__
from koken.base.vocabulary import AVOIDED_STEP, DISTRIBUTION_KINDS, FACTOR_BASES, FACTOR_STATUSES, MARKETS, RESULT_UNIT
from koken.factors import fill_from_tables, load_factor_tables
from koken.formula.quantities import evaluate_quantity
from koken.methodology import Methodology
from koken.methodology.evaluate import FIGURE_OVERFLOWS, bad_shipment, line_value, missing_value, out_of_range, step_not_finite

TRACE_FORMAT = "koken-trace"
TRACE_FORMAT_VERSION = 1

KIND_LABELS = {"result": N_("result"), "step": N_("step"), "input": N_("input"), "conversion": N_("conversion"),
               "default": N_("default"), "factor": N_("factor"), "shipment": N_("shipment")}
"""How the text and Markdown renderings name each node kind (the JSON keeps the kind itself)."""

SOURCE_LABELS = {"command line": N_("command line"), "example": N_("example"), "portfolio": N_("portfolio")}
"""How the renderings name an input's origin ``source`` (the JSON keeps the source itself)."""


@dataclass
class TraceNode:
    """One node of a trace.

    Attributes:
        kind: ``result``, ``step``, ``input``, ``conversion``, ``default``, ``factor`` or ``shipment``.
        name: parameter, step or result name.
        value: the value (float) in ``unit``; None for a node without a value.
        unit: unit text.
        detail: formula text and LaTeX (steps), origin (inputs), factors (conversions), sources.
        children: nodes this one depends on.
    """

    kind: str
    name: str
    value: float | None
    unit: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    children: list[TraceNode] = field(default_factory=list)

    def __str__(self) -> str:
        """The tree as ``koken trace`` prints it (indented, every value with its unit and origin)."""
        return "\n".join(render_text(self))

    def to_dict(self, depth: int | None = None, _seen: set[int] | None = None) -> dict:
        """JSON-ready dict; ``depth`` limits how many levels of children are kept (None = all).

        A node that several others depend on is written in full once; later mentions carry
        ``"shown_above": true`` and no children, so shared steps cannot multiply the output.
        """
        seen = set() if _seen is None else _seen
        out = {"kind": self.kind, "name": self.name, "value": self.value, "unit": self.unit}
        if self.detail:
            out["detail"] = self.detail
        if self.children and id(self) in seen:
            out["shown_above"] = True
            return out
        if self.children and (depth is None or depth > 0):
            seen.add(id(self))
            out["children"] = [c.to_dict(None if depth is None else depth - 1, seen) for c in self.children]
        elif self.children:
            out["children_omitted"] = len(self.children)
        return out


@dataclass(frozen=True)
class TraceInput:
    """An input as it entered: the quantity as given and where it came from."""

    quantity: pint.Quantity
    origin: dict[str, Any]


def trace_calculation(m: Methodology, inputs: dict[str, TraceInput], shipped: TraceInput | None,
                      context: dict[str, Any]) -> TraceNode:
    """Trace one product line of methodology ``m``.

    Args:
        m: compiled methodology.
        inputs: parameter name → TraceInput (scalar quantities); missing required parameters are
            errors, parameters with defaults take them (recorded as ``default`` nodes).
        shipped: units shipped with its origin, or None (then only per-unit figures).
        context: what identifies the line (file, row, product_line, fiscal_year, market, region).
    Returns:
        The root TraceNode (kind ``result``).
    Raises:
        KokenErrors: missing inputs, incompatible units, values outside ranges, division by zero.
    """
    ureg = registry()
    errors: list[KokenError] = []
    env: dict[str, pint.Quantity] = {}
    nodes: dict[str, TraceNode] = {}
    where = Location(file=context.get("file"), sheet=context.get("sheet"), row=context.get("row"))
    for name, p in m.parameters.items():
        given = inputs.get(name)
        if given is None:
            if p.default is None:
                errors.append(PortfolioError(missing_value(m, p), where.at(column=name)))
                continue
            src = _source(m, p.default_source) or _default_reason(m, name)
            node = TraceNode("default", name, float(p.default), p.unit_text,
                             {"origin": {"source": "methodology default", "source_id": p.default_source, **src}})
            env[name] = ureg.Quantity(float(p.default), p.unit)
            nodes[name] = node
            continue
        q = given.quantity
        try:
            factor = conversion_factor(q.units, p.unit, name, where.at(column=name))
        except UnitError as err:
            errors.append(err)
            continue
        value = float(q.magnitude) * factor
        node = TraceNode("input", name, value, p.unit_text, {"origin": given.origin})
        if q.units != p.unit:
            node.children.append(TraceNode("conversion", name, float(q.magnitude), f"{q.units:~}",
                                           {"to": p.unit_text, "factor": factor,
                                            "as_written": given.origin.get("as_written", f"{q:~}")}))
        if (p.low is not None and value < p.low) or (p.high is not None and value > p.high) or not math.isfinite(value):
            errors.append(PortfolioError(out_of_range(p, f"{value:g} {p.unit_text}"), where.at(column=name)))
        env[name] = ureg.Quantity(value, p.unit)
        nodes[name] = node
    if errors:
        raise KokenErrors(errors)
    for step in m.steps:
        try:
            raw = evaluate_quantity(step.expression, env)
            if isinstance(getattr(raw, "magnitude", raw), complex):
                raise TypeError("complex")
        except ZeroDivisionError:
            raise KokenErrors([EvaluationError(_("step {step!r} ({formula}) divides by zero").format(
                step=step.name, formula=step.text), where.at(step=step.name))]) from None
        except (TypeError, ValueError, OverflowError):
            raise KokenErrors([EvaluationError(_("step {step!r} ({formula}) gives no real, finite number with these "
                                                 "inputs").format(step=step.name, formula=step.text),
                                               where.at(step=step.name))]) from None
        value_q = raw.to(step.unit) if isinstance(raw, pint.Quantity) else ureg.Quantity(float(raw), step.unit)
        value = float(value_q.magnitude)
        if not math.isfinite(value):
            raise KokenErrors([EvaluationError(step_not_finite(step), where.at(step=step.name))])
        env[step.name] = value_q
        spec_unit = next((f.unit for f in m.spec.formulas if f.name == step.name), None)
        node = TraceNode("step", step.name, value, spec_unit or f"{step.unit:~}",
                         {"formula": step.text.strip(), "latex": m.step_latex(step.name),
                          "order": len(nodes) - len(m.parameters)},
                         [nodes[a] for a in step.args])
        nodes[step.name] = node
    year = parse_unit("year", m.spec.hours_per_year)
    avoided = env[AVOIDED_STEP]
    years = env[m.spec.operating_years].to(year)
    root = TraceNode("result", m.id, None, None, {
        "format": TRACE_FORMAT, "format_version": TRACE_FORMAT_VERSION, "koken_version": __version__,
        "methodology": {"id": m.id, "version": m.version, "content_hash": m.content_hash, "path": m.path},
        **{k: v for k, v in context.items() if v not in (None, "")},
    })
    unit_text = f"kg-CO2e/{m.spec.functional_unit.unit}/yr"
    per_unit = avoided.to(parse_unit(unit_text, m.spec.hours_per_year))
    root.children.append(TraceNode("result", "avoided_per_unit_year", float(per_unit.magnitude), unit_text,
                                   {"formula": _("the last formula step, per functional unit and year")},
                                   [nodes[AVOIDED_STEP]]))
    if shipped is not None:
        try:
            factor = conversion_factor(shipped.quantity.units, m.shipment_unit, "units_shipped",
                                       where.at(column="units_shipped"))
        except UnitError as err:
            raise KokenErrors([err]) from None
        n_units = float(shipped.quantity.magnitude) * factor
        if not (math.isfinite(n_units) and n_units >= 0):
            raise KokenErrors([PortfolioError(bad_shipment(n_units), where.at(column="units_shipped"))])
        ship_node = TraceNode("shipment", "units_shipped", n_units, m.spec.functional_unit.unit,
                              {"origin": shipped.origin})
        if shipped.quantity.units != m.shipment_unit:
            ship_node.children.append(TraceNode(
                "conversion", "units_shipped", float(shipped.quantity.magnitude), f"{shipped.quantity.units:~}",
                {"to": m.spec.functional_unit.unit, "factor": factor,
                 "as_written": shipped.origin.get("as_written", f"{shipped.quantity:~}")}))
        n_q = ureg.Quantity(n_units, m.shipment_unit)
        result_unit = parse_unit(RESULT_UNIT)
        single = (n_q * avoided * ureg.Quantity(1.0, year)).to(result_unit)
        lifetime = (n_q * avoided * years).to(result_unit)
        if not (math.isfinite(single.magnitude) and math.isfinite(lifetime.magnitude)):
            raise KokenErrors([EvaluationError(_(FIGURE_OVERFLOWS), where)])
        years_node = nodes[m.spec.operating_years]
        root.children.insert(0, TraceNode(
            "result", "single_year", float(single.magnitude), RESULT_UNIT,
            {"formula": "units_shipped × avoided_per_unit_year × 1 year", "timeframe": "single-year (単年度)"},
            [ship_node, nodes[AVOIDED_STEP]]))
        root.children.insert(1, TraceNode(
            "result", "lifetime", float(lifetime.magnitude), RESULT_UNIT,
            {"formula": f"units_shipped × avoided_per_unit_year × {m.spec.operating_years}",
             "timeframe": "lifetime (稼働年数)"}, [ship_node, nodes[AVOIDED_STEP], years_node]))
    return root


def _default_reason(m: Methodology, name: str) -> dict:
    """A neutral default's reason (0 or 1: the term does not apply) as the trace's origin, in both languages."""
    spec = m.spec.parameters.get(name)
    reason = getattr(spec, "default_reason", None)
    return {"reason": {"ja": reason.ja, "en": reason.en}} if reason is not None else {}


def _source(m: Methodology, sid: str | None) -> dict:
    src = next((s for s in m.spec.sources if s.id == sid), None)
    if src is None:
        return {}
    return {k: v for k, v in {"title": src.title, "publisher": src.publisher, "year": src.year, "url": src.url}.items()
            if v is not None}


def traced_positions(portfolio, rows: list[int] | None = None, sheet: str | None = None) -> list[int]:
    """The positions in ``portfolio`` of the product lines to trace: every one (of ``sheet``) in file order, or those
    of the file rows ``rows``, in the order asked.

    Raises:
        KokenErrors: as :func:`trace_portfolio`.
    """
    if rows and sheet is None and portfolio.sheet is None:  # one table: each row asked for found at C speed
        file_rows = np.asarray(portfolio.rows)
        found = [np.flatnonzero(file_rows == int(r)) for r in rows]
        if all(len(f) == 1 for f in found):
            return [int(f[0]) for f in found]
    sheets = [str(v) for v in portfolio.sheet] if portfolio.sheet is not None else [""] * len(portfolio)
    where = Location(file=portfolio.path)
    if sheet is not None and sheet not in sheets:
        raise KokenErrors([PortfolioError(_("no product lines on sheet {sheet!r} (the sheets read: {sheets})").format(
            sheet=sheet, sheets=", ".join(dict.fromkeys(s for s in sheets if s)) or "—"), where)])
    by_row: dict[int, list[int]] = {}
    for i, r in enumerate(portfolio.rows):
        if sheet is None or sheets[i] == sheet:
            by_row.setdefault(int(r), []).append(i)
    wanted = [i for r in sorted(by_row) for i in by_row[r]] if rows is None else []
    unknown, ambiguous = [], []
    for r in rows or []:
        found = by_row.get(int(r), [])
        if not found:
            unknown.append(r)
        elif len(found) > 1:
            ambiguous.append((r, [sheets[i] for i in found]))
        else:
            wanted.append(found[0])
    if unknown or ambiguous:
        known = sorted(by_row)
        shown = (f"{known[0]}-{known[-1]}" if known and known[-1] - known[0] + 1 == len(known)
                 else ", ".join(map(str, known[:10])) + (" …" if len(known) > 10 else ""))
        problems = [PortfolioError(_("row {row} is not a product line of the file (product lines are rows "
                                     "{rows})").format(row=r, rows=shown), where.at(sheet=sheet)) for r in unknown]
        problems += [PortfolioError(_("row {row} is on several sheets ({sheets}): name one with --sheet").format(
            row=r, sheets=", ".join(on)), where) for r, on in ambiguous]
        raise KokenErrors(problems)
    return wanted


def trace_portfolio(calc, rows: list[int] | None = None, sheet: str | None = None) -> list[TraceNode]:
    """Traces of product lines of a calculated portfolio (all, or the given file rows).

    Args:
        calc: an :class:`koken.calculation.Calculation`.
        rows: file row numbers (as in error messages and the result's ``row`` column).
        sheet: in a workbook read from several sheets, the sheet the rows are on (its ``sheet`` column); needed
            when a row number is on more than one sheet.
    Returns:
        One TraceNode per row, in file order.
    Raises:
        KokenErrors: a requested row that is not a product line of the file (or of ``sheet``), a row number on
            several sheets without ``sheet``, a sheet the portfolio does not have.
    """
    portfolio = calc.portfolio
    sheets = [str(v) for v in portfolio.sheet] if portfolio.sheet is not None else [""] * len(portfolio)
    wanted = traced_positions(portfolio, rows, sheet)
    positions = {}
    for batch in calc.batches:
        for j, i in enumerate(batch.index):
            positions[int(i)] = (batch, j)
    traces = []
    ureg = registry()
    for i in wanted:
        r = int(portfolio.rows[i])
        batch, j = positions[i]
        m = batch.methodology
        inputs: dict[str, TraceInput] = {}
        for name in m.parameters:
            column = portfolio.parameters.get(name)
            cell = None
            if column is not None and not np.isnan(column[0][i]):
                value, unit_text, header = float(column[0][i]), str(column[1][i]), column[2]
                cell = TraceInput(ureg.Quantity(value, parse_unit(unit_text, m.spec.hours_per_year)),
                                  {**_cell_origin(portfolio, i, header),
                                   "as_written": _with_range(portfolio, name, i, f"{value:g} {unit_text}")})
            elif name in batch.factor_origins and batch.factor_origins[name].from_table[j]:
                origin = batch.factor_origins[name]
                table = _table_of(m.parameters[name].factor_table, origin, j)
                described = table.origin(str(origin.keys[j]))
                if origin.stale[j]:
                    described = {**dict(list(described.items())[:3]),
                                 "stale": _("the table has no value for FY{year}; the earlier year shown stands in "
                                            "(--allow-stale-factors)").format(year=int(portfolio.fiscal_year[i])),
                                 **dict(list(described.items())[3:])}
                cell = TraceInput(ureg.Quantity(table.entry(str(origin.keys[j])).value, table.unit), described)
            if cell is not None:
                inputs[name] = cell
        values, units, header = portfolio.units_shipped
        shipped = TraceInput(ureg.Quantity(float(values[i]), parse_unit(str(units[i]), m.spec.hours_per_year)),
                             {**_cell_origin(portfolio, i, header), "as_written": f"{float(values[i]):g} {units[i]}"})
        context = {"file": portfolio.path, "input_sha256": portfolio.sha256, "row": r,
                   **({"sheet": sheets[i]} if sheets[i] else {}),
                   "product_line": str(portfolio.product_line[i]), "fiscal_year": int(portfolio.fiscal_year[i]),
                   "market": str(portfolio.market[i]), "region": str(portfolio.region[i])}
        traces.append(trace_calculation(m, inputs, shipped, context))
    return traces


def _with_range(portfolio, name: str, i: int, written: str) -> str:
    """A value as written, with the row's range when it has one (docs/uncertainty.md): the figures traced are the
    point run's, at the central value."""
    column = portfolio.uncertain.get(name)
    if column is None or column.kind[i] < 0:
        return written
    (low, low_units, _h), (high, high_units, _g) = column.low, column.high
    return _("{value} (uncertain: {kind} from {low} to {high}; the point figures use {value})").format(
        value=written, kind=DISTRIBUTION_KINDS[column.kind[i]], low=f"{low[i]:g} {low_units[i]}".strip(),
        high=f"{high[i]:g} {high_units[i]}".strip())


def _cell_origin(portfolio, i: int, header: str) -> dict:
    """Where a portfolio value was read: file, row and column as written; in a workbook also sheet and cell."""
    place = portfolio.location(i, header)
    origin = {"source": "portfolio", "file": portfolio.path, "row": int(portfolio.rows[i]), "column": place.column}
    if place.sheet:
        origin.update(sheet=place.sheet, **({"cell": place.cell} if place.cell else {}))
    return origin


def parse_settings(m: Methodology, settings: list[str]) -> tuple[dict[str, TraceInput], TraceInput | None]:
    """``name=value unit`` strings (``koken trace ID --set``) → trace inputs.

    Raises:
        KokenErrors: malformed settings, unknown names, bad quantities, a name set twice.
    """
    inputs: dict[str, TraceInput] = {}
    shipped = None
    errors: list[KokenError] = []
    given: dict[str, str] = {}
    for text in settings:
        name, sep, raw = text.partition("=")
        name = name.strip()
        where = Location(field=f"--set {text}")
        if not sep:
            errors.append(PortfolioError(_("expected name=value unit, e.g. baseline_annual_energy='420 kWh/yr'"), where))
            continue
        if name in given:  # the last one silently won: say which value is meant
            errors.append(PortfolioError(_("{name} is set twice (also --set {first}): give each input once").format(
                name=name, first=given[name]), where))
            continue
        given[name] = text
        try:
            q = line_value(m, name, raw, where)
        except KokenError as err:
            errors.append(err)
            continue
        entry = TraceInput(q, {"source": "command line", "as_written": raw.strip()})
        if name == "units_shipped":
            shipped = entry
        else:
            inputs[name] = entry
    if errors:
        raise KokenErrors(errors)
    return inputs, shipped


def trace_settings(m: Methodology, settings: list[str], region: str | None = None,
                   fiscal_year: int | None = None) -> TraceNode:
    """The trace of one calculation from ``name=value unit`` settings (``koken trace ID --set``); factor tables
    fill the parameters not set, by ``region`` and ``fiscal_year``.

    Args:
        m: the methodology.
        settings: ``"baseline_annual_energy=420 kWh/yr"`` …; ``units_shipped=…`` adds the contributions.
        region, fiscal_year: keys for factor-table look-ups (``JP``, 2023).
    Returns:
        TraceNode: the calculation tree, every input with its origin (command line or factor-table entry).
    Raises:
        KokenErrors: malformed settings, unknown names, bad quantities, a factor the tables cannot give
            (with the keys they hold), a required value missing.
    """
    inputs, shipped = parse_settings(m, settings)
    given = {"region": region, "fiscal_year": fiscal_year}
    unset = {name: p for name, p in m.parameters.items()  # tables whose row keys were all given
             if p.factor_table is not None and name not in inputs
             and all(given.get(k) is not None for k in p.factor_table.spec.keys if k not in p.factor.key)}
    if unset:
        where = Location(field="--region/--fiscal-year")
        _filled, origins, problems, _unused = fill_from_tables(unset, {}, np.array([region or ""], dtype=object),
                                                        np.array([fiscal_year or 0]), 1, lambda i: where)
        if problems:
            raise KokenErrors(problems)
        for name, origin in origins.items():
            table = _table_of(unset[name].factor_table, origin, 0)
            label = str(origin.keys[0])
            inputs[name] = TraceInput(registry().Quantity(table.entry(label).value, table.unit), table.origin(label))
    context = {"source": "command line", "region": region, "fiscal_year": fiscal_year}
    return trace_calculation(m, inputs, shipped, context)


def render_text(node: TraceNode, depth: int | None = None, indent: str = "",
                seen: set[int] | None = None) -> list[str]:
    """A plain-text tree, one line per node, in the current language (values, units and names as they are);
    a subtree shown once is referred to after that.

    Args:
        node: the root (or any node).
        depth: levels to show below ``node`` (None = all).
    """
    seen = set() if seen is None else seen
    if node.kind == "result" and node.name not in ("single_year", "lifetime", "avoided_per_unit_year"):
        d = node.detail
        meth = d.get("methodology", {})
        head = [_where_text(d) + (f": {d['product_line']}" if d.get("product_line") else ""),
                _(", ").join(part for part in (
                    _("methodology {id} {version} ({content_hash}), koken {koken_version}").format(
                        id=meth.get("id"), version=meth.get("version"), content_hash=meth.get("content_hash"),
                        koken_version=d.get("koken_version")),
                    _fiscal_year(d["fiscal_year"]) if d.get("fiscal_year") else "",
                    " ".join(x for x in (_market(d.get("market") or ""), str(d.get("region") or "")) if x)) if part)]
        lines = [indent + h for h in head]
        for child in node.children:
            lines += render_text(child, depth, indent + "  ", seen)
        return lines
    value = "" if node.value is None else f" = {node.value:.10g} {node.unit or ''}".rstrip()
    extra = f"    [{node.detail['formula']}]" if "formula" in node.detail else ""
    origin = node.detail.get("origin")
    if origin:
        extra = "    <- " + _origin_text(origin)
    if node.kind == "conversion":
        extra = "    " + _given_as(node)
        value = ""
    label = _kind(node.kind)
    if node.children and id(node) in seen:
        return [f"{indent}{label} {node.name}{value}    " + _("(shown above)")]
    lines = [f"{indent}{label} {node.name}{value}{extra}"]
    if node.children and (depth is None or depth > 0):
        seen.add(id(node))
        for child in node.children:
            lines += render_text(child, None if depth is None else depth - 1, indent + "  ", seen)
    elif node.children:
        lines.append(f"{indent}  " + _("… {count} more (raise --depth)").format(count=len(node.children)))
    return lines


def _kind(kind: str) -> str:
    """A node kind as the renderings name it (``input`` → 入力 in Japanese)."""
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def _where_text(d: dict) -> str:
    """The root's place: the file and row (``a.csv row 9``), or the command line."""
    file = d.get("file")
    if file is None:
        return _(SOURCE_LABELS["command line"])
    if "row" in d and d.get("sheet"):
        return _("{file} sheet {sheet!r} row {row}").format(file=file, sheet=d["sheet"], row=d["row"])
    if "row" in d:
        return _("{file} row {row}").format(file=file, row=d["row"])
    return str(file)


def _fiscal_year(year) -> str:
    return _("FY{year}").format(year=year)


def _market(market: str) -> str:
    """A market id as the renderings show it: the id in English (``domestic``), its name in Japanese (国内)."""
    term = next((m for m in MARKETS if m.id == market), None)
    return market if term is None else pick(term.ja, term.id)


def _given_as(conversion: TraceNode) -> str:
    return _("(given as {as_written}; × {factor} to {unit})").format(
        as_written=conversion.detail.get("as_written"), factor=f"{conversion.detail['factor']:g}",
        unit=conversion.detail["to"])


KEY_LABELS = {"region": N_("region"), "fiscal_year": N_("fiscal_year"), "fuel": N_("fuel"), "gas": N_("gas")}
"""The keys of factor tables as a trace names them (the key itself in English: ``region JP, fiscal_year 2023``)."""


def _origin_text(origin: dict) -> str:
    source = origin.get("source")
    if source == "portfolio":
        if origin.get("cell"):
            return _("{file} sheet {sheet!r} cell {cell} column {column!r}: {as_written}").format(
                file=origin["file"], sheet=origin["sheet"], cell=origin["cell"], column=origin["column"],
                as_written=origin["as_written"])
        return _("{file} row {row} column {column!r}: {as_written}").format(
            file=origin["file"], row=origin["row"], column=origin["column"], as_written=origin["as_written"])
    if source == "factor table":
        key = _(", ").join(f"{_(KEY_LABELS[k]) if k in KEY_LABELS else k} {v}" for k, v in origin["key"].items())
        described = _(", ").join(x for x in (named(origin.get("basis") or "", FACTOR_BASES),
                                             named(origin.get("entry_status") or "", FACTOR_STATUSES)) if x)
        text = _("factor table {table} [{key}] ({described}) — {title} ({publisher}, {year})").format(
            table=origin["table"], key=key, described=described,
            title=origin["title"], publisher=origin["publisher"], year=origin["year"])
        return text + (f"; {origin['stale']}" if origin.get("stale") else "")
    if source == "methodology default":
        if "reason" in origin:
            return _("methodology default — {source}").format(source=pick(origin["reason"]["ja"], origin["reason"]["en"]))
        return _("methodology default — {source}").format(source=origin.get("title", origin.get("source_id")))
    label = _(SOURCE_LABELS[source]) if source in SOURCE_LABELS else source
    return f"{label}: {origin.get('as_written', '')}"


def render_markdown(traces: list[TraceNode]) -> str:
    """Markdown for people, in the current language: one section per row, formulas as LaTeX, an inputs table
    with sources."""
    out = ["# " + _("koken calculation trace"), ""]
    if traces:
        head = traces[0].detail
        out += [_("Trace format {format} v{format_version}, koken {koken_version}.").format(
            format=TRACE_FORMAT, format_version=TRACE_FORMAT_VERSION, koken_version=head.get("koken_version")), ""]
    for t in traces:
        d = t.detail
        title = ((_("Sheet {sheet!r}, row {row}: {product_line}").format(
            sheet=d["sheet"], row=d["row"], product_line=d.get("product_line", "")) if d.get("sheet") else
                  _("Row {row}: {product_line}").format(row=d["row"], product_line=d.get("product_line", "")))
                 if "row" in d else f"{t.name}")
        meth = d["methodology"]
        out += [f"## {title}".rstrip(), "",
                (_("Methodology `{id}` {version} (`{content_hash}`); {fiscal_year}, {market} {region}")
                 if "fiscal_year" in d else _("Methodology `{id}` {version} (`{content_hash}`)")).format(
                    id=meth["id"], version=meth["version"], content_hash=meth["content_hash"],
                    fiscal_year=_fiscal_year(d.get("fiscal_year")), market=_market(d.get("market", "")),
                    region=d.get("region", "")),
                ""]
        results = [c for c in t.children if c.kind == "result"]
        if results:
            out += ["| " + " | ".join([_("result"), _("value"), _("unit"), _("formula")]) + " |", "|---|---|---|---|"]
            out += [f"| {c.name} | {c.value:,.6g} | {c.unit} | {c.detail['formula']} |" for c in results]
            out.append("")
        steps, inputs = _collect(t)
        out += ["### " + _("Formula steps"), ""]
        for s in steps:
            out += [f"**{s.name}** = {s.value:.10g} {s.unit}", "", "$$", s.detail["latex"], "$$", ""]
        out += ["### " + _("Inputs"), "", "| " + " | ".join([_("input"), _("value"), _("unit"), _("origin")]) + " |",
                "|---|---|---|---|"]
        for node in inputs:
            conv = next((c for c in node.children if c.kind == "conversion"), None)
            note = " " + _("(given as {as_written})").format(as_written=conv.detail.get("as_written")) if conv else ""
            out.append(f"| {node.name} | {node.value:.10g}{note} | {node.unit} | "
                       f"{_origin_text(node.detail['origin']).replace('|', '/')} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _collect(root: TraceNode) -> tuple[list[TraceNode], list[TraceNode]]:
    steps: dict[str, TraceNode] = {}
    inputs: dict[str, TraceNode] = {}

    def walk(node: TraceNode) -> None:
        for child in node.children:
            if child.kind == "step" and "latex" in child.detail:
                steps.setdefault(child.name, child)
            elif child.kind in ("input", "default", "shipment"):
                inputs.setdefault(child.name, child)
            walk(child)

    walk(root)
    return sorted(steps.values(), key=lambda n: n.detail.get("order", 0)), list(inputs.values())


def render(traces: list[TraceNode], fmt: str = "text", depth: int | None = None) -> str:
    """Traces as ``text`` (an indented tree), ``json`` (the versioned ``koken-trace`` format) or ``markdown``.

    Raises:
        ValueError: another format.
    """
    import json

    if fmt == "json":
        return json.dumps([t.to_dict(depth) for t in traces], ensure_ascii=False, indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(traces)
    if fmt == "text":
        return "\n\n".join("\n".join(render_text(t, depth)) for t in traces) + "\n"
    raise ValueError(f"unknown trace format {fmt!r}")


def _table_of(declared, origin, j: int):
    """The factor table that supplied row ``j``'s value: the parameter's own, or for a GWP (the table ``gwp``) the set
    the run's rule gave the row's fiscal year."""
    if origin.tables is None:
        return declared
    tables, _problems = load_factor_tables()
    return tables[origin.table_of(j)]
