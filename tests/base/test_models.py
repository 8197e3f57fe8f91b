"""koken.base.models: pydantic's validation errors worded as koken's own messages, in Japanese or English."""

from typing import Annotated, Literal

import pytest
from pydantic import Field, ValidationError

from koken.base.i18n import language
from koken.base.models import Number, StrictModel, validation_problems


class Entry(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=5)]
    year: Annotated[int, Field(ge=1990, le=2100)]
    value: Number
    kind: Literal["grid", "fuel"] = "grid"
    tags: Annotated[list[str], Field(max_length=2)] = Field(default_factory=list)
    keys: dict[str, str] = Field(default_factory=dict)
    inputs: dict[str, str | float] = Field(default_factory=dict)
    code: Annotated[str, Field(pattern=r"^[a-z]+$")] = "a"


GOOD = {"name": "a", "year": 2023, "value": 0.5}


def problems(data: dict) -> list[tuple[str, str, str]]:
    with pytest.raises(ValidationError) as info:
        Entry.model_validate(data)
    return validation_problems(info.value)


CASES = [  # (what is wrong, English, Japanese)
    ({"year": 2023, "value": 0.5}, "required field 'name' is missing", "必須の項目 'name' がありません。"),
    ({**GOOD, "yaer": 1}, "unknown key 'yaer'", "不明なキー 'yaer' があります"),
    ({**GOOD, "name": 5}, "'name' must be text, got 5", "'name' には文字列を指定してください（5 が指定されています）。"),
    ({**GOOD, "value": "0.5"}, "'value' must be a number, not text: write it without quotes (got '0.5')",
     "'value' には文字列ではなく数値を指定してください。引用符を付けずに書きます（'0.5' が指定されています）。"),
    ({**GOOD, "value": [1]}, "'value' must be a number, got [1]", "'value' には数値を指定してください"),
    ({**GOOD, "year": "2023-04-01"}, "'year' must be a whole number (an integer), got '2023-04-01'",
     "'year' には整数を指定してください（'2023-04-01' が指定されています）。"),
    ({**GOOD, "tags": "a"}, "'tags' must be a list, got 'a'", "'tags' にはリストを指定してください"),
    ({**GOOD, "keys": [1]}, "'keys' must be a mapping of keys to values, got [1]",
     "'keys' にはキーと値のマッピングを指定してください"),
    ({**GOOD, "year": 1980}, "'year' must be at least 1990, got 1980",
     "'year' は 1990 以上にしてください（1980 が指定されています）。"),
    ({**GOOD, "year": 2200}, "'year' must be at most 2100, got 2200", "'year' は 2100 以下にしてください"),
    ({**GOOD, "value": float("nan")}, "'value' must be a finite number, got nan", "'value' には有限の数値を指定してください"),
    ({**GOOD, "kind": "gas"}, "'kind' must be one of 'grid', 'fuel', got 'gas'",
     "'kind' には 'grid', 'fuel' のいずれかを指定してください（'gas' が指定されています）。"),
    ({**GOOD, "name": ""}, "'name' must not be empty", "'name' が空です。"),
    ({**GOOD, "name": "abcdefg"}, "'name' must have at most 5 characters, has 7",
     "'name' は 5 文字以下にしてください（現在 7 文字です）。"),
    ({**GOOD, "tags": ["a", "b", "c"]}, "'tags' must have at most 2 item(s), has 3", "'tags' の要素は 2 個以下にしてください"),
    ({**GOOD, "inputs": {"x": [1]}}, "'x' must be one of these: text, a number (got [1])",
     "'x' には次のいずれかを指定してください：文字列、数値（[1] が指定されています）。"),
    ({**GOOD, "code": "A1"}, "'code' does not have the required form (pattern ^[a-z]+$), got 'A1'",
     "'code' が必要な形式（パターン ^[a-z]+$）になっていません"),
    ({**GOOD, "value": True}, "expected a number, got a boolean (true/false)", "数値を指定してください（真偽値 true/false"),
]


@pytest.mark.parametrize(("data", "english", "japanese"), CASES)
def test_the_common_pydantic_errors_read_as_koken_messages_in_both_languages(data, english, japanese):
    with language("en"):
        (path_en, message_en, _kind), = problems(data)
    with language("ja"):
        (path_ja, message_ja, _kind), = problems(data)
    assert english == message_en and japanese in message_ja and path_en == path_ja
    for english_word in ("Input should", "Field required", "Extra inputs", "String should", "List should"):
        assert english_word not in message_ja


def test_the_path_names_the_field_without_pydantic_union_tags():
    assert [p for p, _m, _k in problems({**GOOD, "inputs": {"x": [1]}})] == ["inputs.x"]


def test_a_rare_error_keeps_pydantic_text():
    class Dated(StrictModel):
        when: __import__("datetime").date

    with pytest.raises(ValidationError) as info, language("ja"):
        Dated.model_validate({"when": "someday"})
    with language("ja"):
        (_path, message, kind), = validation_problems(info.value)
    assert kind.startswith("date") and message == info.value.errors()[0]["msg"]


def test_a_document_that_is_not_a_mapping():
    with pytest.raises(ValidationError) as info:
        Entry.model_validate([1])
    with language("ja"):
        assert validation_problems(info.value) == [
            ("", "ファイルはキーと値のマッピングにしてください（[1] が指定されています）。", "model_type")]
