"""The main job at any size: a portfolio file → result file and totals, one partition at a time.

Each partition is built (:func:`koken.portfolio.build.build_portfolio`), evaluated
(:func:`koken.calculation.calculate`: units resolved once per column, vectorised kernels), given its
device shares (:func:`koken.attribution.attribute`), appended to the result file
(:mod:`koken.scale.sinks`) and added to the totals (:class:`koken.totals.Totals`). Partitions run on
this machine (``engine="local"``) or on a Dask cluster (``engine="dask"``, :mod:`koken.scale.dask_engine`);
both run :func:`compute_partition` on the same partitions, in the same order, so their results are
identical.

Every problem in every partition is collected; if there is any, nothing is written and
:class:`koken.base.errors.KokenErrors` lists them all, sorted by row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from koken.base.errors import EvaluationError, KokenError, KokenErrors, Location, PortfolioError
from koken.base.i18n import _
from koken.calculation import provenance as make_provenance
from koken.calculation import totals_overflow_message
from koken.methodology import Methodology
from koken.montecarlo import Simulation
from koken.portfolio.readers import Partition, PortfolioSource
from koken.scale.partition import PartitionResult, compute_partition
from koken.totals import Totals
from koken.uncertainty import ranges_notice
from koken.variants import read_customer_data, unmatched_problems

ENGINES = ("local", "dask")


@dataclass(frozen=True)
class RunResult:
    """A finished run: totals, what produced them, and how much was computed.

    Attributes:
        totals: sums by fiscal year, category, methodology and market (t-CO2e), with device shares.
        provenance: as recorded in result files (:func:`koken.calculation.provenance`).
        methodologies: the methodologies used, by id.
        rows: product lines computed.
        partitions: partitions computed.
    """

    totals: Totals
    provenance: dict
    methodologies: dict[str, Methodology]
    rows: int
    partitions: int
    notices: tuple[str, ...] = ()
    """What the reader did that a person should know (rows above the header skipped, sheets skipped, columns
    carried through)."""
    uncertainty: dict | None = None
    """With draws: the ``uncertainty`` document of the result (:meth:`koken.montecarlo.Simulation.document`)."""


def run(source: PortfolioSource, library: Mapping[str, Methodology], ratios,
        options: Mapping[str, object], output: str | Path | None = None, engine: str = "local",
        scheduler: str | None = None, workers: int | None = None,
        progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Compute every partition of ``source``, write ``output`` (if given) and return the totals.

    Args:
        source: from :func:`koken.portfolio.readers.open_portfolio`.
        library: methodologies by id.
        ratios: device contribution-ratio file.
        options: recorded in the results' provenance (None values left out).
        output: result file (``.csv``, ``.json``, ``.parquet``), written only if there is no problem.
        engine: ``local`` or ``dask``.
        scheduler: Dask scheduler address (``tcp://host:8786``); None starts a local cluster.
        workers: local Dask cluster size (default: one per core).
        progress: called after each partition with (rows done, bytes of the input read).
    Returns:
        RunResult.
    Raises:
        KokenErrors: every problem in the file, sorted by row (nothing was written).
        KokenError: unsupported output type, unwritable output, Dask not installed or unreachable.
    """
    from koken.scale.sinks import open_sink

    if engine not in ENGINES:
        raise KokenError(_("unknown engine {engine!r}: use {local} or {dask}").format(engine=engine, local=ENGINES[0],
                                                                                       dask=ENGINES[1]))
    sink = open_sink(output) if output is not None else None
    details = sink.needs if sink is not None else None
    args = (source.sha256, library, ratios, dict(options), details)
    totals = Totals()
    writer = _Writer(sink) if sink is not None else None
    mc = options.get("uncertainty") or {}
    simulation = Simulation(draws=int(mc["draws"]), seed=int(mc["seed"])) if mc else None
    samples = _SamplesWriter(mc["samples"]) if mc.get("samples") else None
    problems: list[KokenError] = []
    used: set[str] = set()
    matched: set[int] = set()
    rows = partitions = ranged = 0
    had_units_row = False
    reading = _Prefetch(source.partitions())  # the first partition is read while the engine gets ready
    try:
        if engine == "local":
            results: Iterator[PartitionResult] = (compute_partition(part, *args) for part in reading)
        else:
            from koken.scale.dask_engine import map_partitions

            results = map_partitions(iter(reading), args, scheduler=scheduler, workers=workers)
        for result in results:
            partitions += 1
            had_units_row |= result.had_units_row
            ranged += result.ranged
            problems.extend(result.problems)
            matched |= result.customer_matched
            if result.table is not None:
                rows += len(result.table)
                used.update(result.methodology_ids)
                if not problems:
                    totals.add(result.table)
                    if writer is not None:
                        writer.write(result.table, result.details)
                    if simulation is not None and result.uncertainty is not None:
                        simulation.merge(result.uncertainty)
                        if samples is not None:
                            samples.write(result.uncertainty.samples)
            if progress is not None:
                progress(rows, source.bytes_read)
        if options.get("customer_data"):  # a customer-data row no partition used is never silently ignored
            problems.extend(unmatched_problems(read_customer_data(options["customer_data"]["file"]), matched))
        if problems:
            raise KokenErrors(sorted(problems, key=lambda e: (e.location.sheet or "", e.location.row or 0,
                                                              e.location.column or "")))
        if not rows:
            raise KokenErrors([PortfolioError(_("the file has no product lines (only a header and a units row)")
                                              if had_units_row else _("the file has no product lines (only a header)"),
                                              Location(file=source.path))])
        if not totals.finite():
            raise KokenErrors([EvaluationError(totals_overflow_message(), Location(file=source.path))])

        methodologies = {mid: library[mid] for mid in sorted(used)}
        record = make_provenance(source.path, source.sha256, source.encoding, methodologies.values(), options,
                                 source.tables,
                                 fiscal_years=[int(y) for y in totals.summarise(["fiscal_year"])["fiscal_year"]])
        if simulation is not None:
            record["uncertainty"] = simulation.document()
        if writer is not None:
            writer.finish()
            sink.close(record, totals)
        if samples is not None:
            samples.finish(record)
    except BaseException:
        reading.close()
        if writer is not None:
            writer.cancel()
        if sink is not None:
            sink.abort()
        if samples is not None:
            samples.abort()
        raise
    return RunResult(totals=totals, provenance=record, methodologies=methodologies, rows=rows,
                     partitions=partitions,
                     notices=(*getattr(source, "notices", ()), *((ranges_notice(ranged),) if ranged and not mc else ())),
                     uncertainty=record.get("uncertainty"))


class _SamplesWriter:
    """The Monte Carlo samples (``--samples FILE``, Parquet), partition by partition into a temporary file that
    becomes ``FILE`` only when the run succeeds (no partial output)."""

    def __init__(self, path):
        from koken.base.files import TemporaryTarget

        self._target = TemporaryTarget(path)
        self._fh = self._writer = None

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._fh = self._target.open("wb")
            self._writer = pq.ParquetWriter(self._fh, table.schema, compression="snappy")
        self._writer.write_table(table.cast(self._writer.schema))

    def finish(self, provenance: dict) -> None:
        import json

        if self._writer is None:
            return
        self._writer.add_key_value_metadata({"koken": json.dumps(provenance, ensure_ascii=False)})
        self._writer.close()
        self._fh.close()
        self._writer = self._fh = None
        self._target.publish()

    def abort(self) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
            if self._fh is not None:
                self._fh.close()
        except Exception:  # the file is being thrown away
            pass
        self._writer = self._fh = None
        self._target.discard()


class _Prefetch:
    """Reads the next partition in a background thread while this one is computed (Arrow and file
    reads release the GIL, so reading overlaps computing on a second core). Order and errors are kept.

    The thread starts when this is made, not at the first ``next()``: the first partition is read while the engine
    gets ready (a Dask cluster starting, the methodologies compiling). :meth:`close` stops it (iterating to the end
    does too)."""

    def __init__(self, partitions: Iterator[Partition]):
        import queue
        import threading

        self._slot: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._partitions = partitions
        threading.Thread(target=self._read, name="koken-read", daemon=True).start()

    def _read(self) -> None:
        try:
            for part in self._partitions:
                if not self._hand(("part", part)):
                    return
            self._hand(("end", None))
        except BaseException as err:  # handed to the consumer, raised there
            self._hand(("error", err))

    def _hand(self, item: tuple) -> bool:
        """Put ``item`` in the slot once it is free; False if :meth:`close` was called meanwhile."""
        import queue

        while not self._stop.is_set():
            try:
                self._slot.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[Partition]:
        try:
            while True:
                kind, item = self._slot.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading (the thread ends within 0.1 s; a partition being read is finished first)."""
        self._stop.set()


class _Writer:
    """Appends partitions to the sink in a background thread, one at a time and in order (Arrow's
    Parquet writer and file writes release the GIL, so writing overlaps computing)."""

    def __init__(self, sink):
        from concurrent.futures import ThreadPoolExecutor

        self._sink = sink
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="koken-write")
        self._pending = None

    def write(self, table: pd.DataFrame, details) -> None:
        self.wait()
        self._pending = self._pool.submit(self._sink.write, table, details)

    def wait(self) -> None:
        """Block until the last write is done; its error (disk full …) is raised here."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def finish(self) -> None:
        """Wait for the last write and stop the thread."""
        self.wait()
        self._pool.shutdown(wait=True)

    def cancel(self) -> None:
        try:
            self.wait()
        except BaseException:  # the run is failing already; its own error is the one to report
            pass
        self._pool.shutdown(wait=True)
