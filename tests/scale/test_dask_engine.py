"""``--engine dask`` gives the same results as the local engine (a 2-worker LocalCluster).

Dask is an optional extra of koken (``koken[dask]``) and part of the ``test`` extra, so these tests run
(and are never skipped) wherever the test suite is installed as README says.
"""

from __future__ import annotations

import json
import sys

import dask.distributed  # noqa: F401  (a missing install fails here, loudly)
import pytest

from koken.attribution import load_ratio_file
from koken.base.errors import KokenError
from koken.portfolio.readers import open_portfolio
from koken.results import without_created
from koken.scale.pipeline import run

EXAMPLE = "examples/portfolio_fy2023.csv"


def _both(path, library, tmp_path, suffix, partition_rows):
    ratios = load_ratio_file(None)
    out = {}
    for engine in ("local", "dask"):
        target = tmp_path / f"{engine}{suffix}"
        source = open_portfolio(path, library, partition_rows=partition_rows)
        result = run(source, library, ratios, {}, output=target, engine=engine,
                     workers=2 if engine == "dask" else None)
        out[engine] = (target, result)
    return out


def test_example_portfolio_is_identical_on_dask(tmp_path, library):
    both = _both(EXAMPLE, library, tmp_path, ".json", partition_rows=8)
    local, dask = (json.loads(both[e][0].read_text(encoding="utf-8")) for e in ("local", "dask"))
    local.pop("created")
    dask.pop("created")
    assert local == dask
    assert both["dask"][1].partitions == 5


def test_generated_100k_portfolio_is_identical_on_dask(tmp_path, library):
    sys.path.insert(0, "benchmarks")
    from generate import generate

    portfolio = tmp_path / "p.parquet"
    generate(100_000, seed=7).to_parquet(portfolio, index=False)
    both = _both(portfolio, library, tmp_path, ".parquet", partition_rows=25_000)
    # byte for byte, metadata included, apart from the time each file was written (the record's ``created``)
    assert without_created(both["local"][0].read_bytes()) == without_created(both["dask"][0].read_bytes())
    local, dask = both["local"][1], both["dask"][1]
    assert local.rows == dask.rows == 100_000
    by = ["fiscal_year", "category", "methodology", "market"]
    assert local.totals.summarise(by).equals(dask.totals.summarise(by))  # to the last bit


def test_unreachable_scheduler_is_a_clear_error(library):
    source = open_portfolio(EXAMPLE, library)
    with pytest.raises(KokenError) as err:
        run(source, library, load_ratio_file(None), {}, engine="dask", scheduler="tcp://127.0.0.1:9")
    assert "cannot reach the Dask scheduler" in str(err.value)


def test_a_run_whose_engine_cannot_start_stops_reading_the_file(library):
    """The first partition is read while the engine gets ready (a thread started before the cluster is reached):
    when the engine fails, that thread stops too, instead of waiting forever with the file open."""
    import threading
    import time

    source = open_portfolio(EXAMPLE, library, partition_rows=2)  # more partitions than the thread reads ahead
    with pytest.raises(KokenError):
        run(source, library, load_ratio_file(None), {}, engine="dask", scheduler="tcp://127.0.0.1:9")
    deadline = time.monotonic() + 5
    while any(t.name == "koken-read" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "koken-read"]


def _run_on_scheduler(address, library):
    return run(open_portfolio(EXAMPLE, library), library, load_ratio_file(None), {},
               engine="dask", scheduler=address)


def test_a_tls_scheduler_address_that_cannot_connect_is_a_koken_error(library):
    with pytest.raises(KokenError) as err:
        _run_on_scheduler("tls://127.0.0.1:1", library)
    assert "cannot reach the Dask scheduler" in str(err.value)


def test_problems_found_on_a_worker_are_in_the_clients_language(tmp_path, library):
    """The worker processes inherit KOKEN_LANG=en (tests/conftest.py); the client's language travels with each
    task, so a problem found on a worker reads as one found here."""
    import dataclasses

    from dask.distributed import LocalCluster

    from koken.base.errors import KokenErrors
    from koken.base.i18n import language

    bad = tmp_path / "bad.csv"
    bad.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
                   "product_annual_energy[kWh/yr],operating_years[yr]\n"
                   "refrigerator,2023,domestic,1000,420,300,12\nrefrigerator,2023,domestic,1000,420,abc,12\n"
                   "refrigerator,2023,domestic,-5,420,300,12\n", encoding="utf-8")
    # a methodology whose recorded content hash is not what it compiles to: refused on the worker
    altered = {**library, "refrigerator": dataclasses.replace(library["refrigerator"], content_hash="sha256:0")}
    ratios = load_ratio_file(None)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            language("ja"):
        with pytest.raises(KokenErrors) as on_worker:
            run(open_portfolio(bad, library), library, ratios, {}, engine="dask", scheduler=cluster.scheduler_address)
        with pytest.raises(KokenErrors) as here:
            run(open_portfolio(bad, library), library, ratios, {}, engine="local")
        with pytest.raises(KokenError) as refused:
            run(open_portfolio(bad, altered), altered, ratios, {}, engine="dask", scheduler=cluster.scheduler_address)
    assert str(on_worker.value) == str(here.value) and "3行目" in str(on_worker.value)
    assert str(refused.value).startswith("方法論 refrigerator が Dask ワーカーで異なる内容にコンパイルされます"
                                         "（ワーカー sha256:")


def test_a_cluster_started_early_is_the_one_the_run_takes(tmp_path, library):
    """``koken calculate --engine dask`` starts its local cluster while the library loads; the run takes that
    cluster (no second one is started) and writes what the local engine writes."""
    import multiprocessing
    import os

    from koken.scale import dask_engine

    dask_engine.start_local_cluster(1)
    early = dask_engine._EARLY[1].result()
    if "forkserver" in multiprocessing.get_all_start_methods():  # forked from a process that imported koken once
        parents = set(early[1].run(os.getppid).values())
        assert len(parents) == 1 and os.getpid() not in parents
        assert all(early[1].run(lambda: "koken.methodology" in sys.modules).values())
    ratios = load_ratio_file(None)
    target = {}
    for engine in ("local", "dask"):
        target[engine] = tmp_path / f"{engine}.json"
        run(open_portfolio(EXAMPLE, library, partition_rows=8), library, ratios, {}, output=target[engine],
            engine=engine, workers=1 if engine == "dask" else None)
    assert 1 not in dask_engine._EARLY  # taken by the run
    assert early[0].status.name == "closed"  # and closed at its end
    local, dask = (json.loads(target[e].read_text(encoding="utf-8")) for e in ("local", "dask"))
    local.pop("created")
    dask.pop("created")
    assert local == dask


def test_a_cluster_started_early_and_not_used_is_closed():
    from koken.scale import dask_engine

    dask_engine.start_local_cluster(1)
    cluster, client = dask_engine._EARLY[1].result()
    dask_engine._close_unused()
    assert 1 not in dask_engine._EARLY
    assert cluster.status.name == "closed" and client.status == "closed"
