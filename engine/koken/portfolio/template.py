"""Portfolio templates to fill in Excel: a sheet per methodology (or one sheet for several), read back as they are.

``koken template refrigerator room_air_conditioner -o 提出用.xlsx`` writes, per methodology, a sheet named by its
id with:

* a title row (the methodology's Japanese and English titles, id and version) and a line of instructions;
* the header row: each column named in Japanese and English on two lines of one cell (``出荷台数`` /
  ``units_shipped``), both of which koken reads (:func:`koken.portfolio.layout.split_header_cell`), with a
  comment giving the parameter's description, unit, range, default or factor table, and sources;
* the units row under it (its first cell says ``単位``), which a company may change (``台`` → ``万台``);
* data validation: market 国内/海外, fiscal year 1990-2100, region codes from the region table (a warning, so
  a name such as 米国 may still be typed);

and an instructions sheet (説明) in Japanese and English. A sheet named after its methodology needs no
methodology column (:meth:`koken.portfolio.readers.PortfolioSource.partitions`); with ``combined=True`` one sheet
(ポートフォリオ) has a methodology column (a list to choose from) and the columns of every methodology chosen.
The region codes of the lists live on a hidden sheet (コード), which koken does not read.

The header and units rows are where :func:`koken.portfolio.layout.find_header` and
:func:`koken.portfolio.layout.split_units_row` look, so a filled template is read back directly, every sheet at
once, with problems located by sheet, cell and column.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from koken.base.errors import KokenError, KokenErrors
from koken.base.i18n import _
from koken.base.regions import regions
from koken.base.units import is_count_unit
from koken.base.vocabulary import MARKETS, STANDARD_COLUMNS
from koken.methodology import Methodology
from koken.portfolio.layout import TEMPLATE_SHEETS, column_letter, fold_name, methodology_names

INPUT_ROWS = 500
"""Rows of a sheet given data validation (rows beyond them may be filled too, without the lists)."""
COMBINED_SHEET = "ポートフォリオ"
INSTRUCTIONS_SHEET, CODES_SHEET = TEMPLATE_SHEETS
HEADER_ROW = 4
"""The header's row in every template sheet: a title, a note on the functional unit and one of instructions
above it, the units row right under it, the product lines from the row after."""

_STANDARD = (
    ("product_line", "製品名", "Product line: your name for it (free text)", "製品名（自由記述）"),
    ("methodology", "方法論", "Methodology: its id or Japanese title (choose from the list)",
     "方法論：id または日本語名（一覧から選択）"),
    ("fiscal_year", "年度", "Fiscal year of shipment (e.g. 2023)", "出荷年度（例：2023）"),
    ("market", "市場", "Market of use: 国内 (domestic) or 海外 (overseas)", "使用市場：国内 または 海外"),
    ("region", "地域", "Region of use: an ISO 3166 code (JP, US, CN …) or its name (米国); looks up the grid factor",
     "使用地域：ISO 3166 のコード（JP, US, CN など）または名称（米国など）。系統電力の排出係数の参照に使います"),
    ("units_shipped", "出荷台数", "Units shipped, in the unit of the units row (e.g. 台 or 万台)",
     "出荷台数。単位行の単位で（例：台、万台）"),
)


def resolve_methodologies(names: Sequence[str], library: Mapping[str, Methodology]) -> list[Methodology]:
    """The methodologies ``names`` name (an id, a Japanese or English title or an alias); every one when
    ``names`` is empty, in category order.

    Raises:
        KokenErrors: a name no methodology answers to (each with the closest one).
    """
    import difflib

    ordered = sorted(library.values(), key=lambda m: (m.category, m.id))
    if not names:
        return ordered
    known = methodology_names(library)
    chosen, problems = [], []
    for name in names:
        mid = name if name in library else known.get(fold_name(name))
        if mid is None:
            hint = difflib.get_close_matches(fold_name(name), list(known), n=1, cutoff=0.5)
            problems.append(KokenError(
                _("unknown methodology {name!r}; did you mean {suggestion!r} ({id})?").format(
                    name=name, suggestion=hint[0], id=known[hint[0]]) if hint else
                _("unknown methodology {name!r}: koken methodologies lists them").format(name=name)))
        elif library[mid] not in chosen:
            chosen.append(library[mid])
    if problems:
        raise KokenErrors(problems)
    return chosen


SHEET_NAME_LIMIT = 31
"""Characters a worksheet's name may have (Excel's limit)."""


def template_workbook(methodologies: Sequence[Methodology], combined: bool = False) -> bytes:
    """The template workbook (``.xlsx`` bytes) for ``methodologies``: a sheet each, or one combined sheet.

    Args:
        methodologies: from :func:`resolve_methodologies`.
        combined: one sheet with a methodology column instead of a sheet per methodology.
    Returns:
        The workbook's bytes (openpyxl).
    Raises:
        KokenErrors: a methodology id longer than a sheet's name may be (31 characters), without ``combined``:
            its sheet could not be named after it, and it is the sheet's name that gives a sheet its methodology.
    """
    from openpyxl import Workbook

    long_ids = [m.id for m in methodologies if len(m.id) > SHEET_NAME_LIMIT]
    if long_ids and not combined:
        raise KokenErrors([KokenError(_("methodology {id} has an id longer than a sheet's name may be ({limit} "
                                        "characters): write a combined template (--combined), whose rows name their "
                                        "methodology").format(id=mid, limit=SHEET_NAME_LIMIT)) for mid in long_ids])

    book = Workbook()
    instructions = book.active
    instructions.title = INSTRUCTIONS_SHEET
    codes = book.create_sheet(CODES_SHEET)
    region_list, methodology_list = _code_lists(codes, methodologies)
    codes.sheet_state = "hidden"
    if combined:
        _portfolio_sheet(book.create_sheet(COMBINED_SHEET), list(methodologies), region_list, methodology_list)
    else:
        for m in methodologies:
            _portfolio_sheet(book.create_sheet(m.id), [m], region_list, None)
    _instructions(instructions, methodologies, combined)
    book.move_sheet(CODES_SHEET, offset=len(book.sheetnames))
    book.active = 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _code_lists(sheet, methodologies: Sequence[Methodology]) -> tuple[str, str]:
    """Region codes and methodology ids on the hidden codes sheet; the ranges the lists read."""
    by_code, _names = regions()
    sheet.append(["地域 / region", "コード / code", "方法論 / methodology", "id"])
    codes = sorted(by_code.values(), key=lambda r: (r.code != "JP", r.code))
    for i in range(max(len(codes), len(methodologies))):
        r = codes[i] if i < len(codes) else None
        m = methodologies[i] if i < len(methodologies) else None
        sheet.append([r.ja if r else None, r.code if r else None, m.spec.title.ja if m else None, m.id if m else None])
    # the lists offer the Japanese names (日本, 米国; 電気冷蔵庫), which koken reads back as the codes and ids
    return (f"'{CODES_SHEET}'!$A$2:$A${len(codes) + 1}", f"'{CODES_SHEET}'!$C$2:$C${len(methodologies) + 1}")


def _columns(methodologies: Sequence[Methodology], combined: bool) -> list[tuple[str, list[str], str, str]]:
    """The sheet's columns: (canonical name, header lines, unit for the units row, comment)."""
    columns = []
    for name, ja, en, ja_text in _STANDARD:
        if name == "methodology" and not combined:
            continue
        unit = ""
        if name == "units_shipped":
            units = sorted({m.spec.functional_unit.unit for m in methodologies})
            unit = units[0] if len(units) == 1 else ""
            if len(units) > 1:
                en += f" (units differ by methodology: {', '.join(units)}; write the unit in each cell, e.g. 12 kW)"
                ja_text += f"（方法論ごとに単位が異なります：{'、'.join(units)}。各セルに単位を書いてください。例：12 kW）"
        if name == "units_shipped" and not all(is_count_unit(m.shipment_unit) for m in methodologies):
            ja = "出荷量"  # kW, MW, 件 of capacity: a quantity shipped, not a count of 台
        lines = [ja, name] if ja in STANDARD_COLUMNS[name] else [name]
        columns.append((name, lines, unit, f"{ja_text}\n{en}"))
    seen: dict[str, int] = {}
    for m in methodologies:
        # a neutral default that says a term does not apply (default_reason: no fuel burnt on site) goes last: most
        # lines leave it blank
        ordered = sorted(m.parameters.values(),
                         key=lambda q: getattr(m.spec.parameters[q.name], "default_reason", None) is not None)
        for p in ordered:
            if p.name in seen:
                users = columns[seen[p.name]]
                columns[seen[p.name]] = (users[0], users[1], users[2] if users[2] == p.unit_text else "",
                                         users[3] + f"\n[{m.id}]")
                continue
            spec = m.spec.parameters[p.name]
            japanese = next((a for a in p.aliases if not a.isascii()), None)
            lines = [japanese, p.name] if japanese else [p.name]
            seen[p.name] = len(columns)
            columns.append((p.name, lines, p.unit_text, _parameter_comment(m, p.name, spec)
                            + (f"\n[{m.id}]" if len(methodologies) > 1 else "")))
    return columns


def _parameter_comment(m: Methodology, name: str, spec) -> str:
    """A parameter's description, unit, range, default or factor table, and sources, in both languages."""
    p = m.parameters[name]
    lines = [spec.description.ja, spec.description.en, f"単位 / unit: {p.unit_text}"]
    if p.low is not None or p.high is not None:
        low = "−∞" if p.low is None else f"{p.low:g}"
        high = "∞" if p.high is None else f"{p.high:g}"
        lines.append(f"範囲 / range: {low} – {high} {p.unit_text}")
    if p.default is not None:
        source = next((s for s in m.spec.sources if s.id == p.default_source), None)
        lines.append(f"空欄なら既定値 / blank: default {p.default:g} {p.unit_text}"
                     + (f" ({source.publisher} {source.year}: {source.title})" if source else ""))
    elif p.factor_table is not None:
        lines.append(f"空欄なら係数表 / blank: factor table {p.factor_table.id} (地域・年度 / region, fiscal year)")
    else:
        lines.append("必須 / required")
    if p.aliases:
        lines.append("別名 / aliases: " + ", ".join(p.aliases))
    return "\n".join(lines)


def _portfolio_sheet(ws, methodologies: list[Methodology], region_list: str, methodology_list: str | None) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    combined = methodology_list is not None
    columns = _columns(methodologies, combined)
    if combined:
        ws["A1"] = "ポートフォリオ（製品行ごとの出荷データ） / Portfolio (shipment data, one row per product line)"
        ws["A2"] = "方法論は行ごとに一覧から選びます / choose each row's methodology from the list: " + ", ".join(
            m.id for m in methodologies)
    else:
        m = methodologies[0]
        ws["A1"] = f"{m.spec.title.ja} / {m.spec.title.en} — 方法論 / methodology {m.id} {m.version}"
        ws["A2"] = (f"機能単位 / functional unit: {m.spec.functional_unit.description.ja} / "
                    f"{m.spec.functional_unit.description.en}（出荷台数の単位 / units shipped in "
                    f"{m.spec.functional_unit.unit}）")
    ws["A3"] = (f"{HEADER_ROW}行目（見出し）と{HEADER_ROW + 1}行目（単位）はそのままに、{HEADER_ROW + 2}行目から1製品行ずつ"
                f"入力してください。単位は{HEADER_ROW + 1}行目で変えられます（例：台 → 万台）。"
                "見出しのコメントに説明があります。 / "
                f"Keep row {HEADER_ROW} (headers) and row {HEADER_ROW + 1} (units); enter one product line per row "
                f"from row {HEADER_ROW + 2}. Units may be changed in row {HEADER_ROW + 1} (e.g. 台 → 万台). Each "
                "header's comment explains the column.")
    ws["A1"].font = Font(bold=True, size=13)
    thin = Side(style="thin", color="999999")
    fill = PatternFill("solid", fgColor="DDEBF7")
    for j, (name, lines, unit, comment) in enumerate(columns, start=1):
        header = ws.cell(row=HEADER_ROW, column=j, value="\n".join(lines))
        header.font = Font(bold=True)
        header.alignment = Alignment(wrap_text=True, vertical="top")
        header.fill = fill
        header.border = Border(top=thin, bottom=thin, left=thin, right=thin)
        header.comment = Comment(comment, "koken", width=420, height=220)
        marker = name == "methodology" if combined else j == 1  # the units row says so where koken looks
        units = ws.cell(row=HEADER_ROW + 1, column=j, value="単位" if marker else (unit or None))
        units.font = Font(italic=True, color="555555")
        units.border = Border(bottom=thin, left=thin, right=thin)
        width = max(12, *(sum(2 if ord(ch) > 0x2E7F else 1 for ch in line) + 2 for line in lines))
        ws.column_dimensions[column_letter(j - 1)].width = min(width, 40)
        first, last = f"{column_letter(j - 1)}{HEADER_ROW + 2}", f"{column_letter(j - 1)}{HEADER_ROW + 1 + INPUT_ROWS}"
        rule = _validation(name, region_list, methodology_list)
        if rule is not None:
            ws.add_data_validation(rule)
            rule.add(f"{first}:{last}")
    ws.row_dimensions[HEADER_ROW].height = 34
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 2, column=2)


def _validation(name: str, region_list: str, methodology_list: str | None):
    from openpyxl.worksheet.datavalidation import DataValidation

    if name == "market":
        rule = DataValidation(type="list", formula1='"' + ",".join(m.ja for m in MARKETS) + '"', allow_blank=True)
        rule.error = "国内 または 海外 / domestic or overseas"
    elif name == "fiscal_year":
        rule = DataValidation(type="whole", operator="between", formula1="1990", formula2="2100", allow_blank=True)
        rule.error = "年度は 2023 のように西暦で / a fiscal year such as 2023"
    elif name == "region":
        rule = DataValidation(type="list", formula1=region_list, allow_blank=True, errorStyle="warning")
        rule.error = "一覧にない地域です（名称でも可） / not in the list of codes (a name is accepted too)"
    elif name == "methodology" and methodology_list is not None:
        rule = DataValidation(type="list", formula1=methodology_list, allow_blank=True, errorStyle="warning")
        rule.error = "一覧にない方法論です / not in the list of methodologies"
    else:
        return None
    rule.showErrorMessage = True
    return rule


def _instructions(ws, methodologies: Sequence[Methodology], combined: bool) -> None:
    from openpyxl.styles import Alignment, Font

    lines = [
        ("koken 出荷データ入力用テンプレート / koken portfolio template", True),
        ("", False),
        ("入力のしかた", True),
        (("方法論ごとのシートに、1行に1製品行を入力します。" if not combined else
          "ポートフォリオのシートに、1行に1製品行を入力し、方法論を一覧から選びます。")
         + "見出し（4行目）はそのまま、単位（5行目）は必要なら変えてください（例：台 → 万台、kWh/yr → MWh/yr）。", False),
        ("数値のセルには数字だけを書くか、単位を付けて書きます（例：4.5 万台）。空欄のパラメータは、コメントにある既定値か"
         "係数表の値を使います。必須のパラメータは空欄にできません。", False),
        ("幅のある値は 420 ± 20、420 ± 5 %、三角(400, 420, 450) のように書くか、列「<パラメータ>:下限」「<パラメータ>:上限」を"
         "加えます。koken calculate … --draws 1000 で P5〜P95 が得られます（docs/uncertainty.md）。", False),
        ("市場は 国内 か 海外。地域は ISO 3166 のコード（JP, US, CN …）か名称（米国、中国 …）。年度は西暦（2023）。", False),
        ("備考など自社用の列を追加してもかまいません。その列は計算に使われず、結果にそのまま引き継がれます。", False),
        ("計算：koken calculate このファイル.xlsx -o 結果.xlsx --lang ja。問題があればシート・セル・列を示して"
         "すべて一覧表示し、何も書き出しません。", False),
        ("", False),
        ("How to fill it in", True),
        (("Enter one product line per row on the sheet of its methodology. " if not combined else
          "Enter one product line per row on the portfolio sheet and choose its methodology from the list. ")
         + "Keep the headers (row 4); change a unit in row 5 if you need to (台 → 万台, kWh/yr → MWh/yr).", False),
        ("Write numbers alone or with a unit (4.5 万台). A parameter left blank takes the default or factor-table "
         "value its comment names; a required parameter cannot be left blank.", False),
        ("A value with a range: 420 ± 20, 420 ± 5 %, triangular(400, 420, 450), or add columns '<parameter>:low' and "
         "'<parameter>:high'; koken calculate … --draws 1000 gives P5–P95 (docs/uncertainty.md).", False),
        ("Market: 国内 (domestic) or 海外 (overseas). Region: an ISO 3166 code (JP, US, CN …) or a name (米国 …). "
         "Fiscal year: 2023.", False),
        ("Columns of your own (備考, an internal code) may be added: they are not inputs and are carried into the "
         "results as they are.", False),
        ("Calculate: koken calculate this-file.xlsx -o results.xlsx. Problems are listed with sheet, cell and "
         "column, all at once, and nothing is written.", False),
        ("", False),
        ("方法論 / Methodologies", True),
    ]
    for text, bold in lines:
        ws.append([text])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=5)
        cell = ws.cell(row=ws.max_row, column=1)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if bold:
            cell.font = Font(bold=True, size=12 if ws.max_row == 1 else 11)
        elif text:
            ws.row_dimensions[ws.max_row].height = 32
    ws.append(["id", "名称 / title", "版 / version", "機能単位 / functional unit", "分野 / category"])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for m in methodologies:
        ws.append([m.id, f"{m.spec.title.ja} / {m.spec.title.en}", m.version,
                   f"{m.spec.functional_unit.unit}: {m.spec.functional_unit.description.ja}", m.category])
    for column, width in zip("ABCDE", (24, 48, 10, 56, 22)):
        ws.column_dimensions[column].width = width
