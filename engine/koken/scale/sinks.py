"""Result files written partition by partition: CSV, JSON or Parquet, chosen by the file's extension.

Each partition's rows are appended to a temporary file in the target's folder as they come; only when
every partition has been computed without a problem is the file renamed into place (never a
half-written result; on any problem nothing is written). Memory stays at one partition.

* ``.csv``: the row table, units in the headers, UTF-8 with BOM (Japanese Excel opens it correctly),
  text cells a spreadsheet would run as a formula prefixed with an apostrophe.
* ``.json``: the full result document (:mod:`koken.results`): provenance, every row with its inputs
  and steps, totals. The same bytes as an in-memory run's document, apart from ``created``.
* ``.parquet``: the row table (one row group per partition, Snappy-compressed as Parquet's default);
  provenance and totals as JSON in the file's key-value metadata under ``koken``.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pandas as pd

from koken.base.errors import KokenError, Location
from koken.base.files import TemporaryTarget
from koken.base.i18n import _
from koken.results import document_head, document_tail, row_records, spreadsheet_safe
from koken.totals import Totals

SUFFIXES = (".csv", ".json", ".parquet")


class ResultSink:
    """Base: a temporary file next to the target, renamed into place by :meth:`close`."""

    needs_details = False
    """Whether rows need their inputs and steps (the JSON document has them)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._target = TemporaryTarget(path)
        self._fh = None

    def _open(self, mode: str = "wb"):
        return self._target.open(mode)

    def write(self, table: pd.DataFrame, details: list[dict] | None) -> None:
        """Append one partition's result rows (and, for JSON, their details)."""
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
    """The row table as CSV (UTF-8 with BOM)."""

    def __init__(self, path):
        super().__init__(path)
        self._columns: list[str] | None = None

    def write(self, table, details):
        def append():
            if self._fh is None:
                self._fh = self._open("wb")
                self._columns = list(table.columns)
                self._fh.write("\ufeff".encode())
            text = spreadsheet_safe(table[self._columns]).to_csv(index=False, header=self._fh.tell() <= 3,
                                                                   lineterminator="\n")
            self._fh.write(text.encode("utf-8"))
        self._guard(append)

    def _finish(self, provenance, totals):
        self._fh.close()
        self._fh = None


class JsonSink(ResultSink):
    """The full result document, rows streamed into a side file and joined with head and tail at the end."""

    needs_details = True

    def __init__(self, path):
        super().__init__(path)
        self._rows = TemporaryTarget(path)  # the rows as they come; copied into the document, then removed
        self._count = 0

    def write(self, table, details):
        def append():
            if self._fh is None:
                self._fh = self._rows.open("w")
            for row in row_records(table, details):
                self._fh.write(("," if self._count else "") + "\n"
                               + textwrap.indent(json.dumps(row, ensure_ascii=False, indent=2), "    "))
                self._count += 1
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


class ParquetSink(ResultSink):
    """The row table as Parquet, one row group per partition; provenance and totals in its metadata."""

    def __init__(self, path):
        super().__init__(path)
        self._writer = None
        self._schema = None

    def write(self, table, details):
        import pyarrow as pa
        import pyarrow.parquet as pq

        def append():
            arrow = pa.Table.from_pandas(table, preserve_index=False)
            if self._writer is None:  # dictionary (categorical) columns get 32-bit codes: later partitions
                self._schema = pa.schema([  # may hold more distinct values than the first
                    pa.field(f.name, pa.dictionary(pa.int32(), f.type.value_type)) if pa.types.is_dictionary(f.type)
                    else f for f in arrow.schema])
                self._fh = self._open("wb")
                self._writer = pq.ParquetWriter(self._fh, self._schema, compression="snappy")
            self._writer.write_table(arrow.cast(self._schema))
        self._guard(append)

    def _finish(self, provenance, totals):
        summary = {**provenance, "totals_by_market": document_tail(totals)["totals_by_market"]}
        self._writer.add_key_value_metadata({"koken": json.dumps(summary, ensure_ascii=False)})
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


def open_sink(path: str | Path) -> ResultSink:
    """The sink for ``path`` by its extension.

    Raises:
        KokenError: an extension other than .csv, .json or .parquet.
    """
    suffix = Path(path).suffix.lower()
    sinks = {".csv": CsvSink, ".json": JsonSink, ".parquet": ParquetSink}
    if suffix not in sinks:
        raise KokenError(_("unsupported output type {suffix!r}: use .csv, .json or .parquet").format(suffix=suffix),
                         Location(file=str(path)))
    return sinks[suffix](path)


def write_results(calc, path: str | Path) -> None:
    """Write an in-memory run's results (:class:`koken.calculation.Calculation`) to ``path`` by extension.

    Raises:
        KokenError: unsupported extension or unwritable path.
    """
    from koken.results import row_details

    sink = open_sink(path)
    sink.write(calc.table, row_details(calc) if sink.needs_details else None)
    sink.close(calc.provenance(), Totals.from_table(calc.table))
