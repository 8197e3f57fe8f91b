"""koken.base.safe_yaml: safe loading under limits."""

import time

import pytest

from koken.base.errors import KokenError, YamlError
from koken.base.safe_yaml import MAX_DEPTH, load_yaml_file, load_yaml_text


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
    assert time.perf_counter() - start < 10.0  # expanding the aliases never ends; a guard, not a speed goal


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


@pytest.mark.parametrize("text, expected", [
    ("region: NO", {"region": "NO"}),            # YAML 1.1 read Norway as False
    ("n: 0100", {"n": 100}),                     # YAML 1.1 read octal 64
    ("t: 1:20", {"t": "1:20"}),                  # YAML 1.1 read sexagesimal 80
    ("b: yes", {"b": "yes"}),
    ("x: 1e3", {"x": 1000.0}),
])
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text, expected):
    assert load_yaml_text(text) == expected


def test_alias_expansion_beyond_the_limit_and_device_files_are_refused(tmp_path):
    lines = ['l0: &l0 "' + "x" * 1000 + '"'] + [f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}]" for i in range(1, 17)]
    bomb = tmp_path / "laugh.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(KokenError, match="would expand to more than"):
        load_yaml_text(bomb.read_text(encoding="utf-8"))
    assert time.perf_counter() - start < 5
    with pytest.raises(KokenError, match="not a regular file"):
        load_yaml_file("/dev/zero")


def test_a_duplicate_key_is_reported_in_the_chosen_language():
    from koken.base.i18n import language

    text = "a: 1\nb: 2\na: 3\n"
    with language("ja"), pytest.raises(YamlError) as info:
        load_yaml_text(text, "f.yaml")
    assert str(info.value) == ("f.yaml, 3行目: キー 'a' が 1 つのマッピングに 2 回出てきます（1 行目と 3 行目）。"
                               "koken はどちらを意図したかを推測しません。")
    with language("en"), pytest.raises(YamlError) as info:
        load_yaml_text(text, "f.yaml")
    assert str(info.value) == ("f.yaml, row 3: key 'a' appears twice in one mapping (rows 1 and 3); koken does not "
                               "guess which one you meant")


@pytest.mark.parametrize("character", ["\x07", "\x1b", "\x7f", "\x9b", "\ufffe"])
def test_a_control_character_is_an_error_naming_its_line_and_column(tmp_path, character):
    """Issue 17 §3: PyYAML's reader refuses control characters while the loader is made, outside the loader's own
    errors: a BEL in any YAML file crashed koken with a traceback. Now a located error (line and column, the
    character's code point)."""
    with pytest.raises(YamlError) as info:
        load_yaml_text(f"a: 1\nb: x{character}y\n", "m.yaml")
    assert info.value.location.file == "m.yaml" and info.value.location.row == 2
    assert f"U+{ord(character):04X}" in str(info.value) and "column 5" in str(info.value)
    path = tmp_path / "f.yaml"
    path.write_text(f"id: x\ntitle: {character}\n", encoding="utf-8")
    with pytest.raises(YamlError) as from_file:
        load_yaml_file(path)
    assert from_file.value.location.row == 2


@pytest.mark.parametrize("text", [
    "a: NO\nb: on\nc: 0100\nd: 1:20\ne: 1e3\nf: .5\ng: true\nh: ~\n",
    "a: &x [1, 2]\nb: *x\nc: {d: 'q', e: \"r\\u00e9\"}\n",
    "k: |\n  line one\n  line two\nm: >\n  folded\n  text\n",
    "- 1\n- -2.5\n- '3'\n- 2023-04-01\n",
    "a: 1\na: 2\n",
    "x: !!python/object/apply:os.system ['echo hi']\n",
    "a: [1, 2\n",
    "a: \"\\uD800\"\n",
    "",
    # tabs: libyaml takes them where PyYAML's scanner refuses "found character '\\t' that cannot start any token"
    # (found by comparing the engine before and after libyaml came in)
    "product_line: Fridge\tA\n", "product_line:\tFridge A\n", "market: domestic \t\n", "a: 1\t# note\n",
    "units: 100\t台\n", "x: [domestic,\tx]\n",
])
def test_fast_and_pure_python_loaders_agree(text, monkeypatch):
    """libyaml's parser (used when PyYAML has it) gives the same data, or the same error, as the pure-Python one."""
    import koken.base.safe_yaml as safe_yaml

    def load():
        try:
            return load_yaml_text(text, "t.yaml")
        except YamlError as err:
            return ("error", str(err), err.location)

    fast = load()
    monkeypatch.setattr(safe_yaml, "_FAST", False)
    assert load() == fast


def test_fast_loader_reads_the_bundled_files_as_the_pure_python_one(monkeypatch):
    import koken.base.safe_yaml as safe_yaml
    from koken.base.paths import factors_dir, methodologies_dir

    files = sorted([*methodologies_dir().rglob("*.yaml"), *factors_dir().rglob("*.yaml")])
    fast = [load_yaml_file(f) for f in files]
    monkeypatch.setattr(safe_yaml, "_FAST", False)
    assert [load_yaml_file(f) for f in files] == fast


@pytest.mark.parametrize(("escape", "refused"), [("\\uD7FF", False), ("\\uD800", True), ("\\uDBFF", True),
                                                 ("\\uDC00", True), ("\\uDFFF", True), ("\\uE000", False)])
def test_an_unpaired_surrogate_anywhere_in_a_text_is_refused(escape, refused):
    text = f'a: "before {escape} after"\n'
    if refused:
        with pytest.raises(YamlError, match="unpaired surrogate"):
            load_yaml_text(text, "t.yaml")
    else:
        assert load_yaml_text(text, "t.yaml") == {"a": f"before {chr(int(escape[2:], 16))} after"}
