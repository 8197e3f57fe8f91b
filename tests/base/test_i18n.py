"""The catalogue is complete: every message of the code has its Japanese translation (docs/i18n.md)."""

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from koken.base import i18n
from koken.base.errors import KokenError, KokenErrors, Location
from koken.cli.helptext import english as english_help

REPO = Path(__file__).resolve().parents[2]
PO = REPO / "engine" / "koken" / "locale" / "ja" / "LC_MESSAGES" / "koken.po"


def _help_texts() -> dict[str, str]:
    """Every help text of the command line (commands' descriptions, options' help) → its command and option."""
    from koken.cli import main
    from koken.cli.helptext import help_texts

    found = {}
    for text, where in help_texts(main):
        found.setdefault(text, where)
    return found


def _code_messages() -> dict[str, str]:
    """Every _() and N_() text of the package, and every help text of the command line → where it is."""
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(REPO / "engine" / "koken"), method_map=[("**.py", "python")], keywords={"_": None, "N_": None}):
        found.setdefault(message, filename)
    for text, where in _help_texts().items():
        found.setdefault(text, where)
    return found


def _catalogue():
    with open(PO, "rb") as f:
        return read_po(f)


def _placeholders(text: str) -> set[str]:
    return {f"{name}!{conv}" if conv else name
            for _lit, name, _spec, conv in string.Formatter().parse(text) if name is not None}


def test_every_message_of_the_code_has_a_japanese_translation():
    catalogue = _catalogue()
    missing = [f"{where}: {msgid!r}" for msgid, where in sorted(_code_messages().items())
               if not (catalogue.get(msgid) and catalogue.get(msgid).string and not catalogue.get(msgid).fuzzy)]
    assert not missing, "messages without a Japanese translation (run tools/messages, fill koken.po):\n" + \
        "\n".join(missing)


def test_every_help_text_of_the_command_line_has_a_japanese_translation():
    """``koken -h`` and each command's ``-h`` in Japanese: the command tree's texts are no _() calls, so the tree
    itself is walked (tools/messages puts them into koken.po the same way)."""
    texts = _help_texts()
    # the walk reaches the group, every command and their options (a walk that finds nothing would pass)
    assert texts[english_help("The reporting year, when the results hold several.")] == "koken report --fiscal-year"
    assert {where.split()[1] for where in texts.values() if " " in where} >= {"calculate", "report", "template",
                                                                              "verify", "factors", "trace"}
    assert any(where == "koken" for where in texts.values())
    catalogue = _catalogue()
    missing = [f"{where}: {text!r}" for text, where in sorted(texts.items())
               if not (catalogue.get(text) and catalogue.get(text).string and not catalogue.get(text).fuzzy)]
    assert not missing, "help texts without a Japanese translation (run tools/messages, fill koken.po):\n" + \
        "\n".join(missing)


def test_the_catalogue_holds_no_message_the_code_no_longer_has():
    code = _code_messages()
    stale = [m.id for m in _catalogue() if m.id and m.id not in code]
    assert not stale, f"koken.po translates texts gone from the code (run tools/messages): {stale}"


def test_a_translation_keeps_the_placeholders_of_its_english_text():
    wrong = [(m.id, m.string) for m in _catalogue() if m.id and _placeholders(m.id) != _placeholders(m.string)]
    assert not wrong, wrong


def test_the_compiled_catalogue_is_the_po_file():
    i18n._catalogues.clear()  # read the .mo afresh
    translations = i18n.catalogue("ja")
    stale = [m.id for m in _catalogue() if m.id and translations.gettext(m.id) != m.string]
    assert not stale, f"koken.mo is older than koken.po (run tools/messages): {stale[:5]}"


_PREDICATE = re.compile(r"(です|ます|ません|ました|ください|でした)")
_NOT_SENTENCES = {"not reported"}
"""Labels whose Japanese is a predicate (a table cell: 示していません), not a sentence."""


def _outside_brackets(text: str) -> str:
    """``text`` without its {placeholders} and its （asides）, nested ones too."""
    text = re.sub(r"\{[^{}]*\}", "", text)
    while True:
        shorter = re.sub(r"（[^（）]*）", "", text)
        if shorter == text:
            return text
        text = shorter


def test_every_japanese_sentence_ends_with_a_full_stop():
    """A Japanese message that is a sentence — a polite predicate (です, ます, ません, ました, ください) outside its
    （asides） and {placeholders} — ends with 。 (or ？), the way Japanese is written; asides close inside it
    (…です（…）。). Allowed otherwise: a lead-in to a list (…見つかりました：) and a sentence followed by a value after
    a colon (ファイルを読めません：{reason}; the value may be a sentence of its own). Labels, headings and table
    cells (単年度, 地域) are no sentences and take no 。. English messages end without a full stop."""
    unfinished = []
    for m in _catalogue():
        text = m.string
        if not m.id or m.id in _NOT_SENTENCES or not _PREDICATE.search(_outside_brackets(text)):
            continue
        value = re.search(r"(です|ます|ません|ました|ください|でした)[：:]\s?(?P<tail>[^：:]*)$", text)
        if text.endswith(("。", "？", ":", "：")) or (value and not _PREDICATE.search(_outside_brackets(value["tail"]))):
            continue
        unfinished.append(text)
    assert not unfinished, "Japanese sentences without 。 (koken.po):\n" + "\n".join(unfinished)


def test_a_problem_reads_as_a_finished_japanese_sentence(tmp_path):
    from koken.base.i18n import language
    from koken.base.units import parse_unit

    with language("ja"):
        with pytest.raises(KokenError) as info:
            parse_unit("")
    assert str(info.value).endswith("。")


def test_no_module_that_translates_rebinds_the_translating_name():
    """``for _, x in ...`` or ``x, _ = ...`` in a module that calls ``_()`` would shadow gettext's function
    (an UnboundLocalError, or the translation silently replaced)."""
    import ast

    found = []
    for path in sorted((REPO / "engine" / "koken").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = any(isinstance(n, ast.ImportFrom) and n.module == "koken.base.i18n" and
                      any(a.name == "_" for a in n.names) for n in ast.walk(tree))
        if imports:
            found += [f"{path.relative_to(REPO)}:{n.lineno}" for n in ast.walk(tree)
                      if isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)]
    assert not found, f"'_' rebound where it translates: {found}"


def test_location_and_problem_count_read_in_the_chosen_language():
    where = Location(file="a.csv", row=5, column="出荷台数")
    with i18n.language("ja"):
        assert str(where) == "a.csv, 5行目, 列 '出荷台数'"
        assert str(KokenErrors([KokenError("x", where)])).startswith("1 件の問題")
    with i18n.language("en"):
        assert str(where) == "a.csv, row 5, column '出荷台数'"


@pytest.mark.parametrize(("environment", "expected"), [
    ({"KOKEN_LANG": "ja"}, "ja"), ({"KOKEN_LANG": "en", "LANG": "ja_JP.UTF-8"}, "en"),
    ({"LANG": "ja_JP.UTF-8"}, "ja"), ({"LC_ALL": "C.UTF-8", "LANG": "ja_JP.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8"}, "en"), ({}, "en"), ({"KOKEN_LANG": "fr"}, "en"), ({"KOKEN_LANG": "jp"}, "ja"),
    ({"KOKEN_LANG": "JA"}, "ja"), ({"LANGUAGE": "ja:en", "LANG": "C.UTF-8"}, "ja"),
])
def test_the_language_comes_from_koken_lang_then_the_locale(monkeypatch, environment, expected):
    for name in ("KOKEN_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with i18n.language(None):
        assert i18n.current_language() == expected


def test_an_unknown_language_is_refused_by_name():
    with pytest.raises(ValueError, match="en, ja"):
        i18n.set_language("fr")


def _units_of_emissions(text: str) -> list[str]:
    """The units of a mass of greenhouse gas a text names, in order: ``t-CO2e`` (CO2 equivalent, every gas
    weighted by its GWP) apart from ``t-CO2`` (carbon dioxide alone), with their multiplier (万t-CO2e) and
    prefix (kg-CO2e); a factor per kWh (``kg-CO2/kWh``) counts as its mass unit."""
    return re.findall(r"(?:[万千億]|\b[kMG]?)t-CO2e?(?![A-Za-z0-9])|\bkg-CO2e?(?![A-Za-z0-9])", text)


def test_a_translation_names_co2e_where_its_english_text_does_and_co2_where_it_does():
    """An emissions figure in CO2 equivalent is t-CO2e (or 万t-CO2e) in both languages, CO2 alone t-CO2 in both:
    the new user's Japanese report said 単位：万t-CO2 where the English said 万t-CO2e."""
    assert _units_of_emissions("単位：万t-CO2e（1万t = 10,000 t-CO2e）、0.421 kg-CO2/kWh、CO2 (t-CO2)") == [
        "万t-CO2e", "t-CO2e", "kg-CO2", "t-CO2"]
    wrong = [(m.id, m.string) for m in _catalogue()
             if m.id and m.string and _units_of_emissions(m.id) != _units_of_emissions(m.string)]
    assert not wrong, wrong
