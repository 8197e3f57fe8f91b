"""The start-up cache (koken.base.cache, issue 17 §4): what it keeps never changes a result.

Each test has a cache folder of its own; the expected figures are those of a run without the cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from koken.base import cache
from koken.base.errors import KokenErrors
from koken.base.paths import methodologies_dir

from helpers import methodology_dict, write_methodology

REPO = Path(__file__).resolve().parent.parent
HOME_APPLIANCES = methodologies_dir() / "home_appliances" / "home_appliances.yaml"  # the refrigerator's formulas


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


def test_values_round_trip_with_their_types():
    value = {"a": [1, 1.0, True, None, "x"], 2023: {"nested": dt.date(2024, 4, 1)}, 1.5: dt.datetime(2024, 1, 2, 3, 4),
             False: float("inf"), "m": {"m": []}}
    back = cache.decode(json.loads(json.dumps(cache.encode(value))))
    assert back == value
    assert [type(k) for k in back] == [type(k) for k in value]
    assert [type(v) for v in back["a"]] == [type(v) for v in value["a"]]
    with pytest.raises(TypeError):
        cache.encode({"x": object()})
    with pytest.raises(ValueError):
        cache.decode({"python/object": "os.system"})


def test_a_cache_hit_gives_what_a_run_without_the_cache_gives(cache_folder, monkeypatch):
    monkeypatch.setenv(cache.OFF_VARIABLE, "1")
    plain = fresh_library()
    assert not cache_folder.exists() or not any(cache_folder.rglob("*.json"))  # KOKEN_NO_CACHE=1 writes nothing
    monkeypatch.delenv(cache.OFF_VARIABLE)
    first = fresh_library()
    assert entries(cache_folder, "yaml") and entries(cache_folder, "examples")
    warm = fresh_library()
    for lib in (first, warm):
        assert list(lib) == list(plain)
        assert [m.content_hash for m in lib.values()] == [m.content_hash for m in plain.values()]
        assert figures(lib["refrigerator"]) == figures(plain["refrigerator"])


def test_a_planted_formula_in_a_released_methodology_is_read_again_from_its_file(cache_folder):
    plain = fresh_library()
    key = cache.key_of("yaml", hashlib.sha256(HOME_APPLIANCES.read_bytes()).hexdigest())
    target = next(p for p in entries(cache_folder, "yaml") if p.stem == key)

    def change(payload):
        text = json.dumps(payload)
        assert "product_annual_energy * grid_emission_factor +" in text
        return json.loads(text.replace("product_annual_energy * grid_emission_factor +",
                                       "product_annual_energy * grid_emission_factor * 0.5 +"))

    plant(target, change)
    lib = fresh_library()  # the lock refuses the planted reading: the file is read again, not an error
    assert lib["refrigerator"].content_hash == plain["refrigerator"].content_hash
    assert figures(lib["refrigerator"]) == figures(plain["refrigerator"])
    assert "* 0.5" not in target.read_text(encoding="utf-8")  # and the entry rewritten from the file


@pytest.mark.parametrize("damage", ["garbage", "payload", "key", "engine", "truncated"])
def test_a_damaged_or_mismatching_entry_is_ignored(cache_folder, tmp_path, damage):
    path = write_methodology(tmp_path / "mine", methodology_dict())
    plain = fresh_library(path.parent.parent, bundled=False)["toy"]
    target = entries(cache_folder, "yaml")[0]
    entry = json.loads(target.read_bytes())
    if damage == "garbage":
        target.write_bytes(b"\x00\xff not json")
    elif damage == "truncated":
        target.write_bytes(target.read_bytes()[:100])
    elif damage == "payload":  # a changed formula without the payload's hash
        target.write_text(json.dumps(entry).replace("baseline_energy", "product_energy"), encoding="utf-8")
    elif damage == "key":  # another file's entry under this name
        entry["key"] = "0" * 64
        target.write_text(json.dumps(entry), encoding="utf-8")
    else:
        entry["engine"] = "0.0.0+older"
        target.write_text(json.dumps(entry), encoding="utf-8")
    again = fresh_library(path.parent.parent, bundled=False)["toy"]
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
    assert entries(cache_folder, "yaml")
