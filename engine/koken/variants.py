"""Customer-reflection variants: labelled figures beside the standard ones, each with its coverage.

The standard figures (single-year and lifetime avoided emissions, Scope 3 category 11) are always computed with the
grid factor of the region and year of use. Where a company knows more about its customers, a **customer-data file**
(``--customer-data FILE``; one row per product line, matched on ``product_line`` and, where given, ``fiscal_year``,
``market`` and ``region``) gives variants of the same figures:

* ``customer_factor``: the customer's own electricity factor (a utility's or a tariff menu's), with its evidence:
  ``supplier``, ``menu`` and ``period`` are required beside it;
* ``renewable_share``: effective factor = share × renewable factor + (1 − share) × residual-mix factor. The
  non-renewable part takes the **residual mix**, never the grid average (the grid average still holds the renewable
  electricity whose attribute the customer claims: counting it again would count it twice); a share without a
  residual-mix factor is refused with that reason. The renewable factor is 0 unless given (operational basis:
  renewable generation burns no fuel);
* ``actual_use``: metered electricity over a metered period (kWh and years) replaces the catalogue use: the
  observed annual rate ÷ the catalogue's ``product_annual_energy`` scales the use phase of both scenarios (the same
  use of the same function), for the elapsed period as measured and the remaining life at the observed rate;
* ``factor_path`` (``--factor-path ID``): a named path of future grid factors by fiscal year
  (``factors/paths/``, e.g. the Japanese plan's FY2030 all-source target) applied life-year by life-year to the
  factors a row takes from the tables; disclosed by its id. The static factor stays the standard figure.

When a variant changes the electricity factor, both scenarios take it: the methodologies' ``baseline_emissions`` and
``product_emissions`` read the same ``grid_emission_factor``, so replacing that input moves both (GHG Protocol 2024
survey and standards.md §3: the same factor in the reference and the solution, or the avoided emissions shrink or
grow artificially). Variants apply to methodologies whose electricity factor is the parameter
``grid_emission_factor`` (electricity-using products); a row of another methodology with customer data is an
error.

A row without customer data keeps the standard figure in the variant's column, so that a variant's total covers
the same product lines as the standard total; ``variant:<id>:covered_units`` holds the units the data covered (in
the methodology's functional unit), and the coverage printed beside each variant is covered ÷ shipped units.

Sources: GHG Protocol, "Summary of Scope 3 Proposals" and "Detailed Summary of Scope 3 Survey Responses" (June 2024):
usage-data method with metered kWh, EACs on use-phase energy, forward-year factor schedules; the Japanese electrical
industry's proposed category 11 guidance reflecting the customer's factor, renewable share and actual use (domain
notes round2.md §4; the guidance text itself was not found, so these variants follow round2.md's variants A–C).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pint

from koken.base.errors import KokenError, KokenErrors, Location, PortfolioError
from koken.base.i18n import N_, _
from koken.base.paths import factors_dir
from koken.base.regions import region_code
from koken.base.safe_yaml import load_yaml_file
from koken.base.units import UnitError, parse_unit, registry
from koken.base.vocabulary import MARKET_NAMES, STANDARD_COLUMNS, Term, fold_width
from koken.methodology import Methodology
from koken.methodology.evaluate import BatchResult, evaluate

GRID_FACTOR = "grid_emission_factor"
"""The parameter a variant replaces: the electricity factor both scenarios of an electricity-using product read."""

USE_STEP = "product_annual_energy"
"""The catalogue annual electricity of the product (a parameter or a step) that actual use is compared with."""

VARIANTS = (
    Term("customer_factor", "需要家の排出係数", "Customer's electricity factor"),
    Term("renewable_share", "再エネ比率（残差ミックス）", "Renewable share (residual mix)"),
    Term("actual_use", "実際の使用量", "Actual use"),
    Term("factor_path", "将来の排出係数の経路", "Forward factor path"),
)
"""The variants, in the order results show them."""

VARIANT_FIGURES = ("single_year[t-CO2e]", "lifetime[t-CO2e]", "scope3_cat11_lifetime[t-CO2e]")
"""The figures each variant restates (the standard ones, by the same names)."""

NUMBERS = {
    "customer_grid_emission_factor": ("kg-CO2/kWh", (0.0, 2.0),
                                      ("需要家の排出係数", "顧客の排出係数", "customer_emission_factor")),
    "renewable_share": ("fraction", (0.0, 1.0), ("再エネ比率", "再生可能エネルギー比率")),
    "renewable_emission_factor": ("kg-CO2/kWh", (0.0, 2.0), ("再エネ排出係数",)),
    "residual_mix_emission_factor": ("kg-CO2/kWh", (0.0, 2.0), ("残差ミックス排出係数", "残差ミックス係数")),
    "metered_energy": ("kWh", (0.0, None), ("実測電力量",)),
    "metered_years": ("yr", (0.0, 100.0), ("実測期間", "実測年数")),
}
"""Numeric columns of a customer-data file: unit they are kept in, range, Japanese headers."""

TEXTS = {"supplier": ("小売電気事業者", "電力会社"), "menu": ("料金メニュー", "メニュー"), "period": ("対象期間", "期間")}
"""Evidence of a customer factor (every one required beside it)."""

KEYS = ("product_line", "fiscal_year", "market", "region")
"""Columns that match a customer-data row to product lines (``product_line`` required)."""

_REFUSED_GRID = N_("methodology {methodology!r} takes no {parameter} (it is not an electricity-using product): the "
                   "{variant} variant does not apply to it")


@dataclass(frozen=True)
class CustomerData:
    """A customer-data file, read and checked.

    Attributes:
        path, sha256: the file and the hash of its bytes (recorded with the results).
        keys: per row, ``product_line`` (text), ``fiscal_year`` (int or -1), ``market`` (id or ''), ``region``
            (code or '').
        numbers: column → float array in the unit of :data:`NUMBERS` (NaN where empty).
        texts: evidence column → text per row ('' where empty).
        rows: the file row of each data row (1-based, the header is row 1).
    """

    path: str
    sha256: str
    keys: dict[str, np.ndarray]
    numbers: dict[str, np.ndarray]
    texts: dict[str, np.ndarray]
    rows: np.ndarray
    matched: set[int] = field(default_factory=set, compare=False)

    def variants(self) -> set[str]:
        """The variants the file gives data for (on any row): each has its columns in every part of the results,
        so that partitions of one run have the same columns."""
        given = {name for name, values in self.numbers.items() if not np.isnan(values).all()}
        by_column = {"customer_grid_emission_factor": "customer_factor", "renewable_share": "renewable_share",
                     "metered_energy": "actual_use"}
        return {variant for column, variant in by_column.items() if column in given}

    def record(self) -> dict:
        """As results record it: ``{"file", "sha256", "rows"}``."""
        return {"file": self.path, "sha256": self.sha256, "rows": len(self.rows)}


_READ: dict[tuple[str, str], CustomerData] = {}


def read_customer_data(path: str | Path) -> CustomerData:
    """Read a customer-data file (``.csv`` UTF-8 or cp932, ``.xlsx`` first sheet): headers ``name[unit]`` (English
    names or the Japanese of :data:`NUMBERS`, :data:`TEXTS`, the standard key columns), one row per product line.

    Raises:
        KokenErrors: every problem at once (file, row, column and what was expected): an unknown column, a numeric
            column without a unit or with one of another dimension, a cell that is no number, a value out of range,
            a customer factor without its evidence, a renewable share without a residual-mix factor, metered energy
            without its period, a row with no product line or no customer data.
    """
    raw = Path(path).read_bytes()
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    cached = _READ.get((str(path), digest))
    if cached is not None:
        return cached
    source = str(path)
    frame = _frame(Path(path), raw)
    problems: list[KokenError] = []
    names = {fold_width(alias).strip().casefold(): name for name, aliases in STANDARD_COLUMNS.items()
             for alias in aliases if name in KEYS}
    names.update({fold_width(a).strip().casefold(): n for n, (_u, _r, aliases) in NUMBERS.items() for a in (n, *aliases)})
    names.update({fold_width(a).strip().casefold(): n for n, aliases in TEXTS.items() for a in (n, *aliases)})
    columns: dict[str, tuple[str, str | None]] = {}  # canonical → (header as written, unit text)
    for header in frame.columns:
        text = fold_width(str(header)).strip()
        name, _bracket, rest = text.partition("[")
        unit = rest[:-1].strip() if rest.endswith("]") else None
        canonical = names.get(name.strip().casefold())
        where = Location(file=source, row=1, column=str(header))
        if canonical is None:
            problems.append(PortfolioError(_("unknown column of a customer-data file (columns: {columns})").format(
                columns=", ".join([*KEYS, *NUMBERS, *TEXTS])), where))
        elif canonical in columns:
            problems.append(PortfolioError(_("column {name} appears twice").format(name=canonical), where))
        elif canonical in NUMBERS and unit is None:
            problems.append(PortfolioError(_("give the unit in the header, e.g. {name}[{unit}]").format(
                name=canonical, unit=NUMBERS[canonical][0]), where))
        else:
            columns[canonical] = (str(header), unit)
    if "product_line" not in columns:
        problems.append(PortfolioError(_("a customer-data file needs a product_line column (製品名) to match its rows to "
                                         "the portfolio's"), Location(file=source, row=1)))
    n = len(frame)
    rows = np.arange(2, n + 2)

    def at(i: int, name: str) -> Location:
        return Location(file=source, row=int(rows[i]), column=columns[name][0] if name in columns else name)

    numbers: dict[str, np.ndarray] = {}
    for name, (unit_text, (low, high), _aliases) in NUMBERS.items():
        values = np.full(n, np.nan)
        if name in columns:
            header, given_unit = columns[name]
            try:
                factor = float(registry().Quantity(1.0, parse_unit(given_unit)).to(parse_unit(unit_text)).magnitude)
            except (UnitError, pint.DimensionalityError):
                problems.append(PortfolioError(_("unit {unit!r} is not one of {expected}").format(
                    unit=given_unit, expected=unit_text), Location(file=source, row=1, column=header)))
                factor = None
            for i, cell in enumerate(frame[header].tolist()):
                text = fold_width(str(cell)).strip().replace(",", "") if not _empty(cell) else ""
                if not text:
                    continue
                try:
                    number = float(text)
                except ValueError:
                    problems.append(PortfolioError(_("{value!r} is not a number").format(value=str(cell)), at(i, name)))
                    continue
                if factor is None:
                    continue
                value = number * factor
                if not np.isfinite(value) or value < low or (high is not None and value > high):
                    problems.append(PortfolioError(_("{value} {unit} is outside the range [{low}, {high}] {expected}")
                                                   .format(value=number, unit=given_unit, low=low,
                                                           high=high if high is not None else "∞", expected=unit_text),
                                                   at(i, name)))
                    continue
                values[i] = value
        numbers[name] = values
    texts = {name: np.array(["" if _empty(c) else str(c).strip() for c in frame[columns[name][0]].tolist()],
                            dtype=object) if name in columns else np.full(n, "", dtype=object) for name in TEXTS}
    keys = {"product_line": texts_of(frame, columns, "product_line", n)}
    fiscal = np.full(n, -1, dtype=np.int64)
    for i, cell in enumerate(frame[columns["fiscal_year"][0]].tolist() if "fiscal_year" in columns else []):
        if _empty(cell):
            continue
        digits = "".join(ch for ch in fold_width(str(cell)) if ch.isdigit())
        if len(digits) == 4:
            fiscal[i] = int(digits)
        else:
            problems.append(PortfolioError(_("{value!r} is not a fiscal year (e.g. 2023)").format(value=str(cell)),
                                           at(i, "fiscal_year")))
    keys["fiscal_year"] = fiscal
    market = texts_of(frame, columns, "market", n)
    for i, text in enumerate(market):
        if text:
            market[i] = MARKET_NAMES.get(text if text in MARKET_NAMES else text.casefold(), "")
            if not market[i]:
                problems.append(PortfolioError(_("{value!r} is not a market (国内 domestic, 海外 overseas)").format(
                    value=text), at(i, "market")))
    keys["market"] = market
    region = texts_of(frame, columns, "region", n)
    for i, text in enumerate(region):
        if text:
            code = region_code(text)
            if code is None:
                problems.append(PortfolioError(_("{value!r} is not a known region").format(value=text), at(i, "region")))
            region[i] = code or ""
    keys["region"] = region
    for i in range(n):
        if "product_line" in columns and not keys["product_line"][i]:
            problems.append(PortfolioError(_("the row names no product line"), at(i, "product_line")))
        problems.extend(_row_problems(i, numbers, texts, at))
    if problems:
        raise KokenErrors(problems)
    data = CustomerData(path=source, sha256=digest, keys=keys, numbers=numbers, texts=texts, rows=rows)
    _READ[(str(path), digest)] = data
    return data


def texts_of(frame: pd.DataFrame, columns: Mapping[str, tuple[str, str | None]], name: str, n: int) -> np.ndarray:
    """A text column's cells, stripped ('' where empty or absent)."""
    if name not in columns:
        return np.full(n, "", dtype=object)
    return np.array(["" if _empty(c) else fold_width(str(c)).strip() for c in frame[columns[name][0]].tolist()],
                    dtype=object)


def _row_problems(i: int, numbers: Mapping[str, np.ndarray], texts: Mapping[str, np.ndarray], at) -> list[KokenError]:
    problems: list[KokenError] = []
    given = {name for name, values in numbers.items() if not np.isnan(values[i])}
    if not given & {"customer_grid_emission_factor", "renewable_share", "metered_energy"}:
        problems.append(PortfolioError(_("the row gives no customer data (a customer factor, a renewable share or "
                                         "metered energy)"), at(i, "product_line")))
    if "customer_grid_emission_factor" in given:
        for name in TEXTS:
            if not texts[name][i]:
                problems.append(PortfolioError(_("a customer factor needs its evidence: {name} is empty (supplier, "
                                                 "menu and period are required)").format(name=name), at(i, name)))
    if "renewable_share" in given and "residual_mix_emission_factor" not in given:
        problems.append(PortfolioError(_("a renewable share needs the residual-mix factor for the rest of the "
                                         "electricity: the grid average would count the renewable attribute twice, so "
                                         "the variant is refused without it"), at(i, "residual_mix_emission_factor")))
    if ("renewable_emission_factor" in given or "residual_mix_emission_factor" in given) and "renewable_share" not in given:
        problems.append(PortfolioError(_("a renewable or residual-mix factor goes with a renewable share"),
                                       at(i, "renewable_share")))
    if ("metered_energy" in given) != ("metered_years" in given):
        problems.append(PortfolioError(_("metered energy and the metered period go together"),
                                       at(i, "metered_years" if "metered_energy" in given else "metered_energy")))
    elif "metered_years" in given and numbers["metered_years"][i] == 0:
        problems.append(PortfolioError(_("the metered period must be longer than 0 years"), at(i, "metered_years")))
    return problems


def _empty(cell) -> bool:
    return cell is None or (isinstance(cell, float) and np.isnan(cell)) or not str(cell).strip()


def _frame(path: Path, raw: bytes) -> pd.DataFrame:
    """The file's table, every cell as read (text or number)."""
    import io

    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(io.BytesIO(raw), dtype=object, engine="openpyxl")
        if suffix == ".csv":
            for encoding in ("utf-8-sig", "cp932"):
                try:
                    return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, encoding=encoding)
                except UnicodeDecodeError:
                    continue
            raise KokenError(_("the file is neither UTF-8 nor cp932 text"), Location(file=str(path)))
    except (ValueError, OSError) as err:
        raise KokenError(_("cannot read the customer-data file: {problem}").format(problem=err),
                         Location(file=str(path))) from None
    raise KokenError(_("a customer-data file is .csv or .xlsx, not {kind}").format(kind=suffix or path.name),
                     Location(file=str(path)))


def match_rows(data: CustomerData, product_line: np.ndarray, fiscal_year: np.ndarray, market: np.ndarray,
               region: np.ndarray, where) -> tuple[np.ndarray, list[KokenError]]:
    """For each product line, the customer-data row that applies to it (-1: none).

    A customer row applies to every product line equal to it on each key it gives. Records the rows that matched in
    ``data.matched`` (a row that matches nothing in the whole run is an error: :func:`unmatched_problems`).

    Returns:
        (int array ``(n,)``, problems: a product line two customer rows apply to).
    """
    n = len(product_line)
    found = np.full(n, -1, dtype=np.int64)
    problems: list[KokenError] = []
    line = np.asarray(product_line, dtype=object)
    for k in range(len(data.rows)):
        hit = line == data.keys["product_line"][k]
        if data.keys["fiscal_year"][k] >= 0:
            hit &= np.asarray(fiscal_year) == data.keys["fiscal_year"][k]
        for key, values in (("market", market), ("region", region)):
            if data.keys[key][k]:
                hit &= np.asarray(values, dtype=object) == data.keys[key][k]
        if not hit.any():
            continue
        data.matched.add(k)
        for i in np.flatnonzero(hit & (found >= 0)):
            problems.append(PortfolioError(_("two rows of the customer-data file {file} apply to this product line "
                                             "(rows {first} and {second}): give fiscal_year, market or region to tell "
                                             "them apart").format(file=data.path, first=int(data.rows[found[i]]),
                                                                  second=int(data.rows[k])), where(int(i))))
        found[hit & (found < 0)] = k
    return found, problems


def unmatched_problems(data: CustomerData, matched: set[int]) -> list[KokenError]:
    """Customer-data rows that apply to no product line of the run (never silently ignored)."""
    return [PortfolioError(_("this row applies to no product line of the portfolio (matched on {keys})").format(
        keys=", ".join(k for k in KEYS if (data.keys[k][i] >= 0 if k == "fiscal_year" else data.keys[k][i]))),
        Location(file=data.path, row=int(data.rows[i]), column="product_line"))
        for i in range(len(data.rows)) if i not in matched]


# --- factor paths --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FactorPath:
    """A named path of grid factors by fiscal year (``factors/paths/<id>.yaml``).

    Attributes:
        id, title, region: what it is and where it applies (a region code).
        points: fiscal year → kg-CO2/kWh, as the file gives them; between two points the factor is interpolated
            linearly, before the first it is the first and after the last it is the last (the file says so).
        source: where the values come from.
    """

    id: str
    title: str
    region: str
    points: dict[int, float]
    source: str

    def factor(self, years: np.ndarray) -> np.ndarray:
        """The path's factor (kg-CO2/kWh) in each fiscal year of ``years``."""
        xs = np.array(sorted(self.points), dtype=float)
        return np.interp(np.asarray(years, dtype=float), xs, [self.points[int(x)] for x in xs])


def factor_paths() -> dict[str, FactorPath]:
    """The shipped factor paths by id (``factors/paths/*.yaml``)."""
    found = {}
    for path in sorted((factors_dir() / "paths").glob("*.yaml")):
        data = load_yaml_file(path)
        unit = parse_unit(str(data["unit"]))
        to_kg = float(registry().Quantity(1.0, unit).to(parse_unit("kg-CO2/kWh")).magnitude)
        found[data["id"]] = FactorPath(id=data["id"], title=str(data["title"]), region=str(data["region"]),
                                       points={int(y): float(v) * to_kg for y, v in data["values"].items()},
                                       source=str(data["source"]))
    return found


def factor_path(path_id: str) -> FactorPath:
    """The shipped factor path ``path_id``.

    Raises:
        KokenError: no such path (the known ones are named).
    """
    paths = factor_paths()
    if path_id not in paths:
        raise KokenError(_("unknown factor path {id!r} (paths: {paths})").format(id=path_id, paths=", ".join(paths)))
    return paths[path_id]


# --- the figures ---------------------------------------------------------------------------------------------------

def variant_columns(variant: str) -> tuple[str, ...]:
    """The result columns of ``variant``: its figures, then ``covered_units``."""
    return (*(f"variant:{variant}:{figure}" for figure in VARIANT_FIGURES), f"variant:{variant}:covered_units")


def variant_figures(m: Methodology, fiscal_year: np.ndarray, region: np.ndarray,
                    inputs: Mapping[str, pint.Quantity], origins: Mapping[str, object], shipped: pint.Quantity,
                    result: BatchResult, customer: CustomerData | None, customer_rows: np.ndarray | None,
                    path: FactorPath | None, locate) -> dict[str, np.ndarray]:
    """The variant columns of one methodology's rows (see the module docstring).

    Args:
        m: the methodology; fiscal_year, region: per row; inputs, origins: as evaluated (factor-table values filled
            in, and which); shipped: units shipped; result: the standard evaluation.
        customer, customer_rows: the customer-data file and, per row, its row that applies (-1: none).
        path: the forward factor path, if asked for.
        locate: ``locate(i) -> Location`` of row ``i``.
    Returns:
        column → float array ``(n,)``: for each variant with data in the run, its figures in t-CO2e (the standard
        figure where a row has no data) and ``covered_units`` (the row's units where covered, else 0).
    Raises:
        KokenErrors: customer data on a methodology a variant cannot apply to; evaluation problems of a variant.
    """
    n = len(fiscal_year)
    units = shipped.to(m.shipment_unit).magnitude
    standard = {"single_year[t-CO2e]": result.single_year.magnitude,
                "lifetime[t-CO2e]": result.lifetime.magnitude,
                "scope3_cat11_lifetime[t-CO2e]": (result.category11_lifetime.magnitude
                                                  if result.category11_lifetime is not None else np.full(n, np.nan))}
    out: dict[str, np.ndarray] = {}
    problems: list[KokenError] = []
    has_grid = GRID_FACTOR in m.parameters

    def put(variant: str, covered: np.ndarray, figures: Mapping[str, np.ndarray] | None) -> None:
        for figure in VARIANT_FIGURES:
            column = standard[figure].copy()
            if figures is not None and covered.any():
                column[covered] = figures[figure][covered]
            out[f"variant:{variant}:{figure}"] = column
        out[f"variant:{variant}:covered_units"] = np.where(covered, units, 0.0)

    if customer is not None and customer_rows is not None:
        has = customer_rows >= 0
        k = np.where(has, customer_rows, 0)

        def column(name: str) -> np.ndarray:
            return np.where(has, customer.numbers[name][k], np.nan)

        in_file = customer.variants()
        for variant, factor in (("customer_factor", column("customer_grid_emission_factor")),
                                ("renewable_share", _effective(column))):
            if variant not in in_file:
                continue
            covered = ~np.isnan(factor)
            if covered.any() and not has_grid:
                problems.extend(KokenError(_(_REFUSED_GRID).format(methodology=m.id, parameter=GRID_FACTOR,
                                                                   variant=variant), locate(int(i)))
                                for i in np.flatnonzero(covered))
                continue
            figures = _with_factor(m, inputs, shipped, covered, factor, locate) if covered.any() else None
            put(variant, covered, figures)
        rate = column("metered_energy") / column("metered_years")
        covered = ~np.isnan(rate)
        if "actual_use" in in_file and not covered.any():
            put("actual_use", covered, None)
        elif covered.any():
            catalogue = _catalogue_use(m, result, inputs)
            if catalogue is None:
                problems.extend(KokenError(_("methodology {methodology!r} has no {step} to compare metered use with: the "
                                             "actual-use variant does not apply to it").format(
                    methodology=m.id, step=USE_STEP), locate(int(i))) for i in np.flatnonzero(covered))
            else:
                bad = covered & ~(catalogue > 0)
                problems.extend(KokenError(_("the catalogue {step} is 0: metered use cannot be compared with it").format(
                    step=USE_STEP), locate(int(i))) for i in np.flatnonzero(bad))
                ratio = np.where(covered & ~bad, rate / np.where(catalogue > 0, catalogue, 1.0), np.nan)
                put("actual_use", covered & ~bad, {f: standard[f] * ratio for f in VARIANT_FIGURES})
    if path is not None and has_grid:
        origin = origins.get(GRID_FACTOR)
        covered = (np.asarray(getattr(origin, "from_table", np.zeros(n, bool)), dtype=bool)
                   & (np.asarray(region, dtype=object) == path.region))
        put("factor_path", covered, _along_path(m, fiscal_year, inputs, shipped, result, covered, path, locate)
            if covered.any() else None)
    if problems:
        raise KokenErrors(problems)
    return out


def _effective(column) -> np.ndarray:
    """share × renewable factor + (1 − share) × residual mix (kg-CO2/kWh); NaN where no share is given."""
    share = column("renewable_share")
    renewable = np.nan_to_num(column("renewable_emission_factor"), nan=0.0)  # 0 unless given (module docstring)
    return share * renewable + (1.0 - share) * column("residual_mix_emission_factor")


def _with_factor(m: Methodology, inputs: Mapping[str, pint.Quantity], shipped: pint.Quantity, covered: np.ndarray,
                 factor_kg_per_kwh: np.ndarray, locate) -> dict[str, np.ndarray]:
    """The figures of the covered rows with their grid factor replaced (kg-CO2/kWh), NaN elsewhere."""
    at = np.flatnonzero(covered)
    ureg = registry()
    given = {name: q[at] for name, q in inputs.items()}
    unit = m.parameters[GRID_FACTOR].unit
    to_param = float(ureg.Quantity(1.0, parse_unit("kg-CO2/kWh")).to(unit).magnitude)
    given[GRID_FACTOR] = ureg.Quantity(factor_kg_per_kwh[at] * to_param, unit)
    return _spread(evaluate(m, given, shipped[at], _Subset(locate, at)), at, len(covered))


class _Subset:
    """Locations of some rows of a batch (``locate`` indexed by batch position)."""

    def __init__(self, locate, at: np.ndarray):
        self._locate, self._at = locate, at

    def __getitem__(self, j: int) -> Location:
        return self._locate(int(self._at[j]))

    def __len__(self) -> int:
        return len(self._at)


def _spread(result: BatchResult, at: np.ndarray, n: int) -> dict[str, np.ndarray]:
    out = {figure: np.full(n, np.nan) for figure in VARIANT_FIGURES}
    out["single_year[t-CO2e]"][at] = result.single_year.magnitude
    out["lifetime[t-CO2e]"][at] = result.lifetime.magnitude
    if result.category11_lifetime is not None:
        out["scope3_cat11_lifetime[t-CO2e]"][at] = result.category11_lifetime.magnitude
    return out


def _catalogue_use(m: Methodology, result: BatchResult, inputs: Mapping[str, pint.Quantity]) -> np.ndarray | None:
    """The product's catalogue annual electricity per row in kWh/yr (a step's value or the input), or None."""
    q = result.steps.get(USE_STEP, inputs.get(USE_STEP))
    if q is None:
        return None
    return np.asarray(q.to(parse_unit("kWh/yr", m.spec.hours_per_year)).magnitude, dtype=float)


def _along_path(m: Methodology, fiscal_year: np.ndarray, inputs: Mapping[str, pint.Quantity], shipped: pint.Quantity,
                result: BatchResult, covered: np.ndarray, path: FactorPath, locate) -> dict[str, np.ndarray]:
    """Lifetime figures with each life year at the path's factor: Σ_t w_t × one year at factor(v + t), w_t =
    clip(L − t, 0, 1) (a fractional last year counts its fraction); the single-year figure at factor(v)."""
    n = len(covered)
    years = result.operating_years.magnitude
    out = {figure: np.full(n, np.nan) for figure in VARIANT_FIGURES}
    out["lifetime[t-CO2e]"][covered] = 0.0
    out["scope3_cat11_lifetime[t-CO2e]"][covered] = 0.0
    t = 0
    while True:
        active = covered & (years > t)
        if not active.any():
            break
        weight = np.clip(years - t, 0.0, 1.0)
        figures = _with_factor(m, inputs, shipped, active, path.factor(np.asarray(fiscal_year) + t), locate)
        per_year_cat11 = figures["scope3_cat11_lifetime[t-CO2e]"] / np.where(years > 0, years, 1.0)
        out["lifetime[t-CO2e]"][active] += (weight * figures["single_year[t-CO2e]"])[active]
        out["scope3_cat11_lifetime[t-CO2e]"][active] += (weight * per_year_cat11)[active]
        if t == 0:
            out["single_year[t-CO2e]"][active] = figures["single_year[t-CO2e]"][active]
        t += 1
    return out


__all__ = ["GRID_FACTOR", "KEYS", "NUMBERS", "TEXTS", "VARIANTS", "VARIANT_FIGURES", "CustomerData", "FactorPath",
           "factor_path", "factor_paths", "match_rows", "read_customer_data", "unmatched_problems", "variant_columns",
           "variant_figures"]
