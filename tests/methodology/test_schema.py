"""koken.methodology.schema: the file format's own rules, reported in the chosen language."""

import pydantic
import pytest

from koken.base.i18n import language
from koken.base.models import validation_problems
from koken.methodology.schema import MethodologySpec

from helpers import methodology_dict


def problems(data: dict) -> list[tuple[str, str, str]]:
    with pytest.raises(pydantic.ValidationError) as info:
        MethodologySpec.model_validate(data)
    return validation_problems(info.value)


def test_a_default_together_with_a_factor_table_is_refused_in_the_chosen_language():
    data = methodology_dict()
    data["parameters"]["grid_emission_factor"].update(default=0.5, default_source="src",
                                                      factor={"table": "grid_emission_factor"})
    with language("ja"):
        assert problems(data) == [("parameters.grid_emission_factor", "パラメータには default と係数表（factor）の"
                                   "どちらか一方だけを指定してください。", "value_error")]
    with language("en"):
        assert problems(data)[0][1] == "a parameter takes either a default or a factor table, not both"


def test_a_version_and_a_baseline_type_of_the_wrong_form_are_explained():
    data = methodology_dict(version="1.0")
    data["baseline"]["type"] = "market"
    with language("ja"):
        found = {path: message for path, message, _kind in problems(data)}
    assert found["version"] == "version はセマンティックバージョン MAJOR.MINOR.PATCH で書いてください（例：1.0.0）。"
    assert found["baseline.type"].startswith("'type' には 'market_most_used', 'market_average', ")
    assert found["baseline.type"].endswith("のいずれかを指定してください（'market' が指定されています）。")
