"""Issue 17 §4: result files written without per-row Python overhead, the same bytes as before. The JSON document's
rows are written by Python's C encoder (one call per object of plain values) in the layout
``textwrap.indent(json.dumps(row, indent=2), "    ")`` gave; the CSV's ``inputs`` column is built without the
columns only a workbook shows. Each test compares with the way the bytes were made before, written out here."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koken.api import calculate
from koken.results import row_details, row_records
from koken.scale.sinks import csv_bytes, indented_json

from helpers import REFRIGERATOR_HEADER, refrigerator_line, shortest_g


def before(row) -> str:
    """A row of the JSON document as it was written before (the pure-Python encoder, then an indent)."""
    return textwrap.indent(json.dumps(row, ensure_ascii=False, indent=2), "    ")


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\u2028\u2029\x85"),
                max_size=8)  # line separators: see the test after
scalars = st.one_of(st.none(), st.booleans(), st.integers(), texts, st.floats(allow_nan=False, allow_infinity=False))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(texts, inner, max_size=4)),
                      max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(texts, values, max_size=6))
def test_a_row_is_written_as_the_indented_python_encoder_wrote_it(row):
    assert "    " + indented_json(row) == before(row)


tricky = st.text(alphabet=st.sampled_from(list('a{}[],: "\\\x00\x01\n冷')), max_size=6)
plain = st.one_of(st.none(), st.booleans(), st.integers(), tricky, st.floats(allow_infinity=False))
objects = st.dictionaries(tricky | st.integers(), st.dictionaries(tricky, plain, max_size=4), max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(tricky, plain | objects, max_size=5))
def test_objects_of_objects_of_plain_values_are_written_as_before(row):
    """A row's inputs and steps: objects of objects of plain values, written in one call with marked separators."""
    assert "    " + indented_json(row) == before(row)


def test_a_text_with_a_line_separator_keeps_its_characters():
    """textwrap.indent split lines at U+2028 and U+0085 too (str.splitlines) and put four spaces inside such a text:
    the one change of bytes, a text read back as it was written."""
    row = {"備考": "a\u2028b\x85c"}
    assert json.loads(indented_json(row)) == row
    assert json.loads(before(row)) != row


def test_keys_that_are_not_text_are_written_as_json_writes_them():
    row = {1: {"a": 1}, 2.5: [1, {"b": None}], False: {}, None: [], "x": {"y": {"z": [1.5, "冷蔵庫"]}}}
    assert "    " + indented_json(row) == before(row)


def test_keys_are_written_and_refused_as_json_writes_and_refuses_them():
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    row = {"a": {Level.HIGH: [1]}, "b": {1.0: {"c": 2}}}
    assert "    " + indented_json(row) == before(row)
    with pytest.raises(TypeError):
        indented_json({"a": {(1, 2): {"b": 1}}})


@pytest.fixture
def calc(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text(REFRIGERATOR_HEADER + refrigerator_line(label="冷蔵庫 A")
                 + refrigerator_line(label="=B", region="US", market="overseas")
                 + refrigerator_line(shipped="4.5 万台"), encoding="utf-8")
    return calculate(p)


def test_the_json_document_has_the_bytes_it_had(tmp_path, calc):
    path = calc.to_file(tmp_path / "r.json")
    text = path.read_text(encoding="utf-8")
    rows = row_records(calc.table, row_details(calc))
    expected = ',\n  "rows": [\n' + ",\n".join(before(r) for r in rows) + "\n  ],\n"
    assert expected in text
    assert json.loads(text)["rows"] == json.loads(json.dumps(rows))


def test_the_csv_inputs_column_is_the_rows_inputs_in_parameter_order(tmp_path, calc):
    import csv

    path = calc.to_file(tmp_path / "r.csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    details = row_details(calc)
    for row, detail in zip(rows, details):  # each value .15g where that reads back, else in 16 or 17 digits (issue 17 §4)
        expected = "; ".join(f"{name}={shortest_g(item['value'])} {item['unit']}"
                             for name, item in detail["inputs"].items())
        assert row["inputs"] == expected


csv_texts = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t\u2028\'=-+@冷蔵庫')), max_size=6))
csv_floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e16, 1e-5, -0.0, 123456789012345678.0])


@st.composite
def frames(draw):
    n = draw(st.integers(1, 8))
    kinds = draw(st.lists(st.sampled_from(["float", "int", "text", "category", "str", "none", "bool"]), min_size=2,
                          max_size=5))
    columns = {}
    for j, kind in enumerate(kinds):
        if kind == "float":
            column = np.array(draw(st.lists(csv_floats, min_size=n, max_size=n)), dtype=np.float64)
        elif kind == "int":
            column = np.array(draw(st.lists(st.integers(-2**63, 2**63 - 1), min_size=n, max_size=n)), dtype=np.int64)
        elif kind == "bool":
            column = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        elif kind == "none":
            column = pd.Series([None] * n, dtype=object)
        else:
            column = pd.Series(draw(st.lists(csv_texts, min_size=n, max_size=n)), dtype=object)
            if kind == "category":
                column = column.astype("category")
            elif kind == "str":
                column = column.astype("str")
        columns[f"c{j},\"{kind}"] = column
    return pd.DataFrame(columns)


@settings(max_examples=300, deadline=None)
@given(frames(), st.booleans())
def test_csv_rows_are_the_bytes_pandas_writes(rows, header):
    assert csv_bytes(rows, header) == rows.to_csv(index=False, header=header, lineterminator="\n").encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(frames(), st.booleans())
def test_formula_safe_csv_rows_are_the_bytes_pandas_writes_of_the_safe_table(rows, header):
    from koken.results import spreadsheet_safe

    expected = spreadsheet_safe(rows).to_csv(index=False, header=header, lineterminator="\n").encode("utf-8")
    assert csv_bytes(rows, header, safe=True) == expected


def test_the_csv_result_has_the_bytes_pandas_wrote(tmp_path, calc):
    """The whole CSV result as it was written before: the formula-safe table with its inputs by pandas."""
    from koken.results import FORMULA_TRIGGERS, input_columns, spreadsheet_safe
    from koken.scale.sinks import with_inputs

    path = calc.to_file(tmp_path / "r.csv")
    rows = spreadsheet_safe(with_inputs(calc.table, input_columns(calc)))
    rows.columns = ["'" + c if c.startswith(FORMULA_TRIGGERS) else c for c in rows.columns]
    assert "'=B" in rows["product_line"].tolist()
    expected = "\ufeff" + rows.to_csv(index=False, lineterminator="\n")
    assert path.read_bytes() == expected.encode("utf-8")


def test_many_floats_are_written_as_pandas_writes_them():
    """Arrow's texts kept where they are repr's; the rest (exponents, NaN, infinities) written by repr."""
    rng = np.random.default_rng(0)
    values = rng.lognormal(0, 10, 20_000) * rng.choice([-1, 1], 20_000)
    values[::97] = np.round(values[::97])  # whole numbers: 12.0
    values[::101] = np.nan
    values[[1, 2, 3, 4]] = [np.inf, -0.0, 1e16, 1e-4]
    rows = pd.DataFrame({"a": values, "b": values[::-1].copy()})
    assert csv_bytes(rows, True) == rows.to_csv(index=False, lineterminator="\n").encode("utf-8")


whole_floats = st.integers(-10**12, 10**12).map(float) | st.sampled_from([0.0, -0.0, 1e16, 123456789012345678.0, np.nan])


@settings(max_examples=200, deadline=None)
@given(st.data(), st.integers(1, 30), st.booleans())
def test_csv_rows_of_whole_numbers_and_messy_text_are_the_bytes_pandas_writes(data, n, header):
    """Columns of whole numbers (cast from int64, ``.0`` added by one scalar), texts to quote or mark as formulas,
    a category and a float column last (the line end added to the last column's texts)."""
    from koken.results import spreadsheet_safe

    draw = data.draw
    rows = pd.DataFrame({
        "count": np.array(draw(st.lists(whole_floats, min_size=n, max_size=n)), dtype=np.float64),
        "name": pd.Series(draw(st.lists(csv_texts, min_size=n, max_size=n)), dtype=object),
        "kind": pd.Series(draw(st.lists(csv_texts, min_size=n, max_size=n)), dtype=object).astype("category"),
        "years": np.array(draw(st.lists(st.integers(1, 40).map(float), min_size=n, max_size=n)), dtype=np.float64),
    })
    order = draw(st.permutations(list(rows.columns)))
    rows = rows[order]
    assert csv_bytes(rows, header) == rows.to_csv(index=False, header=header, lineterminator="\n").encode("utf-8")
    expected = spreadsheet_safe(rows).to_csv(index=False, header=header, lineterminator="\n").encode("utf-8")
    assert csv_bytes(rows, header, safe=True) == expected


def test_a_long_column_with_a_few_texts_to_quote_is_written_as_python_csv_writes_it():
    """Thousands of plain texts and a few holding a comma, a quote, a line break or a formula's first character:
    only those quoted or marked (the characters found by memchr, then their rows by numpy); compared with Python's
    csv module writing the formula-safe rows (QUOTE_MINIMAL, the quoting pandas uses)."""
    import csv
    import io

    from koken.results import spreadsheet_safe

    rng = np.random.default_rng(3)
    texts = [f"名前{i} kWh/yr; n={i}" for i in range(5_000)]
    for i, odd in zip(rng.choice(5_000, 40, replace=False), ['a,b', 'say "hi"', "two\nlines", "cr\rhere", "=SUM(A1)",
                                                            "+1", "-x", "@me", "\tTab", "", "全角，カンマ"] * 4):
        texts[i] = odd
    rows = pd.DataFrame({"t": texts, "v": rng.random(5_000) * 10.0 ** rng.integers(-6, 18, 5_000)})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rows.columns)
    writer.writerows(spreadsheet_safe(rows).itertuples(index=False))
    assert csv_bytes(rows, True, safe=True) == out.getvalue().encode("utf-8")
