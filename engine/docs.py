"""Documentation pages generated from methodology files (``koken docs``).

One Markdown page per methodology: flags, functional unit, baseline, a parameter table with units,
defaults, factor tables and sources, every formula step rendered as LaTeX from its sympy tree (the
same tree the numbers come from), operating years, checks, examples and sources; plus an index.
The pages are part of the mkdocs site built from ``docs/`` (``mkdocs build --strict``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import sympy

from engine.formula import symbol
from engine.methodology import CompiledMethodology
from engine.schema import CATEGORIES

CATEGORY_TITLES = {
    "generation": "Power generation / 発電",
    "home_appliances": "Home appliances / 家電",
    "industrial_equipment": "Industrial equipment / 産業用機器",
    "it_equipment": "IT equipment / IT製品",
    "solutions": "Solutions / ソリューション",
}


def _latex_name(name: str) -> str:
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


def formula_latex(m: CompiledMethodology, step_name: str) -> str:
    """LaTeX of one step, ``name = expression``, rendered from the compiled sympy tree.

    Raises:
        KeyError: unknown step name.
    """
    step = {s.name: s for s in m.steps}[step_name]
    names = {symbol(n): _latex_name(n) for n in (*m.parameters, *m.step_names)}
    return f"{_latex_name(step.name)} = {sympy.latex(step.expression, symbol_names=names, mul_symbol='dot')}"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def methodology_page(m: CompiledMethodology) -> str:
    """The Markdown page of one methodology.

    Returns:
        Markdown text (MathJax ``$$`` blocks for formulas).
    """
    s = m.spec
    sources = {src.id: src for src in s.sources}

    def cite(sid: str) -> str:
        src = sources.get(sid)
        return f"[{sid}](#source-{sid.replace('_', '-')})" if src else sid

    out = [f"# {s.title.en} / {s.title.ja}", "",
           f"`{s.id}` · version {s.version} · {CATEGORY_TITLES[s.category]} · result type `{s.result_type}` · "
           f"contribution role `{s.contribution_role}` · content hash `{m.content_hash[:19]}…`", ""]
    if s.eligibility_note:
        out += [f"!!! warning \"Eligibility\"", f"    {s.eligibility_note.en}", "", f"    {s.eligibility_note.ja}", ""]
    out += ["## Functional unit", "", f"{s.functional_unit.description.en} ({s.functional_unit.description.ja}); "
            f"units shipped are counted in **{s.functional_unit.unit}**.", "",
            "## Baseline", "", f"Type: `{s.baseline.type}`"
            + (f", reference year {s.baseline.reference_year}" if s.baseline.reference_year else "")
            + f". Sources: {', '.join(cite(x) for x in s.baseline.sources)}.", "",
            s.baseline.description.en, "", s.baseline.description.ja, "",
            "## Parameters", "",
            "| parameter | unit | value | range | column aliases | description |",
            "|---|---|---|---|---|---|"]
    for name, p in s.parameters.items():
        cp = m.parameters[name]
        if p.default is not None:
            value = f"default {p.default:g} ({cite(p.default_source)})"
        elif p.factor is not None:
            key = ", ".join(f"{k}={v}" for k, v in p.factor.key.items())
            value = f"factor table `{p.factor.table}`" + (f" ({key})" if key else " by region and fiscal year") \
                + "; a portfolio value overrides"
        else:
            value = "required"
        rng = f"[{_fmt(cp.low, '−∞')}, {_fmt(cp.high, '∞')}]"
        out.append(f"| `{name}` | {_cell(p.unit)} | {value} | {rng} | {_cell(', '.join(p.aliases))} | "
                   f"{_cell(p.description.en)} / {_cell(p.description.ja)} |")
    out += ["", "## Formulas", "",
            "Evaluated in order; each step's unit is derived from its operands and checked at load.", ""]
    for step in s.formulas:
        compiled = {c.name: c for c in m.steps}[step.name]
        unit = step.unit or f"{compiled.unit:~}"
        out += [f"### `{step.name}` [{_cell(unit)}]", ""]
        if step.description:
            out += [f"{step.description.en} / {step.description.ja}", ""]
        out += ["$$", formula_latex(m, step.name), "$$", "", f"Written as `{step.expression.strip()}`.", ""]
    out += ["## Results", "",
            "- single-year contribution (単年度) = units shipped × `avoided_per_unit_year` × 1 year [t-CO2e]",
            f"- lifetime contribution (稼働年数) = units shipped × `avoided_per_unit_year` × `{s.operating_years}` "
            "[t-CO2e]", "", f"A year is {s.hours_per_year:,} h.", ""]
    if s.checks:
        out += ["## Checks", "", "Run by `koken validate` on the first example's inputs:", "",
                f"- equal to baseline ({_pairs(s.checks.equal_to_baseline)}) gives exactly 0"]
        if s.checks.worse_than_baseline:
            out.append(f"- worse than baseline ({_pairs(s.checks.worse_than_baseline)}) gives a negative figure")
        if s.checks.note:
            out.append(f"- {s.checks.note}")
        out.append("")
    out += ["## Examples", ""]
    for ex in s.examples:
        origin = "hand calculation" if ex.source == "hand_calculation" else cite(ex.source)
        out += [f"### {ex.name}", "", f"{ex.description} Source: {origin}.", ""]
        if ex.calculation:
            out += [f"Calculation: {ex.calculation}", ""]
        keys = [f"{k}: {v}" for k, v in (("region", ex.region), ("fiscal_year", ex.fiscal_year)) if v]
        out += ["| input | value |", "|---|---|"] + [f"| `{k}` | {_cell(v)} |" for k, v in ex.inputs.items()] \
            + [f"| `{k.split(':')[0]}` | {k.split(': ')[1]} |" for k in keys]
        out += ["", "| expected | value | unit | relative tolerance |", "|---|---|---|---|"]
        out += [f"| `{k}` | {v.value:g} | {_cell(v.unit)} | {v.rel_tol:g} |" for k, v in ex.expected.items()]
        out.append("")
    out += ["## Sources", ""]
    for src in s.sources:
        link = f" <{src.url}>" if src.url else ""
        note = f" — {src.note}" if src.note else ""
        out += [f"<a id=\"source-{src.id.replace('_', '-')}\"></a>", "",
                f"- **{src.id}**: {src.title}. {src.publisher}, {src.year}.{link}{note}", ""]
    if s.notes:
        out += ["## Notes", "", s.notes, ""]
    return "\n".join(out).rstrip() + "\n"


def _pairs(mapping: Mapping[str, object]) -> str:
    return ", ".join(f"`{k}` := {v}" for k, v in mapping.items())


def _fmt(x: float | None, open_end: str) -> str:
    return open_end if x is None else f"{x:g}"


def index_page(library: Mapping[str, CompiledMethodology]) -> str:
    """The index of all methodology pages, grouped by category."""
    out = ["# Methodologies", "",
           f"{len(library)} methodologies, generated from `methodologies/` by `koken docs`.", ""]
    for category in CATEGORIES:
        members = sorted((m for m in library.values() if m.category == category), key=lambda m: m.id)
        if not members:
            continue
        out += [f"## {CATEGORY_TITLES[category]}", "", "| id | title | functional unit | baseline | role |",
                "|---|---|---|---|---|"]
        out += [f"| [{m.id}]({m.id}.md) | {m.spec.title.en} / {m.spec.title.ja} | {m.spec.functional_unit.unit} | "
                f"`{m.spec.baseline.type}` | {m.spec.contribution_role} |" for m in members]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_pages(library: Mapping[str, CompiledMethodology], folder: str | Path) -> list[Path]:
    """Write ``index.md`` and one page per methodology into ``folder``; remove pages of ids that are gone.

    Returns:
        The paths written.
    """
    from engine.output import atomic_write

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for m in library.values():
        path = target / f"{m.id}.md"
        atomic_write(path, methodology_page(m).encode("utf-8"))
        written.append(path)
    index = target / "index.md"
    atomic_write(index, index_page(library).encode("utf-8"))
    written.append(index)
    for stale in target.glob("*.md"):
        if stale not in written:
            stale.unlink()
    return written
