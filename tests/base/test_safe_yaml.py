"""koken.base.safe_yaml: safe loading under limits."""

import time

import pytest

from koken.base.errors import YamlError
from koken.base.safe_yaml import MAX_DEPTH, load_yaml_text


def test_plain_yaml_loads():
    assert load_yaml_text("a: 1\nb: [x, y]\n") == {"a": 1, "b": ["x", "y"]}


def test_billion_laughs_is_refused_quickly():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    start = time.perf_counter()
    with pytest.raises(YamlError, match="aliases"):
        load_yaml_text("\n".join(lines))
    assert time.perf_counter() - start < 1.0


def test_python_tags_are_not_executed():
    with pytest.raises(YamlError):
        load_yaml_text("x: !!python/object/apply:os.system ['echo hi']")


def test_deep_nesting_is_refused():
    with pytest.raises(YamlError, match="nesting"):
        load_yaml_text("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5))


def test_syntax_error_names_the_line():
    with pytest.raises(YamlError) as info:
        load_yaml_text("a: 1\nb: [unclosed\nc: 2\n", "m.yaml")
    assert info.value.location.file == "m.yaml" and info.value.location.row is not None
