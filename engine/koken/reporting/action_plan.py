"""``koken report``: the action plan's table of avoided emissions, with device shares in brackets.

Layout of the industry's Carbon Neutral Action Plan results (FY2023 progress report): rows power
generation, home appliances, industrial equipment, IT products, solutions; columns domestic and
overseas, each single-year and lifetime; unit 万t-CO2; the part attributed to semiconductors and
electronic components in brackets inside the lifetime figure, e.g. ``1,512 (552)``.

Rules kept (GHG Protocol Scope 3 Standard ch. 9 and Box 9.4: avoided emissions reported separately,
with their method and assumptions; WBCSD Guidance on Avoided Emissions, 2023: one timeframe per
claim; 電機・電子温暖化対策連絡会: device shares reported as a part (内数) of the set-product figures):

* single-year and lifetime figures are separate timeframes: :class:`Figure` refuses to add them;
* one reporting (fiscal) year per table;
* device shares are inside the set-product figures, never added to them;
* avoided emissions stand apart from Scope 1-3 inventories and are never netted;
* rounding happens only here, at presentation, with a note that rows may not add up to the total.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from koken.attribution import RatioFile, attribute, device_columns
from koken.base.errors import KokenError, KokenErrors, Location, TimeframeError
from koken.base.files import atomic_write
from koken.base.vocabulary import CATEGORIES, MARKETS
from koken.results import RESULT_FORMAT
from koken.totals import MAN

CATEGORY_ROWS = tuple(tuple(c) for c in CATEGORIES)
"""The table's rows: (category id, Japanese, English), in the report's order."""


@dataclass(frozen=True)
class Figure:
    """An avoided-emissions figure in t-CO2e with its timeframe; only same-timeframe figures add up."""

    value: float
    timeframe: str  # "single_year" or "lifetime"

    def __add__(self, other: Figure) -> Figure:
        if not isinstance(other, Figure) or other.timeframe != self.timeframe:
            raise TimeframeError(f"cannot add a {getattr(other, 'timeframe', type(other).__name__)} figure to a "
                                 f"{self.timeframe} figure: single-year (flow) and lifetime figures are never added")
        return Figure(self.value + other.value, self.timeframe)


@dataclass(frozen=True)
class Report:
    """The aggregated table (t-CO2e, unrounded) and the disclosures that must go with it."""

    table: pd.DataFrame
    fiscal_year: int
    disclosures: dict


def load_result_documents(paths: Sequence[str | Path]) -> list[dict]:
    """Read koken JSON results.

    Raises:
        KokenErrors: unreadable files or files that are not koken results.
    """
    docs, errors = [], []
    for path in paths:
        if Path(path).suffix.lower() in (".csv", ".parquet"):
            errors.append(KokenError(
                "report reads the JSON result of koken calculate (-o result.json), which records the methodologies "
                "and factor tables behind each row; for a portfolio of millions of lines, give the portfolio "
                "itself with --portfolio", Location(file=str(path))))
            continue
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            errors.append(KokenError(f"cannot read the result file: {err}", Location(file=str(path))))
            continue
        if not isinstance(doc, dict) or doc.get("format") != RESULT_FORMAT or not isinstance(doc.get("rows"), list):
            errors.append(KokenError(f"not a koken JSON result (format {RESULT_FORMAT!r})", Location(file=str(path))))
            continue
        doc["_path"] = str(path)
        docs.append(doc)
    if errors:
        raise KokenErrors(errors)
    return docs


def build_report(documents: Sequence[dict], ratios: RatioFile, fiscal_year: int | None = None) -> Report:
    """Aggregate result documents into the action-plan table, device shares by ``ratios``.

    Raises:
        KokenErrors: several fiscal years without a choice, a requested year absent, no rows.
    """
    frames = []
    for doc in documents:
        frame = pd.DataFrame(doc["rows"])
        frame["result_file"] = doc.get("_path", doc.get("input", {}).get("file", ""))
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if rows.empty:
        raise KokenErrors([KokenError("no product lines to report")])
    years = sorted(set(int(y) for y in rows["fiscal_year"]))
    if fiscal_year is None and len(years) > 1:
        raise KokenErrors([KokenError(f"the results hold fiscal years {years}: a report is for one reporting year; "
                                      "choose one with --fiscal-year")])
    year = fiscal_year if fiscal_year is not None else years[0]
    rows = rows[rows["fiscal_year"] == year]
    if rows.empty:
        raise KokenErrors([KokenError(f"no product lines for fiscal year {year} (the results hold {years})")])
    rows = attribute(rows.drop(columns=[c for c in rows.columns if c.startswith("device_")]), ratios)
    records = []
    for category, ja, en in CATEGORY_ROWS:
        for market, _mja, _men in MARKETS:
            part = rows[(rows["category"] == category) & (rows["market"] == market)]
            single = sum((Figure(v, "single_year") for v in part["single_year[t-CO2e]"]), Figure(0.0, "single_year"))
            life = sum((Figure(v, "lifetime") for v in part["lifetime[t-CO2e]"]), Figure(0.0, "lifetime"))
            dev_single = float(part[device_columns(part, "single_year")].to_numpy().sum())
            dev_life = float(part[device_columns(part, "lifetime")].to_numpy().sum())
            no_ratio = bool(len(part)) and part["device_ratio_basis"].str.contains("no ratio").all()
            records.append({"category": category, "category_ja": ja, "category_en": en, "market": market,
                            "product_lines": len(part), "single_year[t-CO2e]": single.value,
                            "lifetime[t-CO2e]": life.value, "device_single_year[t-CO2e]": dev_single,
                            "device_lifetime[t-CO2e]": dev_life, "device_reported": not no_ratio})
    table = pd.DataFrame(records)
    return Report(table=table, fiscal_year=year, disclosures=_disclosures(documents, rows, ratios, year))


def _disclosures(documents: Sequence[dict], rows: pd.DataFrame, ratios: RatioFile, year: int) -> dict:
    methodologies = {}
    for doc in documents:
        for mid, info in doc.get("methodologies", {}).items():
            methodologies.setdefault(mid, set()).add(
                (info.get("version"), info.get("baseline_type"), info.get("contribution_role"), info.get("result_type")))
    grid = set()
    for inputs, region in zip(rows.get("inputs", pd.Series(dtype=object)), rows.get("region", pd.Series(dtype=object))):
        if isinstance(inputs, dict) and "grid_emission_factor" in inputs:
            g = inputs["grid_emission_factor"]
            grid.add((region or "", g["value"], g["unit"], g["origin"]))
    negatives = int((rows["lifetime[t-CO2e]"] < 0).sum())
    return {
        "reporting_year": year,
        "timeframes": "single-year (単年度: products shipped in the year, one year of use) and lifetime "
                      "(稼働年数: the same products over their operating years); never added together",
        "methodologies": [{"id": mid, "version": v, "baseline_type": b, "contribution_role": r, "result_type": t}
                          for mid, infos in sorted(methodologies.items()) for v, b, r, t in sorted(infos, key=str)],
        "grid_emission_factors": [{"region": r, "value": v, "unit": u, "origin": o} for r, v, u, o in sorted(grid, key=str)],
        "gwp_sets": sorted({doc.get("gwp_set", "") for doc in documents}),
        "device_ratios": {"id": ratios.id, "content_hash": ratios.content_hash, "basis": ratios.spec.basis,
                          "source": ratios.spec.source.title},
        "completeness": f"{len(rows)} product lines from {len(documents)} result file(s), all counted; "
                        f"{negatives} with a negative figure (product worse than its baseline) included, not clipped",
        "separation": "avoided emissions (削減貢献量) are reported apart from Scope 1-3 inventories and never netted "
                      "against them",
        "devices": "bracketed device shares are part of (内数) the set-product figures, not additions",
        "rounding": "figures are rounded for presentation only; rows may not add up to the totals",
        "result_files": [doc.get("_path", "") for doc in documents],
    }


def formatted(value_t: float, device_t: float | None, decimals: int = 0) -> str:
    """``1,512 (552)`` in 万t-CO2 from t-CO2e; no bracket when ``device_t`` is None."""
    main = f"{value_t / MAN:,.{decimals}f}"
    return main if device_t is None else f"{main} ({device_t / MAN:,.{decimals}f})"


def presentation(report: Report, decimals: int = 0) -> pd.DataFrame:
    """The table as people read it: one row per category (and total), strings in 万t-CO2."""
    t = report.table
    out = []
    for category, ja, en in CATEGORY_ROWS + (("total", "合計", "Total"),):
        row = {"分野": ja, "category": en}
        for market, mja, men in MARKETS:
            part = t[t["market"] == market] if category == "total" else t[(t["market"] == market) & (t["category"] == category)]
            lines = int(part["product_lines"].sum())
            reported = bool(part["device_reported"].any())
            row[f"{mja} 単年度 / {men} single-year"] = (formatted(part["single_year[t-CO2e]"].sum(), None, decimals)
                                                      if lines else "—")
            row[f"{mja} 稼働年数 (デバイス) / {men} lifetime (devices)"] = (
                formatted(part["lifetime[t-CO2e]"].sum(), part["device_lifetime[t-CO2e]"].sum() if reported else None,
                          decimals) if lines else "—")
        out.append(row)
    return pd.DataFrame(out)


def notes_lines(report: Report) -> list[str]:
    """The disclosures as sentences, for the notes under a table."""
    d = report.disclosures
    lines = [f"Reporting year: FY{d['reporting_year']}. Unit: 万t-CO2 (10,000 t-CO2e).", f"Timeframes: {d['timeframes']}.",
             f"Device shares: {d['devices']}; ratios {d['device_ratios']['id']} ({d['device_ratios']['basis']}; "
             f"{d['device_ratios']['source']}).", f"Completeness: {d['completeness']}.",
             f"Separation: {d['separation']}.", f"GWP set: {', '.join(d['gwp_sets'])}.", f"Rounding: {d['rounding']}."]
    lines.append("Methodologies: " + "; ".join(f"{m['id']} {m['version']} (baseline {m['baseline_type']}, role "
                                               f"{m['contribution_role']})" for m in d["methodologies"]) + ".")
    lines.append("Grid emission factors: " + "; ".join(f"{g['region'] or '-'} {g['value']:g} {g['unit']} — {g['origin']}"
                                                      for g in d["grid_emission_factors"]) + ".")
    return lines


def to_markdown(report: Report, decimals: int = 0) -> str:
    """Markdown: the table, then the notes."""
    table = presentation(report, decimals)
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([f"# 削減貢献量 / Avoided emissions, FY{report.fiscal_year} (万t-CO2)", "", header, rule, *body, "",
                      "## Notes", "", *[f"- {line}" for line in notes_lines(report)]]) + "\n"


def to_csv(report: Report) -> str:
    """CSV: unrounded figures in t-CO2e and 万t-CO2e per category and market, plus the formatted cell."""
    t = report.table.copy()
    for col in ("single_year", "lifetime", "device_single_year", "device_lifetime"):
        t[f"{col}[万t-CO2e]"] = t[f"{col}[t-CO2e]"] / MAN
    t["lifetime_formatted[万t-CO2e]"] = [formatted(a, b if r else None) for a, b, r in
                                        zip(t["lifetime[t-CO2e]"], t["device_lifetime[t-CO2e]"], t["device_reported"])]
    return t.to_csv(index=False, lineterminator="\n")


def to_xlsx(report: Report) -> bytes:
    """A formatted workbook: Japanese and English headers, 万t-CO2 number formats, device shares in
    bracket-formatted cells beside each lifetime figure, unrounded values in the cells, and the notes."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = f"FY{report.fiscal_year}"
    ws["A1"] = f"削減貢献量 / Avoided emissions, FY{report.fiscal_year}"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = "単位：万t-CO2 / Unit: 10,000 t-CO2e（括弧内は半導体・電子部品の寄与分で内数 / in brackets: devices, included）"
    headers = ["分野 / Category"]
    for _, mja, men in MARKETS:
        headers += [f"{mja} 単年度 / {men} single-year", f"{mja} 稼働年数 / {men} lifetime",
                    f"{mja} うちデバイス / {men} of which devices"]
    ws.append([])
    ws.append(headers)
    for cell in ws[4]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    t = report.table
    for category, ja, en in CATEGORY_ROWS + (("total", "合計", "Total"),):
        line = [f"{ja} / {en}"]
        for market, _, _ in MARKETS:
            part = t[t["market"] == market] if category == "total" else t[(t["market"] == market) & (t["category"] == category)]
            if not int(part["product_lines"].sum()):
                line += [None, None, None]
                continue
            reported = bool(part["device_reported"].any())
            line += [part["single_year[t-CO2e]"].sum() / MAN, part["lifetime[t-CO2e]"].sum() / MAN,
                     part["device_lifetime[t-CO2e]"].sum() / MAN if reported else None]
        ws.append(line)
    for row in ws.iter_rows(min_row=5, max_row=5 + len(CATEGORY_ROWS)):
        for i, cell in enumerate(row[1:], start=1):
            cell.number_format = '"("#,##0")"' if i % 3 == 0 else "#,##0"
    ws.column_dimensions["A"].width = 28
    for col in "BCDEFG":
        ws.column_dimensions[col].width = 18
    start = ws.max_row + 2
    ws.cell(row=start, column=1, value="注記 / Notes").font = Font(bold=True)
    for i, line in enumerate(notes_lines(report), start=1):
        ws.cell(row=start + i, column=1, value=line)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


__all__ = [
    "Figure",
    "Report",
    "TimeframeError",
    "build_report",
    "formatted",
    "load_result_documents",
    "notes_lines",
    "presentation",
    "to_csv",
    "to_markdown",
    "to_xlsx",
]


REPORT_SUFFIXES = (".xlsx", ".md", ".csv")


def write_report(report: Report, path: str | Path, decimals: int = 0) -> None:
    """Write ``report`` by the file's extension: ``.xlsx`` (formatted sheet), ``.md`` (``decimals`` places) or
    ``.csv`` (UTF-8 with BOM, full precision); whole or not at all.

    Raises:
        KokenError: another extension, or the file cannot be written.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        data = to_xlsx(report)
    elif suffix == ".md":
        data = to_markdown(report, decimals).encode("utf-8")
    elif suffix == ".csv":
        data = to_csv(report).encode("utf-8-sig")
    else:
        raise KokenError(f"unsupported report type {suffix!r}: use {', '.join(REPORT_SUFFIXES)}",
                         Location(file=str(path)))
    atomic_write(path, data)
