"""Action-plan progress as people read it: Markdown, an XLSX workbook, JSON, and the submission template.

Every export carries the definitions used (the intensity's measure, unit and deflator; the base years;
the target rules), the sources of the values (table entries or the company's declarations) and the
hashes of the submissions read. A company's export holds its own figures and the industry's totals only.

Languages: the tables' headers and the files' titles are bilingual (日本語 / English), as the report and
the Japanese offices read them; the notes, the console's table titles, the texts shown beside the figures
and the template's explanations are in the chosen language (:mod:`koken.base.i18n`). The JSON keeps its
keys and coded values (``basis``, an origin's ``value`` and ``source``) in English whatever the language.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from koken.base.errors import KokenError, Location
from koken.base.files import atomic_write
from koken.base.i18n import N_, _, pick
from koken.base.text import printable
from koken.base.version import __version__
from koken.production.metrics import (
    CO2_UNIT,
    CRUDE_UNIT,
    FACTOR_UNIT,
    INVESTMENT_UNIT,
    REDUCTION_UNIT,
    RENEWABLE_UNIT,
    CompanyProgress,
)
from koken.production.rollup import CO2_TOTAL, ENERGY_TOTAL, POWER_FACTOR, Rollup
from koken.production.submission import (
    COLUMNS,
    DEFINITION_ITEMS,
    FORMAT,
    PLACEHOLDERS,
    RENEWABLE_ITEMS,
    SECTIONS,
    SUBMISSION_SHEET,
)
from koken.production.tables import Plan, load_carrier_table, load_plan
from koken.results import FORMULA_TRIGGERS

EXPORT_SUFFIXES = (".md", ".xlsx", ".json")

BASIS = {"carriers": N_("carriers"), "reported totals": N_("reported totals")}
"""A year's ``basis`` (by carrier, or totals reported earlier) as shown beside the figures; the data keeps the key."""

DECLARED = {"reported totals": N_("reported totals"), "electricity CO2 factor": N_("electricity CO2 factor")}
"""What a company declared (an origin's ``value``), as the notes name it."""

COMPANY_TITLES = {"intensity": N_("{company}: intensity"), "co2": N_("{company}: co2"), "measures": N_("{company}: measures")}
"""The console's title of each company table (:func:`titled_tables`)."""

INDUSTRY_TITLES = {
    "totals": N_("industry: totals"),
    "investment": N_("industry: investment"),
    "renewables": N_("industry: renewables"),
    "targets": N_("industry: targets"),
    "completeness": N_("industry: completeness"),
}
"""The console's title of each industry table (:func:`titled_tables`)."""


@dataclass
class ProgressView:
    """What an export shows: the companies' own figures (one company, or every company for the liaison
    group's view) and, when several submissions were combined, the industry roll-up."""

    companies: list[CompanyProgress]
    rollup: Rollup | None
    company_only: bool = False


def _pct(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x * 100:+.2f} %"


def _num(x: float, digits: int = 1) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def _track(x) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else ("達成ペース / on track" if x else "未達 / behind")


def company_tables(c: CompanyProgress) -> dict[str, pd.DataFrame]:
    """The company's tables as displayed (strings, Japanese and English headers): intensity, CO2, renewables, measures."""
    y = c.years
    unit = c.definition["unit"]
    intensity = pd.DataFrame(
        {
            "年度 / FY": y["fiscal_year"],
            f"エネルギー使用量 / energy [{CRUDE_UNIT}]": [_num(v) for v in y[f"energy[{CRUDE_UNIT}]"]],
            f"活動量 / activity [{unit}]": [_num(v) for v in y[c.activity_column]],
            f"原単位 / intensity [{CRUDE_UNIT}/{unit}]": [_num(v, 3) for v in y[c.intensity_column]],
            f"改善率 / improvement vs FY{c.base_years['commit']}": [_pct(v) for v in y["intensity_improvement[fraction]"]],
            "目標経路 / commit path": [_pct(v) for v in y["commit_path[fraction]"]],
            "判定 / status": [_track(v) for v in y["commit_on_track"]],
            "年平均改善率 / average a year": [_pct(v) for v in y["average_annual_improvement[fraction]"]],
            "算定 / basis": [_(BASIS[b]) if b in BASIS else b for b in y["basis"]],
        }
    )
    co2 = pd.DataFrame(
        {
            "年度 / FY": y["fiscal_year"],
            f"CO2 [{CO2_UNIT}]": [_num(v) for v in y[f"co2[{CO2_UNIT}]"]],
            f"基準年度比 / vs FY{c.base_years['challenge']}": [_pct(v) for v in y["co2_change_vs_base[fraction]"]],
            "目標経路 / challenge path": [_pct(v) for v in y["challenge_path[fraction]"]],
            "判定 / status": [_track(v) for v in y["challenge_on_track"]],
            f"電力係数 / power factor [{FACTOR_UNIT}]": [_num(v, 3) for v in y[f"electricity_factor[{FACTOR_UNIT}]"]],
            f"係数固定 / fixed factor (FY{c.base_years['challenge']}) [{CO2_UNIT}]": [
                _num(v) for v in y[f"co2_fixed_factor[{CO2_UNIT}]"]
            ],
            f"前年度差 / change [{CO2_UNIT}]": [_num(v) for v in y[f"co2_change[{CO2_UNIT}]"]],
            "うち係数要因 / of which power factor": [_num(v) for v in y[f"co2_change_power_factor[{CO2_UNIT}]"]],
            "うち自社要因 / of which own use and mix": [_num(v) for v in y[f"co2_change_own[{CO2_UNIT}]"]],
            "再エネ比率 / renewable share": [_pct(v).lstrip("+") for v in y["renewable_share[fraction]"]],
        }
    )
    tables = {"intensity": intensity, "co2": co2}
    if len(c.measures):
        m = c.measures
        tables["measures"] = pd.DataFrame(
            {
                "年度 / FY": m["fiscal_year"],
                "対策 / measure": m["measure_ja"],
                f"投資額 / investment [{INVESTMENT_UNIT}]": [_num(v) for v in m[f"investment[{INVESTMENT_UNIT}]"]],
                f"削減量 / reduction [{REDUCTION_UNIT}]": [_num(v) for v in m[f"reduction[{REDUCTION_UNIT}]"]],
            }
        )
    return tables


def industry_tables(r: Rollup) -> dict[str, pd.DataFrame]:
    """The report's tables as displayed: totals with year-on-year changes, investment, renewables, targets, completeness."""
    t = r.totals
    activity = r.companies[0].activity_column
    totals = pd.DataFrame(
        {
            "": [
                f"エネルギー使用量（原油換算） / energy use [{ENERGY_TOTAL[7:-1]}]",
                f"{r.definition['measure']} [{r.definition['unit']}]",
                f"CO2排出量 / CO2 [{CO2_TOTAL[4:-1]}]",
                f"電力の排出係数（加重） / power factor, electricity-weighted [{FACTOR_UNIT}]",
                "集計社数 / companies",
            ]
        }
    )
    for i, fy in enumerate(t["fiscal_year"]):
        totals[f"FY{fy}"] = [
            _num(t[ENERGY_TOTAL][i], 2),
            _num(t[activity][i], 0),
            _num(t[CO2_TOTAL][i], 2),
            _num(t[POWER_FACTOR][i], 3),
            str(int(t["companies"][i])),
        ]
    if len(t) > 1:
        last = len(t) - 1
        totals[f"FY{t['fiscal_year'][last - 1]}→{t['fiscal_year'][last]} 増減 / change"] = [
            _pct(t[f"{col} change[fraction]"][last]).replace(" %", "%")
            if not math.isnan(t[f"{col} change[fraction]"][last])
            else "—"
            for col in (ENERGY_TOTAL, activity, CO2_TOTAL, POWER_FACTOR)
        ] + [""]
    inv = r.investment
    investment = pd.DataFrame(
        {
            "対策 / measure": [f"{a} / {b}" for a, b in zip(inv["measure_ja"], inv["measure_en"])],
            f"投資額 / investment [{INVESTMENT_UNIT}]": [_num(v, 0) for v in inv[f"investment[{INVESTMENT_UNIT}]"]],
            f"削減量 / reduction [{REDUCTION_UNIT}]": [_num(v, 0) for v in inv[f"reduction[{REDUCTION_UNIT}]"]],
            f"1t当たり投資 / per tonne [円/({REDUCTION_UNIT})]": [
                _num(v, 0) for v in inv[f"investment_per_tonne[円/({REDUCTION_UNIT})]"]
            ],
        }
    )
    names = {
        f"self_consumed[{RENEWABLE_UNIT}]": "再エネ発電の自家消費 / renewable generation self-consumed",
        **{f"{t.id}[{RENEWABLE_UNIT}]": f"{t.ja} / {t.en}" for t in RENEWABLE_ITEMS},
        f"purchased_electricity[{RENEWABLE_UNIT}]": "（参考）購入電力量 / (reference) electricity purchased",
    }
    rn = r.renewables
    renewables = pd.DataFrame({f"[{RENEWABLE_UNIT}]": list(names.values())})
    for i, fy in enumerate(rn["fiscal_year"]):
        renewables[f"FY{fy}"] = [_num(rn[col][i]) for col in names]
    tg = r.targets
    targets = pd.DataFrame(
        {
            "年度 / FY": tg["fiscal_year"],
            f"原単位改善率 / intensity improvement vs FY{r.base_years['commit']}": [
                _pct(v) for v in tg.get("intensity_improvement[fraction]", [])
            ],
            "コミット目標経路 / commit path": [_pct(v) for v in tg.get("commit_path[fraction]", [])],
            f"CO2 基準年度比 / CO2 vs FY{r.base_years['challenge']}": [
                _pct(v) for v in tg.get("co2_change_vs_base[fraction]", [])
            ],
            "チャレンジ目標経路 / challenge path": [_pct(v) for v in tg.get("challenge_path[fraction]", [])],
        }
    )
    completeness = r.completeness.replace({True: "○", False: "—"}).rename(columns={"company": "会社 / company"})
    return {
        "totals": totals,
        "investment": investment,
        "renewables": renewables,
        "targets": targets,
        "completeness": completeness,
    }


def notes(view: ProgressView, plan: Plan | None = None) -> list[str]:
    """The definitions, rules and sources behind the figures, as sentences (Japanese and English)."""
    plan = plan or load_plan()
    c0 = view.companies[0]
    d = c0.definition
    commit, challenge = plan.spec.commit, plan.spec.challenge
    lines = [
        f"原単位 / intensity = エネルギー使用量 ({CRUDE_UNIT}) ÷ {d['measure']} ({d['unit']}"
        + (f"; デフレーター / deflator: {d['deflator']}" if d.get("deflator") else "")
        + ").",
        _("{target}: {improvement} a year from FY{base}, path 1 − (1 − r)ⁿ ({total} by FY{year}).").format(
            target=pick(commit.ja, commit.en),
            improvement=commit.annual_improvement,
            base=c0.base_years["commit"],
            total=_pct(plan.commit_required(commit.target_year, c0.base_years["commit"])).lstrip("+"),
            year=commit.target_year,
        ),
        _(
            "{target}: −{reduction} by FY{year} against FY{base}; the path between is a straight line "
            "(koken's declared assumption)."
        ).format(
            target=pick(challenge.ja, challenge.en),
            reduction=challenge.reduction,
            year=challenge.target_year,
            base=c0.base_years["challenge"],
        ),
        _(
            "CO2 of purchased electricity uses the power factor of each year; the fixed-factor view prices it at the "
            "challenge base year's factor. The change against the previous year splits into the power factor's part "
            "(electricity × Δfactor) and the company's own part (the rest)."
        ),
        _(
            "Heat values: 省エネ法 table of each year (action_plan/carriers.yaml) or the company's declared value; "
            "crude-oil equivalent 0.0258 kL/GJ. The carrier table's content hash: {hash}."
        ).format(hash=load_carrier_table().content_hash),
        _(
            "These are inventory figures of the companies' own domestic production; they are never added to or netted "
            "against avoided emissions."
        ),
    ]
    for c in view.companies:
        heat = c.carriers.groupby("carrier")["heat_value[GJ/unit]"].nunique() if len(c.carriers) else pd.Series(dtype=int)
        for carrier in heat[heat > 1].index:
            rows = c.carriers[c.carriers["carrier"] == carrier].drop_duplicates("heat_value[GJ/unit]")
            change = ", ".join(
                f"FY{fy}: {v:g} GJ/{u}" for fy, v, u in zip(rows["fiscal_year"], rows["heat_value[GJ/unit]"], rows["unit"])
            )
            lines.append(
                _(
                    "{company}: the heat value of {carrier} changes ({changes}); intensities across the change are "
                    "not on one basis."
                ).format(company=c.company, carrier=carrier, changes=change)
            )
        for origin in c.origins:
            if origin.get("source") == "declared by the company":
                declared = (
                    _("{company} FY{year}: {what} declared — {title} (supplier {supplier}).")
                    if origin.get("supplier")
                    else _("{company} FY{year}: {what} declared — {title}.")
                )
                what = origin["value"]
                lines.append(
                    declared.format(
                        company=c.company,
                        year=origin["fiscal_year"],
                        what=_(DECLARED[what]) if what in DECLARED else what,
                        title=origin.get("title", ""),
                        supplier=origin.get("supplier"),
                    )
                )
    if view.rollup is not None and not view.company_only:  # coverage names other companies
        lines += [_("Coverage: {line}.").format(line=line) for line in view.rollup.coverage]
    lines.append(
        _("koken {version}; submissions: {files}.").format(
            version=__version__, files="; ".join(f"{c.source} ({c.content_hash[:19]}…)" for c in view.companies)
        )
    )
    return lines


def titled_tables(view: ProgressView) -> list[tuple[str, pd.DataFrame]]:
    """The tables as the console shows them, each with its title in the chosen language: every company's
    (``"<company>: intensity"`` …), then the industry's (``"industry: totals"`` …; a company's view has the
    industry's totals and targets only)."""
    out = [
        (_(COMPANY_TITLES[key]).format(company=c.company), frame)
        for c in view.companies
        for key, frame in company_tables(c).items()
    ]
    if view.rollup is not None:
        shown = industry_tables(view.rollup)
        out += [(_(INDUSTRY_TITLES[key]), shown[key]) for key in (("totals", "targets") if view.company_only else shown)]
    return out


def _md(text: object) -> str:
    """Text for a Markdown line or table cell: control characters and line breaks shown as ``\\x..``
    (:func:`koken.base.text.printable`), ``|`` escaped: a company name from a file never starts a heading or a
    new table cell."""
    return printable(str(text)).replace("|", "\\|")


def _md_table(frame: pd.DataFrame) -> str:
    shown = frame.map(_md)
    shown.columns = [_md(c) for c in frame.columns]
    return tabulate(shown, headers="keys", tablefmt="github", showindex=False, disable_numparse=True)


def _industry_file_titles(r: Rollup) -> dict[str, str]:
    """The industry tables' titles in the Markdown and XLSX files (bilingual, as the report's)."""
    return {
        "totals": "業界の総量 / Industry totals",
        "targets": "業界の目標進捗 / Industry against the targets",
        "investment": f"CO2削減投資 FY{r.fiscal_year} / Investment by measure",
        "renewables": "再生可能エネルギー / Renewable electricity",
        "completeness": "提出状況 / Submissions",
    }


def to_markdown(view: ProgressView) -> str:
    """The view as Markdown (UTF-8 text): each company's tables (or the one company's), the industry's tables, the
    notes. Figures are rounded for reading (原油換算kL and t-CO2 to 0.1, shares to 0.01 %); the JSON keeps them
    unrounded. Text from submissions is escaped (:func:`_md`)."""
    out = []
    for c in view.companies:
        out.append(f"# 行動計画の進捗 / Action-plan progress: {_md(c.company)}")
        titles = {
            "intensity": "エネルギー原単位とコミット目標 / Energy intensity and the commit target",
            "co2": "CO2排出量とチャレンジ目標 / CO2 and the challenge target",
            "measures": "CO2削減対策 / Reduction measures",
        }
        for key, table in company_tables(c).items():
            out += [
                "",
                f"## {titles[key]}",
                "",
                _md_table(table),
            ]
        out.append("")
    if view.rollup is not None:
        r = view.rollup
        titles = _industry_file_titles(r)
        out.append("# 業界 / Industry" + (" (参考) / for reference" if view.company_only else ""))
        tables = industry_tables(r)
        for key in (
            ("totals", "targets") if view.company_only else ("totals", "targets", "investment", "renewables", "completeness")
        ):
            out += [
                "",
                f"## {titles[key]}",
                "",
                _md_table(tables[key]),
            ]
        out.append("")
    out += ["## 注記 / Notes", "", *[f"- {_md(line)}" for line in notes(view)]]
    return "\n".join(out) + "\n"


def to_document(view: ProgressView) -> dict:
    """The view as JSON-ready data (plain dicts, lists, numbers; NaN as null): unrounded figures with their units in
    the keys (``energy[原油換算kL]``), each company's definition, base years, origins and content hash, the hashes
    of the carrier table and the plan, and the notes."""

    def records(frame: pd.DataFrame) -> list[dict]:
        return json.loads(frame.to_json(orient="records", force_ascii=False))

    doc = {
        "koken_progress": 1,
        "koken_version": __version__,
        "format": FORMAT,
        "carrier_table_hash": load_carrier_table().content_hash,
        "plan_hash": load_plan().content_hash,
        "companies": [
            {
                "company": c.company,
                "group": c.group,
                "source": c.source,
                "content_hash": c.content_hash,
                "definition": c.definition,
                "base_years": c.base_years,
                "years": records(c.years),
                "carriers": records(c.carriers),
                "measures": records(c.measures),
                "renewables": records(c.renewables),
                "origins": c.origins,
            }
            for c in view.companies
        ],
    }
    if view.rollup is not None:
        r = view.rollup
        industry = {
            "fiscal_year": r.fiscal_year,
            "definition": r.definition,
            "base_years": r.base_years,
            "totals": records(r.totals),
            "targets": records(r.targets),
        }
        if not view.company_only:
            industry.update(
                {
                    "investment": records(r.investment),
                    "renewables": records(r.renewables),
                    "completeness": records(r.completeness),
                    "coverage": r.coverage,
                }
            )
        doc["industry"] = industry
    doc["notes"] = notes(view)
    return doc


def _xlsx_text(value: object) -> object:
    """Text that a spreadsheet would run as a formula (``=1+1`` as a company name) gets a leading apostrophe;
    numbers, and signed figures such as ``-3.17 %``, stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not re.match(r"[+\-][\d.]", value):
        return "'" + value
    return value


def to_xlsx(view: ProgressView) -> bytes:
    """The view as XLSX bytes: a sheet per company (its tables as displayed), ``業界 industry`` when several
    submissions were combined, ``注記 notes``; bold bordered headers, A4 landscape one page wide; text that a
    spreadsheet would run as a formula is written as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin")

    def put(ws, title: str, table: pd.DataFrame) -> None:
        ws.append([_xlsx_text(title)])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=12)
        ws.append([_xlsx_text(c) for c in table.columns])
        header_row = ws.max_row
        for cell in ws[header_row]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
        ws.row_dimensions[header_row].height = 45
        for values in table.itertuples(index=False):
            ws.append([_xlsx_text(v.item() if hasattr(v, "item") else v) for v in values])
            for cell in ws[ws.max_row]:
                cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
        ws.append([])

    def sheet(title: str):
        ws = wb.create_sheet(title[:31])
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        return ws

    for c in view.companies:
        ws = sheet(re.sub(r"[\\/*?:\[\]\x00-\x1f]", "_", c.company) or "company")
        for key, table in company_tables(c).items():
            put(
                ws,
                {
                    "intensity": "エネルギー原単位 / Energy intensity",
                    "co2": "CO2排出量 / CO2",
                    "measures": "CO2削減対策 / Reduction measures",
                }[key],
                table,
            )
        for col in "ABCDEFGHIJK":
            ws.column_dimensions[col].width = 18
    if view.rollup is not None:
        ws = sheet("業界 industry")
        tables = industry_tables(view.rollup)
        titles = _industry_file_titles(view.rollup)
        for key in ("totals", "targets") if view.company_only else tables:
            put(ws, titles[key], tables[key])
        ws.column_dimensions["A"].width = 48
        for col in "BCDEFGHI":
            ws.column_dimensions[col].width = 16
    ws = sheet("注記 notes")
    ws.append(["注記 / Notes"])
    ws["A1"].font = Font(bold=True)
    for line in notes(view):
        ws.append([_xlsx_text(line)])
    ws.column_dimensions["A"].width = 160
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_progress(view: ProgressView, path: str | Path) -> None:
    """Write ``view`` by the file's extension (.md, .xlsx, .json), whole or not at all.

    Raises:
        KokenError: another extension.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".md":
        data = to_markdown(view).encode("utf-8")
    elif suffix == ".xlsx":
        data = to_xlsx(view)
    elif suffix == ".json":
        data = (json.dumps(to_document(view), ensure_ascii=False, indent=1, allow_nan=False) + "\n").encode("utf-8")
    else:
        raise KokenError(
            _("write the progress view as one of {suffixes}").format(suffixes=", ".join(EXPORT_SUFFIXES)),
            Location(file=str(path)),
        )
    atomic_write(path, data)


def template_xlsx() -> bytes:
    """The submission template: the 提出 submission sheet (header row, a list of sections to choose from, an
    example row per section), and a 説明 instructions sheet with the carriers, sections and items."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    carriers = load_carrier_table()
    plan = load_plan()
    wb = Workbook()
    ws = wb.active
    ws.title = SUBMISSION_SHEET
    ws.append(["行動計画 調査票（生産プロセス） / Action-plan submission (production process) — koken progress"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(
        [
            "1行に1項目。区分は一覧から選ぶ。数量は値と単位を分けて書く。/ One fact per row; choose the section from the list; "
            "value and unit in their own columns."
        ]
    )
    ws.append([f"{c.ja} / {c.id}" for c in COLUMNS])
    header = ws.max_row
    for cell in ws[header]:
        cell.font = Font(bold=True)
    descriptions = {c.id: c.en for c in COLUMNS}
    for j, c in enumerate(COLUMNS, start=1):
        ws.cell(row=header, column=j).comment = Comment(f"{c.ja} / {descriptions[c.id]}", "koken")
    examples = [
        ("", "形式", "format", FORMAT, "", "", ""),
        ("", "会社", "名称", PLACEHOLDERS["company"], "", "", ""),
        ("", "定義", "指標", "実質生産高（国内）", "", "", ""),
        ("", "定義", "単位", "10億円", "", "", ""),
        ("", "定義", "デフレーター", PLACEHOLDERS["intensity.deflator"], "", "", ""),
        ("", "定義", "コミット基準年度", plan.spec.commit.base_year, "", "", ""),
        ("", "定義", "チャレンジ基準年度", plan.spec.challenge.base_year, "", "", ""),
    ]
    for row in examples:
        ws.append(list(row))
    sections = DataValidation(type="list", formula1='"' + ",".join(s.ja for s in SECTIONS) + '"', allow_blank=True)
    sections.error = "区分は一覧から選んでください / choose a section from the list"
    ws.add_data_validation(sections)
    sections.add(f"B{header + 1}:B2000")
    years = DataValidation(type="whole", operator="between", formula1="1990", formula2="2100", allow_blank=True)
    years.error = "年度は 2023 のように西暦で / a fiscal year such as 2023"
    ws.add_data_validation(years)
    years.add(f"A{header + 1}:A2000")
    for col, width in zip("ABCDEFG", (10, 16, 28, 24, 16, 40, 24)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    info = wb.create_sheet("説明 instructions")
    info.append(["区分 / section", "意味 / meaning"])
    for s in SECTIONS:
        info.append([s.ja + " / " + s.id, _(s.en)])
    info.append([])
    info.append(["エネルギー種別 / carrier", "単位 / unit", "熱量換算係数（年度） / heat values (years)", "注記 / note"])
    for c in carriers.spec.carriers:
        info.append(
            [
                f"{c.ja} / {c.id}",
                c.unit,
                "; ".join(f"{h.label()}: {h.value:g} {h.unit}" for h in c.heat_values) or "供給事業者の値を宣言 / declare",
                c.note or "",
            ]
        )
    info.append([])
    info.append(["再エネの項目 / renewable items", ""])
    for t in RENEWABLE_ITEMS:
        info.append([f"{t.ja} / {t.id}", f"{_(t.en)} [{RENEWABLE_UNIT}]"])
    info.append(["定義の項目 / definition items", ""])
    for t in DEFINITION_ITEMS:
        info.append([f"{t.ja} / {t.id}", _(t.en)])
    info.append(["対策の種類 / measure kinds", ""])
    for k in plan.spec.measure_kinds:
        info.append([f"{k.ja} / {k.id}", k.en])
    for cell in info[1]:
        cell.font = Font(bold=True)
    info.column_dimensions["A"].width = 44
    info.column_dimensions["B"].width = 60
    info.column_dimensions["C"].width = 60
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
