"""README.md's tour: every bundled file a command names is in the repository (a renamed example breaks it)."""

import re

from helpers import ROOT


def tour_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## A short tour", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_every_example_file_the_tour_names_exists():
    named = {path for command in tour_commands() for path in re.findall(r"(?:examples|methodologies)/\S+", command)}
    assert any(p.startswith("examples/progress/") for p in named)
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"README's tour names files that are not in the repository: {missing}"
