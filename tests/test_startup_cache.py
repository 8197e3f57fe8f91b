"""The start-up cache (koken.base.cache, issue 17 §4): it keeps only that worked examples passed, never a formula,
and what it keeps never changes a result.

Each test has a cache folder of its own; the expected figures are those of a run without the cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from koken.base import cache
from koken.base.errors import KokenErrors

from helpers import methodology_dict, write_methodology

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.DIR_VARIABLE, str(folder))
    monkeypatch.delenv(cache.OFF_VARIABLE, raising=False)
    return folder


def fresh_library(paths=None, bundled=True):
    """The library as a new process reads it (this process's compiled methodologies forgotten)."""
    from koken import library
    from koken.methodology.compile import forget_compiled

    forget_compiled()
    library._EXAMPLES_PASSED.clear()
    return library.load_library(paths, bundled=bundled)


def figures(m):
    """Every step of every worked example of ``m``, as computed now."""
    from koken.examples import run_example

    out = []
    for index in range(len(m.spec.examples)):
        result = run_example(m, index)
        out.append({name: [float(v) for v in result.steps[name].magnitude] for name in m.step_names})
    return out


def entries(folder: Path, kind: str) -> list[Path]:
    return sorted((folder / kind).rglob("*.json")) if (folder / kind).is_dir() else []


def plant(path: Path, change) -> None:
    """Rewrite a cache entry's payload with ``change`` and a matching payload hash (as someone who knows the format
    would)."""
    entry = json.loads(path.read_bytes())
    entry["payload"] = change(entry["payload"])
    entry["sha256"] = cache._payload_hash(entry["payload"])
    path.write_text(json.dumps(entry), encoding="utf-8")


def test_a_cache_hit_gives_what_a_run_without_the_cache_gives(cache_folder, monkeypatch):
    monkeypatch.setenv(cache.OFF_VARIABLE, "1")
    plain = fresh_library()
    assert not cache_folder.exists() or not any(cache_folder.rglob("*.json"))  # KOKEN_NO_CACHE=1 writes nothing
    monkeypatch.delenv(cache.OFF_VARIABLE)
    first = fresh_library()
    assert entries(cache_folder, "examples") and not entries(cache_folder, "yaml")
    warm = fresh_library()
    for lib in (first, warm):
        assert list(lib) == list(plain)
        assert [m.content_hash for m in lib.values()] == [m.content_hash for m in plain.values()]
        assert figures(lib["refrigerator"]) == figures(plain["refrigerator"])


def test_no_entry_holds_a_formula_and_planted_entries_change_no_figure(cache_folder):
    plain = fresh_library()
    stored = [p.read_text(encoding="utf-8") for p in cache_folder.rglob("*.json")]
    assert stored and not any("grid_emission_factor" in text for text in stored)  # no formula, parameter or unit
    for path in entries(cache_folder, "examples"):
        plant(path, lambda payload: {"passed": "sha256:" + "0" * 64, "formula": "product_annual_energy * 0.5"})
    lib = fresh_library()
    assert [m.content_hash for m in lib.values()] == [m.content_hash for m in plain.values()]
    assert figures(lib["refrigerator"]) == figures(plain["refrigerator"])


@pytest.fixture
def example_runs(monkeypatch):
    """How many times worked examples were run (koken.library calls run_examples when the cache says nothing)."""
    from koken import library

    runs = []
    real = library.run_examples
    monkeypatch.setattr(library, "run_examples", lambda m: runs.append(m.id) or real(m))
    return runs


def test_a_warm_load_skips_only_the_examples_that_passed_before(cache_folder, tmp_path, example_runs):
    path = write_methodology(tmp_path / "mine", methodology_dict())
    fresh_library(path.parent.parent, bundled=False)
    assert example_runs == ["toy"]
    fresh_library(path.parent.parent, bundled=False)
    assert example_runs == ["toy"]  # the cache said they passed for this content


@pytest.mark.parametrize("damage", ["garbage", "payload", "hash", "key", "engine", "truncated"])
def test_a_damaged_or_mismatching_entry_is_ignored(cache_folder, tmp_path, example_runs, damage):
    path = write_methodology(tmp_path / "mine", methodology_dict())
    plain = fresh_library(path.parent.parent, bundled=False)["toy"]
    target, = entries(cache_folder, "examples")
    entry = json.loads(target.read_bytes())
    if damage == "garbage":
        target.write_bytes(b"\x00\xff not json")
    elif damage == "truncated":
        target.write_bytes(target.read_bytes()[:100])
    elif damage == "payload":  # another content hash without the payload's hash
        target.write_text(json.dumps(entry).replace(plain.content_hash[-8:], "00000000"), encoding="utf-8")
    elif damage == "hash":  # a consistent entry for another content
        plant(target, lambda payload: {"passed": "sha256:" + "0" * 64})
    elif damage == "key":  # another file's entry under this name
        entry["key"] = "0" * 64
        target.write_text(json.dumps(entry), encoding="utf-8")
    else:
        entry["engine"] = "0.0.0+older"
        target.write_text(json.dumps(entry), encoding="utf-8")
    again = fresh_library(path.parent.parent, bundled=False)["toy"]
    assert example_runs == ["toy", "toy"]  # run again
    assert again.content_hash == plain.content_hash
    assert figures(again) == figures(plain)


def test_changed_worked_example_figures_are_checked_again(cache_folder, tmp_path):
    data = methodology_dict()
    path = write_methodology(tmp_path / "mine", data)
    fresh_library(path.parent.parent, bundled=False)
    assert entries(cache_folder, "examples")
    data["examples"][0]["expected"]["avoided_per_unit_year"]["value"] = 51  # the file now fails its own example
    write_methodology(tmp_path / "mine", data)
    with pytest.raises(KokenErrors, match="expects 51"):
        fresh_library(path.parent.parent, bundled=False)


def test_a_changed_formula_in_the_file_is_another_key(cache_folder, tmp_path):
    data = methodology_dict()
    path = write_methodology(tmp_path / "mine", data)
    before = fresh_library(path.parent.parent, bundled=False)["toy"]
    text = path.read_text(encoding="utf-8")
    data["examples"][0]["expected"]["avoided_per_unit_year"]["value"] = 100
    path.write_text(text.replace("value: 50", "value: 100"), encoding="utf-8")
    scaled = json.loads(json.dumps(data))
    from helpers import scale_scenarios

    write_methodology(tmp_path / "mine", scale_scenarios(scaled, "2"))
    after = fresh_library(path.parent.parent, bundled=False)["toy"]
    assert after.content_hash != before.content_hash
    assert figures(after)[0]["avoided_per_unit_year"] == [2 * v for v in figures(before)[0]["avoided_per_unit_year"]]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")
def test_a_folder_others_may_write_is_not_used(cache_folder):
    cache_folder.mkdir(mode=0o700)
    cache_folder.chmod(0o777)
    assert cache.cache_dir() is None
    fresh_library()
    assert not any(cache_folder.rglob("*.json"))


def test_validate_does_the_full_work(cache_folder):
    with cache.bypassed():
        assert cache.cache_dir() is None
        fresh_library()
    assert not any(cache_folder.rglob("*.json"))


def test_koken_calculate_warm_and_without_the_cache_write_identical_results(cache_folder, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "engine"), os.environ.get("PYTHONPATH", "")])}

    def calculate(name, **extra):
        out = tmp_path / f"{name}.csv"
        done = subprocess.run([sys.executable, "-c", "from koken.cli import main; main()", "calculate",
                               str(REPO / "examples" / "portfolio_fy2023.csv"), "-o", str(out)],
                              env={**env, **extra}, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return out.read_bytes()

    cold = calculate("cold")
    warm = calculate("warm")
    off = calculate("off", KOKEN_NO_CACHE="1")
    assert cold == warm == off
    assert entries(cache_folder, "examples")


def test_importing_the_api_leaves_the_trace_claim_and_report_modules_for_their_first_use():
    code = ("import sys, koken.api as api; lazy = ['koken.audit.trace', 'koken.claim', 'koken.reporting.action_plan', "
            "'koken.reporting.output']; print([m for m in lazy if m in sys.modules]); "
            "from koken.claim import make_claim; print(api.claim is make_claim)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "engine"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "True"]
