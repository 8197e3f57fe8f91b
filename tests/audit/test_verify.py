"""koken.audit.verify: recompute a result and name the cause of each difference."""

import shutil

import pytest
import yaml
from click.testing import CliRunner

import koken.factors as factors_module
from koken.audit.verify import verify
from koken.base.errors import KokenError, KokenErrors
from koken.calculation import calculate
from koken.cli.commands import main
from koken.portfolio.build import read_portfolio
from koken.scale.sinks import write_results

from conftest import EXAMPLE_PORTFOLIO, REPO
from helpers import RESULTS, load_folder, methodology_dict, write_methodology

PORTFOLIO = ("methodology,fiscal_year,market,units_shipped[台],baseline_energy[kWh/yr],product_energy[kWh/yr],"
             "grid_emission_factor[kg-CO2/kWh],operating_years[yr]\n"
             "toy,2023,domestic,1000,400,300,,\n"
             "toy,2023,domestic,500,420,273,0.5,10\n")


@pytest.fixture()
def setup(tmp_path, monkeypatch):
    """A toy library whose grid factor comes from a copy of the factor tables, and a result file."""
    tables = tmp_path / "factors"
    shutil.copytree(factors_module.factors_dir(), tables)
    monkeypatch.setattr(factors_module, "factors_dir", lambda: tables)
    data = methodology_dict()
    data["parameters"]["grid_emission_factor"]["factor"] = {"table": "grid_emission_factor"}
    data["parameters"]["operating_years"].update(default=12, default_source="src")
    lib_dir = tmp_path / "lib"
    write_methodology(lib_dir, data)
    portfolio = tmp_path / "p.csv"
    portfolio.write_text(PORTFOLIO, encoding="utf-8")
    library, problems = load_folder(lib_dir)
    assert not problems
    result = tmp_path / "result.json"
    write_results(calculate(read_portfolio(portfolio, library), library), result)
    return tmp_path, lib_dir, portfolio, result, data, tables


def reload(lib_dir):
    factors_module._load_all.cache_clear()
    library, problems = load_folder(lib_dir)
    assert not problems
    return library


def test_unchanged_result_stands(setup):
    _, lib_dir, portfolio, result, _, _ = setup
    assert verify(result, portfolio, reload(lib_dir)).stands


def test_changed_input_cell_is_named(setup):
    _, lib_dir, portfolio, result, _, _ = setup
    portfolio.write_text(PORTFOLIO.replace("500,420,273", "500,420,250"), encoding="utf-8")
    outcome = verify(result, portfolio, reload(lib_dir))
    assert not outcome.stands
    (line,) = [d for d in outcome.differences if d.startswith("row")]
    assert line.startswith("row 3") and "input changed: product_energy 273 → 250 kWh/yr" in line


def test_changed_default_is_named(setup):
    _, lib_dir, portfolio, result, data, _ = setup
    data["parameters"]["operating_years"]["default"] = 15
    data["version"] = "1.1.0"
    write_methodology(lib_dir, data)
    outcome = verify(result, portfolio, reload(lib_dir))
    (line,) = [d for d in outcome.differences if d.startswith("row 2")]
    assert "methodology default changed: operating_years 12 → 15" in line
    # row 3 gave its own operating years: its figures stand, but it records the old methodology version
    (other,) = [d for d in outcome.differences if d.startswith("row 3")]
    assert "methodology_version" in other and "single_year" not in other
    assert any("methodology toy changed: version 1.0.0 → 1.1.0" in d for d in outcome.differences)


def test_changed_factor_is_named(setup):
    _, lib_dir, portfolio, result, _, tables = setup
    path = tables / "grid_emission_factor.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in doc["entries"]:
        if entry.get("region") == "JP" and entry.get("fiscal_year") == 2023:
            entry["value"] = 0.43
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    outcome = verify(result, portfolio, reload(lib_dir))
    (line,) = [d for d in outcome.differences if d.startswith("row")]
    assert line.startswith("row 2") and "factor changed: grid_emission_factor 0.421 → 0.43" in line
    assert any("factor table grid_emission_factor changed" in d for d in outcome.differences)


def test_cli_exit_status(setup):
    from click.testing import CliRunner

    from koken.cli.commands import main

    _, lib_dir, portfolio, result, _, _ = setup
    ok = CliRunner().invoke(main, ["verify", str(result), str(portfolio), "--methodologies", str(lib_dir)])
    assert ok.exit_code == 0 and "The result stands" in ok.output
    portfolio.write_text(PORTFOLIO.replace("1000,400", "1001,400"), encoding="utf-8")
    bad = CliRunner().invoke(main, ["verify", str(result), str(portfolio), "--methodologies", str(lib_dir)])
    assert bad.exit_code == 1 and "DIFFERS: row 2" in bad.output


def test_tampered_result_fields_do_not_stand(setup):
    import json

    _, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    doc = json.loads(result.read_text(encoding="utf-8"))
    tampered = [
        ("totals_by_market", lambda d: d["totals_by_market"][0].update({"single_year[t-CO2e]": 1.0})),
        ("market", lambda d: d["rows"][0].update({"market": "overseas"})),
        ("steps", lambda d: d["rows"][0]["steps"]["saved"].update({"value": 999.0})),
        ("version", lambda d: d["methodologies"]["toy"].update({"version": "9.9.9"})),
    ]
    for label, change in tampered:
        copy = json.loads(json.dumps(doc))
        change(copy)
        path = result.with_name(f"tampered_{label}.json")
        path.write_text(json.dumps(copy), encoding="utf-8")
        outcome = verify(path, portfolio, library)
        assert not outcome.stands, label


def test_changed_fiscal_year_is_named_as_such(setup):
    _, lib_dir, portfolio, result, _, _ = setup
    portfolio.write_text(PORTFOLIO.replace("toy,2023,domestic,1000", "toy,2022,domestic,1000"), encoding="utf-8")
    outcome = verify(result, portfolio, reload(lib_dir))
    (line,) = [d for d in outcome.differences if d.startswith("row")]
    assert "input changed: fiscal_year 2023 → 2022" in line


def test_verify_refuses_a_malformed_result_and_finds_a_duplicated_row(library):
    with pytest.raises(KokenErrors, match=r"rows\[0\] \(portfolio row 2\): single_year\[t-CO2e\] is '1', not a finite "
                                          "number"):
        verify(RESULTS / "figure_as_text.json", EXAMPLE_PORTFOLIO, library)  # a figure written as the text "1"
    outcome = verify(RESULTS / "duplicated_row.json", EXAMPLE_PORTFOLIO, library)
    assert not outcome.stands and any("appears 2 times" in d for d in outcome.differences)


def test_verify_recomputes_device_shares_with_the_recorded_ratio_file(tmp_path):
    """`koken calculate -o result.json` then `koken verify` stands: verify recomputes the device shares that
    calculate adds (without them every row was reported as differing)."""
    out = tmp_path / "result.json"
    runner = CliRunner()
    assert runner.invoke(main, ["calculate", "examples/portfolio_fy2023.csv", "-o", str(out)]).exit_code == 0
    checked = runner.invoke(main, ["verify", str(out), "examples/portfolio_fy2023.csv"])
    assert checked.exit_code == 0, checked.output
    assert "The result stands" in checked.output


def test_verify_with_other_methodologies_than_the_result_names_that_first(tmp_path):
    """A result computed with `--methodologies ours` (a default the bundled file lacks) cannot be recomputed with
    the bundled set alone: the first problem says so; with the same --methodologies it stands, without a note."""
    ours = tmp_path / "ours" / "home_appliances"
    ours.mkdir(parents=True)
    fridge = yaml.safe_load((REPO / "methodologies" / "home_appliances" / "refrigerator.yaml").read_text(encoding="utf-8"))
    fridge["version"] = "2.1.0"
    fridge["parameters"]["operating_years"] = {"default": 12, "default_source": "toshiba_lifestyle_ghg"}
    (ours / "refrigerator.yaml").write_text(yaml.safe_dump(fridge, allow_unicode=True), encoding="utf-8")
    portfolio = tmp_path / "p.csv"
    portfolio.write_text("methodology,fiscal_year,market,units_shipped[台],baseline_annual_energy[kWh/yr],"
                         "product_annual_energy[kWh/yr]\nrefrigerator,2023,domestic,1000,420,273\n", encoding="utf-8")
    out = tmp_path / "r.json"
    runner = CliRunner()
    assert runner.invoke(main, ["calculate", str(portfolio), "--methodologies", str(tmp_path / "ours"),
                                "-o", str(out)]).exit_code == 0
    alone = runner.invoke(main, ["verify", str(out), str(portfolio)])
    assert alone.exit_code == 1
    assert alone.output.splitlines()[1].endswith(f"computed with the methodologies in bundled + {tmp_path / 'ours'}, "
                                                 "this check with bundled: verify with the same --methodologies "
                                                 "(and --no-bundled if it was used)")
    same = runner.invoke(main, ["verify", str(out), str(portfolio), "--methodologies", str(tmp_path / "ours")])
    assert same.exit_code == 0 and "The result stands" in same.output and "computed with the methodologies" not in same.output


def test_verify_reports_in_japanese_with_the_same_figures(setup):
    """A result written in English verifies under Japanese (the recorded origins and labels do not depend on the
    language), and every line of the report reads in Japanese with the English figures."""
    from koken.audit.verify import report
    from koken.base.i18n import language

    tmp_path, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    with language("ja"):
        assert report(verify(result, portfolio, library)) == ["結果は再現されました: すべての数値が一致します。"]
    portfolio.write_text(PORTFOLIO.replace("500,420,273", "500,420,250"), encoding="utf-8")
    with language("ja"):
        lines = report(verify(result, portfolio, library))
    with language("en"):
        english = report(verify(result, portfolio, library))
    assert lines[0] == "相違: ポートフォリオのファイルが、結果の計算に使われたものと異なります（sha256）。"
    (row,) = [line for line in lines if line.startswith("相違: 3行目")]
    assert "入力が変わりました: product_energy 273 → 250 kWh/yr" in row and "— 原因: " in row
    (english_row,) = [line for line in english if line.startswith("DIFFERS: row 3")]
    assert row.split("）: ")[1].split(" — ")[0] == english_row.split("): ")[1].split(" — ")[0]  # the figures
    assert lines[-1] == "結果は再現されません: 相違が 4 件あります。"
    assert english[-1] == "The result does not stand: 4 difference(s)."
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with language("ja"), pytest.raises(KokenError, match="結果ファイルを JSON として読めません（JSONDecodeError）"):
        verify(broken, portfolio, library)
    with language("en"), pytest.raises(KokenError, match="cannot read the result file as JSON"):
        verify(broken, portfolio, library)


def test_a_workbook_result_from_several_sheets_verifies_rows_by_sheet_and_row(tmp_path, library):
    """Both sheets of examples/template_filled.xlsx have a row 6: rows are matched by (sheet, row)."""
    from koken.api import calculate

    from conftest import REPO

    workbook = REPO / "examples" / "template_filled.xlsx"
    result = calculate(workbook, library).to_file(tmp_path / "r.json")
    assert verify(result, workbook, library).stands


def test_every_provenance_a_report_discloses_is_compared_and_a_mismatch_fails(setup):
    """Issue 17 §2: verify said "the result stands" when the units, gwp_set, the input file, a methodology's roles,
    result or baseline type were edited, a section deleted, or the input, methodology, factor-table or engine hashes
    differed (a note only). Each is now a difference: the result does not stand."""
    import json

    import koken.audit.verify as verify_module

    _, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    doc = json.loads(result.read_text(encoding="utf-8"))
    edits = {
        "gwp_set": (lambda d: d.update(gwp_set="gwp100_ar4"), "gwp_set: the result records \"gwp100_ar4\""),
        "input file": (lambda d: d["input"].update(file="other.csv"),
                       "the portfolio file differs from the one the result was computed from (file)"),
        "input hash": (lambda d: d["input"].update(sha256="sha256:" + "0" * 64), "(sha256)"),
        "role": (lambda d: d["methodologies"]["toy"].update(contribution_role="enabling"),
                 "methodology toy: the result records contribution_role 'enabling' → 'direct'"),
        "result type": (lambda d: d["methodologies"]["toy"].update(result_type="scope3_category11"),
                        "result_type 'scope3_category11' → 'avoided_emissions'"),
        "baseline type": (lambda d: d["methodologies"]["toy"].update(baseline_type="market_average"),
                          "baseline_type 'market_average' → "),
        "methodology hash": (lambda d: d["methodologies"]["toy"].update(content_hash="sha256:" + "1" * 64),
                             "methodology toy changed: version 1.0.0 → 1.0.0"),
        "factor hash": (lambda d: d["factor_tables"]["grid_emission_factor"].update(content_hash="sha256:" + "2" * 64),
                        "factor table grid_emission_factor changed"),
        "factor tables deleted": (lambda d: d.pop("factor_tables"), "factor_tables: missing from the result"),
        "totals deleted": (lambda d: d.pop("totals_by_methodology"), "totals_by_methodology: the totals in the result"),
        "engine": (lambda d: d.update(koken_version="0.0.1"), "engine version changed: 0.0.1 → "),
    }
    assert doc["methodologies"]["toy"]["contribution_role"] == "direct"
    for label, (change, message) in edits.items():
        copy = json.loads(json.dumps(doc))
        change(copy)
        path = result.with_name("edited.json")
        path.write_text(json.dumps(copy), encoding="utf-8")
        outcome = verify(path, portfolio, library)
        assert not outcome.stands, label
        assert any(message in d for d in outcome.differences), (label, outcome.differences)
    copy = json.loads(json.dumps(doc))
    copy["units"]["lifetime"] = "kt-CO2e"  # refused on read: figures in other units would be misread
    result.with_name("edited.json").write_text(json.dumps(copy), encoding="utf-8")
    with pytest.raises(KokenErrors, match="units: .* is not what koken writes"):
        verify(result.with_name("edited.json"), portfolio, library)
    assert verify_module.__version__ == doc["koken_version"]


@pytest.mark.parametrize(("text", "message"), [
    ('{"format": "koken-result", "format": "other"}', "the key 'format' is written twice in one object"),
    ('{"format": "koken-result", "rows": [], "x": NaN}', "NaN is not a number JSON allows"),
])
def test_a_result_with_a_duplicate_key_or_nan_is_refused_by_verify(setup, text, message):
    """A first-wins reader of a key written twice sees a forged value: refused, as NaN (not JSON) is."""
    tmp_path, lib_dir, portfolio, _, _, _ = setup
    path = tmp_path / "forged.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KokenError, match=message):
        verify(path, portfolio, reload(lib_dir))


def test_verify_opens_only_the_shipped_or_the_given_ratio_file(tmp_path):
    """Issue 17 §2: verify opened any path a result named as its ratio file (it printed another YAML file's keys;
    /proc/self/environ crashed it). A result naming another file than the shipped one needs --ratios."""
    import json

    out = tmp_path / "result.json"
    runner = CliRunner()
    assert runner.invoke(main, ["calculate", "examples/portfolio_fy2023.csv", "-o", str(out)]).exit_code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    recorded = doc["options"]["device_ratios"]
    ours = tmp_path / "ours.yaml"
    shutil.copy(REPO / "attribution" / "ratios_fy2023_report.yaml", ours)
    for path in ("/proc/self/environ", str(REPO / "mkdocs.yml"), str(ours)):
        doc["options"]["device_ratios"] = recorded.replace("attribution/ratios_fy2023_report.yaml", path)
        out.write_text(json.dumps(doc), encoding="utf-8")
        checked = runner.invoke(main, ["verify", str(out), "examples/portfolio_fy2023.csv"])
        assert checked.exit_code == 1 and f"the result names the ratio file {path}, not the shipped one: give it with " \
            "--ratios" in checked.output, checked.output
        assert "Traceback" not in checked.output and "site_name" not in checked.output
    given = runner.invoke(main, ["verify", str(out), "examples/portfolio_fy2023.csv", "--ratios", str(ours)])
    assert given.exit_code == 0 and "The result stands" in given.output, given.output
    other = tmp_path / "other.yaml"
    other.write_text(ours.read_text(encoding="utf-8").replace("device: 552", "device: 553", 1), encoding="utf-8")
    changed = runner.invoke(main, ["verify", str(out), "examples/portfolio_fy2023.csv", "--ratios", str(other)])
    assert changed.exit_code == 1 and "device ratio file: the result names" in changed.output, changed.output


def test_a_pathological_ratio_file_field_is_read_in_linear_time(tmp_path):
    """Issue 17 §3: the ratio-file field was matched by a regular expression with two `.*`: 240 KB took 42 s. It is
    read in one pass; an over-long field is refused, at once. Measured in a new interpreter."""
    import time

    from koken.audit.verify import recorded_ratio_file

    text = "x (" + " (" * 120_000 + ", sha256:0"
    started = time.perf_counter()
    with pytest.raises(ValueError, match="is not 'id \\(path, hash\\)'"):
        recorded_ratio_file(text)
    long = "a (" + "b, " * 80_000 + "sha256:" + "0" * 64 + ")"
    with pytest.raises(ValueError, match="is not 'id"):
        recorded_ratio_file(long)
    assert time.perf_counter() - started < 10.0  # quadratic matching took minutes; a guard, not a speed goal
    assert recorded_ratio_file("fy (attribution/r (1).yaml, sha256:" + "a" * 64 + ")") == (
        "fy", "attribution/r (1).yaml", "sha256:" + "a" * 64)


def test_a_result_with_the_installed_base_and_the_variants_verifies_against_itself(tmp_path):
    """Merging issue 17 §2 into issue 12: verify compares every recorded field of a row, so it must recompute with the
    run's options — the installed-base year and survival rule, the factor path and the customer data — or a result
    of ``--installed-base 2023 --factor-path jp_plan_fy2030 --customer-data`` failed against itself (its 40 rows'
    installed_base_annual and variant columns missing from the recomputation). The customer-data file is opened
    only when given (a path a result names is never opened), and must be the one recorded."""
    customer = REPO / "examples" / "customer_data.csv"
    out = tmp_path / "r.json"
    done = CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(out), "--installed-base", "2023",
                                     "--factor-path", "jp_plan_fy2030", "--customer-data", str(customer)])
    assert done.exit_code == 0, done.output
    stands = CliRunner().invoke(main, ["verify", str(out), str(EXAMPLE_PORTFOLIO), "--customer-data", str(customer)])
    assert stands.exit_code == 0, stands.output
    assert "The result stands" in stands.output
    unnamed = CliRunner().invoke(main, ["verify", str(out), str(EXAMPLE_PORTFOLIO)])
    assert unnamed.exit_code == 1 and "give it with --customer-data" in unnamed.output, unnamed.output
    other = tmp_path / "customer_data.csv"
    other.write_text(customer.read_text(encoding="utf-8").replace("0.352", "0.351"), encoding="utf-8")
    differs = CliRunner().invoke(main, ["verify", str(out), str(EXAMPLE_PORTFOLIO), "--customer-data", str(other)])
    assert differs.exit_code == 1 and "customer data: the result names" in differs.output, differs.output


def test_a_monte_carlo_result_stands_from_its_seed_and_a_tampered_percentile_does_not(tmp_path, library):
    import json

    from koken.api import run

    portfolio = REPO / "examples" / "portfolio_uncertain.csv"
    out = tmp_path / "r.json"
    run(portfolio, library, output=out, draws=200, seed=12)
    assert verify(out, portfolio, library).stands
    document = json.loads(out.read_text(encoding="utf-8"))
    document["uncertainty"]["totals"][0]["p95"] *= 1.01
    document["rows"][0]["single_year_p5[t-CO2e]"] *= 0.99
    out.write_text(json.dumps(document), encoding="utf-8")
    result = verify(out, portfolio, library)
    text = "\n".join(result.differences)
    assert not result.stands and "uncertainty: the percentiles of the totals" in text and "single_year_p5" in text


def test_verify_compares_the_whole_uncertainty_block_and_the_legitimacy_flags(tmp_path, library):
    """Merging issue 16 into issue 17 §2: verify reruns a Monte Carlo result from its seed and compares everything the
    block discloses — the portfolio-total tornado, the draws, the uncertain inputs — not only the totals' percentiles;
    a deleted block or a deleted Monte Carlo option is a difference, as are edited legitimacy flags and GWP record."""
    import json

    from koken.api import run

    portfolio = REPO / "examples" / "portfolio_uncertain.csv"
    out = tmp_path / "r.json"
    run(portfolio, library, output=out, draws=100, seed=7)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["uncertainty"]["tornado"] and verify(out, portfolio, library).stands
    edits = {
        "tornado": (lambda d: d["uncertainty"]["tornado"][0].update(swing=d["uncertainty"]["tornado"][0]["swing"] * 2),
                    "uncertainty.tornado: the result records"),
        "inputs": (lambda d: d["uncertainty"]["inputs"].pop(), "uncertainty.inputs: the result records"),
        "block deleted": (lambda d: d.pop("uncertainty"), "uncertainty: the result records no Monte Carlo block"),
        "option deleted": (lambda d: d["options"].pop("uncertainty"),
                           "the recomputation gives no Monte Carlo run (its options record none)"),
        "legitimacy": (lambda d: d.update(legitimacy=[*d["legitimacy"], {"methodology": "refrigerator",
                                                                          "flag": "fossil_lock_in"}]),
                       "legitimacy: the result records [{"),
        "gwp": (lambda d: d.pop("gwp"), "gwp: the result records null"),
    }
    for label, (change, message) in edits.items():
        copy = json.loads(json.dumps(document))
        change(copy)
        path = tmp_path / "edited.json"
        path.write_text(json.dumps(copy), encoding="utf-8")
        outcome = verify(path, portfolio, library)
        assert not outcome.stands and any(message in d for d in outcome.differences), (label, outcome.differences)


# issue 17 §4: verify beside calculate — rows matched by key in linear time, and Parquet results verified


def _parquet_result(json_result, parquet_path, edit_rows=None, edit_head=None):
    """The Parquet result of the same run as ``json_result`` (its head in the file's ``koken`` metadata, as
    ``koken calculate -o r.parquet`` writes it), its rows optionally edited (a function of the row table) and its
    metadata edited (a function of the dict)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    head = json.loads(pq.ParquetFile(parquet_path).metadata.metadata[b"koken"])
    frame = pq.read_table(parquet_path).to_pandas()
    if edit_rows is not None:
        frame = edit_rows(frame)
    if edit_head is not None:
        edit_head(head)
    out = parquet_path.with_name("edited.parquet")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(
        {"koken": json.dumps(head)}), out)
    return out


def test_a_parquet_result_stands_and_gives_the_same_differences_as_its_json_result(setup):
    """`koken calculate -o r.parquet` then `koken verify r.parquet PORTFOLIO` stands; a changed cell moves the same
    figures of the same rows as in the JSON result of the same run (the Parquet file holds no totals by
    methodology)."""
    tmp_path, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    parquet = tmp_path / "result.parquet"
    write_results(calculate(read_portfolio(portfolio, library), library), parquet)
    assert verify(parquet, portfolio, library).stands
    ok = CliRunner().invoke(main, ["verify", str(parquet), str(portfolio), "--methodologies", str(lib_dir)])
    assert ok.exit_code == 0 and "The result stands" in ok.output, ok.output
    portfolio.write_text(PORTFOLIO.replace("toy,2023,domestic,1000", "toy,2022,domestic,1000"), encoding="utf-8")
    from_json, from_parquet = verify(result, portfolio, library), verify(parquet, portfolio, library)
    assert not from_parquet.stands

    def moved(outcome):
        return [d.split(" — ")[0] for d in outcome.differences if d.startswith("row")]

    assert moved(from_parquet) == moved(from_json) and len(moved(from_json)) == 1
    assert set(from_parquet.differences) - set(from_json.differences) <= {
        d for d in from_parquet.differences if d.startswith("row")}
    (line,) = [d for d in from_parquet.differences if d.startswith("row")]
    assert "input changed: fiscal_year 2023 → 2022" in line


def test_a_changed_input_cell_is_named_from_a_parquet_result_as_from_its_json_result(setup):
    # the bug: the Parquet result's rows had no inputs, so this said "the result file does not match its own inputs"
    tmp_path, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    parquet = tmp_path / "result.parquet"
    write_results(calculate(read_portfolio(portfolio, library), library), parquet)
    portfolio.write_text(PORTFOLIO.replace("500,420,273", "500,420,250"), encoding="utf-8")
    from_json, from_parquet = verify(result, portfolio, library), verify(parquet, portfolio, library)
    (line,) = [d for d in from_parquet.differences if d.startswith("row")]
    assert line.startswith("row 3") and "input changed: product_energy 273 → 250 kWh/yr" in line
    assert [d for d in from_json.differences if d.startswith("row")] == [line]


def test_duplicated_rows_are_counted_and_the_last_copy_compared_in_json_and_parquet(setup):
    """A result holding row 2 three times (its last copy with a doubled figure) and row 3 once: row 2 is said to
    appear 3 times and its last copy differs, row 3 stands; the JSON and the Parquet result say the same."""
    import json

    tmp_path, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    doc = json.loads(result.read_text(encoding="utf-8"))
    by_row = {r["row"]: r for r in doc["rows"]}
    edited = json.loads(json.dumps(by_row[2]))
    edited["single_year[t-CO2e]"] *= 2
    doc["rows"] = [by_row[2], by_row[2], by_row[3], edited]
    expected_count = sum(1 for r in doc["rows"] if r["row"] == 2)  # counted here, independently
    duplicated = tmp_path / "duplicated.json"
    duplicated.write_text(json.dumps(doc), encoding="utf-8")
    from_json = verify(duplicated, portfolio, library)

    parquet = tmp_path / "result.parquet"
    write_results(calculate(read_portfolio(portfolio, library), library), parquet)

    def duplicate(frame):
        import pandas as pd

        two, three = frame[frame["row"] == 2], frame[frame["row"] == 3]
        last = two.copy()
        last["single_year[t-CO2e]"] *= 2
        return pd.concat([two, two, three, last], ignore_index=True)

    from_parquet = verify(_parquet_result(result, parquet, duplicate), portfolio, library)
    for outcome in (from_json, from_parquet):
        assert not outcome.stands
        assert f"row 2: appears {expected_count} times in the result" in outcome.differences
        (moved,) = [d for d in outcome.differences if d.startswith("row 2 (")]
        old, new = by_row[2]["single_year[t-CO2e]"] * 2, by_row[2]["single_year[t-CO2e]"]
        assert f"single_year[t-CO2e] {old:.10g} → {new:.10g}" in moved
        assert not [d for d in outcome.differences if d.startswith("row 3")]
    assert from_parquet.differences == from_json.differences


def test_a_parquet_result_whose_rows_or_provenance_were_edited_does_not_stand(setup):
    """Everything a Parquet result records is compared: each row's fields and figures, the totals by market, and
    the provenance in its metadata (input, methodology and factor-table hashes, engine, GWP set, legitimacy)."""
    tmp_path, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    parquet = tmp_path / "result.parquet"
    write_results(calculate(read_portfolio(portfolio, library), library), parquet)

    def rows(change):
        def edit(frame):
            frame = frame.copy()
            change(frame)
            return frame
        return edit

    edits = {
        "figure": (rows(lambda f: f.__setitem__("lifetime[t-CO2e]", f["lifetime[t-CO2e]"] * 1.001)), None,
                   "lifetime[t-CO2e]"),
        "market": (rows(lambda f: f.__setitem__("market", "overseas")), None, "recorded fields differ: market"),
        "row deleted": (lambda f: f[f["row"] != 3], None, "row 3: in the portfolio but not in the result"),
        "gwp_set": (None, lambda h: h.update(gwp_set="gwp100_ar4"), "gwp_set: the result records \"gwp100_ar4\""),
        "input hash": (None, lambda h: h["input"].update(sha256="sha256:" + "0" * 64), "(sha256)"),
        "methodology hash": (None, lambda h: h["methodologies"]["toy"].update(content_hash="sha256:" + "1" * 64),
                             "methodology toy changed"),
        "factor hash": (None, lambda h: h["factor_tables"]["grid_emission_factor"].update(
            content_hash="sha256:" + "2" * 64), "factor table grid_emission_factor changed"),
        "engine": (None, lambda h: h.update(koken_version="0.0.1"), "engine version changed: 0.0.1 → "),
        "totals": (None, lambda h: h["totals_by_market"][0].update({"single_year[t-CO2e]": 1.0}),
                   "totals_by_market: the totals in the result differ"),
        "legitimacy": (None, lambda h: h.update(legitimacy=[{"methodology": "toy", "flag": "fossil_lock_in"}]),
                       "legitimacy: the result records"),
    }
    for label, (edit_rows, edit_head, message) in edits.items():
        outcome = verify(_parquet_result(result, parquet, edit_rows, edit_head), portfolio, library)
        assert not outcome.stands, label
        assert any(message in d for d in outcome.differences), (label, outcome.differences)


def test_a_parquet_result_without_its_record_or_with_a_figure_as_text_is_refused(setup):
    import pyarrow.parquet as pq

    tmp_path, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    parquet = tmp_path / "result.parquet"
    write_results(calculate(read_portfolio(portfolio, library), library), parquet)
    bare = tmp_path / "bare.parquet"
    pq.write_table(pq.read_table(parquet).replace_schema_metadata({}), bare)
    with pytest.raises(KokenError, match="koken calculate"):
        verify(bare, portfolio, library)

    def as_text(frame):
        frame = frame.copy()
        frame["single_year[t-CO2e]"] = frame["single_year[t-CO2e]"].map(str)
        return frame

    with pytest.raises(KokenErrors, match=r"rows\[0\] \(portfolio row 2\): single_year\[t-CO2e\] is '"):
        verify(_parquet_result(result, parquet, as_text), portfolio, library)


def test_a_parquet_result_with_one_row_number_missing_names_that_row_only(setup):
    """One null in the row column made the column floats, and every row was refused as 'row is 3.0, not a whole
    number' (found by the differential test): only the row without its number is named."""
    import pandas as pd

    tmp_path, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    parquet = tmp_path / "result.parquet"
    write_results(calculate(read_portfolio(portfolio, library), library), parquet)

    def one_row_unnumbered(frame):
        frame = frame.copy()
        frame["row"] = pd.array([None, *frame["row"].iloc[1:]], dtype="Int64")
        return frame

    with pytest.raises(KokenErrors) as info:
        verify(_parquet_result(result, parquet, one_row_unnumbered), portfolio, library)
    problems = [str(e) for e in info.value.errors]
    assert len(problems) == 1 and "rows[0]" in problems[0] and "row is None, not a whole number" in problems[0], problems


@pytest.mark.parametrize("where", ["units_shipped", "operating_years[yr]", "total", "input"])
def test_a_whole_number_beyond_a_float_s_range_anywhere_is_refused_not_a_crash(setup, where):
    """10**400 written in a row's units shipped, a column of the row, a stored total or an input's value ended verify in
    OverflowError (int too large to convert to float): refused on read, naming it (found by the differential test)."""
    import json

    tmp_path, lib_dir, portfolio, result, _, _ = setup
    doc = json.loads(result.read_text(encoding="utf-8"))
    huge = "1" + "0" * 400
    marker = 123456789.25
    row = doc["rows"][0]
    if where == "total":
        doc["totals_by_market"][0]["single_year"] = marker
    elif where == "input":
        next(v for v in row["inputs"].values() if isinstance(v, dict) and "value" in v)["value"] = marker
    else:
        row[where] = marker
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc).replace(repr(marker), huge), encoding="utf-8")
    with pytest.raises(KokenError, match="a whole number of 401 digits is beyond"):
        verify(path, portfolio, reload(lib_dir))


def test_a_parquet_result_whose_stored_inputs_were_edited_does_not_stand_as_its_json_result(setup):
    # the bug: the Parquet result's inputs and steps (its detail columns) were read only for rows whose figures
    # differ, so an edited input beside unchanged figures gave "The result stands" (its JSON result: a difference)
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp_path, lib_dir, portfolio, result, _, _ = setup
    library = reload(lib_dir)
    parquet = tmp_path / "result.parquet"
    write_results(calculate(read_portfolio(portfolio, library), library), parquet)
    table, metadata = pq.read_table(parquet), pq.read_metadata(parquet).metadata
    document = json.loads(result.read_text(encoding="utf-8"))
    name = next(iter(document["rows"][0]["inputs"]))
    document["rows"][0]["inputs"][name]["value"] *= 2
    edited_json = tmp_path / "edited.json"
    edited_json.write_text(json.dumps(document), encoding="utf-8")

    def edited_parquet(column: str, change):
        values = table[column].to_pylist()
        values[0] = change(values[0])
        changed = table.set_column(table.schema.get_field_index(column), column,
                                   pa.array(values, pa.float64())).replace_schema_metadata(None)
        edited = tmp_path / "edited.parquet"
        with pq.ParquetWriter(edited, changed.schema) as writer:
            writer.write_table(changed)
            writer.add_key_value_metadata({k: v for k, v in metadata.items() if k != b"ARROW:schema"})
        return edited

    from_json = verify(edited_json, portfolio, library)
    from_parquet = verify(edited_parquet("inputs.1.value", lambda v: v * 2), portfolio, library)
    assert not from_json.stands
    assert not from_parquet.stands, from_parquet.differences
    rows = [d for d in from_parquet.differences if d.startswith("row")]
    assert rows == [d for d in from_json.differences if d.startswith("row")] and len(rows) == 1
    assert f"input changed: {name}" in rows[0]
    # an input's value emptied (null): in the first detail column (the row then read as having no inputs at all) and
    # in the grid factor's (its change was formatted as a number: TypeError)
    at = next(i for i, x in enumerate(document["rows"][0]["inputs"], 1) if x == "grid_emission_factor")
    for column in ("inputs.1.value", f"inputs.{at}.value"):
        outcome = verify(edited_parquet(column, lambda v: None), portfolio, library)
        assert not outcome.stands, (column, outcome.differences)
        assert [d for d in outcome.differences if d.startswith("row 2")], (column, outcome.differences)


@pytest.mark.parametrize(("layout", "expected"), [
    (b"{", "koken_details metadata is malformed"),
    (b'{"inputs": 99, "steps": 0, "methodologies": {}}', "koken_details metadata is malformed (no column"),
])
def test_a_parquet_result_whose_detail_layout_was_edited_does_not_stand(setup, layout, expected):
    # it stood: its rows were compared on their figures alone, where koken report refuses the file
    import pyarrow.parquet as pq

    tmp_path, lib_dir, portfolio, _result, _, _ = setup
    library = reload(lib_dir)
    parquet = tmp_path / "result.parquet"
    write_results(calculate(read_portfolio(portfolio, library), library), parquet)
    metadata = pq.read_metadata(parquet).metadata
    table = pq.read_table(parquet).replace_schema_metadata(None)
    edited = tmp_path / "edited.parquet"
    with pq.ParquetWriter(edited, table.schema) as writer:
        writer.write_table(table)
        writer.add_key_value_metadata({b"koken": metadata[b"koken"], b"koken_details": layout})
    outcome = verify(edited, portfolio, library)
    assert not outcome.stands and any(expected in d for d in outcome.differences), outcome.differences
