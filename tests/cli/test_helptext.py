"""Command-line help in the chosen language (issue 14 §4): ``koken -h``, each command's ``-h``, click's own texts."""

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from koken.base.i18n import language
from koken.cli.commands import main
from koken.cli.helptext import language_in, wrap


@pytest.fixture
def help_of(monkeypatch):
    """The help koken prints for a command line, in the language the line and ``env`` choose (nothing chosen before
    it: ``--lang`` of an earlier test is undone; KOKEN_LANG=en as in every test unless ``env`` says otherwise)."""
    monkeypatch.setenv("KOKEN_LANG", "en")  # --lang sets it for Dask workers: restored after the test

    def run(*args, env=None):
        with language(None):
            result = CliRunner().invoke(main, list(args), env=env, prog_name="koken", catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    return run


def _squeezed(text: str) -> str:
    """The text without spaces and line breaks: a phrase is found wherever the help's lines were broken."""
    return "".join(text.split())


def _assert_set_in_columns(output: str, width: int = 80) -> None:
    """Every line fits an 80-column terminal (a Japanese character takes two columns), and none starts with a
    closing mark."""
    too_wide = [line for line in output.splitlines() if cell_len(line) > width]
    assert not too_wide, too_wide
    assert not [line for line in output.splitlines() if line.strip()[:1] in ("。", "、", "）", "：")]


def test_koken_lang_ja_help_lists_the_commands_in_japanese(help_of):
    output = help_of("--lang", "ja", "--help")
    assert output.startswith("使い方: koken [OPTIONS] COMMAND [ARGS]...")
    assert "koken：電気電子製品の削減貢献量を IEC 63372 に沿って算定します。" in output
    assert "\nオプション:\n" in output and "\nコマンド:\n" in output
    assert "このヘルプを表示して終了します。" in output and "バージョンを表示して終了します。" in output
    # a command's line is the first sentence of its Japanese help, without its asides and 。
    assert "  calculate      ポートフォリオの削減貢献量を計算します\n" in output
    assert "  report         行動計画の表を作ります\n" in output
    assert "Show this message" not in output and "Commands:" not in output
    _assert_set_in_columns(output)


def test_help_then_lang_ja_is_japanese_too(help_of):
    """click shows the help as soon as it meets --help, before reading --lang: the language is read first."""
    for args in (["report", "--help", "--lang", "ja"], ["report", "--lang", "ja", "--help"], ["report", "-h", "--lang=ja"]):
        output = help_of(*args)
        assert output.startswith("使い方: koken report [OPTIONS] [INPUTS]..."), args
        text = _squeezed(output)
        assert "行動計画の表（万t-CO2e、括弧内はデバイス寄与分）を作ります。" in text
        assert "報告年度です（結果に複数の年度があるとき）。" in text
        assert "[既定値：0;0<=x<=3]" in text  # --decimals: click's default and range notes
        assert "[既定値：on]" in text
        _assert_set_in_columns(output)


def test_koken_lang_environment_variable_gives_japanese_help(help_of):
    output = help_of("calculate", "--help", env={"KOKEN_LANG": "ja"})
    text = _squeezed(output)
    assert output.startswith("使い方: koken calculate [OPTIONS] PORTFOLIO")
    assert "ポートフォリオの削減貢献量を計算します。" in text
    assert "行ごとの結果をFILE（.csv、.json、.parquet、.xlsx）に書き出します。" in text
    assert "[既定値：250000;100<=x<=100000000]" in text
    assert "--installed-base YEAR" in output  # option names and metavars stay as typed
    _assert_set_in_columns(output)


def test_help_stays_english_in_english(help_of):
    output = help_of("report", "--help")
    assert output.startswith("Usage: koken report [OPTIONS] [INPUTS]...")
    assert "The action plan's table (万t-CO2e, device share in brackets)" in output
    assert "Options:" in output and "Show this message and exit." in output
    assert "[default:0;0<=x<=3]" in _squeezed(output)
    assert "使い方" not in output and "既定値" not in output
    group = help_of("--lang", "en", "-h", env={"KOKEN_LANG": "ja"})  # --lang overrides KOKEN_LANG
    assert "Commands:" in group and "Show the version and exit." in group and "コマンド" not in group


def test_the_language_is_read_from_the_command_line_before_click_parses_it():
    assert language_in(["report", "--help", "--lang", "ja"]) == "ja"
    assert language_in(["--lang=JA", "-h"]) == "ja"
    assert language_in(["--lang", "ja", "report", "--lang", "en"]) == "en"  # the last one, as click takes it
    assert language_in(["report", "--lang", "fr", "-h"]) is None  # click refuses it itself
    assert language_in(["trace", "x", "--", "--lang", "ja"]) is None  # after --: an argument, no option
    assert language_in(["report", "--lang"]) is None


def test_japanese_is_wrapped_by_terminal_columns_never_before_a_closing_mark():
    text = "同梱の方法論に加える方法論のファイルまたはフォルダです（繰り返し指定できます）。同じ id の方法論は置き換えます。"
    lines = wrap(text, 20)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost (spaces at breaks dropped)
    assert all(cell_len(line) <= 20 for line in lines)
    assert not [line for line in lines if line[0] in "。、）ー"]
    assert wrap("画面での 万t-CO2e の数値", 10) == ["画面での", "万t-CO2e", "の数値"]  # 万t-CO2e kept whole
    assert wrap("--engine dask のとき", 12) == ["--engine", "dask のとき"]


def test_the_installed_command_reads_lang_after_help_from_its_own_arguments():
    """Run as a program (sys.argv, not click's test runner): ``koken report --help --lang ja``."""
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "koken.cli.commands", "report", "--help", "--lang", "ja"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "KOKEN_LANG": "en"})
    assert proc.returncode == 0, proc.stderr
    assert "使い方:" in proc.stdout and "このヘルプを表示して終了します。" in proc.stdout
