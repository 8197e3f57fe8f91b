"""Issue 17 §4: result files written without per-row Python overhead, the same bytes as before. The JSON document's
rows are written by Python's C encoder (one call per object of plain values) in the layout
``textwrap.indent(json.dumps(row, indent=2), "    ")`` gave; the CSV's ``inputs`` column is built without the
columns only a workbook shows. Each test compares with the way the bytes were made before, written out here."""

from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koken.api import calculate
from koken.results import row_details, row_records
from koken.scale.sinks import indented_json

from helpers import REFRIGERATOR_HEADER, refrigerator_line


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
    for row, detail in zip(rows, details):
        expected = "; ".join(f"{name}={item['value']:.15g} {item['unit']}" for name, item in detail["inputs"].items())
        assert row["inputs"] == expected
