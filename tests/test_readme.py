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


def test_the_tours_version_bump_matches_the_bundled_file():
    """The tour copies a methodology with its version bumped (then `koken diff` shows the change): the sed pattern
    must match the bundled file's version line, or the copy is identical and the diff says "no change"."""
    block = "\n".join(tour_commands()).replace("\\\n", " ")
    bumps = re.findall(r"sed 's/\^version: ([0-9.]+)/version: ([0-9.]+)/'\s+(\S+)", block)
    assert bumps, "the tour no longer bumps a version"
    for old, new, path in bumps:
        assert f"\nversion: {old}\n" in (ROOT / path).read_text(encoding="utf-8"), (path, old)
        assert old != new
