"""koken.results: the JSON result document."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from koken.base.errors import KokenErrors
from koken.base.i18n import language
from koken.calculation import calculate
from koken.cli.commands import main
from koken.portfolio.build import read_portfolio
from koken.reporting.action_plan import load_result_documents
from koken.results import result_document

from conftest import EXAMPLE_PORTFOLIO
from helpers import shortest_g


def test_the_documents_note_is_in_the_chosen_language_and_its_figures_are_not(library):
    calc = calculate(read_portfolio(EXAMPLE_PORTFOLIO, library), library)
    with language("en"):
        english = result_document(calc)
    with language("ja"):
        japanese = result_document(calc)
    assert english["note"] == ("single_year and lifetime are separate timeframes and fiscal years are kept apart; "
                               "they are never added together")
    assert japanese["note"].startswith("single_year（単年度）と lifetime（稼働年数分）は別々の期間で")
    # rows (with their recorded origins) and totals do not depend on the language: verify compares them
    assert japanese["rows"] == english["rows"] and japanese["totals_by_market"] == english["totals_by_market"]


def test_a_vintage_shipped_after_the_installed_base_year_is_null_in_json_and_read_back(tmp_path):
    """`koken calculate examples/portfolio_fy2023.csv -o r.json --installed-base 2022` ended in `ValueError:
    non-finite number in results`: every row was shipped in FY2023, after the reporting year 2022, so none is in
    service yet and its installed-base figure is NaN. It is written as null (the vintage is not in the installed base
    of that year; the column stays on every row), the strict reader takes null there (and only there, besides the
    device shares), report and verify read the result, and the workbook and CSV leave the cell empty."""
    out = tmp_path / "r.json"
    done = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(out), "--installed-base", "2022"])
    assert done.exit_code == 0, done.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [r["installed_base_annual[t-CO2e]"] for r in doc["rows"]] == [None] * len(doc["rows"])
    assert load_result_documents([out])
    assert CliRunner().invoke(main, ["report", str(out)]).exit_code == 0
    checked = CliRunner().invoke(main, ["verify", str(out), str(EXAMPLE_PORTFOLIO)])
    assert checked.exit_code == 0 and "The result stands" in checked.output, checked.output
    for suffix in (".csv", ".xlsx"):
        other = tmp_path / f"r{suffix}"
        written = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(other),
                                            "--installed-base", "2022"])
        assert written.exit_code == 0, (suffix, written.output)
    # null stays refused where a figure must be a number
    doc["rows"][0]["lifetime[t-CO2e]"] = None
    out.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(KokenErrors, match=r"lifetime\[t-CO2e\] is None, not a finite number"):
        load_result_documents([out])


def test_a_baseline_of_no_emissions_writes_no_avoided_share_instead_of_crashing(tmp_path):
    """A solar line with a capacity factor of 0: baseline and product emissions are both 0, the avoided share 0 / 0.
    `-o p.json` ended in `ValueError: non-finite number in results`; the share is written as null, report reads it."""
    portfolio = tmp_path / "p.csv"
    portfolio.write_text("product_line,methodology,fiscal_year,market,region,units_shipped,capacity_factor[fraction],"
                         "operating_years[yr]\nPV,solar_pv,2023,domestic,JP,1000 kW,0,20\n", encoding="utf-8")
    out = tmp_path / "p.json"
    done = CliRunner().invoke(main, ["calculate", str(portfolio), "-o", str(out)])
    assert done.exit_code == 0, done.output
    row = json.loads(out.read_text(encoding="utf-8"))["rows"][0]
    assert row["avoided_share[fraction]"] is None and row["single_year[t-CO2e]"] == 0
    assert load_result_documents([out]) and CliRunner().invoke(main, ["report", str(out)]).exit_code == 0


def _messy_rows() -> list:
    """Result rows, each fine or wrong in one way (or several), for the quick test of result_problems."""
    good = {"row": 3, "fiscal_year": 2023, "category": "home_appliances", "market": "domestic", "methodology": "m",
            "single_year[t-CO2e]": 1.5, "lifetime[t-CO2e]": 12, "device_semiconductor[t-CO2e]": None,
            "installed_base_annual[t-CO2e]": None, "avoided_share[fraction]": None, "note": "x"}
    wrong = [("row", True), ("row", 3.0), ("row", "3"), ("row", None), ("fiscal_year", [2023]),
             ("category", ["home_appliances"]), ("category", {"a": 1}), ("category", "nope"), ("category", None),
             ("market", ["domestic"]), ("market", {}), ("market", "abroad"), ("methodology", 1),
             ("methodology", ["m"]), ("single_year[t-CO2e]", float("nan")), ("single_year[t-CO2e]", float("inf")),
             ("single_year[t-CO2e]", -float("inf")), ("single_year[t-CO2e]", "1"), ("single_year[t-CO2e]", None),
             ("single_year[t-CO2e]", True), ("single_year[t-CO2e]", [1.0]), ("lifetime[t-CO2e]", 10 ** 400),
             ("device_semiconductor[t-CO2e]", float("nan")), ("device_semiconductor[t-CO2e]", "0"),
             ("installed_base_annual[t-CO2e]", float("inf")), ("other[t-CO2e]", None), ("other[t-CO2e]", 1e308 * 10),
             ("avoided_share[fraction]", "odd")]
    rows: list = [dict(good), dict(good, row=4), [], "row", None]
    for key, value in wrong:
        rows.append({**good, key: value})
    for missing in ("row", "category", "market", "methodology", "single_year[t-CO2e]", "lifetime[t-CO2e]"):
        rows.append({k: v for k, v in good.items() if k != missing})
    rows.append({**good, "single_year[t-CO2e]": "1", "market": ["x"], "row": False})  # several at once
    rows.append(dict(reversed(list(good.items()))))  # the same keys in another order
    return rows


def test_result_problems_names_the_same_rows_and_problems_as_checking_every_row_in_full():
    """result_problems passes rows that are plainly fine without building their messages; every other row goes
    through row_problems. On messy rows (unhashable categories, NaN, ±inf, text figures, bools, missing keys) the
    problems are exactly those that checking every row with row_problems gives (the path before the quick test)."""
    from koken.base.errors import Location
    from koken.results import RESULT_FORMAT, RESULT_UNITS, result_problems, row_problems

    rows = _messy_rows()
    doc = {"format": RESULT_FORMAT, "units": dict(RESULT_UNITS), "gwp_set": "ar5", "koken_version": "x",
           "input": {"file": "p.csv", "sha256": "0"}, "methodologies": {}, "rows": rows}
    found = [str(p) for p in result_problems(doc, Location(file="r.json"), totals=False)]
    expected = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            expected.append(f"rows[{i}]: not a mapping")
        elif row_problems(row):
            expected.append(f"rows[{i}] (portfolio row {row.get('row')}): " + "; ".join(row_problems(row)))
    assert [f.split(": ", 1)[1] for f in found] == expected
    assert len(expected) == len(rows) - 4  # all but the good rows, the reordered one and the odd avoided share (not
    #                                       a t-CO2e figure: row_problems leaves it)


def test_strict_json_reads_what_json_reads_and_names_the_first_key_written_twice_at_any_depth():
    """strict_json builds each object at C speed and counts its keys: a document without a key written twice reads as
    json.loads reads it (order of keys kept); the first key written again, at any depth, is named."""
    import json as plain

    from koken.results import strict_json

    text = ('{"b": 1, "a": [{"x": 1.5, "y": null, "z": {"k": "v", "l": [1, 2, {}]}}, []], "c": "\\u3042", '
            '"d": {"e": {"f": -0.0}}}')
    assert strict_json(text) == plain.loads(text)
    assert list(strict_json(text)) == ["b", "a", "c", "d"]
    for doc, key in [('{"a": 1, "b": 2, "a": 3}', "a"), ('{"a": {"q": 1, "r": 2, "r": 2, "q": 1}}', "r"),
                     ('[{"ok": 1}, {"x": {"y": [{"z": 1, "w": 2, "z": 1}]}}]', "z"),
                     ('{"m": 1, "n": 2, "n": 3, "m": 4}', "n")]:
        with pytest.raises(ValueError, match=f"the key '{key}' is written twice in one object"):
            strict_json(doc)
    for constant in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError, match="is not a number JSON allows"):
            strict_json('{"a": [1, ' + constant + ']}')


def _records_cell_by_cell(table):
    """Result rows as row_records made them before it went a column at a time: every cell of to_dict(records)."""
    from koken.results import _plain

    return [{key: _plain(value, key) for key, value in record.items()} for record in table.to_dict(orient="records")]


def test_row_records_are_the_rows_converted_cell_by_cell_on_calculated_and_messy_tables(library):
    """row_records converts a column at a time; its rows are those of converting every cell of the table's records
    (same keys in the same order, same values and types, JSON byte for byte): on calculations with device shares, an
    installed base whose later vintages are null, and on a table of every awkward kind of column."""
    import sys

    import numpy as np
    import pandas as pd

    from koken.api import calculate as api_calculate
    from koken.results import row_details, row_records

    sys.path.insert(0, "benchmarks")
    from generate import generate

    calcs = [api_calculate(EXAMPLE_PORTFOLIO, library, installed_base_year=2022),
             api_calculate(generate(300, seed=9), library)]
    for calc in calcs:
        details = row_details(calc)
        expected = _records_cell_by_cell(calc.table)
        for row, extra in zip(expected, details):
            row.update(extra)
        got = row_records(calc.table, details)
        assert json.dumps(got, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)
        assert [[type(v) for v in r.values()] for r in got] == [[type(v) for v in r.values()] for r in expected]
    assert any(r["installed_base_annual[t-CO2e]"] is None for r in row_records(calcs[0].table, row_details(calcs[0])))

    messy = pd.DataFrame({
        "row": np.array([1, 2, 3], dtype=np.int64), "flag": [True, False, True], "u": np.array([1, 2, 3], dtype=np.uint8),
        "single_year[t-CO2e]": [-0.0, 1e-300, 2.5], "device_ratio:devices": [np.nan, 0.1, np.nan],
        "avoided_share[fraction]": [np.nan, 0.5, 1.0], "installed_base_annual[t-CO2e]": [1.0, np.nan, 2.0],
        "n": pd.array([1, None, 3], dtype="Int64"), "cat": pd.Categorical(["a", "b", "a"]),
        "obj": pd.Series([np.float64(1.5), "x", None], dtype=object), "text": ["a", "い", ""],
        "f32": np.array([0.1, 0.2, 0.3], dtype=np.float32), "s": pd.array(["a", None, "c"], dtype="string"),
        "s_arrow": pd.array(["a", None, "c"], dtype="string[pyarrow]"), "str": pd.Series(["x", "y", "z"], dtype="str"),
        "b_na": pd.array([True, None, False], dtype="boolean"), "f_na": pd.array([0.5, None, 1.5], dtype="Float64"),
        "when": pd.Series([np.datetime64("2024-01-01"), None, np.datetime64("2024-03-01")], dtype=object)})
    blank = [{}, {}, {}]
    assert json.dumps(row_records(messy, blank), default=str) == json.dumps(_records_cell_by_cell(messy), default=str)
    assert [[type(v) for v in r.values()] for r in row_records(messy, blank)] == \
        [[type(v) for v in r.values()] for r in _records_cell_by_cell(messy)]
    for bad in (np.nan, np.inf, -np.inf):  # a non-finite figure is a bug: refused in both
        table = messy.assign(**{"single_year[t-CO2e]": [1.0, bad, 2.0]})
        with pytest.raises(ValueError, match="non-finite"):
            row_records(table, blank)
        with pytest.raises(ValueError, match="non-finite"):
            _records_cell_by_cell(table)


def _details_row_by_row(calc):
    """row_details as it was before it went a column at a time: each row's inputs and steps built cell by cell."""
    import numpy as np

    from koken.base.vocabulary import DATA_QUALITY_PREFIX
    from koken.factors import ORIGIN_TEXT
    from koken.results import data_quality

    computed = np.sort(np.concatenate([b.index for b in calc.batches]))
    details = [{} for _row in range(len(calc.table))]
    for batch in calc.batches:
        m, result, n = batch.methodology, batch.result, len(batch.index)
        declared = {}
        for name, p in m.parameters.items():
            q = batch.inputs.get(name)
            values = q.to(p.unit).magnitude if q is not None else np.full(n, np.nan)
            mask = result.defaults_used.get(name, np.zeros(n, dtype=bool))
            declared[name] = (np.where(mask, p.default if p.default is not None else np.nan, values), mask)
        step_units = {f.name: f.unit for f in m.spec.formulas}
        origins = batch.factor_origins
        for j, portfolio_index in enumerate(batch.index):
            inputs = {}
            for name, p in m.parameters.items():
                values, mask = declared[name]
                origin = f"default ({p.default_source})" if mask[j] else "portfolio"
                if name in origins and origins[name].from_table[j]:
                    o = origins[name]
                    origin = ORIGIN_TEXT.format(table=o.table_of(j), key=o.keys[j], source=o.sources[j],
                                                described=o.described(j))
                    if o.stale[j]:
                        origin += " — stale: an earlier year's value, allowed by --allow-stale-factors"
                level = calc.portfolio.passthrough.get(DATA_QUALITY_PREFIX + name)
                inputs[name] = {"value": float(values[j]), "unit": p.unit_text, "origin": origin,
                                "data_quality": None if mask[j] and m.spec.parameters[name].default_reason is not None
                                else data_quality(origin, "" if level is None else str(level[int(portfolio_index)]))}
            steps = {s.name: {"value": float(result.steps[s.name].magnitude[j]),
                              "unit": step_units.get(s.name) or f"{s.unit:~}"} for s in m.steps}
            details[int(np.searchsorted(computed, portfolio_index))] = {"inputs": inputs, "steps": steps}
    return details


def test_row_details_are_those_built_row_by_row(library):
    """row_details builds each input's values, origins and levels a column at a time; every row's inputs and steps
    are those of building them cell by cell (JSON byte for byte): defaults, factor-table values (stale ones too),
    declared data-quality levels, every methodology, domestic and overseas."""
    import sys

    import pandas as pd

    from koken.api import calculate as api_calculate
    from koken.results import row_details

    sys.path.insert(0, "benchmarks")
    from generate import generate

    frame = generate(300, seed=11)
    frame.loc[frame.index[::7], "fiscal_year"] = 2031  # no factor-table values for 2031: the stale ones are taken
    given = frame["baseline_annual_energy[kWh/yr]"].notna() if "baseline_annual_energy[kWh/yr]" in frame else None
    if given is not None:
        frame["data_quality:baseline_annual_energy"] = given.map({True: "primary_measured", False: ""})
    example = pd.read_csv(EXAMPLE_PORTFOLIO)
    calcs = [api_calculate(frame, library, allow_stale_factors=True), api_calculate(example, library)]
    stale = 0
    for calc in calcs:
        got = row_details(calc)
        assert json.dumps(got, ensure_ascii=False) == json.dumps(_details_row_by_row(calc), ensure_ascii=False)
        stale += json.dumps(got).count("stale: an earlier year")
    assert stale and "primary_measured" in json.dumps(row_details(calcs[0])) and given is not None


@pytest.mark.parametrize("escape, refused", [("\\ud800", True), ("x\\udfff", True), ("\\ud83d\\ude00", False)])
def test_an_unpaired_surrogate_in_a_result_s_text_is_refused_on_read(tmp_path, escape, refused):
    """A product line written as "\\ud800" in a JSON result ended koken report in UnicodeEncodeError from Arrow
    (found by the differential test): refused on read as the YAML reader refuses it; a pair (an emoji) is read."""
    from koken.base.errors import KokenError

    out = tmp_path / "r.json"
    done = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(out)])
    assert done.exit_code == 0, done.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    doc["rows"][0]["product_line"] = "MARKER"
    out.write_text(json.dumps(doc).replace('"MARKER"', f'"{escape}"'), encoding="utf-8")
    if refused:
        with pytest.raises((KokenError, KokenErrors), match="unpaired surrogate"):
            load_result_documents([out])
    else:
        assert load_result_documents([out])
    done = CliRunner().invoke(main, ["report", str(out), "-o", str(tmp_path / "r.md")])
    assert done.exit_code == (1 if refused else 0), done.output
    assert ("unpaired surrogate" in done.output) == refused


def test_number_texts_are_15g_where_that_reads_back_and_else_the_digits_that_do():
    """The inputs column of a CSV result (issue 17 §4): Arrow's texts where they are these, Python's elsewhere."""
    import numpy as np

    from koken.results import number_texts

    rng = np.random.default_rng(5)
    values = np.concatenate([
        10.0 ** np.arange(-320, 309), -(10.0 ** np.arange(-30, 30)), np.nextafter(10.0 ** np.arange(-8, 20), 0),
        np.nextafter(10.0 ** np.arange(-8, 20), np.inf), rng.random(20_000) * 10.0 ** rng.integers(-12, 22, 20_000),
        np.round(rng.random(5_000) * 1000, 3), rng.integers(0, 10**6, 5_000) * 10.0 ** rng.integers(-10, 20, 5_000),
        rng.standard_normal(5_000), rng.integers(0, 2**64, 5_000, dtype=np.uint64).view(np.float64),
        [0.0, -0.0, 0.1 + 0.2, 1e-4, 9.999999999999999e-05, 1e10, 9999999999.999998, 1e15, 999999999999999.9,
         5e-324, 2.2250738585072014e-308, np.nan, np.inf, -np.inf]])
    got = number_texts(values).to_pylist()
    expected = [shortest_g(v) for v in values.tolist()]
    assert got == expected
    changed = [(v, t) for v, t in zip(values.tolist(), got) if t != f"{v:.15g}"]
    assert changed and all(float(t) == v and 16 <= len(t.split("e")[0].replace("-", "").replace(".", "").strip("0"))
                           <= 17 for v, t in changed)



_HARD_WHOLE = [0.0, -0.0, 1.0, -1.0, 9999999999.0, -9999999999.0, 1e10, 1e15, 1e16, 123456789012345678.0, 2.0**53,
               2.0**53 + 2, 1e308]
_HARD_OTHER = [0.1 + 0.2, 1e-7, 1e-4, 5e-324, np.nan, np.inf, -np.inf, 0.5]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-10**10, 10**10).map(float) | st.sampled_from(_HARD_WHOLE) | st.sampled_from(_HARD_OTHER),
                min_size=1, max_size=40))
def test_number_texts_of_whole_numbers_cast_from_int_are_the_float_cast_and_15g(values):
    """Counts and years (every kept number whole) are cast from int64: the same texts as Arrow's float cast where
    they are kept, and number_texts stays .15g where that reads back (issue 17 §4)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from koken.results import arrow_number_texts, number_texts

    values = np.array(values, dtype=np.float64)
    shown, plain = arrow_number_texts(values)
    by_float = pc.cast(pa.array(values), pa.large_string()).to_pylist()
    assert [t for t, k in zip(shown.to_pylist(), plain) if k] == [t for t, k in zip(by_float, plain) if k]
    assert number_texts(values).to_pylist() == [shortest_g(v) for v in values.tolist()]


def test_whole_numbers_of_every_size_are_cast_from_int_as_from_float():
    """Every power of ten and its neighbours, whole, in one column: the int64 path taken, the texts Arrow's."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from koken.results import arrow_number_texts

    base = np.concatenate([10.0 ** np.arange(0, 11), np.arange(1, 2000, dtype=np.float64) * 4999999.0])
    values = np.concatenate([base, base - 1, -base, [0.0]])
    values = values[np.abs(values) < 1e10]
    shown, plain = arrow_number_texts(values)
    assert plain.all()
    assert shown.to_pylist() == pc.cast(pa.array(values), pa.large_string()).to_pylist()
    assert shown.to_pylist() == [str(int(v)) for v in values.tolist()]


def _input_columns_before(calc, number=lambda v: f"{v:.15g}"):
    """koken.results.input_columns as it was before issue 17 §4 made its inputs text with Arrow (``number`` formats
    the values of that text; the workbook's columns are unchanged): row by row in Python."""
    import numpy as np
    import pandas as pd

    from koken.results import _written_unit

    n = len(calc.table)
    computed = np.sort(np.concatenate([b.index for b in calc.batches]))
    text = np.full(n, "", dtype=object)
    used, entered, order = {}, {}, []
    for batch in calc.batches:
        m = batch.methodology
        at = np.searchsorted(computed, batch.index)
        for name, p in m.parameters.items():
            q = batch.inputs.get(name)
            values = q.to(p.unit).magnitude if q is not None else np.full(len(at), np.nan)
            mask = batch.result.defaults_used.get(name, np.zeros(len(at), dtype=bool))
            values = np.where(mask, p.default if p.default is not None else np.nan, values)
            key = f"{name}[{p.unit_text}]"
            if key not in used:
                order.append(key)
            used.setdefault(key, np.full(n, np.nan))[at] = values
            label = np.array([f"{name}={number(v)} {p.unit_text}" for v in values.tolist()], dtype=object)
            text[at] = np.where(text[at] == "", label, text[at] + "; " + label)
            if f"{name} (as entered)" not in entered:
                order.append(f"{name} (as entered)")
            as_entered = entered.setdefault(f"{name} (as entered)", np.full(n, "", dtype=object))
            column = calc.portfolio.parameters.get(name)
            if column is not None:
                raw, units = column[0][batch.index], np.asarray(column[1], dtype=object)[batch.index]
                given = ~np.isnan(raw)
                as_entered[at[given]] = [f"{v:.15g} {_written_unit(u)}".strip()
                                         for v, u in zip(raw[given].tolist(), units[given])]
    columns = {"inputs": text, **{key: used[key] if key in used else entered[key] for key in order}}
    return pd.DataFrame(columns, index=calc.table.index)


def test_input_columns_are_those_built_row_by_row_with_numbers_that_read_back(library, tmp_path):
    """input_texts composes each row's inputs with Arrow; they are the texts the row-by-row code made, the numbers
    that needed 16 or 17 digits to read back given them instead of 15 (issue 17 §4), and only those: on generated
    portfolios (random 17-digit values, every methodology, defaults and factor tables), the example and messy files
    (units in cells, 万, full-width digits, cp932). The workbook's columns are unchanged."""
    import sys

    import pandas as pd

    from koken.api import calculate as api_calculate
    from koken.results import input_columns, input_texts

    from conftest import REPO

    sys.path.insert(0, "benchmarks")
    from generate import generate

    frame = generate(400, seed=3)
    odd = pd.read_csv(EXAMPLE_PORTFOLIO)
    odd["baseline_annual_energy[kWh/yr]"] = odd["baseline_annual_energy[kWh/yr]"].astype(object)
    odd.loc[4, "baseline_annual_energy[kWh/yr]"] = "0.30000000000000004"  # 0.3 in .15g
    odd.loc[5, "baseline_annual_energy[kWh/yr]"] = "0.42 MWh/yr"
    calcs = [api_calculate(frame, library), api_calculate(odd, library),
             *[api_calculate(REPO / "tests" / "data" / "messy" / name, library)
               for name in ("man_in_cells.csv", "excel_export_cp932.csv", "utf8_bom.csv", "clean_utf8.csv")]]
    changed = 0
    for calc in calcs:
        got, before = input_columns(calc), _input_columns_before(calc, shortest_g)
        assert list(got.columns) == list(before.columns)
        assert list(got["inputs"]) == list(before["inputs"]) == list(input_texts(calc)["inputs"])
        pd.testing.assert_frame_equal(got.drop(columns="inputs"), before.drop(columns="inputs"))
        old = _input_columns_before(calc)["inputs"]
        changed += int((old != got["inputs"].astype(object)).sum())
        assert all(g == o for g, o in zip(got["inputs"], old) if all(
            float(part.split("=", 1)[1].split(" ")[0]) == float(part_old.split("=", 1)[1].split(" ")[0])
            or "nan" in part for part, part_old in zip(g.split("; "), o.split("; "))) and g.count(";") == o.count(";"))
    assert changed > 100  # the generated portfolio's random values
    texts = list(input_texts(calcs[1])["inputs"])
    assert texts[4].startswith("baseline_annual_energy=0.30000000000000004 kWh/yr;")
    assert texts[5].startswith("baseline_annual_energy=420 kWh/yr;")
