"""docs/tutorial.md and docs/tutorial.ja.md: every command runs as written, in a fresh folder, and every
output line a page quotes is what koken prints."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT

PAGES = {"en": ROOT / "docs" / "tutorial.md", "ja": ROOT / "docs" / "tutorial.ja.md"}
TEMPLATE_STEP = "<!-- tutorial: template step -->"
"""Where the `koken template` step begins."""
JAPANESE = " --lang ja"
"""The Japanese page runs each command in Japanese; otherwise the commands are the English page's."""

_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def steps(language: str) -> list[tuple[list[str], list[str]]]:
    """Each ``sh`` block's lines, with the lines of the ``text`` blocks that follow it (its quoted output)."""
    out: list[tuple[list[str], list[str]]] = []
    for kind, body in _FENCE.findall(PAGES[language].read_text(encoding="utf-8")):
        lines = [line for line in body.splitlines() if line.strip()]
        if kind == "sh":
            out.append((lines, []))
        elif kind == "text":
            assert out, f"tutorial ({language}) quotes output before any command"
            out[-1][1].extend(lines)
    return out


def readme_setup_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Set up and run", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return block.strip()


def test_both_languages_give_the_same_commands_and_mark_the_template_step():
    commands = {lang: [c.replace(JAPANESE, "") for cmds, _ in steps(lang) for c in cmds] for lang in PAGES}
    assert commands["en"] == commands["ja"]
    assert all(JAPANESE in c for cmds, _ in steps("ja") for c in cmds if c.startswith("koken "))
    subcommands = {c.split()[1] for c in commands["en"] if c.startswith("koken ")}
    assert {"template", "calculate", "report", "trace", "verify"} <= subcommands, subcommands
    assert any(c.startswith("koken report ") and c.endswith(".html") for c in commands["en"])   # the HTML report
    for lang, page in PAGES.items():
        assert page.read_text(encoding="utf-8").count(TEMPLATE_STEP) == 1, f"tutorial ({lang}): one {TEMPLATE_STEP}"


@pytest.mark.parametrize("language", PAGES)
def test_every_command_runs_as_written_and_prints_what_the_pages_quote(tmp_path, language):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}",
           "COLUMNS": "200"}
    setup = readme_setup_command()
    outputs = []
    for commands, _ in steps(language):
        printed = ""
        for command in commands:
            if command == setup:  # the install line is README's set-up command (CI runs its twin, the test command)
                continue
            assert command.startswith("koken "), f"the tutorial's commands are koken's or README's set-up: {command}"
            run = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                                 timeout=600)
            assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"
            printed += run.stdout + run.stderr
        outputs.append(printed)
    assert {"template.xlsx", "results.xlsx", "result.json", "report.xlsx", "report.md", "report.html"} <= {
        p.name for p in tmp_path.iterdir()}
    page = (tmp_path / "report.html").read_text(encoding="utf-8")          # the HTML step: a page in the tutorial's
    assert f'<html lang="{language}">' in page and "<svg" in page           # language, with its charts
    for (commands, quoted), printed in zip(steps(language), outputs):
        for line in quoted:
            assert line.strip() in printed, f"tutorial ({language}) quotes {line!r}, but {commands} print:\n{printed}"


@pytest.mark.parametrize("language", PAGES)
def test_quoted_output_is_checked(language):
    """The check above is not empty: each page quotes the total of the year and the verification."""
    quoted = [line for _, lines in steps(language) for line in lines]
    total, stands = {"en": ("FY2023 total single-year", "every figure reproduces"),
                     "ja": ("2023年度の合計　単年度", "すべての数値が一致します")}[language]
    assert any(total in line for line in quoted) and any(stands in line for line in quoted)
