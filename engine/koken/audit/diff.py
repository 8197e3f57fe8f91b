"""``koken diff``: what changed between two versions of a methodology, and what it does to the numbers.

For the working group reviewing a change: parameters (units compared as quantities, so ``kWh/yr`` and
``kWh/a`` are the same), defaults and their sources, factor tables, ranges, formulas (each step
compared as a function of the parameters by evaluating the compiled kernels at random points, so
``a*b`` → ``b*a`` or splitting a step in two is no change; a step evaluated otherwise, ``a - b`` → ``a - b + c - c``,
is named though its samples agree, as the content hash tells them apart), baseline, flags and sources; then the
effect on the old file's examples, and optionally on a portfolio's totals. A content change without a
version bump is flagged (see also the version lock, :mod:`koken.methodology.lock`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from koken.base.errors import KokenErrors
from koken.base.i18n import _, pick
from koken.base.units import conversion_factor
from koken.base.vocabulary import AVOIDED_STEP, MARKETS
from koken.examples import output_quantity, run_example
from koken.methodology import Methodology, compile_methodology, formula_identity, read_methodology


def sample_steps(m: Methodology, points: int = 12) -> dict:
    """Every step's values (base-unit magnitudes, arrays of shape ``(points,)``) at random parameter points
    (the same points for any methodology: each parameter name draws its own seeded values), computed with
    the compiled kernels step by step — linear in the number of steps, unlike substituting steps into one another."""
    import zlib

    import numpy as np

    env = {}
    for name in m.parameters:
        rng = np.random.default_rng(zlib.crc32(name.encode("utf-8")))
        env[name] = 10.0 ** rng.uniform(-3, 3, size=points)
    with np.errstate(all="ignore"):
        for step in m.steps:
            env[step.name] = np.broadcast_to(np.asarray(step.function(*[env[arg] for arg in step.args]),
                                                        dtype=float), (points,))
    return {step.name: env[step.name] for step in m.steps}


INLINE_LIMIT = 20_000
"""The largest tree (nodes) :func:`evaluated_identities` builds: a step used twice by each later step doubles."""


def evaluated_identities(m: Methodology) -> dict[str, str] | None:
    """Each step's tree as evaluated, with the earlier steps it uses put in, as the content hash reads a tree
    (:func:`koken.methodology.formula_identity`): equal for ``a*b`` and ``b*a`` or a step inlined, different for
    ``a - b`` and ``a - b + c - c``, which compute other numbers for large ``c``. None when a tree would have more
    than :data:`INLINE_LIMIT` nodes.

    The earlier steps are put in without evaluating (``sympy.evaluate(False)``): sympy would otherwise cancel
    ``P - P`` once ``P`` is a step's tree, so ``product_emissions - product_emissions + baseline_emissions -
    product_emissions`` (steps, as the 2.0.0 category methodologies write them) read as ``baseline_emissions -
    product_emissions``."""
    import sympy

    trees: dict[str, sympy.Expr] = {}
    sizes: dict[str, int] = {}
    for step in m.steps:
        size = 0
        for node in sympy.preorder_traversal(step.expression):
            size += sizes.get(node.name, 1) if isinstance(node, sympy.Symbol) else 1
        if size > INLINE_LIMIT:
            return None
        sizes[step.name] = size
        with sympy.evaluate(False):
            trees[step.name] = step.expression.xreplace(
                {symbol: trees[symbol.name] for symbol in step.expression.free_symbols if symbol.name in trees})
    return {name: formula_identity(tree) for name, tree in trees.items()}


def _same_samples(x, y) -> bool:
    import numpy as np

    both_nan = np.isnan(x) & np.isnan(y)
    return bool(np.all(both_nan | np.isclose(x, y, rtol=1e-9, atol=1e-300)))


def diff_methodologies(old: Methodology, new: Methodology) -> list[str]:
    """Lines describing every change from ``old`` to ``new`` (empty: no change in content)."""
    lines: list[str] = []
    a, b = old.spec, new.spec
    for field_name in ("id", "version", "category", "result_type", "contribution_role", "hours_per_year",
                       "operating_years"):
        if getattr(a, field_name) != getattr(b, field_name):
            lines.append(f"{field_name}: {getattr(a, field_name)} → {getattr(b, field_name)}")
    if a.title != b.title:
        lines.append(f"title: {pick(a.title.ja, a.title.en)} → {pick(b.title.ja, b.title.en)}")
    if a.eligibility_note != b.eligibility_note:
        lines.append(_("eligibility note changed"))
    if a.functional_unit != b.functional_unit:
        lines.append(_("functional unit: {old} → {new} (or its description)").format(
            old=a.functional_unit.unit, new=b.functional_unit.unit))
    for key in ("type", "reference_year", "sources", "description"):
        x, y = getattr(a.baseline, key), getattr(b.baseline, key)
        if x != y:
            lines.append(_("baseline {field}: {old} → {new}").format(
                field=key, old=x if key != "description" else "…", new=y if key != "description" else "…"))
    for name in sorted(set(a.parameters) - set(b.parameters)):
        lines.append(_("parameter removed: {name}").format(name=name))
    for name in sorted(set(b.parameters) - set(a.parameters)):
        p = b.parameters[name]
        lines.append(_("parameter added: {name} [{unit}]").format(name=name, unit=p.unit) if p.default is None else
                     _("parameter added: {name} [{unit}] default {default}").format(name=name, unit=p.unit,
                                                                                    default=f"{p.default:g}"))
    for name in sorted(set(a.parameters) & set(b.parameters)):
        x, y = a.parameters[name], b.parameters[name]
        cx, cy = old.parameters[name], new.parameters[name]
        try:
            same_unit = conversion_factor(cx.unit, cy.unit) == 1.0
        except Exception:  # different dimensions
            same_unit = False
        if not same_unit:
            lines.append(_("parameter {name}: unit {old} → {new}").format(name=name, old=x.unit, new=y.unit))
        if (x.default, x.default_source) != (y.default, y.default_source):
            lines.append(_("parameter {name}: default {old} ({old_source}) → {new} ({new_source})").format(
                name=name, old=x.default, old_source=x.default_source, new=y.default, new_source=y.default_source))
        if x.factor != y.factor:
            lines.append(_("parameter {name}: factor {old} → {new}").format(name=name, old=x.factor, new=y.factor))
        if (cx.low, cx.high) != (cy.low, cy.high):
            lines.append(_("parameter {name}: range [{old_low}, {old_high}] → [{new_low}, {new_high}]").format(
                name=name, old_low=cx.low, old_high=cx.high, new_low=cy.low, new_high=cy.high))
        if x.aliases != y.aliases:
            lines.append(_("parameter {name}: aliases {old} → {new}").format(name=name, old=x.aliases, new=y.aliases))
    old_steps, new_steps = old.step_names, new.step_names
    for name in [s for s in old_steps if s not in new_steps]:
        lines.append(_("step removed: {name}").format(name=name))
    for name in [s for s in new_steps if s not in old_steps]:
        lines.append(_("step added: {name} = {formula}").format(
            name=name, formula=next(s.text for s in new.steps if s.name == name).strip()))
    old_units = {f.name: f.unit for f in a.formulas}
    new_units = {f.name: f.unit for f in b.formulas}
    old_values, new_values = sample_steps(old), sample_steps(new)
    old_trees, new_trees = evaluated_identities(old), evaluated_identities(new)
    if old_trees is None or new_trees is None:  # too large to put together: each step's own tree
        old_trees = {s.name: formula_identity(s.expression) for s in old.steps}
        new_trees = {s.name: formula_identity(s.expression) for s in new.steps}
    for name in [s for s in old_steps if s in new_steps]:
        x = next(s.text for s in old.steps if s.name == name).strip()
        y = next(s.text for s in new.steps if s.name == name).strip()
        if not _same_samples(old_values[name], new_values[name]):
            if x == y:
                lines.append(_("step {name}: written the same, but an earlier step it uses changed").format(name=name))
            else:
                lines.append(_("formula {name}: {old} → {new}").format(name=name, old=x, new=y))
        elif x != y and old_trees[name] != new_trees[name]:
            lines.append(_("formula {name}: {old} → {new} (computed differently: the same values at the sampled "
                           "points, but rounding can differ)").format(name=name, old=x, new=y))
        if old_units.get(name) != new_units.get(name):
            lines.append(_("step {name}: declared unit {old} → {new}").format(
                name=name, old=old_units.get(name), new=new_units.get(name)))
    if AVOIDED_STEP in old_steps and AVOIDED_STEP in new_steps and \
            not _same_samples(old_values[AVOIDED_STEP], new_values[AVOIDED_STEP]):
        lines.append(_("the result changes: avoided_per_unit_year is a different function of the parameters"))
    old_sources = {s.id: s for s in a.sources}
    new_sources = {s.id: s for s in b.sources}
    for sid in sorted(set(old_sources) - set(new_sources)):
        lines.append(_("source removed: {id}").format(id=sid))
    for sid in sorted(set(new_sources) - set(old_sources)):
        lines.append(_("source added: {id} ({title})").format(id=sid, title=new_sources[sid].title))
    for sid in sorted(set(old_sources) & set(new_sources)):
        if old_sources[sid] != new_sources[sid]:
            lines.append(_("source changed: {id}").format(id=sid))
    if [e.name for e in a.examples] != [e.name for e in b.examples] or a.examples != b.examples:
        lines.append(_("examples changed"))
    if a.checks != b.checks:
        lines.append(_("checks changed"))
    if old.content_hash != new.content_hash and a.version == b.version:
        lines.append(_("VERSION NOT BUMPED: the content changed but the version is still {version}").format(
            version=a.version))
    return lines


def example_effects(old: Methodology, new: Methodology) -> list[str]:
    """How the new methodology computes the old file's examples: each expected output that moves (old → new), then
    how many did not."""
    from koken.base.units import parse_unit

    hybrid = compile_methodology(new.spec.model_copy(update={"examples": old.spec.examples}), new.path,
                                 check_location=False)
    lines = []
    unchanged = 0
    for index, example in enumerate(old.spec.examples):
        try:
            result = run_example(hybrid, index)
        except KokenErrors as errs:
            lines.append(_("example {name}: cannot run with the new file: {problem}").format(
                name=example.name, problem=errs.errors[0].message))
            continue
        for key, expected in example.expected.items():
            q = output_quantity(result, key)
            if q is None:
                lines.append(_("example {name}: {output} no longer computed").format(name=example.name, output=key))
                continue
            value = float(q.to(parse_unit(expected.unit, new.spec.hours_per_year)).magnitude[0])
            if abs(value - expected.value) <= 1e-6 * max(1.0, abs(expected.value)):
                unchanged += 1
                continue
            lines.append(_("example {name}: {output} {old} → {new} {unit}  CHANGED").format(
                name=example.name, output=key, old=f"{expected.value:.10g}", new=f"{value:.10g}", unit=expected.unit))
    if unchanged:
        lines.append(_("{count} expected output(s) of the old examples unchanged").format(count=unchanged))
    return lines


def portfolio_effect(old: Methodology, new: Methodology, portfolio: str | Path,
                     library: Mapping[str, Methodology],
                     rebuilt: Mapping[str, tuple[Methodology, Methodology]] | None = None) -> list[str]:
    """Totals of ``portfolio`` (by fiscal year and market) with the old and with the new methodology.

    For a category methodology, ``rebuilt`` gives each product methodology that extends it read on the old and on
    the new category (:func:`rebuilt_products`): the portfolio's lines of those products are compared.
    """
    from koken.calculation import calculate
    from koken.portfolio.build import read_portfolio
    from koken.totals import summarise

    pairs = {old.id: (old, new), **(rebuilt or {})}
    lines = []
    totals = []
    for side in (0, 1):
        lib = dict(library)
        for mid, versions in pairs.items():
            lib[mid] = versions[side]
        calc = calculate(read_portfolio(portfolio, lib, collect=True), lib)
        table = calc.table[calc.table["methodology"].isin(list(pairs))]
        totals.append(summarise(table, ["fiscal_year", "market"]).set_index(["fiscal_year", "market"]))
    before, after = totals
    for key in sorted(set(before.index) | set(after.index)):
        for col in ("single_year[t-CO2e]", "lifetime[t-CO2e]"):
            x = float(before[col].get(key, 0.0))
            y = float(after[col].get(key, 0.0))
            change = "" if x == 0 else f" ({(y - x) / abs(x):+.2%})"
            market = next((m for m in MARKETS if m.id == key[1]), None)
            lines.append(_("FY{year} {market} {column}: {old} → {new}{change}").format(
                year=key[0], market=key[1] if market is None else pick(market.ja, market.id), column=col,
                old=f"{x:,.3f}", new=f"{y:,.3f}", change=change))
    return lines


def categories_near(path: str | Path) -> dict[str, Methodology]:
    """The category methodologies a file at ``path`` may extend: the bundled ones, and the category file beside it
    (``<category>/<category>.yaml`` in the same folder, e.g. an older checkout's), which wins."""
    from koken.library import bundled_categories, is_category_file

    found = dict(bundled_categories())
    here = Path(path)
    beside = here.parent / f"{here.parent.name}.yaml"
    if beside.exists() and beside.resolve() != here.resolve() and is_category_file(beside):
        category = read_methodology(beside, check_location=False)
        found[category.id] = category
    return found


def load_pair(old_path: str | Path, new_path: str | Path) -> tuple[Methodology, Methodology]:
    """Load both files (without running their examples: the diff reports their effect instead); a product file is
    read on the category methodology beside it (else the bundled one)."""
    old = read_methodology(old_path, check_location=False, categories=categories_near(old_path))
    new = read_methodology(new_path, check_location=False, categories=categories_near(new_path))
    if old.id != new.id:
        from koken.base.errors import KokenError, Location

        raise KokenError(_("the files are different methodologies ({old} and {new}); diff compares two versions of "
                           "one methodology").format(old=old.id, new=new.id), Location(file=str(new_path)))
    return old, new


@dataclass(frozen=True)
class Comparison:
    """What ``koken diff OLD NEW`` found: the two methodologies, the changes, their effect on the old file's
    examples and (with a portfolio) on its totals."""

    old: Methodology
    new: Methodology
    changes: list[str]
    example_effects: list[str]
    portfolio_effects: list[str]
    moved: dict[str, list[str]] = field(default_factory=dict)
    """For a category methodology: each product that extends it → how the change moves it (empty: not at all)."""

    def lines(self, portfolio: str | Path | None = None) -> list[str]:
        """The comparison as text lines, for the terminal."""
        out = [f"{self.old.id} {self.old.version} → {self.new.id} {self.new.version}"]
        out += [f"  {text}" for text in self.changes or [_("no change in content")]]
        if self.example_effects:
            out.append(_("Effect on the old file's examples:"))
            out += [f"  {text}" for text in self.example_effects]
        if self.portfolio_effects:
            ids = ", ".join([self.old.id, *self.moved])
            out.append(_("Effect on {portfolio} ({id} rows):").format(portfolio=portfolio, id=ids))
            out += [f"  {text}" for text in self.portfolio_effects]
        if self.new.spec.kind == "category":
            moved = [pid for pid, effects in self.moved.items() if effects]
            out.append(_("Products on this category methodology: {count}; moved by the change: {moved}").format(
                count=len(self.moved), moved=", ".join(moved) or _("none")))
            for pid in moved:
                out.append(f"  {pid}:")
                out += [f"    {text}" for text in self.moved[pid]]
        return out


def compare(old_path: str | Path, new_path: str | Path, portfolio: str | Path | None = None,
            library: Mapping[str, Methodology] | None = None) -> Comparison:
    """Compare two versions of one methodology file (see :func:`diff_methodologies`), with the effect on the old
    file's examples and, given a portfolio and a library to compute it with, on its totals.

    Raises:
        KokenError / KokenErrors: unreadable files, two different methodologies, a portfolio with problems.
    """
    a, b = load_pair(old_path, new_path)
    rebuilt = rebuilt_products(a, b, new_path) if b.spec.kind == "category" else {}
    effects = (portfolio_effect(a, b, portfolio, library, rebuilt)
               if portfolio is not None and library is not None else [])
    moved = moved_products(a, b, new_path) if b.spec.kind == "category" else {}
    return Comparison(a, b, diff_methodologies(a, b), example_effects(a, b), effects, moved)


def rebuilt_products(old: Methodology, new: Methodology,
                     new_path: str | Path) -> dict[str, tuple[Methodology, Methodology]]:
    """Every product methodology that extends the category ``new`` (the files beside ``new_path``, else the bundled
    ones of its category), read on the old and on the new category.

    Returns:
        product id → (product on the old category, product on the new one), sorted by id.
    """
    from koken.base.paths import methodologies_dir
    from koken.base.safe_yaml import load_yaml_file
    from koken.library import is_category_file

    def extending(folder: Path) -> list[Path]:
        found = []
        for path in sorted(folder.glob("*.yaml")):
            if is_category_file(path):
                continue
            data = load_yaml_file(path)
            if isinstance(data, dict) and data.get("extends") == new.id:
                found.append(path)
        return found

    files = extending(Path(new_path).parent) or extending(methodologies_dir() / new.category)
    out = {}
    for path in files:
        before = read_methodology(path, check_location=False, categories={old.id: old})
        after = read_methodology(path, check_location=False, categories={new.id: new})
        out[after.id] = (before, after)
    return dict(sorted(out.items()))


def moved_products(old: Methodology, new: Methodology, new_path: str | Path) -> dict[str, list[str]]:
    """How a change of the category ``new`` moves each product methodology that extends it
    (:func:`rebuilt_products`): what changes in it, and how its examples move.

    Returns:
        product id → lines (empty: the change does not move it), sorted by id.
    """
    moved: dict[str, list[str]] = {}
    for pid, (before, after) in rebuilt_products(old, new, new_path).items():
        # The product's own file is unchanged: the category's version records the change, not the product's.
        bump = _("VERSION NOT BUMPED: the content changed but the version is still {version}").format(
            version=after.version)
        changes = [line for line in diff_methodologies(before, after) if line != bump]
        effects = [line for line in example_effects(before, after) if "CHANGED" in line or "cannot run" in line
                   or "no longer" in line]
        moved[pid] = changes + effects if effects or changes else []
    return moved
