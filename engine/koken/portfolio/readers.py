"""A portfolio file read in partitions: blocks of rows that are built and evaluated one at a time.

CSV is read as a stream (the whole file is never in memory: files larger than memory work), Parquet by
record batches (pyarrow), XLSX and YAML whole (one partition; they are size-limited). Every partition
shares the file's :class:`koken.portfolio.layout.Layout` (header and units row, read once), so a partition
is interpreted exactly as the same rows would be in a one-partition read.

Row numbers in messages: for CSV, XLSX and YAML the file row (the header is row 1); for Parquet the
record number (the first record is row 1).

Encodings (CSV): the given one, else UTF-16 by its BOM, UTF-8 (with or without BOM), else cp932
(Shift_JIS); the whole file is checked before the first row is interpreted, so an encoding problem on
the last line is reported before anything is computed.
"""

from __future__ import annotations

import codecs
import csv
import decimal
import hashlib
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from koken.base.errors import KokenError, KokenErrors, Location, PortfolioError
from koken.base.safe_yaml import load_yaml_file, read_limited
from koken.methodology import Methodology
from koken.portfolio.layout import MAX_COLUMNS, Cells, Layout, cells_from_rows, layout_from_header, split_units_row

MAX_PORTFOLIO_BYTES = 200_000_000
"""Largest workbook or YAML portfolio read whole (CSV and Parquet are streamed, of any size)."""
_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")

DEFAULT_PARTITION_ROWS = 250_000
"""Rows per partition: about 0.3 GB of working memory for a wide (70-column) portfolio."""

_CHUNK = 1 << 20
csv.field_size_limit(10_000_000)  # one cell; a larger one is an unclosed quote swallowing the file


@dataclass(frozen=True)
class Partition:
    """One block of a file's rows, ready to be built (on this machine or on a Dask worker).

    Attributes:
        index: 0-based position of the block in the file.
        layout: the file's header interpretation (with the units row's units).
        block: the rows.
        had_units_row: the file had a units row (for messages).
    """

    index: int
    layout: Layout
    block: Cells | None
    had_units_row: bool
    problems: tuple = ()
    """Problems with the block's rows as read (a row longer than the header, text that is not UTF-8):
    the block is then not built, and its problems are reported with every other partition's."""


class PortfolioSource:
    """An opened portfolio file: its hash, encoding and size, and its partitions.

    Attributes:
        path: the file as given.
        sha256: ``sha256:<hex>`` of the file's bytes (for provenance).
        encoding: how it is read (``utf-8``, ``cp932``, ``parquet``, ``xlsx`` …).
        total_bytes: the file's size (for progress).
        total_rows: the number of records when the format says so up front (Parquet), else None.
    """

    def __init__(self, path: str | Path, library: Mapping[str, Methodology], encoding: str | None = None,
                 sheet: str | None = None, partition_rows: int | None = DEFAULT_PARTITION_ROWS):
        self.path = str(path)
        self._p = Path(path)
        self._library = library
        self._sheet = sheet
        self.partition_rows = partition_rows
        self.suffix = self._p.suffix.lower()
        self.total_rows: int | None = None
        self.bytes_read = 0
        where = Location(file=self.path)
        if self.suffix not in (".csv", ".parquet", ".xlsx", ".xlsm", ".yaml", ".yml"):
            raise KokenErrors([PortfolioError(f"unsupported file type {self.suffix!r}: use .csv, .parquet, .xlsx or "
                                              ".yaml", where)])
        try:
            if not self._p.is_file():
                raise KokenErrors([PortfolioError("not a regular file (a device, pipe or folder)" if self._p.exists() else
                                                  "cannot read file: No such file or directory", where)])
            self.total_bytes = self._p.stat().st_size
            if self.suffix == ".csv":
                self._codec, self.encoding, self.sha256 = _detect_encoding(self._p, encoding)
            else:
                self.sha256 = _hash_file(self._p)
                self.encoding = {".parquet": "parquet", ".yaml": "utf-8", ".yml": "utf-8"}.get(self.suffix, "xlsx")
        except OSError as err:
            raise KokenErrors([PortfolioError(f"cannot read file: {err.strerror}", where)]) from None
        if self.suffix == ".parquet":
            self._parquet = _open_parquet(self._p)
            self.total_rows = self._parquet.metadata.num_rows

    def partitions(self) -> Iterator[Partition]:
        """The file's blocks of rows, in file order.

        Raises:
            KokenErrors: problems with the file as a whole (unreadable, unknown or missing columns,
                no product lines); problems in one block's rows are raised when that block is built.
        """
        blocks = self._blocks()
        headers = next(blocks)
        layout = layout_from_header(self.path, self.encoding, headers, self._library)
        had_units_row = False
        index = 0
        for block in blocks:
            if isinstance(block, KokenErrors):
                yield Partition(index=index, layout=layout, block=None, had_units_row=had_units_row,
                                problems=tuple(block.errors))
                index += 1
                continue
            if index == 0:
                try:
                    layout, block, had_units_row = split_units_row(layout, block)
                except KokenErrors as errs:
                    yield Partition(index=index, layout=layout, block=None, had_units_row=False,
                                    problems=tuple(errs.errors))
                    index += 1
                    continue
            yield Partition(index=index, layout=layout, block=block, had_units_row=had_units_row)
            index += 1
        if index == 0:
            raise KokenErrors([PortfolioError("the file has no product lines (only a header)",
                                              Location(file=self.path))])

    # ---------------------------------------------------------------- formats

    def _blocks(self):
        """The header (a list of texts), then :class:`Cells` blocks (or the KokenErrors of a block)."""
        if self.suffix == ".csv":
            return self._csv_blocks()
        if self.suffix == ".parquet":
            return self._parquet_blocks()
        return self._whole_file_blocks()

    def _whole_file_blocks(self):
        if self.suffix in (".xlsx", ".xlsm"):

            data = read_limited(self._p, MAX_PORTFOLIO_BYTES)
            headers, cells, rownums, _ = _read_xlsx(self._p, data, self._sheet)
        else:
            headers, cells, rownums, _ = _read_yaml(self._p)
        self.bytes_read = self.total_bytes
        yield headers
        yield cells_from_rows(self.path, len(headers), cells, rownums)

    def _csv_blocks(self):
        where = Location(file=self.path)
        limit = self.partition_rows or 0
        with open(self._p, "rb") as raw:
            counted = _CountingReader(raw, self)
            text = io.TextIOWrapper(counted, encoding=self._codec, newline="")
            reader = csv.reader(text)
            headers = None
            cells: list[list[str]] = []
            numbers: list[int] = []
            def block(cells, numbers):
                try:
                    return cells_from_rows(self.path, len(headers), cells, numbers)
                except KokenErrors as errs:  # rows too long: reported, and the following blocks still read
                    return errs

            try:
                line = 0
                for row in reader:
                    number, line = line + 1, reader.line_num  # a record's first file line (quoted cells span lines)
                    if not "".join(row).strip():
                        continue  # rows with no content are skipped, so a file of blank lines costs nothing
                    if headers is None:
                        if row and row[0].startswith("\ufeff"):  # a BOM read as text (--encoding utf-8)
                            row[0] = row[0][1:]
                        if len(row) > MAX_COLUMNS:
                            raise KokenErrors([PortfolioError(
                                f"the header has {len(row):,} columns (limit {MAX_COLUMNS})", where)])
                        headers = row
                        yield headers
                        continue
                    cells.append(row)
                    numbers.append(number)
                    if limit and len(cells) >= limit:
                        yield block(cells, numbers)
                        cells, numbers = [], []
            except csv.Error as err:
                raise KokenErrors([PortfolioError(f"not a readable CSV file: {err}", where)]) from None
            if headers is None:
                raise KokenErrors([PortfolioError("file is empty: no header row", where)])
            if cells:
                yield block(cells, numbers)

    def _parquet_blocks(self):
        import pyarrow as pa
        import pyarrow.compute as pc

        schema = self._parquet.schema_arrow
        index_columns = _pandas_index_columns(schema)  # a DataFrame's index, written beside the data by pandas
        wanted = [i for i, name in enumerate(schema.names) if name not in index_columns]
        schema = pa.schema([schema.field(i) for i in wanted])
        headers = [str(name) for name in schema.names]
        if len(headers) > MAX_COLUMNS:
            raise KokenErrors([PortfolioError(f"the file has {len(headers):,} columns (limit {MAX_COLUMNS})",
                                              Location(file=self.path))])
        kinds = []
        problems = []
        for field in schema:
            kind = _arrow_kind(field.type)
            if kind is None:
                problems.append(PortfolioError(
                    f"column type {field.type} is not read: koken reads text and number columns (write dates and "
                    "flags as text)", Location(file=self.path, column=field.name)))
            kinds.append(kind)
        if problems:
            raise KokenErrors(problems)
        yield headers
        first_row = 1
        batch_rows = self.partition_rows or max(self.total_rows or 0, 1)
        try:
            for batch in self._parquet.iter_batches(batch_size=batch_rows, use_threads=True,
                                                    columns=list(schema.names) if index_columns else None):
                columns = []
                bad_text = []
                for column, kind, name in zip(batch.columns, kinds, headers):
                    if kind == "text":
                        if pa.types.is_dictionary(column.type):
                            column = column.dictionary_decode()
                        column = pc.fill_null(column.cast(pa.string()), "")
                        try:
                            column.validate(full=True)
                        except pa.ArrowInvalid:
                            bad_text.append(PortfolioError(
                                f"column holds bytes that are not UTF-8 text in records {first_row:,}-"
                                f"{first_row + batch.num_rows - 1:,}", Location(file=self.path, column=name)))
                        columns.append(column)  # kept in Arrow
                    else:  # integers beyond 2**53 round to the nearest float, as the same digits in a CSV do
                        columns.append(np.asarray(pc.cast(column, pa.float64(), safe=False).to_numpy(
                            zero_copy_only=False), dtype=float))
                rows = np.arange(first_row, first_row + batch.num_rows)
                first_row += batch.num_rows
                self.bytes_read = int(self.total_bytes * (first_row - 1) / max(self.total_rows or 1, 1))
                yield KokenErrors(bad_text) if bad_text else Cells(columns=columns, rows=rows)
        except (OSError, pa.ArrowException) as err:
            raise KokenErrors([PortfolioError(f"not a readable Parquet file ({err})",
                                              Location(file=self.path))]) from None


class _CountingReader(io.RawIOBase):
    """A binary file that tells the source how far it has been read (for progress)."""

    def __init__(self, raw, source: PortfolioSource):
        self._raw, self._source = raw, source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        self._source.bytes_read += n or 0
        return n


def _pandas_index_columns(schema) -> set[str]:
    """Columns pandas' ``to_parquet`` adds for a DataFrame's unnamed index (``__index_level_0__`` …), from
    the file's pandas metadata: row labels, not product-line data, so not read. A named index
    (``set_index("product_line")``) is data and is read like any column."""
    import json

    try:
        meta = json.loads((schema.metadata or {}).get(b"pandas", b"{}"))
        return {c for c in meta.get("index_columns", []) if isinstance(c, str) and re.fullmatch(r"__index_level_\d+__", c)}
    except (ValueError, AttributeError):
        return set()


def _arrow_kind(data_type) -> str | None:
    """``text`` or ``number`` for a Parquet column type koken reads; None for others (dates, lists, flags)."""
    import pyarrow as pa

    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "text"
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type) or pa.types.is_decimal(data_type) \
            or pa.types.is_null(data_type):
        return "number"
    return None


def _open_parquet(p: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(p)
    except (OSError, pa.ArrowException) as err:
        raise KokenErrors([PortfolioError(f"not a readable Parquet file ({err})", Location(file=str(p)))]) from None


def _hash_file(p: Path) -> str:
    digest = hashlib.sha256()
    with open(p, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _detect_encoding(p: Path, encoding: str | None) -> tuple[str, str, str]:
    """Choose the CSV text encoding, reading the file in chunks (never whole).

    Returns:
        (codec for Python, label recorded in results, sha256 of the bytes).
    Raises:
        KokenErrors: unknown or non-text encoding, bytes not valid in the given encoding, or (without
            ``encoding``) text in none of UTF-8, UTF-16 and cp932.
    """
    where = Location(file=str(p))
    if encoding:
        try:
            info = codecs.lookup(encoding)
        except LookupError:
            raise KokenErrors([PortfolioError(f"unknown encoding {encoding!r} (try utf-8 or cp932)", where)]) from None
        if not getattr(info, "_is_text_encoding", True):
            raise KokenErrors([PortfolioError(f"{encoding!r} is not a text encoding (try utf-8 or cp932)", where)])
        codec = encoding
        with open(p, "rb") as fh:  # --encoding utf-8 on Excel's UTF-8 with BOM: the BOM is not a header
            if info.name == "utf-8" and fh.read(3) == codecs.BOM_UTF8:
                codec = "utf-8-sig"
        problem, digest, _ = _scan(p, codec)
        if problem is not None:
            raise KokenErrors([PortfolioError(f"file is not {encoding} text (byte {problem})", where)])
        return codec, encoding, digest
    with open(p, "rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        problem, digest, _ = _scan(p, "utf-16")
        if problem is not None:
            raise KokenErrors([PortfolioError(f"file is not UTF-16 text (byte {problem})", where)])
        return "utf-16", "utf-16", digest
    candidates = [("utf-8-sig", "utf-8 (BOM)")] if head.startswith(codecs.BOM_UTF8) else \
        [("utf-8", "utf-8"), ("cp932", "cp932")]
    digest = None
    failures = []
    for codec, label in candidates:
        problem, digest_, flags = _scan(p, codec, check_kana=codec == "cp932")
        digest = digest or digest_
        if problem is not None:
            failures.append(f"not {label} at byte {problem:,}")
            continue
        if flags["nul"]:
            break
        if flags["kana"]:
            raise KokenErrors([PortfolioError(
                "the file is not UTF-8, and read as cp932 (Shift_JIS) it contains half-width katakana (ｱｲｳ), "
                "which usually means another encoding such as EUC-JP or Latin-1: give --encoding (euc_jp, "
                "latin-1, or cp932 if the half-width katakana are really meant)", where)])
        return codec, label, digest_
    found = f" ({'; '.join(failures)})" if failures else " (it holds NUL bytes)"
    raise KokenErrors([PortfolioError("file is not CSV text in UTF-8, UTF-16 or cp932 (Shift_JIS)" + found + "; if it "
                                      "is text, give --encoding; if it is a workbook, name it .xlsx", where)])


def _scan(p: Path, codec: str, check_kana: bool = False) -> tuple[int | None, str, dict]:
    """Decode the file incrementally: (offset of the first undecodable byte or None, sha256, flags)."""
    decoder = codecs.getincrementaldecoder(codec)()
    digest = hashlib.sha256()
    flags = {"nul": False, "kana": False}
    offset = 0
    with open(p, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            final = not chunk
            digest.update(chunk)
            state = decoder.getstate()
            pending = len(state[0]) if isinstance(state, tuple) and isinstance(state[0], bytes) else 0
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError as err:  # err.start counts from the bytes still pending
                return offset - pending + err.start, "", flags
            except UnicodeError:  # e.g. UTF-16 or UTF-32 without a byte order mark
                return offset, "", flags
            flags["nul"] |= "\x00" in text
            if check_kana and not flags["kana"]:
                flags["kana"] = bool(_HALFWIDTH_KANA.search(text))
            offset += len(chunk)
            if final:
                return None, "sha256:" + digest.hexdigest(), flags


class FrameSource(PortfolioSource):
    """A pandas DataFrame read as a portfolio file would be: column names are the headers (units in them,
    ``baseline_annual_energy[kWh/yr]``, or from ``units``), number columns are typed numbers, text and mixed
    columns are cells (``"4.5 万台"``), and every rule and message of the file readers applies.

    Rows are named by the frame's index when it is an integer index (``df.loc[3]`` is row 3), else by
    position from 0. The recorded input hash is sha256 over the
    cells as read (headers with their units, row names, each number column's float64 bytes and each text
    column's texts).

    Raises (on construction):
        KokenErrors: a unit given both in a column name and in ``units``, a unit for an absent column,
            columns of dates, booleans or other kinds koken does not read, more than 1,000 columns.
    """

    def __init__(self, frame: pd.DataFrame, library: Mapping[str, Methodology], units: Mapping[str, str] | None = None,
                 name: str = "<DataFrame>", partition_rows: int | None = DEFAULT_PARTITION_ROWS):
        import pandas as pd

        self.path = name
        self._library = library
        self.partition_rows = partition_rows
        self.suffix = ""
        self.total_rows = len(frame)
        self.bytes_read = 0
        self.encoding = "dataframe"
        problems: list[KokenError] = []
        names = [str(c) for c in frame.columns]
        units = dict(units or {})
        for column in sorted(set(units) - set(names)):
            problems.append(PortfolioError(f"units= names {column!r}, which is not a column", Location(file=name)))
        headers = []
        for column in names:
            unit = units.get(column)
            if unit is not None and "[" in column:
                problems.append(PortfolioError("unit given both in the column name and in units=",
                                               Location(file=name, column=column)))
            headers.append(f"{column}[{unit}]" if unit is not None else column)
        if len(headers) > MAX_COLUMNS:
            problems.append(PortfolioError(f"the frame has {len(headers):,} columns (limit {MAX_COLUMNS})",
                                           Location(file=name)))
        columns = []
        for column, series in zip(names, (frame.iloc[:, j] for j in range(frame.shape[1]))):
            cells, problem = _frame_column(series, Location(file=name, column=column))
            columns.append(cells)
            if problem is not None:
                problems.append(problem)
        if problems:
            raise KokenErrors(problems)
        index = frame.index
        self._rows = (np.asarray(index, dtype=np.int64) if pd.api.types.is_integer_dtype(index) and index.is_unique
                      else np.arange(len(frame), dtype=np.int64))
        self._headers, self._columns = headers, columns
        digest = hashlib.sha256(json_text(headers).encode("utf-8"))
        digest.update(self._rows.tobytes())
        for cells in columns:  # the cells as read: a number column's float64 bytes, a text column's texts
            digest.update(cells.tobytes() if cells.dtype.kind == "f" else "\x1f".join(cells).encode("utf-8", "surrogatepass"))
        self.sha256 = "sha256:" + digest.hexdigest()
        self.total_bytes = int(frame.memory_usage(deep=False).sum())

    def _blocks(self):
        yield self._headers
        size = self.partition_rows or max(len(self._rows), 1)
        for start in range(0, max(len(self._rows), 1), size):
            stop = min(start + size, len(self._rows))
            self.bytes_read = int(self.total_bytes * stop / max(len(self._rows), 1))
            yield Cells(columns=[c[start:stop] for c in self._columns], rows=self._rows[start:stop])


def json_text(value) -> str:
    """Canonical JSON (sorted keys, no spaces, UTF-8 kept): what koken hashes."""
    import json

    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _frame_column(series, where: Location) -> tuple[np.ndarray, KokenError | None]:
    """One DataFrame column as :class:`Cells` reads it: a float array (NaN = empty) for a number column,
    else an object array of cell texts ('' = empty); or the problem that it cannot be read."""
    import pandas as pd
    import pint

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return np.zeros(0), PortfolioError("a column of booleans is not read: write flags as text", where)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return np.asarray(series.astype("float64").to_numpy(na_value=np.nan), dtype=float), None
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)):
        return np.zeros(0), PortfolioError(f"column type {dtype} is not read: koken reads text and number columns "
                                           "(write dates and flags as text)", where)
    texts = np.empty(len(series), dtype=object)
    for i, value in enumerate(series.astype(object).tolist()):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            texts[i] = ""
        elif isinstance(value, str):
            texts[i] = value
        elif isinstance(value, (bool, np.bool_)):
            return np.zeros(0), PortfolioError(f"a boolean ({value}) where a number or text is expected", where)
        elif isinstance(value, (int, np.integer)):
            texts[i] = str(int(value))
        elif isinstance(value, (float, np.floating)):
            texts[i] = repr(float(value))
        elif isinstance(value, decimal.Decimal):  # exact digits, read like the same text in a file
            texts[i] = str(value)
        elif isinstance(value, pint.Quantity) and np.ndim(value.magnitude) == 0:
            texts[i] = f"{float(value.magnitude)!r} {value.units}"
        else:
            return np.zeros(0), PortfolioError(f"a cell holds a {type(value).__name__}, not a number, a quantity or "
                                               "text", where)
    return texts, None


def open_portfolio(path: str | Path, library: Mapping[str, Methodology], encoding: str | None = None,
                   sheet: str | None = None, partition_rows: int | None = DEFAULT_PARTITION_ROWS) -> PortfolioSource:
    """Open a portfolio file for partitioned reading (see :class:`PortfolioSource`).

    Args:
        path: ``.csv``, ``.parquet``, ``.xlsx``/``.xlsm`` or ``.yaml``/``.yml``.
        library: methodologies by id.
        encoding: CSV text encoding (default: detected).
        sheet: XLSX sheet (default: the first).
        partition_rows: rows per partition (None: the whole file in one).
    Raises:
        KokenErrors: unsupported type, unreadable file, bad encoding.
    """
    return PortfolioSource(path, library, encoding=encoding, sheet=sheet, partition_rows=partition_rows)




def _read_xlsx(p: Path, data: bytes, sheet: str | None):
    import openpyxl  # imported here: only workbooks need it

    where = Location(file=str(p))
    _check_zip(data, where)

    def load(data_only: bool):
        try:
            return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)
        except Exception as err:  # openpyxl raises many types on a corrupt or foreign file
            raise KokenErrors([PortfolioError(f"not a readable .xlsx workbook ({type(err).__name__})",
                                              where)]) from None

    book = load(data_only=False)  # formulas as written; most workbooks have none
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise KokenErrors([PortfolioError(f"no sheet {sheet!r}; the workbook has {', '.join(book.sheetnames)}",
                                              where)])
        ws = book[sheet] if sheet is not None else book.active
        if ws is None or not hasattr(ws, "iter_rows"):
            raise KokenErrors([PortfolioError("the active sheet is not a worksheet: name one with --sheet", where)])
        if ws.sheet_state != "visible":
            raise KokenErrors([PortfolioError(f"sheet {ws.title!r} is hidden: name a visible one with --sheet", where)])
        if ws.max_row * ws.max_column > MAX_XLSX_CELLS or ws.max_column > MAX_COLUMNS:
            raise KokenErrors([PortfolioError(f"the sheet spans {ws.max_row:,} rows × {ws.max_column:,} columns "
                                              f"(limit {MAX_XLSX_CELLS:,} cells, {MAX_COLUMNS} columns): clear "
                                              "stray cells far from the data", where)])
        hidden_rows = [i for i, d in ws.row_dimensions.items() if d.hidden]
        hidden_cols = [k for k, d in ws.column_dimensions.items() if d.hidden]
        if hidden_rows or hidden_cols:
            raise KokenErrors([PortfolioError(
                "the sheet has hidden " + " and ".join(
                    x for x in (f"rows {hidden_rows[:5]}" if hidden_rows else "",
                                f"columns {hidden_cols[:5]}" if hidden_cols else "") if x)
                + ": unhide or delete them, so that what is computed is what people see", where)])
        formulas = {c.coordinate for row in ws.iter_rows() for c in row
                    if isinstance(c.value, str) and c.value.startswith("=")}
        title = ws.title
        if formulas:  # use the results the spreadsheet program saved with the file
            book.close()
            book = load(data_only=True)
            ws = book[title]
        rows = [[_excel_text(c) for c in row] for row in ws.iter_rows()]
        unsaved = sorted(c.coordinate for row in ws.iter_rows() for c in row
                         if c.coordinate in formulas and c.value is None)
        merged = [r for r in ws.merged_cells.ranges if r.max_col > r.min_col]
    finally:
        book.close()
    if unsaved:
        raise KokenErrors([PortfolioError(
            f"cells {', '.join(unsaved[:10])}{' …' if len(unsaved) > 10 else ''} hold formulas whose results "
            "were never saved (the file was not last saved by a spreadsheet program); koken never evaluates "
            "formulas: open and save it in Excel or LibreOffice, or paste values", where)])
    header_row = next((i + 1 for i, r in enumerate(rows) if any(str(c).strip() for c in r)), None)
    # a horizontal merge in the header row or the (units) row under it hides column names or units
    across = [str(r) for r in merged if header_row is not None and r.min_row <= header_row + 1
              and r.max_row >= header_row]
    if across:
        raise KokenErrors([PortfolioError(
            f"header cells {', '.join(across)} are merged across columns: give each column its own header "
            "(cells merged down a column are fine)", where)])
    return _split_header(p, rows, list(range(1, len(rows) + 1)), "xlsx")


MAX_XLSX_UNCOMPRESSED = 200_000_000
MAX_XLSX_CELLS = 20_000_000
MAX_XLSX_RATIO = 200


def _check_zip(data: bytes, where: Location) -> None:
    """Refuse a workbook that would expand beyond :data:`MAX_XLSX_UNCOMPRESSED` (a zip bomb)."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise KokenErrors([PortfolioError("not a readable .xlsx workbook (not a zip archive)", where)]) from None
    if expanded > MAX_XLSX_UNCOMPRESSED or expanded > MAX_XLSX_RATIO * max(len(data), 1):
        raise KokenErrors([PortfolioError(
            f"the workbook would expand to {expanded / 1e6:,.0f} MB (limit {MAX_XLSX_UNCOMPRESSED / 1e6:,.0f} MB, "
            f"{MAX_XLSX_RATIO}× its size): refused", where)])


def _excel_text(cell) -> str:
    """A workbook cell as the text a person sees: percentage-formatted numbers keep their percent."""
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if "%" in (getattr(cell, "number_format", "") or ""):
            return f"{value * 100:.15g}%"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return repr(value) if isinstance(value, float) else str(value)
    return str(value)


def _split_header(p: Path, rows: list[list[str]], rownums: list[int], used: str):
    while rows and not any(str(c).strip() for c in rows[0]):
        rows, rownums = rows[1:], rownums[1:]
    if not rows:
        raise KokenErrors([PortfolioError("file is empty: no header row", Location(file=str(p)))])
    if len(rows[0]) > MAX_COLUMNS:
        raise KokenErrors([PortfolioError(f"the header has {len(rows[0]):,} columns (limit {MAX_COLUMNS})",
                                          Location(file=str(p)))])
    return rows[0], rows[1:], rownums[1:], used


def _read_yaml(p: Path):
    doc = load_yaml_file(p)
    if isinstance(doc, dict) and set(doc) - {"rows"}:
        raise KokenErrors([PortfolioError(f"a YAML portfolio has only 'rows:' at the top; found also "
                                          f"{', '.join(map(str, sorted(set(doc) - {'rows'}, key=str)))} (put them "
                                          "in every row)", Location(file=str(p)))])
    rows = doc.get("rows") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise KokenErrors([PortfolioError("a YAML portfolio is a list of rows (mappings), or a mapping with "
                                          "'rows:'", Location(file=str(p)))])
    headers: list[str] = []
    for r in rows:
        for key in r:
            if str(key) not in headers:
                headers.append(str(key))
    cells = [["" if r.get(h) is None else str(r.get(h)) for h in headers] for r in rows]
    return headers, cells, list(range(1, len(rows) + 1)), "utf-8"
