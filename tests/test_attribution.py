"""koken.attribution: ratios from an input-output table, the shipped fallback, device shares inside totals."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from koken.attribution import attribute, derive_ratios, load_ratio_file
from koken.base.errors import KokenErrors
from koken.cli.commands import main

IO_TABLE = """sector,民生用電気機器,電子計算機本体,原動機
半導体素子,30,120,5
集積回路,20,180,0
電子部品,50,100,15
鉄鋼,200,10,300
国内生産額,1000,2000,4000
"""


def write(tmp_path, text, name):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_ratios_are_direct_input_coefficients(tmp_path):
    table = write(tmp_path, IO_TABLE, "io.csv")
    devices = write(tmp_path, "device_sectors:\n  半導体素子: semiconductors\n  集積回路: semiconductors\n"
                              "  電子部品: electronic_components\n", "devices.yaml")
    sectors = write(tmp_path, "sectors:\n  refrigerator: 民生用電気機器\n  server: 電子計算機本体\n"
                              "  gas_combined_cycle: 原動機\n", "map.yaml")
    doc = derive_ratios(table, 2015, devices, sectors)
    got = {(e["methodology"], e["device_class"]): e["ratio"] for e in doc["entries"]}
    # hand: refrigerator (30 + 20) / 1,000 = 0.05 semiconductors, 50 / 1,000 = 0.05 components
    assert got[("refrigerator", "semiconductors")] == pytest.approx(0.05)
    assert got[("refrigerator", "electronic_components")] == pytest.approx(0.05)
    # server (120 + 180) / 2,000 = 0.15 and 100 / 2,000 = 0.05; gas turbines 5 / 4,000 and 15 / 4,000
    assert got[("server", "semiconductors")] == pytest.approx(0.15)
    assert got[("server", "electronic_components")] == pytest.approx(0.05)
    assert got[("gas_combined_cycle", "semiconductors")] == pytest.approx(0.00125)
    out = tmp_path / "ratios.yaml"
    result = CliRunner().invoke(main, ["ratios", str(table), "--edition-year", "2015", "--device-sectors",
                                       str(devices), "--sector-map", str(sectors), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_ratio_file(out).ratios_for("server", "it_equipment", "domestic") == {
        "semiconductors": pytest.approx(0.15), "electronic_components": pytest.approx(0.05)}


def test_bad_io_tables_are_refused(tmp_path):
    bad = write(tmp_path, IO_TABLE.replace("120", "abc").replace("国内生産額", "合計"), "bad.csv")
    with pytest.raises(KokenErrors) as info:
        derive_ratios(bad, 2015)
    text = "\n".join(str(e) for e in info.value.errors)
    assert "'abc' is not a number" in text and "no row '国内生産額'" in text


def test_shipped_fallback_reproduces_the_fy2023_report_shares():
    ratios = load_ratio_file()
    # worked example: domestic generation 552 / 1,512 = 36.5 %; overseas TVs 137 / 372 = 36.8 %
    assert ratios.ratios_for("solar_pv", "generation", "domestic")["devices"] == pytest.approx(552 / 1512)
    assert ratios.ratios_for("television", "home_appliances", "overseas")["devices"] == pytest.approx(137 / 372)
    assert ratios.ratios_for("ict_solution", "solutions", "domestic") is None


def test_device_share_is_inside_the_total_never_added():
    # net saving 10 kg per unit, 100,000 units, ratio 0.2: enabled 1,000 t, device share 200 t
    ratio_file = load_ratio_file()
    table = pd.DataFrame({"methodology": ["solar_pv"], "category": ["generation"], "market": ["domestic"], "fiscal_year": [2023],
                          "single_year[t-CO2e]": [1000.0], "lifetime[t-CO2e]": [20000.0]})
    ratio_file = dataclasses.replace(ratio_file, spec=ratio_file.spec.model_copy(update={"entries": [
        ratio_file.spec.entries[0].model_copy(update={"device": 0.2, "total": 1.0})]}))
    out = attribute(table, ratio_file)
    assert out["single_year[t-CO2e]"].iloc[0] == 1000.0          # the set-product figure is unchanged
    assert out["device_single_year:devices[t-CO2e]"].iloc[0] == pytest.approx(200.0)
    assert out["device_lifetime:devices[t-CO2e]"].iloc[0] == pytest.approx(4000.0)


def test_ratio_and_table_problems_read_in_the_chosen_language(tmp_path):
    import yaml

    from koken.attribution import attribution_dir
    from koken.base.i18n import language

    bad = write(tmp_path, IO_TABLE.replace("120", "abc").replace("国内生産額", "合計"), "bad.csv")
    doc = yaml.safe_load((attribution_dir() / "ratios_fy2023_report.yaml").read_text(encoding="utf-8"))
    doc["entries"][0]["ratio"] = 0.5  # with device and total as well: two ways at once
    ratio_file = write(tmp_path, yaml.safe_dump(doc, allow_unicode=True), "ratios.yaml")
    with language("ja"):
        with pytest.raises(KokenErrors) as table:
            derive_ratios(bad, 2015)
        with pytest.raises(KokenErrors) as ratios:
            load_ratio_file(ratio_file)
    text = "\n".join(str(e) for e in table.value.errors)
    assert "'abc' は 0 以上の数値ではありません" in text and "'国内生産額' の行（国内生産額）がありません" in text
    assert "ratio か、device と total のどちらかを指定してください" in str(ratios.value)
    with language("en"), pytest.raises(KokenErrors, match="give either ratio, or device and total"):
        load_ratio_file(ratio_file)


def test_a_custom_methodology_gets_no_category_average_device_share():
    import pandas as pd

    from koken.attribution import attribute, load_ratio_file

    table = pd.DataFrame({"methodology": ["refrigerator", "my_freezer"], "category": "home_appliances",
                          "market": "domestic", "fiscal_year": 2023, "single_year[t-CO2e]": [100.0, 100.0],
                          "lifetime[t-CO2e]": [1000.0, 1000.0]})
    out = attribute(table, load_ratio_file(None))
    # FY2023 report: home appliances domestic 232 of 1,110 (10 kt-CO2e) → 0.2090; none for an unmapped methodology
    assert out["device_ratio:devices"].iloc[0] == pytest.approx(232 / 1110)
    assert np.isnan(out["device_ratio:devices"].iloc[1])
    assert out["device_single_year:devices[t-CO2e]"].iloc[1] == 0
    assert str(out["device_ratio_basis"].iloc[1]) == "fy2023_report_implied: my_freezer not mapped to a sector"


def test_the_report_implied_ratios_apply_only_to_the_year_they_describe():
    import pandas as pd

    from koken.attribution import attribute, load_ratio_file

    table = pd.DataFrame({"methodology": "refrigerator", "category": "home_appliances", "market": "domestic",
                          "fiscal_year": [2022, 2023], "single_year[t-CO2e]": 100.0, "lifetime[t-CO2e]": 1000.0})
    out = attribute(table, load_ratio_file(None))
    assert np.isnan(out["device_ratio:devices"].iloc[0]) and out["device_ratio:devices"].iloc[1] > 0
    assert str(out["device_ratio_basis"].iloc[0]) == "fy2023_report_implied: fiscal year 2022 not covered"


def test_the_sector_map_is_parsed_once_per_content_and_a_changed_file_is_read_anew(tmp_path, monkeypatch):
    """mapped_methodologies reads the sector map each time and parses each content once: the same methodologies as
    parsing the file, and a file changed in between gives the new ones."""
    import yaml

    import koken.attribution as attribution

    shipped = attribution.attribution_dir() / "sector_map.yaml"
    expected = frozenset(yaml.safe_load(shipped.read_text(encoding="utf-8"))["sectors"])
    assert attribution.mapped_methodologies() == expected and len(expected) > 1
    folder = tmp_path / "attribution"
    folder.mkdir()
    (folder / "sector_map.yaml").write_text("sectors:\n  m_one: {}\n", encoding="utf-8")
    monkeypatch.setattr(attribution, "attribution_dir", lambda: folder)
    assert attribution.mapped_methodologies() == {"m_one"}
    (folder / "sector_map.yaml").write_text("sectors:\n  m_two: {}\n  m_three: {}\n", encoding="utf-8")
    assert attribution.mapped_methodologies() == {"m_two", "m_three"}
