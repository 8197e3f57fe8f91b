"""Issue 17 §4: a CSV file's rows after the header are read by Arrow's CSV reader (every cell as text), not row by
row by the ``csv`` module. The two must give the same rows, cells, numbers, row numbers, notices and problems: every
test here reads the same file both ways (``readers.COLUMNAR_CSV``) and compares, on files long enough (more than the
30 rows read while the header is looked for) that the columnar reader reads most of them."""

from __future__ import annotations

import numpy as np
import pytest

from koken.base.errors import KokenErrors
from koken.portfolio import readers
from koken.portfolio.build import read_portfolio
from koken.portfolio.readers import open_portfolio

HEADER = ("product_line,methodology,fiscal_year,market,region,units_shipped[万台],baseline_annual_energy[kWh/yr],"
          "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr],備考\n")


def line(label="F", shipped="4.5", base="480", product="300", factor="0.421", years="12", note="", market="domestic"):
    return f"{label},refrigerator,2023,{market},JP,{shipped},{base},{product},{factor},{years},{note}\n"


def clean_rows(count: int, start: int = 0) -> str:
    return "".join(line(label=f"F{i}", shipped=f"{1 + i % 7}.5", base=str(400 + i)) for i in range(start, start + count))


MESSY_TAIL = (
    line(label="multiplier", base="1.2万")                       # 12,000 kWh/yr
    + line(label="thousands", base='"1,234"')                    # 1,234 kWh/yr
    + line(label="full width", base="４８０")                     # 480
    + line(label="negative", product="▲12")                      # -12: refused by the range check, not the reader
    + line(label="own unit", base="420 kWh/yr")
    + line(label="trailing minus", base="0.5-")                  # refused: a trailing minus
    + line(label="twice", shipped="4.5万")                        # refused: 万 under 万台
    + "\n\n"                                                      # blank lines
    + " , , ,\n"                                                  # a row of spaces
    + "※ 排出係数は 2023年度の値\n"                                 # a note between rows
    + line(label="two lines", note='"first\nsecond"')           # a line break in the company's own column
    + line(label="after the break", market="mars")               # its file line counts both lines above
    + line(label="short").rstrip("\n").rsplit(",", 2)[0] + "\n"  # fewer cells than the header: padded
    + line(label="trailing comma").rstrip("\n") + ",\n"         # one empty cell more: read
    + line(label="crlf").replace("\n", "\r\n")
    + clean_rows(5, start=100)
    + "注：以上\n"
)


def both_ways(monkeypatch, path, library, **kw):
    """(columnar, csv module) outcomes of reading ``path``: the portfolio or the problems, and the notices."""
    out = []
    for columnar in (True, False):
        monkeypatch.setattr(readers, "COLUMNAR_CSV", columnar)
        try:
            portfolio = read_portfolio(path, library, collect=True, **kw)
            out.append(portfolio)
        except KokenErrors as errs:
            out.append([str(e) for e in errs.errors])
    return out


def same(x, y) -> bool:
    if isinstance(x, str):
        return x == y
    x, y = np.asarray(x), np.asarray(y)
    return np.array_equal(x, y, equal_nan=x.dtype.kind == "f")


def assert_same(a, b):
    if isinstance(a, list) or isinstance(b, list):
        assert a == b
        return
    assert [str(e) for e in a.problems] == [str(e) for e in b.problems]
    assert np.array_equal(a.rows, b.rows)
    for x, y in zip(a.units_shipped, b.units_shipped):
        assert same(x, y)
    assert list(a.product_line) == list(b.product_line)
    assert a.sha256 == b.sha256 and a.encoding == b.encoding
    assert sorted(a.parameters) == sorted(b.parameters)
    for name, (values, units, header) in a.parameters.items():
        other = b.parameters[name]
        assert np.array_equal(values, other[0], equal_nan=True), name
        assert list(units) == list(other[1]) and header == other[2], name
    assert {k: list(v) for k, v in a.passthrough.items()} == {k: list(v) for k, v in b.passthrough.items()}


def test_a_long_messy_csv_reads_the_same_both_ways(tmp_path, library, monkeypatch):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + clean_rows(40) + MESSY_TAIL, encoding="utf-8")
    columnar, module = both_ways(monkeypatch, path, library)
    assert_same(columnar, module)
    problems = "\n".join(str(e) for e in columnar.problems)
    first = 2 + 40  # the header is line 1, then 40 clean rows
    assert f"row {first + 5}, column 'baseline_annual_energy[kWh/yr]': '0.5-': a minus sign after the number" in problems
    assert f"row {first + 6}, column 'units_shipped[万台]': '4.5万': the column is already in 万台" in problems
    # 7 rows, 2 blank lines, a row of spaces, a note, then the row of two lines: 'mars' is on the line after them
    assert f"row {first + 7 + 2 + 1 + 1 + 2}, column 'market'" in problems
    rows = list(columnar.product_line)
    base, units, _header = columnar.parameters["baseline_annual_energy"]
    assert (base[rows.index("multiplier")], units[rows.index("multiplier")]) == (1.2, "万*(kWh/yr)")  # 1.2 × 10⁴ kWh/yr
    assert base[rows.index("thousands")] == 1234
    assert base[rows.index("full width")] == 480 and base[rows.index("own unit")] == 420
    shipped, shipped_units, _header = columnar.units_shipped
    assert (shipped[rows.index("F1")], shipped_units[rows.index("F1")]) == (2.5, "万台")  # 1 % 7 + 1.5, the header's unit
    assert "short" in rows and "trailing comma" in rows and "crlf" in rows and "注：以上" not in rows


def test_the_same_rows_and_notices_in_partitions(tmp_path, library, monkeypatch):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + clean_rows(40) + MESSY_TAIL + clean_rows(30, start=200), encoding="utf-8")
    seen = []
    for columnar in (True, False):
        monkeypatch.setattr(readers, "COLUMNAR_CSV", columnar)
        source = open_portfolio(path, library, partition_rows=7)
        parts = [(list(p.block.rows) if p.block is not None else None, [str(e) for e in p.problems])
                 for p in source.partitions()]
        rows = [r for block, _p in parts if block for r in block]
        seen.append((rows, [p for _b, p in parts if p], source.notices))
    # the row of spaces is left out by both readers before partitions are cut: a row kept in a block (and left out by
    # the build step) moved the partitions' boundaries and so the totals' last digits (found by the differential test)
    assert seen[0] == seen[1]


def test_cp932_reads_the_same_as_utf8(tmp_path, library, monkeypatch):
    text = HEADER + clean_rows(40) + MESSY_TAIL
    (tmp_path / "u.csv").write_text(text, encoding="utf-8")
    (tmp_path / "s.csv").write_bytes(text.encode("cp932"))
    columnar, module = both_ways(monkeypatch, tmp_path / "s.csv", library)
    assert_same(columnar, module)
    assert columnar.encoding == "cp932"
    utf8 = read_portfolio(tmp_path / "u.csv", library, collect=True)
    assert [str(e) for e in columnar.problems] == [str(e).replace("u.csv", "s.csv") for e in utf8.problems]


@pytest.mark.parametrize("tail, message", [
    (line(label="extra cell").rstrip("\n") + ",x\n", "row has 12 cells but the header has 11"),
    (line(label='"two\nlines"'), "a cell runs over several lines"),
    ('open,"refrigerator,2023,domestic,JP,1,480,300,0.421,12,\n' + clean_rows(5), "a cell runs over several lines"),
    (line(note="x" * 600_000), None),  # a cell longer than Arrow's block: read by the csv module
    (line(note="x" * 1_000_001), "the row is longer than 1,000,000 characters"),
])
def test_faults_after_the_first_rows_give_the_same_problems(tmp_path, library, monkeypatch, tail, message):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + clean_rows(40) + tail + clean_rows(40, start=300), encoding="utf-8")
    columnar, module = both_ways(monkeypatch, path, library)
    assert_same(columnar, module)
    if message:
        shown = columnar if isinstance(columnar, list) else [str(e) for e in columnar.problems]
        assert any(message in p and "row 42" in p for p in shown), shown


def test_the_rows_after_the_header_are_not_read_row_by_row(tmp_path, library, monkeypatch):
    """The columnar reader is used: the csv module reads only the rows where the header is looked for."""
    path = tmp_path / "p.csv"
    path.write_text(HEADER + clean_rows(500), encoding="utf-8")
    lines = []
    original = readers._BoundedLines.__next__

    def counting(self):
        lines.append(1)
        return original(self)

    monkeypatch.setattr(readers._BoundedLines, "__next__", counting)
    assert len(read_portfolio(path, library)) == 500
    assert len(lines) <= readers.HEADER_SCAN_ROWS + 1
