"""Failing inputs found by adversarial testing, kept as tests (each was a bug before its fix)."""

import io
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from koken.base.errors import KokenError, KokenErrors
from koken.base.safe_yaml import load_yaml_text
from koken.calculation import calculate
from koken.cli.commands import main
from koken.portfolio.build import read_portfolio

from helpers import load_folder

DATA = Path(__file__).parent / "data" / "breaker"


def problems(path, library, **kw):
    with pytest.raises(KokenErrors) as info:
        calculate(read_portfolio(DATA / path, library, collect=True, **kw), library)
    return "\n".join(str(e) for e in info.value.errors)


@pytest.mark.parametrize("name, message", [
    ("comma.csv", "'420,5': a comma is read only as a thousands separator"),       # was 4205: decimal comma
    ("comma2.csv", "'4,2,0': a comma is read only as a thousands separator"),      # was 420
    ("strayquote.csv", "a cell runs over several lines: a quote"),                 # rows were merged
    ("superscript_cells.csv", "'10⁴ 台': superscripts and fractions are not read"),  # was 104 units
    ("hexp.csv", "gives a factor of inf"),                                          # was a traceback
    ("ovf.csv", "overflows"),                                                       # total was inf
    ("sumovf.csv", "totals overflow"),  # rows of 1e308 t are finite; their sum is not
    ("eucjp.csv", "give --encoding"),                                               # labels were garbled
])
def test_refused_with_a_clear_message(library, name, message):
    assert message in problems(name, library)


def test_superscript_unit_in_a_header_is_a_power(library):
    # grid_emission_factor[kg-CO2·kWh⁻¹] was read as kg-CO2·kWh (a dimension error); it is kg-CO2/kWh
    table = calculate(read_portfolio(DATA / "sup.csv", library), library).table
    # (420 - 273) × 0.421 × 100 台 / 1,000 = 6.1887 t-CO2e
    assert table["single_year[t-CO2e]"].iloc[0] == pytest.approx(6.1887)


def test_eucjp_reads_with_its_encoding(library):
    portfolio = read_portfolio(DATA / "eucjp.csv", library, encoding="euc_jp")
    assert portfolio.product_line[0] == "冷蔵庫 大型"


def test_csv_output_is_safe_to_open_in_a_spreadsheet(tmp_path):
    out = tmp_path / "r.csv"
    assert CliRunner().invoke(main, ["calculate", str(DATA / "csvinj.csv"), "-o", str(out)]).exit_code == 0
    row = out.read_text(encoding="utf-8-sig").splitlines()[1]
    assert "\"'=HYPERLINK(" in row and ",'@SUM(" in row


@pytest.mark.parametrize("text, expected", [
    ("region: NO", {"region": "NO"}),            # YAML 1.1 read Norway as False
    ("n: 0100", {"n": 100}),                     # YAML 1.1 read octal 64
    ("t: 1:20", {"t": "1:20"}),                  # YAML 1.1 read sexagesimal 80
    ("b: yes", {"b": "yes"}),
    ("x: 1e3", {"x": 1000.0}),
])
def test_yaml_scalars_follow_the_core_schema(text, expected):
    assert load_yaml_text(text) == expected


def test_yaml11_portfolio_keeps_its_values(library):
    portfolio = read_portfolio(DATA / "yaml11.yaml", library)
    assert portfolio.region[0] == "NO" and portfolio.units_shipped[0][0] == 100


@pytest.mark.parametrize("name, message", [
    ("dup_keys_portfolio.yaml", "'units_shipped' appears twice"),
    ("surrogate_portfolio.yaml", "unpaired surrogate"),
])
def test_yaml_portfolio_refusals(library, name, message):
    with pytest.raises(KokenError, match=message):
        read_portfolio(DATA / name, library)


def test_xlsx_formulas_without_saved_results_are_refused(library):
    with pytest.raises(KokenErrors, match="F2, G2 hold formulas whose results were never saved"):
        read_portfolio(DATA / "formula.xlsx", library)


def test_xlsx_zip_bomb_is_refused_before_expanding(tmp_path, library):
    import zipfile

    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 300_000_000 + b">")
    start = time.perf_counter()
    with pytest.raises(KokenErrors, match="would expand to"):
        read_portfolio(bomb, library)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("folder, message", [
    ("default_nan/mnan", "operating_years.default: Input should be a finite number"),   # NaN default gave 0 t
    ("dup_keys_methodology/mdup", "'range' appears twice"),
    ("tower/mf", "combined exponent 256 is beyond"),                                        # hung computing 2**16**…
    ("complex/mf", "not a real number"),                                              # imaginary part dropped
    ("slow_min/mmin", "at most 200 items"),                                           # took minutes
    ("alias_standard_clash/mres", "alias '国' is a standard portfolio column header"),  # shadowed 'region'
])
def test_hostile_methodology_libraries(folder, message):
    start = time.perf_counter()
    _library, found = load_folder(DATA / folder, check_examples=True)
    assert time.perf_counter() - start < 10
    assert any(message in str(p) for p in found), [str(p) for p in found]


def test_offset_unit_in_a_column_is_refused():
    library, found = load_folder(DATA / "degC" / "mT")
    assert not found
    # 25 degC was read as 25 K: offset units are refused in portfolios too
    assert "has an offset" in problems("degC/degc.csv", library)


def test_min_with_sixteen_arguments_parses_fast():
    from koken.formula.parse import parse_formula

    names = {f"p{i}" for i in range(16)}
    start = time.perf_counter()
    parse_formula("max(" + ",".join(sorted(names)) + ") - min(" + ",".join(sorted(names)) + ")", names)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("name, message", [
    ("shipped_percent.csv", "'%' is not a count of things"),      # 5 % was read as 0.05 units shipped
    ("century.csv", "'century' is a Julian-year multiple"),       # bypassed the 8,760 h year
    ("range_msg.csv", "outside the allowed range [0, inf]"),      # the open end was printed as -inf
])
def test_second_round_refusals(library, name, message):
    assert message in problems(name, library)


def test_terminal_escapes_in_input_are_not_obeyed():
    result = CliRunner().invoke(main, ["calculate", str(DATA / "term_escape.csv")])
    assert result.exit_code == 1 and "\x1b" not in result.output and "\\x1b[2J" in result.output


def test_output_may_not_overwrite_the_portfolio(tmp_path):
    portfolio = tmp_path / "same.csv"
    portfolio.write_bytes((DATA.parent / "messy" / "clean_utf8.csv").read_bytes())
    before = portfolio.read_bytes()
    result = CliRunner().invoke(main, ["calculate", str(portfolio), "-o", str(portfolio)])
    assert result.exit_code == 1 and "would overwrite the portfolio" in result.output
    assert portfolio.read_bytes() == before


def test_long_output_names_are_written(tmp_path):
    out = tmp_path / ("r" * 240 + ".csv")
    assert CliRunner().invoke(main, ["calculate", str(DATA.parent / "messy" / "clean_utf8.csv"),
                                     "-o", str(out)]).exit_code == 0
    assert out.exists()


@pytest.mark.parametrize("folder, message", [
    ("new_head/formula_const_product_digits", "beyond 10**"),              # crashed on 4300-digit integers
    ("new_head/formula_dim_bypass", "cannot add or subtract"),              # a - b + c - c hid a unit mismatch
    ("new_head/mbool", "expected a number, got a boolean"),                # default: true was 1 year
])
def test_second_round_methodology_refusals(folder, message):
    _library, found = load_folder(DATA / folder, check_examples=True)
    assert any(message in str(p) for p in found), [str(p) for p in found]


def test_cancelling_formula_still_divides_by_zero():
    library, found = load_folder(DATA / "new_head" / "formula_cancel_div0")
    assert not found
    # x*x/x with x = 0 (baseline equals product) is a division by zero for that row, not a silent 0
    assert "division by zero" in problems("equal_energy.csv", library)


def test_yaml_alias_expansion_and_devices_are_refused(tmp_path):
    lines = ['l0: &l0 "' + "x" * 1000 + '"'] + [f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}]" for i in range(1, 17)]
    bomb = tmp_path / "laugh.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(KokenError, match="would expand to more than"):
        load_yaml_text(bomb.read_text(encoding="utf-8"))
    assert time.perf_counter() - start < 5
    from koken.base.safe_yaml import load_yaml_file

    with pytest.raises(KokenError, match="not a regular file"):
        load_yaml_file("/dev/zero")


def test_blank_lines_cost_nothing(tmp_path, library):
    path = tmp_path / "blank.csv"
    path.write_text((DATA.parent / "messy" / "clean_utf8.csv").read_text(encoding="utf-8") + "\n" * 2_000_000,
                    encoding="utf-8")
    start = time.perf_counter()
    assert len(read_portfolio(path, library)) == 3
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("text, message", [
    ("kg-CO2·kWh^−1", None), ("kWh-1", "ambiguous"), ("13%%", "more than once"), ("kyr", "Julian-year"),
])
def test_unit_text_second_round(text, message):
    from koken.base.errors import UnitError
    from koken.base.units import conversion_factor, parse_unit

    if message is None:
        assert conversion_factor(parse_unit(text), parse_unit("kg-CO2/kWh")) == 1.0
    else:
        with pytest.raises(UnitError, match=message):
            parse_unit(text)


# --- third round (new features) ---------------------------------------------------------------------
DATA2 = DATA.parent / "breaker2"


def test_docs_never_delete_files_they_did_not_write(tmp_path):
    keep = tmp_path / "README.md"
    keep.write_text("mine", encoding="utf-8")
    assert CliRunner().invoke(main, ["docs", "-o", str(tmp_path)]).exit_code == 0
    assert keep.read_text(encoding="utf-8") == "mine"
    stale = tmp_path / "retired_methodology.md"
    stale.write_text((tmp_path / "refrigerator.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert CliRunner().invoke(main, ["docs", "-o", str(tmp_path)]).exit_code == 0
    assert not stale.exists()   # a page koken generated for a methodology that is gone is removed


@pytest.mark.parametrize("name, message", [
    ("tag_int.yaml", "YAML tags such as"),                        # !!int 0x10 crashed the loader
    ("extra_keys.yaml", "only 'rows:' at the top"),               # top-level keys were silently dropped
    ("hidden_row_col.xlsx", "hidden rows"),                       # hidden cells were computed
    ("far_cell.xlsx", "clear stray cells"),                       # one far cell took all memory
])
def test_third_round_portfolio_refusals(library, name, message):
    with pytest.raises((KokenError, KokenErrors), match=message):
        read_portfolio(DATA2 / name, library)


def test_hidden_first_sheet_is_not_read(library):
    # the active, visible sheet is read (a hidden first sheet held a 999,999-unit line)
    portfolio = read_portfolio(DATA2 / "hidden_first_sheet.xlsx", library)
    assert 999_999 not in portfolio.units_shipped[0]


def test_verify_refuses_malformed_and_detects_phantom_rows(tmp_path, library):
    from koken.audit.verify import verify

    from conftest import EXAMPLE_PORTFOLIO

    with pytest.raises(KokenError, match="malformed|well-formed"):
        verify(DATA2 / "fig_str.json", EXAMPLE_PORTFOLIO, library)
    outcome = verify(DATA2 / "phantom_row.json", EXAMPLE_PORTFOLIO, library)
    assert not outcome.stands and any("appears 2 times" in d for d in outcome.differences)


def test_malformed_lock_is_a_problem_not_a_traceback(tmp_path):
    from helpers import methodology_dict, write_methodology

    write_methodology(tmp_path, methodology_dict())
    (tmp_path / "versions.lock").write_text("- not a mapping\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1 and "the version lock must map ids" in result.output


def test_unwritable_outputs_are_problems_not_tracebacks(tmp_path):
    for args in (["docs", "-o", "/proc/nope"], ["schema", "-o", str(tmp_path / "missing" / "x.json")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and "Traceback" not in result.output


def test_diff_refuses_two_different_methodologies():
    from koken.audit.diff import load_pair

    from conftest import REPO

    with pytest.raises(KokenError, match="different methodologies"):
        load_pair(REPO / "methodologies/home_appliances/refrigerator.yaml",
                  REPO / "methodologies/home_appliances/television.yaml")


def test_shared_steps_are_written_once_in_json_traces():
    result = CliRunner().invoke(main, ["trace", "refrigerator", "--format", "json",
                                       "--set", "baseline_annual_energy=420 kWh/yr",
                                       "--set", "product_annual_energy=273 kWh/yr", "--set", "operating_years=12 yr",
                                       "--set", "units_shipped=1 台", "--region", "JP", "--fiscal-year", "2023"])
    assert result.exit_code == 0 and '"shown_above": true' in result.output


# ---------------------------------------------------------------- adversarial pass 4 (large portfolios)

_HEAD = ("product_line,methodology,fiscal_year,market,region,units_shipped[台],baseline_annual_energy[kWh/yr],"
         "product_annual_energy[kWh/yr],grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n")


def _line(region="JP", shipped="100", market="domestic", label="F"):
    return f"{label},refrigerator,2023,{market},{region},{shipped},480,300,0.421,12\n"


def _pipeline(path, library, output=None, partition_rows=None):
    from koken.attribution import load_ratio_file
    from koken.portfolio.readers import open_portfolio
    from koken.scale.pipeline import run

    return run(open_portfolio(path, library, partition_rows=partition_rows), library, load_ratio_file(None), {},
               output=output)


def test_parquet_results_take_more_categories_in_later_partitions(tmp_path, library):
    """300 rows of one region, then 300 distinct regions: the second partition overflowed int8 codes."""
    import pyarrow.parquet as pq

    (tmp_path / "p.csv").write_text(_HEAD + _line() * 300 + "".join(_line(region=f"R{i}") for i in range(300)),
                                    encoding="utf-8")
    _pipeline(tmp_path / "p.csv", library, tmp_path / "r.parquet", partition_rows=300)
    assert pq.read_table(tmp_path / "r.parquet").column("region").to_pylist()[-1] == "R299"


@pytest.mark.parametrize("partition_rows", [None, 100])
def test_overflowing_totals_do_not_depend_on_partitioning(tmp_path, library, partition_rows):
    """Rows finite, their sum not: refused in one partition, written with 'inf' totals in several."""
    (tmp_path / "p.csv").write_text(_HEAD + _line(shipped="1e306") * 220, encoding="utf-8")
    with pytest.raises(KokenErrors) as err:
        _pipeline(tmp_path / "p.csv", library, tmp_path / "r.csv", partition_rows=partition_rows)
    assert "totals overflow" in str(err.value)
    assert not (tmp_path / "r.csv").exists()


def test_parquet_text_that_is_not_utf8_is_a_located_problem(tmp_path, library):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from koken.portfolio.readers import open_portfolio

    label = pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(b"\x00\x00\x00\x00\x02\x00\x00\x00"),
                                                   pa.py_buffer(b"\xff\xfe")])
    pq.write_table(pa.table({"product_line": label, "methodology": ["refrigerator"], "fiscal_year": [2023],
                             "market": ["domestic"], "units_shipped[台]": [1.0]}), tmp_path / "bad.parquet")
    with pytest.raises(KokenErrors) as err:
        read_portfolio(tmp_path / "bad.parquet", library)
    assert "column 'product_line': column holds bytes that are not UTF-8 text" in str(err.value)
    assert open_portfolio(tmp_path / "bad.parquet", library).total_rows == 1


def test_a_named_pandas_index_is_data(tmp_path, library):
    """set_index('product_line').to_parquet(): the new index filter dropped product lines silently."""
    import pandas as pd

    frame = pd.read_csv(io.StringIO(_HEAD + _line(label="Fridge A") + _line(label="Fridge B")))
    frame.set_index("product_line").to_parquet(tmp_path / "p.parquet")
    assert list(read_portfolio(tmp_path / "p.parquet", library).product_line) == ["Fridge A", "Fridge B"]


def test_every_long_row_in_every_partition_is_listed(tmp_path, library):
    rows = [_line() for _ in range(250)]
    for at in (52, 152, 222):  # file rows 54, 154, 224 (the header is row 1)
        rows[at] = rows[at].rstrip("\n") + ",extra\n"
    (tmp_path / "p.csv").write_text(_HEAD + "".join(rows), encoding="utf-8")
    with pytest.raises(KokenErrors) as err:
        _pipeline(tmp_path / "p.csv", library, partition_rows=100)
    assert [e.location.row for e in err.value.errors] == [54, 154, 224]


def test_row_numbers_are_file_lines_after_a_cell_with_a_line_break(tmp_path, library):
    body = '"two\nlines",refrigerator,2023,domestic,JP,100,480,300,0.421,12\n' + _line(market="mars")
    (tmp_path / "p.csv").write_text(_HEAD + body, encoding="utf-8")
    with pytest.raises(KokenErrors) as err:  # one row per partition, so that both problems are reached
        _pipeline(tmp_path / "p.csv", library, partition_rows=1)
    assert [e.location.row for e in err.value.errors] == [2, 4]  # the quoted cell starts on line 2; 'mars' is on 4


def test_utf16_without_bom_and_utf8_with_bom_under_encoding(tmp_path, library):
    from koken.portfolio.readers import open_portfolio

    (tmp_path / "u16.csv").write_bytes((_HEAD + _line()).encode("utf-16-le"))
    with pytest.raises(KokenErrors) as err:
        open_portfolio(tmp_path / "u16.csv", library, encoding="utf-16")
    assert "file is not utf-16 text" in str(err.value)
    (tmp_path / "bom.csv").write_bytes((_HEAD + _line()).encode("utf-8-sig"))
    assert len(read_portfolio(tmp_path / "bom.csv", library, encoding="utf-8")) == 1


def test_scheduler_addresses_that_cannot_connect_are_koken_errors(library):
    from koken.base.errors import KokenError

    with pytest.raises(KokenError) as err:
        _pipeline_dask("tls://127.0.0.1:1", library)
    assert "cannot reach the Dask scheduler" in str(err.value)


def _pipeline_dask(address, library):
    from koken.attribution import load_ratio_file
    from koken.portfolio.readers import open_portfolio
    from koken.scale.pipeline import run

    return run(open_portfolio("examples/portfolio_fy2023.csv", library), library, load_ratio_file(None), {},
               engine="dask", scheduler=address)


def test_parquet_integers_beyond_float_precision_are_read_as_floats(tmp_path, library):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"methodology": ["refrigerator"], "fiscal_year": [2023], "market": ["domestic"],
                             "units_shipped[台]": pa.array([2**53 + 1], pa.int64())}), tmp_path / "big.parquet")
    portfolio = read_portfolio(tmp_path / "big.parquet", library, collect=True)
    assert portfolio.units_shipped[0][0] == float(2**53)  # the nearest float, as "9007199254740993" in a CSV


def test_an_infinite_parquet_number_is_named_plainly(tmp_path, library):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"methodology": ["refrigerator"], "fiscal_year": [2023], "market": ["domestic"],
                             "units_shipped[台]": [float("inf")]}), tmp_path / "inf.parquet")
    portfolio = read_portfolio(tmp_path / "inf.parquet", library, collect=True)
    assert "inf is not a finite number" in str(portfolio.problems[0])
