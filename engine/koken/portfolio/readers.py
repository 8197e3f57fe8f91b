"""A portfolio file read in partitions: blocks of rows that are built and evaluated one at a time.

CSV is read as a stream (the whole file is never in memory: files larger than memory work), Parquet by
record batches (pyarrow), XLSX and YAML whole (one partition; they are size-limited). Every partition
shares the file's :class:`koken.portfolio.build.Layout` (header and units row, read once), so a partition
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
import hashlib
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from koken.base.errors import KokenError, KokenErrors, Location, PortfolioError
from koken.methodology.compile import CompiledMethodology
from koken.portfolio.build import (MAX_COLUMNS, Cells, Layout, _HALFWIDTH_KANA, _read_xlsx, _read_yaml, cells_from_rows,
                              layout_from_header, split_units_row)

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

    def __init__(self, path: str | Path, library: Mapping[str, CompiledMethodology], encoding: str | None = None,
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
        if self.suffix == ".csv":
            blocks = self._csv_blocks()
        elif self.suffix == ".parquet":
            blocks = self._parquet_blocks()
        else:
            blocks = self._whole_file_blocks()
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

    def _whole_file_blocks(self):
        if self.suffix in (".xlsx", ".xlsm"):
            from koken.portfolio.build import MAX_PORTFOLIO_BYTES
            from koken.base.safe_yaml import read_limited

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


def open_portfolio(path: str | Path, library: Mapping[str, CompiledMethodology], encoding: str | None = None,
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


__all__ = ["DEFAULT_PARTITION_ROWS", "Partition", "PortfolioSource", "open_portfolio", "KokenError"]
