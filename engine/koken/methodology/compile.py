"""Read, check and compile methodology files (worked examples are run by :mod:`koken.library`).

Loading a methodology (``methodologies/<category>/<id>.yaml``) goes through four gates, and every
problem of every gate is collected before anything is raised (so ``koken validate`` reports all):

1. safe YAML under limits (:mod:`koken.base.safe_yaml`);
2. the pydantic format (:mod:`koken.methodology.schema`), unknown keys being errors;
3. references: file path matches category and id, source ids exist, names are unique and not
   reserved, ``operating_years`` names a parameter or step, ``avoided_per_unit_year`` exists;
4. units and formulas: every unit parses, every formula passes the whitelist parser
   (:mod:`koken.formula.parse`), every step's unit follows from its operands (:mod:`koken.formula.dimensions`),
   ``avoided_per_unit_year`` is GHG mass per functional unit per year and ``operating_years`` a time.

The result is a :class:`Methodology` whose steps are lambdified numpy functions over
magnitudes in Pint base units (SI plus koken's CO2e and item dimensions), so the kernel never
touches Pint per row.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pint
import pydantic
import sympy

from koken.base.errors import FormulaError, KokenError, KokenErrors, Location, MethodologyError, UnitError
from koken.base.i18n import _
from koken.base.models import validation_problems
from koken.base.paths import display_path, units_dir
from koken.base.safe_yaml import load_yaml_file
from koken.base.units import (
    check_multiplicative,
    conversion_factor,
    dimension_text,
    is_dimensionless,
    parse_unit,
    registry,
)
from koken.base.vocabulary import (
    AVOIDED_STEP,
    BASELINE_STEP,
    PRODUCT_STEP,
    RESERVED_NAMES,
    RESULT_UNIT,
    STANDARD_HEADERS,
)
from koken.factors import (
    GWP_TABLE,
    ROW_KEYS,
    FactorTable,
    fixed_key_problem,
    gwp_reference_problems,
    gwp_rule,
    load_factor_tables,
)
from koken.formula.dimensions import infer_unit
from koken.formula.kernel import compile_kernel
from koken.formula.latex import step_latex
from koken.formula.mathml import step_mathml
from koken.formula.parse import literal_numbers, parse_formula
from koken.methodology.evaluate import LineResult, LineValue, evaluate_line
from koken.methodology.extend import extension_of, merge
from koken.methodology.schema import FactorRef, MethodologySpec, parameter_headers
from koken.uncertainty import Distribution, DistributionError


@dataclass(frozen=True)
class CompiledParameter:
    """A parameter ready for evaluation.

    Attributes:
        name: parameter name.
        unit: declared unit; portfolio values are converted to it first (range check), then
            multiplied by ``to_base`` to reach the kernel's base-unit magnitude.
        to_base: factor declared unit → Pint base units.
        default: default value in ``unit`` or None when the portfolio must supply it.
        low, high: allowed range in ``unit`` (None = open).
        aliases: other accepted column headers.
    """

    name: str
    unit: pint.Unit
    unit_text: str
    to_base: float
    default: float | None
    default_source: str | None
    low: float | None
    high: float | None
    aliases: tuple[str, ...]
    factor: FactorRef | None = None
    """The parameter's table reference (table and fixed keys), or None."""
    factor_table: FactorTable | None = None
    """The loaded factor table the parameter reads when the portfolio leaves it empty."""
    default_distribution: Distribution | None = None
    """The default's uncertainty (its central value is the default), in ``unit``; None: the default is a point."""


@dataclass(frozen=True)
class CompiledStep:
    """A formula step: sympy expression, its unit and its numpy kernel.

    ``function(*arrays)`` takes base-unit magnitudes of ``args`` (parameters and earlier steps, in
    that order) and returns the step's base-unit magnitude; ``to_unit`` converts that to ``unit``.
    """

    name: str
    text: str
    expression: sympy.Expr
    unit: pint.Unit
    to_unit: float
    args: tuple[str, ...]
    function: Callable[..., np.ndarray]
    low: float | None = None
    high: float | None = None
    """Allowed values in ``unit`` (the step's ``range``), checked per row by the evaluator."""
    unit_text: str | None = None
    """The unit as the file writes it (``yr``), for messages."""


@dataclass(frozen=True)
class Methodology:
    """A validated methodology, ready for vectorised evaluation."""

    spec: MethodologySpec
    path: str
    content_hash: str
    parameters: dict[str, CompiledParameter]
    steps: tuple[CompiledStep, ...]
    shipment_unit: pint.Unit
    shipment_to_base: float
    single_year_factor: float
    """base(units_shipped) × base(avoided) × one year → t-CO2e."""
    lifetime_factor: float
    """base(units_shipped) × base(avoided) × base(operating years) → t-CO2e."""
    operating_years_to_year: float
    column_names: dict[str, str] = field(default_factory=dict)
    """Every accepted header (name or alias) → parameter name."""
    warnings: tuple[str, ...] = ()
    """Findings that do not stop the file from loading (e.g. numeric literals in formulas)."""
    extends: str | None = None
    """The category methodology a product methodology is laid over (:mod:`koken.methodology.extend`)."""

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def category(self) -> str:
        return self.spec.category

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps)

    def step_latex(self, step_name: str) -> str:
        """LaTeX of one step, ``name = expression``, rendered from the compiled tree.

        Raises:
            KeyError: unknown step name.
        """
        step = {s.name: s for s in self.steps}[step_name]
        return step_latex(step.name, step.expression, (*self.parameters, *self.step_names))

    def step_mathml(self, step_name: str) -> str:
        """Presentation MathML of one step, ``<math display="block">name = expression</math>``, rendered from
        the compiled tree (the methodology pages; browsers draw it without a script).

        Raises:
            KeyError: unknown step name.
        """
        step = {s.name: s for s in self.steps}[step_name]
        return step_mathml(step.name, step.expression)

    def evaluate_one(self, inputs: Mapping[str, LineValue], units_shipped: LineValue | None = None,
                     region: str | None = None, fiscal_year: int | None = None) -> LineResult:
        """The figures of one product line, for a notebook or a quick check.

        Args:
            inputs: parameter name → ``"420 kWh/yr"``, a Pint quantity, or a bare number for a
                dimensionless parameter; parameters left out take their default or a factor-table value.
            units_shipped: e.g. ``"4.5 万台"``; without it only per-unit figures are computed.
            region: key for factor-table look-ups (e.g. ``"JP"``).
            fiscal_year: key for factor-table look-ups (e.g. 2023).
        Returns:
            LineResult: every step, avoided per functional unit and year, single-year and lifetime t-CO2e.
        Raises:
            KokenErrors: every problem (unknown names, missing or out-of-range values, no table entry).

        >>> from koken import load_library
        >>> fridge = load_library()["refrigerator"]
        >>> r = fridge.evaluate_one({"baseline_annual_energy": "420 kWh/yr", "product_annual_energy": "273 kWh/yr",
        ...                          "grid_emission_factor": "0.421 kg-CO2/kWh", "operating_years": "12 yr"},
        ...                         units_shipped="4.5 万台")
        >>> round(r.single_year.magnitude, 1), round(r.lifetime.magnitude), f"{r.lifetime.units:~}"
        (2784.9, 33419, 'CO2e * t')
        """
        given = dict(inputs)
        if units_shipped is not None:
            given["units_shipped"] = units_shipped
        result, tables = evaluate_line(self, given, region, fiscal_year, Location(file=f"evaluate_one({self.id})"))
        return LineResult.from_batch(result, tables)


def content_hash(spec: MethodologySpec, expressions: dict[str, sympy.Expr] | None = None) -> str:
    """sha256 of the methodology's canonical JSON: its identity for audits and the version lock.

    What it covers (docs/methodology-format.md, "Versions and the content hash"): every field of the file,
    prose included, so a version names exactly one text and a typo fix in a description is a patch release
    (1.0.0 → 1.0.1, ``koken diff`` shows it as a text-only change). Canonical: sorted keys, no whitespace,
    fields left at their defaults omitted (a new optional field in the format does not change the hash of
    files that do not use it), and each formula replaced by its parsed tree (:func:`formula_identity`), so
    ``a*b`` written as ``b*a`` is no change while ``a - b + c - c`` differs from ``a - b``.
    """
    data = spec.model_dump(mode="json", exclude_defaults=True)
    for step in data.get("formulas", []):
        if expressions and step["name"] in expressions:
            step["expression"] = formula_identity(expressions[step["name"]])
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def formula_identity(expr: sympy.Expr) -> str:
    """A formula tree as hashed: sympy's canonical form (operands flattened and ordered) when canonicalising
    only reorders, else the tree as it is evaluated.

    The kernel evaluates the tree as built (:mod:`koken.formula.kernel`); sympy's canonical form also cancels
    and merges terms (``a - b + c - c`` → ``a - b``, ``x*x/x`` → ``x``, ``2*3*a`` → ``6*a``), which compute
    other numbers (division by zero at ``x = 0``, rounding for large ``c``). Where the canonical form keeps
    every leaf of the tree (same symbols and numbers, same counts) it is used, so the hashes recorded in
    released results and in ``versions.lock`` stay valid; where it drops or merges a leaf, the tree as
    built is hashed, marked ``as-built:``.

    >>> from koken.formula.parse import parse_formula
    >>> formula_identity(parse_formula("a*b", {"a", "b"})) == formula_identity(parse_formula("b*a", {"a", "b"}))
    True
    >>> formula_identity(parse_formula("a - b + c - c", {"a", "b", "c"})).startswith("as-built:")
    True
    """
    canonical = expr.doit()
    if _leaves(canonical) == _leaves(expr):
        return sympy.srepr(canonical)
    return "as-built:" + sympy.srepr(expr)


def _leaves(expr: sympy.Basic) -> collections.Counter:
    """The symbols and numbers of a tree, with their counts."""
    return collections.Counter(sympy.srepr(a) for a in sympy.preorder_traversal(expr) if not a.args)


def read_specification(path: str | Path, categories: Mapping[str, MethodologySpec | None] | None = None
                       ) -> tuple[MethodologySpec, str | None]:
    """Read one methodology file as far as its specification: safe YAML, the format (pydantic) and, for a product
    file, its category laid under it (:mod:`koken.methodology.extend`). No unit, formula or reference is checked
    and nothing is compiled: :func:`read_methodology` does that (``koken calculate`` reads every file so far, and
    compiles only the methodologies a portfolio uses; docs/performance.md § Start-up).

    Args:
        path: ``methodologies/<category>/<id>.yaml``.
        categories: the category specifications a product file may ``extend``, by id; None for a category whose
            file cannot be read.
    Returns:
        (the specification, product files merged with their category; the id of the category it extends or None).
    Raises:
        KokenErrors: the file's YAML or format problems, an unknown or unreadable category, each naming file and field.
    """
    source = display_path(path)
    data = load_yaml_file(path)  # YamlError is a KokenError: let one surface alone
    if not isinstance(data, dict):
        raise KokenErrors([MethodologyError(_("top level must be a mapping of fields"), Location(file=source))])
    if "extends" not in data:
        try:
            return MethodologySpec.model_validate(data), None
        except pydantic.ValidationError as err:
            unknown = _("unknown key (check the spelling; see docs/methodology-format.md)")
            raise KokenErrors([MethodologyError(message, Location(file=source, field=where or None))
                               for where, message, _kind in validation_problems(err, unknown)]) from None
    extension = extension_of(data, source)
    base = (categories or {}).get(extension.extends)
    if base is None and extension.extends in (categories or {}):
        raise KokenErrors([MethodologyError(_("extends {id!r}, whose file cannot be read (its problems are listed "
                                              "with it)").format(id=extension.extends),
                                            Location(file=source, field="extends"))])
    if base is None:
        known = sorted(c.id for c in (categories or {}).values() if c is not None and c.kind == "category")
        raise KokenErrors([MethodologyError(_("extends {id!r}, which is no category methodology here (the "
                                              "category methodologies: {known})").format(
            id=extension.extends, known=", ".join(known) or "—"), Location(file=source, field="extends"))])
    return merge(base, extension, source), extension.extends


def read_methodology(path: str | Path, check_location: bool = True,
                     categories: Mapping[str, Methodology | None] | None = None) -> Methodology:
    """Read, validate and compile one methodology file (its worked examples are run by
    :func:`koken.library.load_methodology`, one layer up, since they need the evaluator and factor tables).

    A file read twice in one process (same bytes, same units and factor tables) is compiled once.

    Args:
        path: ``methodologies/<category>/<id>.yaml``.
        check_location: require ``<category>/<id>.yaml`` (off for a proposed file under review).
        categories: the category methodologies a product file may ``extend``, by id
            (:mod:`koken.methodology.extend`); None for a category whose file cannot be read (a product extending it
            is refused naming it so, not as an unknown category).
    Returns:
        Methodology.
    Raises:
        KokenErrors: every problem found, each naming file, field or step and what was expected.
    """
    source = display_path(path)
    key = _memo_key(path, source, check_location)
    if key is not None:  # a product's formulas are its category's too
        key = (*key, tuple(sorted((c.id, c.content_hash) for c in (categories or {}).values() if c is not None)))
    cached = _COMPILED.get(key) if key is not None else None
    if cached is not None:
        return cached
    spec, extends = read_specification(path, {cid: c.spec if c is not None else None
                                              for cid, c in (categories or {}).items()})
    base = (categories or {}).get(extends) if extends is not None else None
    compiled = compile_methodology(spec, source, check_location=check_location, extends=base)
    if key is not None:
        _COMPILED[key] = compiled
    return compiled


_COMPILED: dict[tuple, Methodology] = {}
"""This process's compiled methodologies, by the file's content hash (and the units and factor tables they
were compiled against): a file loaded twice (Dask workers receive the library per run) is compiled once.
Nothing of a methodology is kept on disk (a planted entry could change a formula): every run reads, parses and
compiles the file; the start-up cache (:mod:`koken.base.cache`) keeps only that its worked examples passed."""


def forget_compiled() -> None:
    """Drop this process's compiled methodologies (the library reads again without the cache)."""
    _COMPILED.clear()


def _memo_key(path: str | Path, source: str, check_location: bool) -> tuple | None:
    """sha256 of the file's bytes, of the units and factor definitions, and how it was loaded; None if
    the file cannot be read (loading then reports why)."""
    try:
        data = Path(path).read_bytes() if Path(path).is_file() else None
    except OSError:
        return None
    if data is None:
        return None
    return (hashlib.sha256(data).hexdigest(), source, check_location, definitions_key())


def definitions_key() -> tuple:
    """The unit definitions' and factor tables' hashes: what a compiled methodology also depends on."""
    tables, _problems = load_factor_tables()
    units = tuple(sorted((p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in units_dir().glob("*.txt")))
    return units, tuple(sorted((t.id, t.content_hash) for t in tables.values()))


def compile_methodology(spec: MethodologySpec, source: str = "<memory>",
                        check_location: bool = True, extends: Methodology | None = None) -> Methodology:
    """Check references, units and formulas of a parsed methodology and compile its kernels.

    Factor-table references are resolved against the bundled ``factors/`` tables. A pure function of
    its arguments and of the bundled units and factor tables (worked examples are not run here).

    Args:
        spec: the parsed file.
        source: where it came from, for messages and the result's provenance.
        check_location: require ``<category>/<id>.yaml`` when ``source`` is such a path.
        extends: the category methodology ``spec`` was laid over (recorded; ``spec`` already holds its part).
    Returns:
        Methodology.
    Raises:
        KokenErrors: every problem found.
    """
    tables, table_problems = load_factor_tables()
    errors: list[KokenError] = list(table_problems)
    unreadable = {Path(e.location.file).stem: Path(e.location.file).name for e in table_problems  # a table's id is
                  if e.location is not None and e.location.file}                                 # its file's name
    loc = Location(file=source)
    path = Path(source)
    if check_location and path.suffix in (".yaml", ".yml"):
        if path.stem != spec.id:
            errors.append(MethodologyError(_("file name {name!r} must be the id: {id}.yaml").format(
                name=path.name, id=spec.id), loc))
        if path.parent.name != spec.category:
            errors.append(MethodologyError(_("file is in folder {folder!r} but its category is {category!r}").format(
                folder=path.parent.name, category=spec.category), loc))
    source_ids = [s.id for s in spec.sources]
    for dup in {s for s in source_ids if source_ids.count(s) > 1}:
        errors.append(MethodologyError(_("source id {id!r} is used twice").format(id=dup),
                                       Location(file=source, field="sources")))
    known_sources = set(source_ids)
    for sid in spec.baseline.sources:
        if sid not in known_sources:
            errors.append(MethodologyError(_("unknown source id {id!r}").format(id=sid),
                                           Location(file=source, field="baseline.sources")))
    hours = spec.hours_per_year

    parameters: dict[str, CompiledParameter] = {}
    units: dict[str, pint.Unit] = {}
    column_names: dict[str, str] = {}
    for name, p in spec.parameters.items():
        ploc = Location(file=source, field=f"parameters.{name}")
        if name in RESERVED_NAMES:
            errors.append(MethodologyError(_("{name!r} is reserved for a portfolio column or a result").format(name=name),
                                           ploc))
        if p.default_source and p.default_source not in known_sources:
            errors.append(MethodologyError(_("unknown default_source {source!r}").format(source=p.default_source), ploc))
        try:
            unit = parse_unit(p.unit, hours, ploc)
            check_multiplicative(unit, p.unit, ploc)
        except UnitError as err:
            errors.append(err)
            continue
        low, high = p.range if p.range else (None, None)
        if p.range is None and _is_share(unit):
            low, high = _implicit_fraction_range(unit)
        if p.default is not None:
            if (low is not None and p.default < low) or (high is not None and p.default > high):
                errors.append(MethodologyError(_("default {default} is outside the range [{low}, {high}]").format(
                    default=p.default, low=low, high=high), ploc))
        distribution = None
        if p.default_distribution is not None:
            distribution, problem = _default_distribution(p.default, p.default_distribution, p.unit, low, high,
                                                          known_sources)
            if problem:
                errors.append(MethodologyError(problem, Location(file=source,
                                                                 field=f"parameters.{name}.default_distribution")))
        table = None
        if p.factor is not None and p.factor.table == GWP_TABLE:  # the GWP set of the row's year, by the run's rule
            problems = gwp_reference_problems(p.factor.key)
            errors.extend(MethodologyError(problem, ploc) for problem in problems)
            try:  # the default rule's first set, to check the unit (a broken rules file is among table_problems)
                table = tables.get(gwp_rule(None).periods[0][1]) if not problems else None
            except (KokenError, KokenErrors):
                table = None
            if table is not None:
                try:
                    conversion_factor(table.unit, unit, _("factor table {table}").format(table=GWP_TABLE), ploc)
                except UnitError as err:
                    errors.append(err)
        elif p.factor is not None:
            table = tables.get(p.factor.table)
            if table is None and p.factor.table in unreadable:
                errors.append(MethodologyError(_("factor table {table!r} cannot be read: its file {file} has problems "
                                                 "(listed with it)").format(table=p.factor.table,
                                                                            file=unreadable[p.factor.table]), ploc))
            elif table is None:
                errors.append(MethodologyError(_("unknown factor table {table!r} (tables: {tables})").format(
                    table=p.factor.table, tables=", ".join(sorted(tables))), ploc))
            else:
                try:
                    conversion_factor(table.unit, unit, _("factor table {table}").format(table=table.id), ploc)
                except UnitError as err:
                    errors.append(err)
                free = set(table.spec.keys) - set(p.factor.key)
                if not free <= set(ROW_KEYS) or not set(p.factor.key) <= set(table.spec.keys):
                    errors.append(MethodologyError(
                        _("factor table {table} is keyed by {keys}: fix the keys a row cannot give (only {row_keys} "
                          "come from the row), and no others").format(
                            table=table.id, keys=table.spec.keys, row_keys=", ".join(ROW_KEYS)), ploc))
                elif (problem := fixed_key_problem(table, p.factor.key)) is not None:
                    errors.append(MethodologyError(problem, ploc))
        base = registry().Quantity(1.0, unit).to_base_units()
        parameters[name] = CompiledParameter(
            name=name, unit=unit, unit_text=p.unit, to_base=float(base.magnitude), default=p.default,
            default_source=p.default_source, low=low, high=high, aliases=tuple(p.aliases),
            factor=p.factor, factor_table=table, default_distribution=distribution)
        units[name] = unit
        for alias in p.aliases:
            if alias in STANDARD_HEADERS or alias in RESERVED_NAMES:
                errors.append(MethodologyError(_("alias {alias!r} is a standard portfolio column header; a "
                                                 "parameter may not take it").format(alias=alias), ploc))
        for header in parameter_headers({name: p}):
            if header in column_names and column_names[header] != name:
                errors.append(MethodologyError(_("alias {alias!r} names two parameters").format(alias=header), ploc))
            column_names[header] = name

    for g, group in enumerate(spec.share_groups):
        gloc = Location(file=source, field=f"share_groups[{g}]")
        for name in group:
            if name not in parameters:
                errors.append(MethodologyError(_("share group names {name!r}, which is not a parameter").format(name=name),
                                               gloc))
            elif not _is_share(parameters[name].unit):
                errors.append(MethodologyError(_("{name} is in a share group but its unit is {unit}, not a fraction "
                                                 "or %").format(name=name, unit=parameters[name].unit_text), gloc))
        if len(group) < 2:
            errors.append(MethodologyError(_("a share group needs at least two parameters"), gloc))

    steps: list[CompiledStep] = []
    seen: set[str] = set(spec.parameters)
    for index, step in enumerate(spec.formulas):
        sloc = Location(file=source, step=step.name, field=f"formulas[{index}]")
        if step.name in seen:
            errors.append(FormulaError(_("name {name!r} is already a parameter or an earlier step").format(name=step.name),
                                       sloc))
            continue
        if step.name in RESERVED_NAMES:
            errors.append(FormulaError(_("{name!r} is reserved for a portfolio column or a result").format(name=step.name),
                                       sloc))
        seen.add(step.name)
        try:
            compiled = _compile_step(step.name, step.expression, step.unit, units, seen - {step.name},
                                     hours, sloc)
        except KokenError as err:
            errors.append(err)
            continue
        if step.range is not None:
            if step.unit is None:
                errors.append(FormulaError(_("a step with a range needs its unit (the range is in it)"), sloc))
            compiled = dataclasses.replace(compiled, low=step.range[0], high=step.range[1], unit_text=step.unit)
        steps.append(compiled)
        units[step.name] = compiled.unit

    shipment_unit = None
    try:
        shipment_unit = parse_unit(spec.functional_unit.unit, hours, Location(file=source, field="functional_unit.unit"))
    except UnitError as err:
        errors.append(err)
    step_by_name = {s.name: s for s in steps}
    single_factor = lifetime_factor = years_factor = 0.0
    if AVOIDED_STEP not in {s.name for s in spec.formulas}:
        errors.append(FormulaError(_("the formulas must define {step!r}").format(step=AVOIDED_STEP),
                                   Location(file=source, field="formulas")))
    if spec.operating_years not in spec.parameters and spec.operating_years not in {s.name for s in spec.formulas}:
        errors.append(MethodologyError(_("operating_years names {name!r}, which is neither a parameter nor a "
                                         "step").format(name=spec.operating_years),
                                       Location(file=source, field="operating_years")))
    if shipment_unit is not None and AVOIDED_STEP in step_by_name and spec.operating_years in units:
        ureg = registry()
        year = parse_unit("year", hours)
        expected = parse_unit("kg-CO2e", hours) / shipment_unit / year
        avoided_base = _base_units(units[AVOIDED_STEP])
        if ureg.Quantity(1.0, avoided_base).dimensionality != ureg.Quantity(1.0, expected).dimensionality:
            errors.append(FormulaError(
                _("{step} must be GHG mass per functional unit per year ({dimension}, e.g. kg-CO2e/{unit}/yr) but its "
                  "formula gives {derived}").format(step=AVOIDED_STEP, dimension=dimension_text(expected),
                                                   unit=spec.functional_unit.unit, derived=dimension_text(avoided_base)),
                Location(file=source, step=AVOIDED_STEP)))
        years_base = _base_units(units[spec.operating_years])
        try:
            years_factor = conversion_factor(years_base, year, "operating_years",
                                             Location(file=source, field="operating_years"))
        except UnitError as err:
            errors.append(err)
        shipment_base = _base_units(shipment_unit)
        result = parse_unit(RESULT_UNIT)
        try:
            single_factor = conversion_factor(shipment_base * avoided_base * year, result,
                                              _("single-year contribution"))
            lifetime_factor = conversion_factor(shipment_base * avoided_base * years_base, result,
                                                _("lifetime contribution"))
        except UnitError:
            pass  # already reported as the dimension error above
    if not errors:
        errors.extend(_scenario_problems(step_by_name, units, source, spec.category11_step))
    if errors:
        raise KokenErrors(errors)
    assert shipment_unit is not None
    warnings = []
    for index, step in enumerate(spec.formulas):
        for value in literal_numbers(step.expression):
            where = Location(file=source, step=step.name, field=f"formulas[{index}]")
            warnings.append(_("{where}: numeric literal {value:g} in a formula; write factors as named parameters "
                              "with a unit and a source").format(where=where, value=value))
    compiled_m = Methodology(
        spec=spec, path=source, content_hash=content_hash(spec, {c.name: c.expression for c in steps}),
        parameters=parameters, steps=tuple(steps),
        shipment_unit=shipment_unit,
        shipment_to_base=float(registry().Quantity(1.0, shipment_unit).to_base_units().magnitude),
        single_year_factor=single_factor, lifetime_factor=lifetime_factor,
        operating_years_to_year=years_factor, column_names=column_names, warnings=tuple(warnings),
        extends=extends.id if extends is not None else None)
    return compiled_m


def _scenario_problems(steps: Mapping[str, CompiledStep], units: Mapping[str, pint.Unit],
                       source: str, category11_step: str | None = PRODUCT_STEP) -> list[KokenError]:
    """Both scenarios named, of the avoided step's dimension, and the avoided step their difference; the step
    Scope 3 category 11 counts (``category11_step``) one of the same dimension.

    ``avoided_per_unit_year`` must equal ``baseline_emissions − product_emissions`` for every input: the steps are
    expanded down to the parameters and the difference simplified by sympy; where sympy cannot decide, it is
    evaluated at random positive inputs (the kernels compute in base units, so the identity holds there).
    """
    missing = [name for name in (BASELINE_STEP, PRODUCT_STEP) if name not in steps]
    if missing:
        return [FormulaError(_("the formulas must define {steps}: the use-phase emissions per functional unit and year "
                               "of the baseline and of the product, whose difference is {avoided}").format(
            steps=", ".join(missing), avoided=AVOIDED_STEP), Location(file=source, field="formulas"))]
    ureg = registry()
    avoided = ureg.Quantity(1.0, _base_units(units[AVOIDED_STEP])).dimensionality
    problems: list[KokenError] = []
    if category11_step is not None and category11_step not in steps:
        return [FormulaError(_("category11_step names {name!r}, which is no step (the product's use-phase emissions per "
                               "functional unit and year; by default {product})").format(
            name=category11_step, product=PRODUCT_STEP), Location(file=source, field="category11_step"))]
    for name in dict.fromkeys((BASELINE_STEP, PRODUCT_STEP, category11_step or PRODUCT_STEP)):
        if ureg.Quantity(1.0, _base_units(units[name])).dimensionality != avoided:
            problems.append(FormulaError(_("{step} must be of the dimension of {avoided} ({dimension}), not "
                                           "{derived}").format(step=name, avoided=AVOIDED_STEP,
                                                               dimension=dimension_text(_base_units(units[AVOIDED_STEP])),
                                                               derived=dimension_text(_base_units(units[name]))),
                                         Location(file=source, step=name)))
    if problems:
        return problems
    expanded: dict[str, sympy.Expr] = {}
    for name, step in steps.items():  # in formula order: earlier steps are expanded first
        expanded[name] = step.expression.xreplace(
            {symbol: expanded[symbol.name] for symbol in step.expression.free_symbols if symbol.name in expanded})
    difference = expanded[AVOIDED_STEP] - (expanded[BASELINE_STEP] - expanded[PRODUCT_STEP])
    if sympy.expand(difference) == 0 or _vanishes(difference):
        return []
    return [FormulaError(_("{avoided} is not {baseline} − {product}: avoided emissions are the difference of the two "
                           "scenarios (write {avoided} = {baseline} - {product})").format(
        avoided=AVOIDED_STEP, baseline=BASELINE_STEP, product=PRODUCT_STEP), Location(file=source, step=AVOIDED_STEP))]


def _vanishes(expression: sympy.Expr, points: int = 5) -> bool:
    """Whether ``expression`` is 0 at random positive values of its symbols (relative to its terms' size)."""
    symbols = sorted(expression.free_symbols, key=lambda s: s.name)
    if not symbols:
        return abs(float(expression)) < 1e-12
    function = sympy.lambdify(symbols, expression, modules="numpy")
    scale = sympy.lambdify(symbols, sum(abs(t) for t in sympy.Add.make_args(sympy.expand(expression))), modules="numpy")
    generator = np.random.default_rng(63372)  # fixed: the same methodology is judged the same way every time
    for _point in range(points):
        values = generator.uniform(0.5, 2.0, len(symbols))
        with np.errstate(all="ignore"):
            value, size = float(function(*values)), float(scale(*values))
        if not np.isfinite(value) or abs(value) > 1e-9 * max(size, 1e-300):
            return False
    return True


def _base_units(unit: pint.Unit) -> pint.Unit:
    """The Pint base units of ``unit``'s dimension: the units the numeric kernel computes in."""
    return registry().Quantity(1.0, unit).to_base_units().units


def _is_share(unit: pint.Unit) -> bool:
    """True for a fraction or a percentage (not for other dimensionless units such as TB or 万)."""
    if not is_dimensionless(unit):
        return False
    factor = registry().Quantity(1.0, unit).to("fraction").magnitude
    return factor in (1.0, 0.01)


def _implicit_fraction_range(unit: pint.Unit) -> tuple[float, float]:
    """[0, 1] for a fraction, [0, 100] for percent: the range a share can take in its own unit."""
    one = registry().Quantity(1.0, "fraction").to(unit).magnitude
    return 0.0, float(one)


def _compile_step(name: str, text: str, unit_text: str | None, units: dict[str, pint.Unit],
                  allowed: set[str], hours: int, loc: Location) -> CompiledStep:
    expr = parse_formula(text, allowed, loc)
    missing = [s.name for s in expr.free_symbols if s.name not in units]
    if missing:
        raise FormulaError(_("uses {names}, whose unit could not be determined (see the error reported for "
                             "it)").format(names=", ".join(sorted(missing))), loc)
    derived = infer_unit(expr, units, loc)
    try:
        if unit_text:
            unit = parse_unit(unit_text, hours, loc)
            check_multiplicative(unit, unit_text, loc)
            conversion_factor(derived, unit, _("step {name!r} (declared unit vs formula)").format(name=name), loc)
        else:
            unit = _base_units(derived)
        # the kernel computes in base units; to_unit takes its output to the step's unit
        to_unit = conversion_factor(_base_units(derived), unit)
    except OverflowError:  # Pint multiplies the units' factors as floats: (kWh/yr)**90 is beyond 1e308
        raise FormulaError(_("the formula's unit {unit} is beyond float's range once converted to base units: a "
                             "unit raised to so high a power has no meaning here").format(
            unit=str(derived)[:200]), loc) from None
    args = tuple(sorted(s.name for s in expr.free_symbols))
    if not set(args) <= allowed:  # guaranteed by the parser; checked again before lambdify
        raise FormulaError(f"undeclared names {set(args) - allowed}", loc)
    function = compile_kernel(expr, args)
    return CompiledStep(name=name, text=text, expression=expr, unit=unit, to_unit=to_unit,
                        args=args, function=function)


def _default_distribution(default: float, spec, unit: str, low: float | None, high: float | None,
                          sources: set[str]) -> tuple[Distribution | None, str | None]:
    """A parameter's ``default_distribution`` as a :class:`koken.uncertainty.Distribution` centred on the default, or
    the problem: an unknown source, an impossible shape, bounds outside the parameter's range."""
    if spec.source not in sources:
        return None, _("unknown source {source!r}").format(source=spec.source)
    try:
        d = spec.around(default, unit)
    except DistributionError as err:
        return None, str(err)
    if spec.kind in ("uniform", "triangular") and ((low is not None and d.low < low)
                                                  or (high is not None and d.high > high)):
        return None, _("the distribution's bounds [{low:g}, {high:g}] go beyond the parameter's range [{floor}, "
                       "{ceiling}]").format(low=d.low, high=d.high, floor="-inf" if low is None else f"{low:g}",
                                            ceiling="inf" if high is None else f"{high:g}")
    return d, None
