"""Result files written partition by partition: CSV, JSON or Parquet, chosen by the file's extension.

Each partition's rows are appended to a temporary file in the target's folder as they come; only when
every partition has been computed without a problem is the file renamed into place (never a
half-written result; on any problem nothing is written). Memory stays at one partition.

* ``.csv``: the row table, units in the headers, and each row's inputs in one ``inputs`` column
  (``name=value unit; …``), UTF-8 with BOM (Japanese Excel opens it correctly), text cells a spreadsheet
  would run as a formula prefixed with an apostrophe.
* ``.xlsx``: a workbook a person reads: a sheet per methodology (its rows with their inputs as entered and as
  used, figures with units, origins of factors and the company's own columns), a totals sheet (t-CO2e and
  万t-CO2e, timeframes apart) and a provenance sheet; headers in Japanese and English.
* ``.json``: the full result document (:mod:`koken.results`): provenance, every row with its inputs
  and steps, totals. The same bytes as an in-memory run's document, apart from ``created``.
* ``.parquet``: the row table (one row group per partition, Snappy-compressed as Parquet's default), then each
  row's inputs and steps in the columns ``inputs`` and ``steps`` (lists of records: name, value, unit, origin and
  data-quality level; :func:`koken.results.detail_arrays`), what ``koken report`` discloses; provenance and totals
  as JSON in the file's key-value metadata under ``koken``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from koken.base.errors import KokenError, Location
from koken.base.files import TemporaryTarget
from koken.base.i18n import _, named
from koken.base.vocabulary import (
    AVOIDED_COLUMN,
    AVOIDED_SHARE_COLUMN,
    BASELINE_COLUMN,
    BASELINE_LIFETIME_COLUMN,
    CATEGORIES,
    CATEGORY11_COLUMN,
    INSTALLED_BASE_COLUMN,
    MARKETS,
    PRODUCT_COLUMN,
    PROVENANCE_SHEET,
    UNCERTAINTY_COLUMNS,
)
from koken.results import (
    DETAILS_METADATA,
    FORMULA_TRIGGERS,
    arrow_number_texts,
    detail_arrays,
    details_layout,
    document_head,
    document_tail,
    input_columns,
    input_texts,
    is_detail_column,
    row_details,
    row_records,
    spreadsheet_safe,
)
from koken.totals import Totals

SUFFIXES = (".csv", ".json", ".parquet", ".xlsx")


class ResultSink:
    """Base: a temporary file next to the target, renamed into place by :meth:`close`."""

    needs: str | None = None
    """What the rows need beside the table: ``"details"`` (every input and step, for the JSON document),
    ``"inputs"`` (the inputs as columns, :func:`koken.results.input_columns`), ``"input texts"`` (each row's inputs
    as one text, :func:`koken.results.input_texts`), ``"arrays"`` (every input and step as Arrow columns,
    :func:`koken.results.detail_arrays`) or None."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._target = TemporaryTarget(path)
        self._fh = None

    def _open(self, mode: str = "wb"):
        return self._target.open(mode)

    def write(self, table: pd.DataFrame, details: list[dict] | pd.DataFrame | None) -> None:
        """Append one partition's result rows (and what :attr:`needs` asks for)."""
        raise NotImplementedError

    def close(self, provenance: dict, totals: Totals) -> None:
        """Finish the file and move it into place.

        Raises:
            KokenError: the disk is full or the folder is not writable (nothing is left behind).
        """
        try:
            self._finish(provenance, totals)
        except OSError as err:
            self.abort()
            raise KokenError(_("cannot write the file: {reason}").format(reason=err.strerror),
                             Location(file=str(self.path))) from None
        self._target.publish()

    def _finish(self, provenance: dict, totals: Totals) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        """Drop the temporary file (a run with problems writes nothing)."""
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None
        self._target.discard()

    def _guard(self, action):
        try:
            return action()
        except OSError as err:
            self.abort()
            raise KokenError(_("cannot write the file: {reason}").format(reason=err.strerror),
                             Location(file=str(self.path))) from None


class CsvSink(ResultSink):
    """The row table as CSV (UTF-8 with BOM), each row's inputs in an ``inputs`` column."""

    needs = "input texts"

    def __init__(self, path):
        super().__init__(path)
        self._columns: list[str] | None = None

    def write(self, table, details):
        def append():
            nonlocal table
            if details is not None:
                table = with_inputs(table, details)
            if self._fh is None:
                self._fh = self._open("wb")
                self._columns = list(table.columns)
                self._fh.write("\ufeff".encode())
            rows = table[self._columns]  # headers too: a column of the company's own may be "=…"
            rows.columns = ["'" + c if c.startswith(FORMULA_TRIGGERS) else c for c in rows.columns]
            for part in csv_parts(rows, header=self._fh.tell() <= 3, safe=True):  # Arrow's lines written, not copied
                self._fh.write(part)
        self._guard(append)

    def _finish(self, provenance, totals):
        self._fh.close()
        self._fh = None


def csv_bytes(rows: pd.DataFrame, header: bool, safe: bool = False) -> bytes:
    """The bytes of :func:`csv_parts` one after the other."""
    return b"".join(csv_parts(rows, header, safe))


def csv_parts(rows: pd.DataFrame, header: bool, safe: bool = False) -> list:
    """``rows.to_csv(index=False, header=header, lineterminator="\\n")`` as UTF-8 bytes (of
    :func:`koken.results.spreadsheet_safe` ``(rows)`` when ``safe``), the same bytes, composed by Arrow's compute
    kernels column by column when every column is of float64 or int64 or holds text (or nothing): floats written as
    pandas writes them (the shortest text that reads back the same number, :func:`_float_texts`), empty cells for NaN
    and None, text quoted as Python's ``csv`` module quotes it (only what holds a separator, a quote or a line break),
    and when ``safe`` an apostrophe before a text a spreadsheet would run as a formula. Any other column (booleans,
    dates, mixed objects): pandas writes the rows.

    Returns:
        the bytes in one or two parts (the header, then the lines as a ``memoryview`` of Arrow's buffer, not copied),
        to be written one after the other.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(value: str):
        return pa.scalar(value, pa.large_string())

    def by_pandas():
        return [_pandas_csv(spreadsheet_safe(rows) if safe else rows, header)]

    if len(rows) == 0 or len(rows.columns) < 2:  # a one-column row of "" is quoted: pandas' rules
        return by_pandas()
    cells = []  # each column's texts, the last one's with the line end: joined by commas in one call
    last = len(rows.columns) - 1
    for place, name in enumerate(rows.columns):
        series = rows[name]
        end = "\n" if place == last else ""
        if series.dtype == np.float64:
            cells.append(_joined(*_float_texts(series.to_numpy()), *([text(end)] if end else [])))
            continue
        if series.dtype == np.int64:
            cells.append(_joined(pc.cast(pa.array(series.to_numpy()), pa.large_string()),
                                 *([text(end)] if end else [])))
            continue
        if series.dtype != object and not isinstance(series.dtype, pd.CategoricalDtype) \
                and not pd.api.types.is_string_dtype(series):
            return by_pandas()
        try:
            column = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return by_pandas()
        if isinstance(column, pa.ChunkedArray):  # a column of Arrow text (pd.ArrowDtype)
            column = column.combine_chunks()
        if pa.types.is_dictionary(column.type):  # a category's texts are made once, then put in place
            if not (pa.types.is_string(column.type.value_type) or pa.types.is_large_string(column.type.value_type)):
                return by_pandas()
            shown = _csv_texts(column.dictionary.cast(pa.large_string()), safe)
            if end:
                shown = _joined(shown, text(end))
            column = pa.DictionaryArray.from_arrays(column.indices, shown).dictionary_decode()
            cells.append(pc.fill_null(column, end))
            continue
        if pa.types.is_null(column.type):
            column = pa.array([""] * len(column), type=pa.large_string())
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = _csv_texts(column.cast(pa.large_string()), safe)
        else:
            return by_pandas()
        column = pc.fill_null(column, "")
        cells.append(_joined(column, text(end)) if end else column)
    lines = pc.binary_join_element_wise(*cells, text(","))
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
    body = memoryview(lines.buffers()[2])[int(offsets[0]):int(offsets[-1])]  # the lines, one after another
    return [_pandas_csv(rows.iloc[:0], True), body] if header else [body]


def _joined(*texts):
    """Arrow texts (arrays or scalars of large_string) put one after the other, row by row (one array given: it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(texts) == 1:
        return texts[0]
    return pc.binary_join_element_wise(*texts, pa.scalar("", pa.large_string()))


def _csv_texts(column, safe: bool):
    """Texts as a CSV cell holds them: an apostrophe before what a spreadsheet would run as a formula (when
    ``safe``), then quoted where Python's ``csv`` module quotes (nulls stay null). The texts to change are found in
    the column's UTF-8 bytes with numpy (the characters looked for are ASCII, which no other character's bytes
    hold), and only they are changed."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(value: str):
        return pa.scalar(value, pa.large_string())

    offsets = np.frombuffer(column.buffers()[1], dtype=np.int64)[column.offset:column.offset + len(column) + 1]
    data = column.buffers()[2]
    chars = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    valid = np.asarray(column.is_valid()) if column.null_count else np.ones(len(column), dtype=bool)
    if safe:
        written = (np.diff(offsets) > 0) & valid
        first = np.zeros(len(column), dtype=np.uint8)
        first[written] = chars[offsets[:-1][written]]
        risky = _FORMULA_BYTES[first] & written
        if risky.any():
            marked = pc.binary_join_element_wise(text("'"), column.filter(pa.array(risky)), text(""))
            column = pc.replace_with_mask(column, pa.array(risky), marked)
    body = chars[offsets[0]:offsets[-1]]
    raw = body.tobytes()  # searched for each character by ``in`` (memchr) first: most columns hold none
    found = np.concatenate([np.zeros(0, dtype=np.int64)] + [np.flatnonzero(body == byte) for byte in _QUOTED_BYTES
                                                             if bytes([byte]) in raw]) + offsets[0]
    needs = np.zeros(len(column), dtype=bool)
    needs[np.searchsorted(offsets, found, side="right") - 1] = True
    needs &= valid
    if needs.any():
        chosen = column.filter(pa.array(needs))
        quoted = pc.binary_join_element_wise(text('"'), pc.replace_substring(chosen, '"', '""'), text('"'), text(""))
        column = pc.replace_with_mask(column, pa.array(needs), quoted)
    return column


def _float_texts(values: np.ndarray) -> list:
    """Floats as pandas writes them in a CSV (``repr``: the shortest text that reads back the same number, ``1.0``,
    ``1e-05``, ``1e+16``), NaN as empty: one or two Arrow arrays (or a scalar), the texts then, where needed, the
    ``.0`` after them. Arrow's cast (:func:`koken.results.arrow_number_texts`) writes the same shortest digits,
    without the ``.0`` of a whole number, in plain notation from 1e-6 to 1e10 (``repr``: from 1e-4 to 1e16): its
    texts of numbers from 1e-4 to 1e10 and of zeros are kept (``.0`` added to whole numbers); the others (larger or
    smaller, NaN, infinities) are ``repr``'s.
    tests/scale/test_output_encoding.py compares the texts with pandas' on random numbers of every size."""
    import pyarrow as pa
    import pyarrow.compute as pc

    shown, plain = arrow_number_texts(values)
    other = ~plain  # NaN and infinities too
    if other.any():
        texts = ["" if v != v else float.__repr__(v) for v in values[other].tolist()]
        shown = pc.replace_with_mask(shown, pa.array(other), pa.array(texts, type=pa.large_string()))
    whole = plain & (values == np.floor(values))
    if not whole.any():
        return [shown]
    if whole.all():
        return [shown, pa.scalar(".0", pa.large_string())]
    return [shown, pa.array(["", ".0"], pa.large_string()).take(pa.array(whole.astype(np.int8)))]


def _pandas_csv(rows: pd.DataFrame, header: bool) -> bytes:
    return rows.to_csv(index=False, header=header, lineterminator="\n").encode("utf-8")


def _csv_quoted_characters() -> str:
    """The characters that make Python's ``csv`` module (pandas' writer) quote a text: asked of it, as versions
    differ (a carriage return under a ``\\n`` line end)."""
    import csv
    import io

    found = []
    for character in ',"\n\r':
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(["a" + character, "b"])
        if out.getvalue().startswith('"'):
            found.append(character)
    return "".join(found)


def _byte_table(characters) -> np.ndarray:
    """Which of the 256 byte values are one of ``characters`` (ASCII, so a byte of UTF-8 text is one only where the
    text holds it)."""
    table = np.zeros(256, dtype=bool)
    for character in characters:
        if len(character) != 1 or ord(character) > 127:
            raise ValueError(f"not one ASCII character: {character!r}")
        table[ord(character)] = True
    return table


_QUOTED_BYTES = tuple(int(byte) for byte in np.flatnonzero(_byte_table(_csv_quoted_characters())))
"""The bytes of the characters that make a text quoted."""

_FORMULA_BYTES = _byte_table(FORMULA_TRIGGERS)
"""The first bytes of a text a spreadsheet would run as a formula (:data:`koken.results.FORMULA_TRIGGERS`)."""


class JsonSink(ResultSink):
    """The full result document, rows streamed into a side file and joined with head and tail at the end."""

    needs = "details"

    def __init__(self, path):
        super().__init__(path)
        self._rows = TemporaryTarget(path)  # the rows as they come; copied into the document, then removed
        self._count = 0

    def write(self, table, details):
        def append():
            if self._fh is None:
                self._fh = self._rows.open("w")
            rows = row_records(table, details)
            texts = [_ROW_INDENT + indented_json(row) for row in rows]
            if texts:
                self._fh.write(("," if self._count else "") + "\n" + ",\n".join(texts))
                self._count += len(texts)
        self._guard(append)

    def _finish(self, provenance, totals):
        self._fh.close()
        self._fh = None
        head = json.dumps(document_head(provenance), ensure_ascii=False, indent=2)[:-2]  # without "\n}"
        tail = json.dumps(document_tail(totals), ensure_ascii=False, indent=2)[2:]  # without "{\n"
        with self._open("w") as out, open(self._rows.temporary, encoding="utf-8") as rows:
            out.write(head + ',\n  "rows": [')
            shutil.copyfileobj(rows, out, 1 << 20)
            out.write("\n  ],\n" + tail + "\n")
        self._rows.discard()

    def abort(self):
        super().abort()
        self._rows.discard()


_ROW_INDENT = "    "
"""A row's place in the document: an item of ``"rows"``, two levels down."""


@functools.lru_cache(maxsize=64)
def _encoder(depth: int):
    """Python's C JSON encoder (what ``json.dumps`` uses without ``indent``), its items separated as
    ``json.dumps(indent=2)`` separates those of an object or list ``depth`` levels into a row (the row's own indent
    included): a function of a value to its text."""
    separators = (",\n" + _ROW_INDENT + "  " * (depth + 1), ": ")
    encoder = json.JSONEncoder(ensure_ascii=False, separators=separators)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the encoder's own (Python) path
        return encoder.encode

    def fail(value):
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    iterencode = make(None, fail, json.encoder.encode_basestring, None, separators[1], separators[0], False, False,
                      True)
    return lambda value: "".join(iterencode(value, 0))


_NESTED = (dict, list, tuple)


def _is_nested(value) -> bool:
    return isinstance(value, _NESTED)


def indented_json(value, depth: int = 0) -> str:
    """``value`` as ``textwrap.indent(json.dumps(value, ensure_ascii=False, indent=2), "    ")`` writes it after its
    first line's indent, the same characters (a row of the JSON document, :class:`JsonSink`), but each run of plain
    values of an object or list written by Python's C encoder in one call, not by its Python encoder value by value.
    Unlike ``textwrap.indent``, it never adds spaces inside a text that holds a line separator (U+2028, U+0085)."""
    if not _is_nested(value):
        return _encoder(depth)(value)
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    inner = _ROW_INDENT + "  " * (depth + 1)
    encode = _encoder(depth)
    is_dict = isinstance(value, dict)
    close = "\n" + _ROW_INDENT + "  " * depth + ("}" if is_dict else "]")
    if not any(isinstance(v, _NESTED) for v in (value.values() if is_dict else value)):  # plain values only: one call
        return ("{" if is_dict else "[") + "\n" + inner + encode(value)[1:-1] + close
    if is_dict:
        objects = _objects_of_plain_values(value, depth)
        if objects is not None:
            return objects
    items = list(value.items()) if is_dict else list(value)
    parts = []
    run: list = []  # plain items in a row, written in one call
    for item in items:
        if _is_nested(item[1] if is_dict else item):
            if run:
                parts.append(inner + encode(dict(run) if is_dict else run)[1:-1])
                run = []
            if is_dict:
                key, item = item
                parts.append(inner + (json.encoder.encode_basestring(key) if isinstance(key, str) else _key_text(key))
                             + ": " + indented_json(item, depth + 1))
            else:
                parts.append(inner + indented_json(item, depth + 1))
        else:
            run.append(item)
    if run:
        parts.append(inner + encode(dict(run) if is_dict else run)[1:-1])
    return ("{" if is_dict else "[") + "\n" + ",\n".join(parts) + close


@functools.lru_cache(maxsize=1)
def _marked_encoder():
    """Python's C JSON encoder with marked separators: ``,\\x00`` between items, ``:\\x01`` after a key (a text never
    holds them: the encoder writes control characters as ``\\u0000``)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None

    def fail(value):
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    iterencode = make(None, fail, json.encoder.encode_basestring, None, ":\x01", ",\x00", False, False, True)
    return lambda value: "".join(iterencode(value, 0))


def _objects_of_plain_values(value: dict, depth: int) -> str | None:
    """An object whose values are all non-empty objects of plain values (a row's ``inputs`` and ``steps``) in one call
    of the C encoder, the marked separators then replaced by what :func:`indented_json` writes at their level; None
    for any other object. A level-1 separator is the only one after a ``}``, a level-2 object the only value after a
    key that starts with ``{``."""
    encode = _marked_encoder()
    if encode is None or not value:
        return None
    for item in value.values():
        if type(item) is not dict or not item:
            return None
        for plain in item.values():
            if isinstance(plain, _NESTED):
                return None
    outer = _ROW_INDENT + "  " * depth
    one, two = outer + "  ", outer + "    "
    text = encode(value)
    text = text.replace("},\x00", "\n" + one + "},\n" + one).replace(":\x01{", ": {\n" + two)
    text = text.replace(",\x00", ",\n" + two).replace(":\x01", ": ")
    return "{\n" + one + text[1:-2] + "\n" + one + "}\n" + outer + "}"


def _key_text(key) -> str:
    """A key that is not text as ``json.dumps`` writes it (``True`` → ``"true"``, ``1.5`` → ``"1.5"``), quotes
    included, refused as ``json.dumps`` refuses it (a tuple key: TypeError)."""
    return json.dumps({key: None}, ensure_ascii=False)[1:-len(": null}")]


class ParquetSink(ResultSink):
    """The row table as Parquet, one row group per partition, each row's inputs and steps after it (flat columns,
    :class:`koken.results.DetailLayout`); provenance and totals in its metadata, and the layout of the inputs and
    steps."""

    needs = "arrays"

    def __init__(self, path):
        super().__init__(path)
        self._writer = None
        self._schema = None
        self._layout = None

    def write(self, table, details):
        import pyarrow as pa
        import pyarrow.parquet as pq

        def append():
            arrow = pa.Table.from_pandas(table, preserve_index=False)
            if details is not None:
                for name in details.column_names:
                    arrow = arrow.append_column(name, details[name])
                layout = details_layout(details.schema.metadata)
                self._layout = layout if self._layout is None else self._layout.merged(layout)
            if self._writer is None:  # dictionary (categorical) columns get 32-bit codes: later partitions
                self._schema = pa.schema([  # may hold more distinct values than the first
                    pa.field(f.name, pa.dictionary(pa.int32(), f.type.value_type)) if pa.types.is_dictionary(f.type)
                    else f for f in arrow.schema])
                self._fh = self._open("wb")
                # Parquet dictionary pages for texts only: tried on a column of distinct numbers, they cost more
                # than the rest of the write; statistics (min, max) for the columns a reader filters rows on (years,
                # categories, markets …), not for every figure, input and step (docs/performance.md)
                texts = [f.name for f in self._schema if pa.types.is_dictionary(f.type) or pa.types.is_string(f.type)]
                self._writer = pq.ParquetWriter(self._fh, self._schema, compression="snappy", use_dictionary=texts,
                                                write_statistics=[f.name for f in self._schema if not (
                                                    is_detail_column(f.name) or pa.types.is_floating(f.type))])
            self._writer.write_table(arrow.cast(self._schema))
        self._guard(append)

    def _finish(self, provenance, totals):
        tail = document_tail(totals)
        summary = {**provenance, "totals_by_market": tail["totals_by_market"], "created": tail["created"]}
        metadata = {"koken": json.dumps(summary, ensure_ascii=False)}
        if self._layout is not None:  # where each row's inputs and steps are (koken.results.DetailLayout)
            metadata[DETAILS_METADATA] = self._layout.to_json()
        self._writer.add_key_value_metadata(metadata)
        self._writer.close()
        self._writer = None
        self._fh.close()
        self._fh = None

    def abort(self):
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # the file is being thrown away
                pass
            self._writer = None
        super().abort()


def with_inputs(table: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """The table with its rows' inputs in one ``inputs`` column, right after ``factors_from_tables``."""
    out = table.copy()
    out.insert(list(out.columns).index("factors_from_tables") + 1, "inputs", inputs["inputs"].array)
    return out


XLSX_MAX_ROWS = 1_048_575
"""Data rows a worksheet holds (Excel's 1,048,576 rows, less the header)."""

_LABELS = {
    "row": "行", "sheet": "シート", "product_line": "製品名", "methodology": "方法論", "methodology_version": "版",
    "category": "分野", "fiscal_year": "年度", "market": "市場", "region": "地域",
    "units_shipped_as_entered": "出荷台数（入力のまま）", "units_shipped": "出荷台数", "functional_unit": "機能単位",
    AVOIDED_COLUMN: "機能単位・年あたり削減貢献量", "operating_years[yr]": "稼働年数", "single_year[t-CO2e]": "単年度",
    "lifetime[t-CO2e]": "稼働年数分", "defaults_used": "既定値を使ったパラメータ", "factors_from_tables": "係数表の値",
    "co2_only_inputs": "CO2のみの入力（CO2e でない値）",
    "device_ratio_basis": "寄与率の根拠", "product_lines": "製品行数",
    "single_year[万t-CO2e]": "単年度", "lifetime[万t-CO2e]": "稼働年数分",
    BASELINE_COLUMN: "ベースラインの機能単位・年あたり排出量", PRODUCT_COLUMN: "製品の機能単位・年あたり排出量（使用段階）",
    AVOIDED_SHARE_COLUMN: "削減率（削減貢献量÷ベースライン排出量）", BASELINE_LIFETIME_COLUMN: "ベースラインの稼働年数分排出量",
    CATEGORY11_COLUMN: "スコープ3カテゴリ11（稼働年数分、インベントリ）", INSTALLED_BASE_COLUMN: "ストック（稼働中の製品、年間）",
    **{column: f"{'単年度' if column.startswith('single_year') else '稼働年数分'} {column.split('_p')[1].split('[')[0]}"
       f"パーセンタイル" for column in UNCERTAINTY_COLUMNS},
}
"""Japanese labels of result columns, shown above the column names in workbooks."""


class XlsxSink(ResultSink):
    """A workbook: a sheet per methodology (rows with inputs, figures, origins), totals, provenance.

    Rows stream into a write-only workbook (openpyxl) kept in the temporary file's folder until :meth:`close`;
    text that a spreadsheet would run as a formula is written with a leading apostrophe.

    Raises (from :meth:`write`):
        KokenError: a methodology's rows would exceed a worksheet's 1,048,575 rows (write .parquet or .csv).
    """

    needs = "inputs"

    def __init__(self, path):
        super().__init__(path)
        from openpyxl import Workbook

        self._book = Workbook(write_only=True)
        self._sheets: dict[str, tuple] = {}  # methodology → (worksheet, columns, rows written)

    def write(self, table, details):
        inputs: list[str] = []
        if details is not None:  # an input that is also a result column (operating_years[yr]) is shown once
            inputs = [c for c in details.columns if c not in table.columns and c != "inputs"]
            table = table.join(details[inputs])
        for mid, rows in table.groupby("methodology", observed=True, sort=False):
            self._append(str(mid), rows, [c for c in table.columns if c not in inputs], inputs)

    def _append(self, mid: str, rows: pd.DataFrame, result_columns: list[str], inputs: list[str]) -> None:
        from openpyxl.styles import Alignment, Font

        if mid not in self._sheets:
            # this methodology's inputs: its parameters always have a value as used (from the company, a default or
            # a table), other methodologies' are empty on its rows, whatever partition comes first
            used = [c for c in inputs if c.endswith("]") and rows[c].notna().any()]
            chosen = [c for u in used for c in (u, f"{u.split('[', 1)[0]} (as entered)")]
            columns = result_columns + [c for c in dict.fromkeys(chosen) if c in inputs]
            title = mid[:31]
            taken = {ws.title for ws, _c, _n in self._sheets.values()}
            for n in range(2, 1000):
                if title not in taken:
                    break
                title = f"{mid[:31 - len(str(n)) - 1]}~{n}"
            ws = self._book.create_sheet(title)
            ws.freeze_panes = "B2"
            header = []
            for c in columns:
                cell = _xlsx_cell(ws, _header_text(c))
                cell.font = Font(bold=True)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                header.append(cell)
            ws.append(header)
            self._sheets[mid] = [ws, columns, 0]
        ws, columns, written = self._sheets[mid]
        if written + len(rows) > XLSX_MAX_ROWS:
            raise KokenError(_("methodology {id} has more than {limit:,} product lines, more than a worksheet holds: "
                               "write the results as .parquet or .csv").format(id=mid, limit=XLSX_MAX_ROWS),
                             Location(file=str(self.path)))
        values = rows.reindex(columns=columns)
        terms_of = {c: terms for c, terms in (("market", MARKETS), ("category", CATEGORIES)) if c in columns}
        positions = {c: columns.index(c) for c in terms_of}
        for record in values.itertuples(index=False, name=None):
            cells = [_xlsx_value(v) for v in record]
            for c, at in positions.items():  # a workbook is read by people: 国内, 家電 (ids stay in CSV and JSON)
                cells[at] = named(cells[at], terms_of[c])
            ws.append(cells)
        self._sheets[mid][2] = written + len(rows)

    def _finish(self, provenance, totals):
        table = totals.summarise(["fiscal_year", "category", "methodology", "market"])
        ws = self._book.create_sheet("合計 totals")
        ws.append([_xlsx_cell(ws, _header_text(c), bold=True) for c in table.columns])
        for record in table.itertuples(index=False, name=None):
            ws.append([_xlsx_value(v) for v in record])
        ws.append([])
        note = _xlsx_cell(ws, _("Single-year and lifetime are separate timeframes, and fiscal years are kept apart: "
                                "they are never added together. Avoided emissions are reported apart from Scope 1-3 "
                                "and never netted against them."))
        ws.append([note])
        info = self._book.create_sheet(PROVENANCE_SHEET)
        info.append([_xlsx_cell(info, "項目 / item", bold=True), _xlsx_cell(info, "値 / value", bold=True)])
        for key, value in _flatten(provenance):
            info.append([key, _xlsx_value(value if isinstance(value, (int, float)) else str(value))])
        with self._open("wb") as out:
            self._book.save(out)

    def abort(self):
        for ws, _columns, _rows in self._sheets.values():  # end each sheet's row writer before it is thrown away
            with contextlib.suppress(Exception):
                ws.close()
        self._sheets, self._book = {}, None
        super().abort()


def _header_text(column: str) -> str:
    """A result column's header in a workbook: its Japanese name above its column name."""
    label = _LABELS.get(column)
    if label is None and column.endswith(" (as entered)"):
        label = "入力のまま"
    elif label is None and column.startswith("device_ratio:"):
        label = "寄与率（デバイス）"
    elif label is None and column.startswith("device_single_year:"):
        label = "うちデバイス 単年度"
    elif label is None and column.startswith("device_lifetime:"):
        label = "うちデバイス 稼働年数分"
    elif label is None and column.endswith("[t-CO2e]"):
        label = "結果"          # a figure (a variant's, a device share's): never an input
    elif label is None and column.endswith("]") and "[" in column:
        label = "入力（換算後）"
    return f"{label}\n{column}" if label else column


def _xlsx_cell(ws, value, bold: bool = False):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(ws, value=_xlsx_value(value))
    if bold:
        cell.font = Font(bold=True)
    return cell


XLSX_MAX_TEXT = 32_767
"""Characters a worksheet cell holds (Excel's limit; openpyxl would cut a longer text silently)."""


def _xlsx_value(value):
    """A cell's value: numbers as numbers (NaN as empty); text with the control characters a worksheet cannot hold
    shown as ``\\x..`` (line breaks and tabs are kept) and, when it starts with ``=``, a leading apostrophe (else it
    is a formula).

    Raises:
        KokenError: a text longer than a cell holds (write .csv or .parquet).
    """
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        value = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
        if len(value) > XLSX_MAX_TEXT:
            raise KokenError(_("a text of {length:,} characters is longer than a worksheet cell holds ({limit:,}): "
                               "write the results as .csv or .parquet").format(length=len(value), limit=XLSX_MAX_TEXT))
        if value.startswith("="):
            return "'" + value
    return value


def _flatten(value, prefix: str = ""):
    """A nested provenance record as (dotted key, value) pairs."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{i}]")
    else:
        yield prefix, value if not isinstance(value, list) else ", ".join(map(str, value))


def open_sink(path: str | Path) -> ResultSink:
    """The sink for ``path`` by its extension.

    Raises:
        KokenError: an extension other than .csv, .json, .parquet or .xlsx.
    """
    suffix = Path(path).suffix.lower()
    sinks = {".csv": CsvSink, ".json": JsonSink, ".parquet": ParquetSink, ".xlsx": XlsxSink}
    if suffix not in sinks:
        raise KokenError(_("unsupported output type {suffix!r}: use .csv, .json, .parquet or .xlsx").format(
            suffix=suffix), Location(file=str(path)))
    return sinks[suffix](path)


def sink_extra(calc, needs: str | None):
    """What a sink that ``needs`` it gets beside the table: the rows' details, their input columns, their inputs as
    texts, or None."""
    if needs == "details":
        return row_details(calc)
    if needs == "inputs":
        return input_columns(calc)
    if needs == "input texts":
        return input_texts(calc)
    if needs == "arrays":
        return detail_arrays(calc)
    return None


def write_results(calc, path: str | Path) -> None:
    """Write an in-memory run's results (:class:`koken.calculation.Calculation`) to ``path`` by extension.

    Raises:
        KokenError: unsupported extension or unwritable path.
    """
    sink = open_sink(path)
    sink.write(calc.table, sink_extra(calc, sink.needs))
    sink.close(calc.provenance(), Totals.from_table(calc.table))
