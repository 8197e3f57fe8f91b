"""koken.examples: worked examples and property checks, their failures in the chosen language."""

from koken.base.i18n import language
from koken.examples import check_examples
from koken.methodology import read_methodology

from helpers import methodology_dict, write_methodology


def test_a_worked_example_that_does_not_reproduce_is_reported_in_the_chosen_language(tmp_path):
    data = methodology_dict()
    data["examples"][0]["expected"]["avoided_per_unit_year"]["value"] = 60
    data["examples"][0]["expected"]["nothing"] = {"value": 1, "unit": "kg"}
    m = read_methodology(write_methodology(tmp_path, data))
    with language("ja"):
        found = [str(p) for p in check_examples(m)]
    assert found[0].endswith("avoided_per_unit_year = 50 kg-CO2/台/yr ですが、計算例の期待値は 60 kg-CO2/台/yr です"
                             "（相対許容誤差 1e-06）。")
    assert "期待値 'nothing' はステップでも single_year でも lifetime でもありません" in found[1]
    with language("en"):
        found = [str(p) for p in check_examples(m)]
    assert found[0].endswith("avoided_per_unit_year = 50 kg-CO2/台/yr, but the example expects 60 kg-CO2/台/yr "
                             "(relative tolerance 1e-06)")


def test_a_failed_property_check_is_reported_in_the_chosen_language(tmp_path):
    data = methodology_dict()
    data["checks"] = {"equal_to_baseline": {"product_energy": "baseline_energy"},
                      "worse_than_baseline": {"product_energy": "350 kWh/yr"}}
    m = read_methodology(write_methodology(tmp_path, data))
    with language("ja"):
        found = [str(p) for p in check_examples(m)]
    assert found == [f"{m.path}, 項目 checks.worse_than_baseline: ベースラインより劣る製品の削減貢献量は負でなければ"
                     "なりませんが、25 になりました。"]
