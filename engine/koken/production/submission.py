"""A company's action-plan submission (行動計画の調査票), read from YAML, CSV or XLSX.

Two shapes, one model:

* YAML: a mapping (see ``examples/progress/*.yaml`` and docs/progress.md) with the company, the intensity
  definition, base years, declared values and one entry per fiscal year;
* CSV or XLSX (the sheet of ``koken template progress``): one fact per row, columns
  年度/fiscal_year, 区分/section, 項目/item, 値/value, 単位/unit, 出典/source, 備考/note; the sections are
  :data:`SECTIONS`. Title rows above the header are skipped.

Every quantity is text with its unit (``52,000 MWh``, ``412 10億円``); units are checked where the figures
are computed (:mod:`koken.production.metrics`). Problems are collected and raised together, each naming the
file and the row and column (tables) or the field (YAML).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from pydantic import ConfigDict, Field

from koken.base.errors import KokenError, KokenErrors, Location, PortfolioError
from koken.base.i18n import N_, _
from koken.base.models import Number, StrictModel, validation_problems
from koken.base.safe_yaml import MAX_YAML_BYTES, load_yaml_text, read_limited
from koken.base.vocabulary import Term

FORMAT = "koken-progress/1"
"""The format marker every submission carries (``format:`` in YAML, the 形式/format row in a table)."""

PLACEHOLDERS = {"company": "（会社名）", "intensity.deflator": "（デフレーターの名称）"}
"""The template's placeholders: a submission that still holds one is refused (it was not filled in)."""

MAX_SUBMISSION_ROWS = 100_000
"""Most fact rows a table submission may have."""

QuantityText = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Year = Annotated[int, Field(ge=1990, le=2100)]


SECTIONS = (
    Term("format", "形式", N_("format of the file (koken-progress/1)")),
    Term("company", "会社", N_("company: item name (名称) or group (グループ)")),
    Term(
        "definition",
        "定義",
        N_("intensity definition: measure (指標), unit (単位), deflator (デフレーター); commit_base_year, challenge_base_year"),
    ),
    Term("energy", "エネルギー", N_("energy use of a carrier in the year (item: the carrier)")),
    Term("heat_value", "熱量換算係数", N_("declared heat value of a carrier (year blank: every year), with its source")),
    Term("co2_factor", "排出係数", N_("declared CO2 factor of a carrier; for electricity the supplier's factor of the year")),
    Term("activity", "生産活動量", N_("the activity measure of the intensity (item: its name)")),
    Term("renewable", "再エネ", N_("renewable electricity: self_consumed_solar, self_consumed_other, purchased, certificates")),
    Term("investment", "投資額", N_("investment in a CO2-reduction measure (item: the measure kind)")),
    Term("reduction", "削減量", N_("CO2 reduction per year of a measure (item: the measure kind)")),
    Term("reported", "報告値", N_("totals reported earlier, for a year without carrier detail: energy, co2, electricity")),
)
"""The sections of a table submission, each with its Japanese name and what it holds (one list, used by
the reader and by the template; the English text is marked for the catalogue: ``_(term.en)`` shows it in
the chosen language)."""

RENEWABLE_ITEMS = (
    Term("self_consumed_solar", "自家消費（太陽光）", N_("renewable generation self-consumed: solar")),
    Term("self_consumed_other", "自家消費（その他）", N_("renewable generation self-consumed: other")),
    Term("purchased", "再エネ電力の購入", N_("renewable electricity purchased")),
    Term("certificates", "非化石証書", N_("non-fossil certificates used")),
)
"""Renewable electricity items, as in the report's renewables table."""

DEFINITION_ITEMS = (
    Term("measure", "指標", N_("name of the activity measure, e.g. 実質生産高（国内）")),
    Term("unit", "単位", N_("its unit, e.g. 10億円")),
    Term("deflator", "デフレーター", N_("the deflator of a real (price-adjusted) measure")),
    Term("commit_base_year", "コミット基準年度", N_("base year of the commit target (default: the plan's)")),
    Term("challenge_base_year", "チャレンジ基準年度", N_("base year of the challenge target (default: the plan's)")),
)

REPORTED_ITEMS = (
    Term("energy", "エネルギー使用量", "energy use, e.g. in 原油換算kL"),
    Term("co2", "CO2排出量", "CO2 emissions, e.g. in t-CO2"),
    Term("electricity", "購入電力量", "purchased electricity, e.g. in MWh (for the factor split)"),
)

COLUMNS = (
    Term("fiscal_year", "年度", "fiscal year"),
    Term("section", "区分", "section"),
    Term("item", "項目", "item"),
    Term("value", "値", "value"),
    Term("unit", "単位", "unit"),
    Term("source", "出典", "source"),
    Term("note", "備考", "note"),
)
"""The columns of a table submission."""


class _Period(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False, populate_by_name=True)
    first: Annotated[int | None, Field(alias="from", ge=1990, le=2100)] = None
    last: Annotated[int | None, Field(alias="to", ge=1990, le=2100)] = None

    def covers(self, fiscal_year: int) -> bool:
        return (self.first is None or self.first <= fiscal_year) and (self.last is None or fiscal_year <= self.last)


class DeclaredValue(_Period):
    """A heat value or CO2 factor the company declares for a carrier (e.g. its gas supplier's), with its source."""

    carrier: Text
    value: Number
    unit: QuantityText
    source: Text
    note: Text | None = None


class ElectricityFactor(StrictModel):
    """The company's own electricity factor for a year (its supplier's or menu's), with the evidence."""

    fiscal_year: Year
    value: Number
    unit: QuantityText
    source: Text
    supplier: Text | None = None
    menu: Text | None = None


class Measure(StrictModel):
    """A CO2-reduction measure taken in the year: its kind, the investment, the CO2 reduced per year."""

    kind: Text
    investment: QuantityText
    reduction: QuantityText
    note: Text | None = None


class Renewables(StrictModel):
    self_consumed_solar: QuantityText | None = None
    self_consumed_other: QuantityText | None = None
    purchased: QuantityText | None = None
    certificates: QuantityText | None = None


class Reported(StrictModel):
    """Totals reported earlier (a base year without carrier detail); computed years never mix with them."""

    energy: QuantityText
    co2: QuantityText
    electricity: QuantityText | None = None
    source: Text


class YearRecord(StrictModel):
    fiscal_year: Year
    energy: dict[Text, QuantityText] = Field(default_factory=dict)
    activity: QuantityText
    renewables: Renewables = Renewables()
    measures: list[Measure] = Field(default_factory=list)
    reported: Reported | None = None


class Definition(StrictModel):
    """What the intensity divides by: recorded in every result and compared before submissions are combined."""

    measure: Text
    unit: QuantityText
    deflator: Text | None = None


class BaseYears(StrictModel):
    commit: Year | None = None
    challenge: Year | None = None


class SubmissionSpec(StrictModel):
    format: Literal["koken-progress/1"]
    company: Text
    group: Text | None = None
    intensity: Definition
    base_years: BaseYears = BaseYears()
    heat_values: list[DeclaredValue] = Field(default_factory=list)
    co2_factors: list[DeclaredValue] = Field(default_factory=list)
    electricity_factors: list[ElectricityFactor] = Field(default_factory=list)
    years: list[YearRecord] = Field(min_length=1)


@dataclass(frozen=True)
class Submission:
    """One read submission: the validated content, the file, the hash of the bytes read, and a locator that
    turns a field path (``years.2.energy.city_gas``) into the row and column of a table."""

    spec: SubmissionSpec
    source: str
    content_hash: str
    locations: dict[str, Location]

    def where(self, path: str) -> Location:
        """The location of a field (``years.0.activity``): a table's row and column, or the YAML field."""
        return _locate(self.locations, path, self.source)


def _locate(locations: dict[str, Location], path: str, source: str) -> Location:
    """The row of ``path`` in a table, or of its nearest located parent (``heat_values.0.source`` is in the
    row of ``heat_values.0.value``); for YAML, the field itself."""
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        for key in (prefix, prefix + ".value"):
            if key in locations:
                return locations[key]
    return Location(file=source, field=path or None)


def _validate(data: object, source: str, locations: dict[str, Location]) -> SubmissionSpec:
    if isinstance(data, dict):
        unfilled = [
            path
            for path, text in PLACEHOLDERS.items()
            if (data.get(path) if "." not in path else (data.get("intensity") or {}).get(path.split(".")[1])) == text
        ]
        if unfilled:
            raise KokenErrors(
                [
                    PortfolioError(
                        _("the template's placeholder {placeholder} is still there: fill it in").format(
                            placeholder=PLACEHOLDERS[p]
                        ),
                        _locate(locations, p, source),
                    )
                    for p in unfilled
                ]
            )
    try:
        return SubmissionSpec.model_validate(data)
    except pydantic.ValidationError as err:
        problems = []
        for path, message, kind in validation_problems(err):
            if kind == "literal_error" and path == "format":
                message = _("not a koken submission: the format must be {format!r}").format(format=FORMAT)
            problems.append(PortfolioError(message, _locate(locations, path, source)))
        raise KokenErrors(problems) from None


def _alias_map(terms) -> dict[str, str]:
    return {name.casefold(): t.id for t in terms for name in (t.id, t.ja)}


def _item(terms, section: str, item: str, at: Location, problems: list[KokenError]) -> str | None:
    """The id of ``item`` among ``terms`` (by id or Japanese name), or None with the problem recorded."""
    found = _alias_map(terms).get(item.casefold())
    if found is None:
        expected = ", ".join(f"{t.id} ({t.ja})" for t in terms)
        problems.append(
            PortfolioError(
                _("unknown {section} item {item!r}: expected {expected}").format(section=section, item=item, expected=expected),
                at,
            )
        )
    return found


_SECTION_NAMES = _alias_map(SECTIONS)
_COLUMN_NAMES = _alias_map(COLUMNS)


def _header_names(cell: object) -> set[str]:
    """``年度 / fiscal_year`` → {"年度", "fiscal_year"} (the template writes both)."""
    text = "" if cell is None else str(cell)
    return {part.strip().casefold() for part in text.replace("／", "/").split("/") if part.strip()}


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _table_to_data(rows: list[tuple[int, list[object]]], source: str) -> tuple[dict, dict[str, Location]]:
    """Fact rows (row number, cells) → the YAML-shaped mapping and the location of each field."""
    problems: list[KokenError] = []
    header_at = None
    for i, (_row, cells) in enumerate(rows):
        found = {_COLUMN_NAMES.get(n) for c in cells for n in _header_names(c)} - {None}
        if {"section", "item", "value"} <= found:
            header_at = i
            break
    if header_at is None:
        raise KokenErrors(
            [
                PortfolioError(
                    _("no header row: expected the columns {columns}").format(
                        columns=", ".join(f"{c.ja}/{c.id}" for c in COLUMNS)
                    ),
                    Location(file=source),
                )
            ]
        )
    header_row, header = rows[header_at]
    column_of: dict[str, int] = {}
    for j, cell in enumerate(header):
        ids = {_COLUMN_NAMES.get(n) for n in _header_names(cell)} - {None}
        if len(ids) > 1:
            problems.append(
                PortfolioError(_("header names two columns"), Location(file=source, row=header_row, column=_text(cell)))
            )
        for cid in ids:
            if cid in column_of:
                problems.append(
                    PortfolioError(_("column appears twice"), Location(file=source, row=header_row, column=_text(cell)))
                )
            column_of[cid] = j
        if not ids and _text(cell):
            problems.append(
                PortfolioError(
                    _("unknown column: expected {columns}").format(columns=", ".join(f"{c.ja}/{c.id}" for c in COLUMNS)),
                    Location(file=source, row=header_row, column=_text(cell)),
                )
            )
    headers = {cid: _text(header[j]) for cid, j in column_of.items()}
    data: dict = {"years": []}
    years: dict[int, dict] = {}
    locations: dict[str, Location] = {}
    measures: dict[tuple[int, str], dict] = {}
    seen: dict[tuple, int] = {}

    def cell(cells, cid):
        j = column_of.get(cid)
        return _text(cells[j]) if j is not None and j < len(cells) else ""

    def year_entry(fy: int) -> tuple[int, dict]:
        if fy not in years:
            years[fy] = {"fiscal_year": fy}
            data["years"].append(years[fy])
        return data["years"].index(years[fy]), years[fy]

    for row, cells in rows[header_at + 1 :]:
        if not any(_text(c) for c in cells):
            continue
        at = Location(file=source, row=row, column=headers.get("value"))
        section_text, item, value, unit = (cell(cells, c) for c in ("section", "item", "value", "unit"))
        src, note, year_text = cell(cells, "source"), cell(cells, "note"), cell(cells, "fiscal_year")
        section = _SECTION_NAMES.get(section_text.casefold())
        if section is None:
            problems.append(
                PortfolioError(
                    _("unknown section {section!r}: expected one of {sections}").format(
                        section=section_text, sections=", ".join(f"{s.ja}/{s.id}" for s in SECTIONS)
                    ),
                    Location(file=source, row=row, column=headers.get("section")),
                )
            )
            continue
        fy = None
        if year_text:
            try:
                digits = year_text.upper().removeprefix("FY")
                fy = int(digits) if digits.isdigit() else None
            except ValueError:
                fy = None
            if fy is None:
                problems.append(
                    PortfolioError(
                        _("fiscal year {year!r} is not a year such as 2023").format(year=year_text),
                        Location(file=source, row=row, column=headers.get("fiscal_year")),
                    )
                )
                continue
        key = (fy, section, item.casefold())
        if key in seen:
            twice = (
                _("{section} {item!r} of FY{year} appears twice (first in row {row}): give one row, summed if need be")
                if fy
                else _("{section} {item!r} appears twice (first in row {row}): give one row, summed if need be")
            )
            problems.append(PortfolioError(twice.format(section=section, item=item, year=fy, row=seen[key]), at))
            continue
        seen[key] = row
        quantity = f"{value} {unit}".strip()
        needs_year = section in ("energy", "activity", "renewable", "investment", "reduction", "reported")
        if needs_year and fy is None:
            problems.append(
                PortfolioError(
                    _("a row of section {section} needs its fiscal year").format(section=section),
                    Location(file=source, row=row, column=headers.get("fiscal_year")),
                )
            )
            continue
        if section == "format":
            data["format"] = value
            locations["format"] = at
        elif section == "company":
            field = {"name": "company", "名称": "company", "group": "group", "グループ": "group"}.get(item.casefold())
            if field is None:
                problems.append(
                    PortfolioError(
                        _("unknown company item {item!r}: expected name (名称) or group (グループ)").format(item=item), at
                    )
                )
                continue
            data[field] = value
            locations[field] = at
        elif section == "definition":
            field = _item(DEFINITION_ITEMS, "definition", item, at, problems)
            if field is None:
                continue
            if field.endswith("_base_year"):
                data.setdefault("base_years", {})[field.removesuffix("_base_year")] = _int_or_text(value)
                locations[f"base_years.{field.removesuffix('_base_year')}"] = at
            else:
                data.setdefault("intensity", {})[field] = value
                locations[f"intensity.{field}"] = at
        elif section in ("heat_value", "co2_factor"):
            declared = data.setdefault(section + "s", [])
            carrier = item
            if (
                section == "co2_factor"
                and fy is not None
                and carrier.casefold()
                in ("electricity", "電気", "electricity_purchased", "買電（系統電力）", "purchased electricity")
            ):
                entries = data.setdefault("electricity_factors", [])
                locations[f"electricity_factors.{len(entries)}.value"] = at
                entries.append(
                    {
                        "fiscal_year": fy,
                        "value": _number(value),
                        "unit": unit,
                        "source": src or None,
                        **({"supplier": note} if note else {}),
                    }
                )
                continue
            locations[f"{section}s.{len(declared)}.value"] = at
            entry = {"carrier": carrier, "value": _number(value), "unit": unit, "source": src or None}
            if fy is not None:
                entry.update({"from": fy, "to": fy})
            if note:
                entry["note"] = note
            declared.append(entry)
        else:
            index, record = year_entry(fy)
            prefix = f"years.{index}"
            if section == "energy":
                record.setdefault("energy", {})[item] = quantity
                locations[f"{prefix}.energy.{item}"] = at
            elif section == "activity":
                record["activity"] = quantity
                locations[f"{prefix}.activity"] = at
            elif section == "renewable":
                field = _item(RENEWABLE_ITEMS, "renewable", item, at, problems)
                if field is None:
                    continue
                record.setdefault("renewables", {})[field] = quantity
                locations[f"{prefix}.renewables.{field}"] = at
            elif section == "reported":
                field = _item(REPORTED_ITEMS, "reported", item, at, problems)
                if field is None:
                    continue
                reported = record.setdefault("reported", {})
                reported[field] = quantity
                if src:
                    reported["source"] = src
                locations[f"{prefix}.reported.{field}"] = at
            else:  # investment or reduction: paired by (year, measure kind)
                pair = measures.get((fy, item.casefold()))
                if pair is None:
                    record.setdefault("measures", [])
                    pair = {"kind": item}
                    measures[(fy, item.casefold())] = pair
                    record["measures"].append(pair)
                m = record["measures"].index(pair)
                pair[section] = quantity
                locations[f"{prefix}.measures.{m}.{section}"] = at
                locations.setdefault(f"{prefix}.measures.{m}", at)
    if problems:
        raise KokenErrors(problems)
    return data, locations


def _number(text: str) -> object:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return text


def _int_or_text(text: str) -> object:
    try:
        return int(text.upper().removeprefix("FY"))
    except ValueError:
        return text


def _too_many_rows() -> str:
    return _("more than {count} rows").format(count=f"{MAX_SUBMISSION_ROWS:,}")


def _csv_rows(raw: bytes, source: str) -> list[tuple[int, list[object]]]:
    import csv

    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise KokenErrors([PortfolioError(_("file is neither UTF-8 nor Shift_JIS (cp932) text"), Location(file=source))])
    rows = []
    for i, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if i > MAX_SUBMISSION_ROWS:
            raise KokenErrors([PortfolioError(_too_many_rows(), Location(file=source))])
        rows.append((i, list(cells)))
    return rows


SUBMISSION_SHEET = "提出 submission"
"""The sheet of the submission template that holds the facts."""


def _xlsx_rows(raw: bytes, source: str) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many types on a damaged workbook
        raise KokenErrors(
            [PortfolioError(_("cannot read the workbook: {error}").format(error=type(err).__name__), Location(file=source))]
        ) from None
    try:
        sheet = wb[SUBMISSION_SHEET] if SUBMISSION_SHEET in wb.sheetnames else wb.worksheets[0]
        rows = []
        for i, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            if i > MAX_SUBMISSION_ROWS:
                raise KokenErrors(
                    [PortfolioError(_too_many_rows(), Location(file=f"{source} [{sheet.title}]"))]
                )
            rows.append((i, list(cells)))
        return [(i, cells) for i, cells in rows]
    finally:
        wb.close()


def read_submission(path: str | Path) -> Submission:
    """Read one submission file (``.yaml``/``.yml``, ``.csv`` or ``.xlsx``), hashing the bytes it parses.

    Args:
        path: the file.
    Returns:
        :class:`Submission`.
    Raises:
        KokenErrors: every problem found (unknown section, key or column, a row without its year, a fact
            given twice, a missing field, a file that is not a submission), each with its location.
    """
    p = Path(path)
    source = str(path)
    suffix = p.suffix.lower()
    readers: dict[str, Callable[[bytes, str], list]] = {".csv": _csv_rows, ".xlsx": _xlsx_rows}
    if suffix not in (".yaml", ".yml", *readers):
        raise KokenErrors([PortfolioError(_("a submission is a .yaml, .csv or .xlsx file"), Location(file=source))])
    try:
        raw = read_limited(p, MAX_YAML_BYTES)
    except KokenError as err:
        raise KokenErrors([PortfolioError(err.message, Location(file=source))]) from None
    except OSError as err:
        raise KokenErrors(
            [PortfolioError(_("cannot read file: {reason}").format(reason=err.strerror), Location(file=source))]
        ) from None
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    if suffix in readers:
        data, locations = _table_to_data(readers[suffix](raw, source), source)
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise KokenErrors(
                [PortfolioError(_("file is not UTF-8 text (byte {position})").format(position=err.start), Location(file=source))]
            ) from None
        try:
            data = load_yaml_text(text, source)
        except KokenError as err:
            raise KokenErrors([err]) from None
        locations = {}
    return Submission(spec=_validate(data, source, locations), source=source, content_hash=digest, locations=locations)
