"""Partitions on a Dask cluster (``koken calculate --engine dask``); needs ``pip install 'koken[dask]'``.

The client reads the file and sends each partition to a worker, which runs the same
:func:`koken.scale.partition.compute_partition` as the local engine; results come back in partition order,
so result files and totals are identical to a local run. Methodologies travel as their validated
specifications and are compiled on each worker once (cached by content hash); a worker whose
compiled methodology or factor tables hash differently from the client's is refused, so a run never
mixes two versions of a formula. A few partitions are in flight at a time, so the client's memory
stays bounded whatever the file's size.

Without ``scheduler`` a :class:`dask.distributed.LocalCluster` is started (one single-threaded worker
process per core, or ``workers``) and stopped at the end; ``koken calculate`` starts it in the background
(:func:`start_local_cluster`) before it loads the methodologies, and its workers import koken as they start
(:func:`dask_setup`), so that starting the cluster overlaps the client's own start-up; where the platform has it, the
workers are forked from one ``forkserver`` process that imported numpy, pandas, sympy, Pint and koken once (each
worker would otherwise spend about two seconds importing them). With ``scheduler``, an existing cluster is used. Its
workers must run the same koken version (checked before anything is sent): the results record
one version. Problems found on a worker are written in the client's language, which travels with each
task (a remote worker does not share the client's environment).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import warnings
from collections.abc import Iterator

from koken.base.errors import KokenError
from koken.base.i18n import _, current_language, language
from koken.base.version import __version__
from koken.portfolio.readers import Partition
from koken.scale.partition import compute_partition


def dask_setup(worker=None) -> None:
    """Run by each worker of a local cluster as it starts (Dask's ``preload``): import what a partition needs and
    read the unit definitions now, while the client loads the library, rather than in the first task."""
    from koken.base.units import registry

    registry()


_EARLY: dict[int, object] = {}
"""Local clusters being started in the background, by size: a future of (cluster, client)."""


def start_local_cluster(workers: int | None = None) -> None:
    """Start a local cluster of ``workers`` processes (default: one per core) in a background thread, for the next
    :func:`map_partitions` without ``scheduler``; it is closed at exit if no run takes it. Nothing is raised here:
    a cluster that cannot start is reported by :func:`map_partitions`."""
    import atexit
    import concurrent.futures

    n = workers or os.cpu_count() or 1
    if n in _EARLY:
        return
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        return
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="koken-dask-start")
    _EARLY[n] = pool.submit(_local_cluster, n)
    pool.shutdown(wait=False)
    atexit.register(_close_unused)


_FORKSERVER_PRELOAD = ["distributed", "numpy", "pandas", "pyarrow", "sympy", "pint", "koken.scale.partition",
                       "koken.methodology", "koken.factors", __name__]
"""What the process that forks a local cluster's workers imports once, so that each worker starts with it."""


def _local_cluster(n: int):
    import multiprocessing

    import dask
    from dask.distributed import Client, LocalCluster

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with warnings.catch_warnings(), dask.config.set({"distributed.worker.multiprocessing-method": method}):
        warnings.simplefilter("ignore", UserWarning)  # e.g. "port 8787 is in use" for a dashboard koken does not open
        if method == "forkserver":  # the workers are forked from one process that imported koken, not each started anew
            with contextlib.suppress(ImportError, AttributeError):  # Dask's own preload list otherwise
                from distributed.utils import get_mp_context

                get_mp_context().set_forkserver_preload(_FORKSERVER_PRELOAD)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR, preload=[__name__])
    try:
        return cluster, Client(cluster)
    except BaseException:
        cluster.close()
        raise


def _take_early(n: int):
    """The cluster started early for ``n`` workers, or None (none started, or it failed: started again then)."""
    future = _EARLY.pop(n, None)
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # the cluster is started again in the foreground, which reports why it cannot start
        return None


def _close_unused() -> None:
    for n in list(_EARLY):
        started = _take_early(n)
        if started is not None:
            cluster, client = started
            with contextlib.suppress(Exception):
                client.close()
                cluster.close()


def _worker_version() -> str:
    from koken.base.version import __version__ as version

    return version


_COMPILED: dict[str, object] = {}
"""Per worker process: compiled methodologies by content hash."""


def _compiled_library(specs: dict, factor_hashes: dict) -> dict:
    """On a worker: compile the client's methodology specifications (once per content hash) and check
    that they and the worker's factor tables hash as on the client.

    Raises:
        KokenError: a compiled methodology or a factor table differs from the client's.
    """
    from koken.factors import load_factor_tables
    from koken.methodology import compile_methodology

    tables, _problems = load_factor_tables()
    mine = {t.id: t.content_hash for t in tables.values()}
    if mine != factor_hashes:
        import socket

        differ = sorted(set(mine) ^ set(factor_hashes) | {t for t in mine if mine[t] != factor_hashes.get(t, mine[t])})
        raise KokenError(_("the factor tables of the Dask worker on {host} differ from the client's ({tables}): "
                           "install the same koken and factor files everywhere").format(
            host=socket.gethostname(), tables=", ".join(differ)))
    library = {}
    for mid, (spec, path, content_hash) in specs.items():
        m = _COMPILED.get(content_hash)
        if m is None:
            m = compile_methodology(spec, path, check_location=False)
            if m.content_hash != content_hash:
                raise KokenError(_("methodology {id} compiles differently on a Dask worker ({worker_hash}, client "
                                   "{client_hash}): install the same koken everywhere").format(
                    id=mid, worker_hash=m.content_hash, client_hash=content_hash))
            _COMPILED[content_hash] = m
        library[mid] = m
    return library


def _compute_on_worker(part, digest, specs, factor_hashes, ratios, options, details, lang="en"):
    """On a worker: compute one partition, its problems in the client's language ``lang`` (a worker on another
    machine does not share the client's environment, so the language travels with the task)."""
    with language(lang):
        return compute_partition(part, digest, _compiled_library(specs, factor_hashes), ratios, options, details)


def map_partitions(partitions: Iterator[Partition], args: tuple, scheduler: str | None = None,
                   workers: int | None = None, in_flight: int | None = None) -> Iterator:
    """Run :func:`koken.scale.partition.compute_partition` on each partition on a Dask cluster, in order.

    Args:
        partitions: from :meth:`koken.portfolio.readers.PortfolioSource.partitions`.
        args: ``(digest, library, ratios, options, details)`` for ``compute_partition``.
        scheduler: address of a running scheduler; None starts a local cluster.
        workers: size of the local cluster (default: one worker per core).
        in_flight: partitions submitted ahead of the one being collected (default: 2 per worker).
    Yields:
        PartitionResult, in partition order.
    Raises:
        KokenError: Dask is not installed, the scheduler cannot be reached, or a worker runs another
            koken version.
    """
    try:
        from dask.distributed import Client
    except ImportError:
        raise KokenError(_("the dask engine needs Dask: pip install 'koken[dask]'")) from None
    digest, library, ratios, options, details = args
    from koken.factors import load_factor_tables

    # compiled and hashed while a local cluster starts in the background (its workers still importing)
    specs = {mid: (m.spec, m.path, m.content_hash) for mid, m in library.items()}
    tables, _problems = load_factor_tables()
    factor_hashes = {t.id: t.content_hash for t in tables.values()}
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            n = workers or os.cpu_count() or 1
            cluster, client = _take_early(n) or _local_cluster(n)
            stack.enter_context(cluster)
            stack.enter_context(client)
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout="10s"))
            except Exception as err:  # OSError, timeouts, and the TypeErrors of tls:// or ucx:// without set-up
                raise KokenError(_("cannot reach the Dask scheduler at {address!r} ({error}: {detail})").format(
                    address=scheduler, error=type(err).__name__, detail=str(err)[:200])) from None
        try:
            versions = client.run(_worker_version)
        except Exception as err:  # a worker that cannot import koken fails here, with its own traceback
            raise KokenError(_("a Dask worker cannot run koken ({error}: {detail}): install koken {version} with its "
                               "dask extra on every worker").format(error=type(err).__name__, detail=str(err)[:200],
                                                                   version=__version__)) from None
        if not versions:
            raise KokenError(_("the Dask cluster at {address} has no workers").format(address=scheduler or "localhost"))
        other = {address: v for address, v in versions.items() if v != __version__}
        if other:
            raise KokenError(_("Dask workers run another koken version ({versions}); this client runs {version}: "
                               "install the same version everywhere").format(versions=other, version=__version__))
        shared = client.scatter([specs, factor_hashes, ratios], broadcast=True)
        ahead = in_flight or 2 * len(versions)
        lang = current_language()  # problems found on a worker are written in the client's language
        pending: collections.deque = collections.deque()
        for part in partitions:
            sent = client.scatter(part, hash=False)  # the rows travel as data, not inside the task graph; a
            # random key, not one made by hashing every cell again (the file's sha256 covers them)
            pending.append(client.submit(_compute_on_worker, sent, digest, *shared[:2], shared[2], options,
                                         details, lang, pure=False))
            while len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
