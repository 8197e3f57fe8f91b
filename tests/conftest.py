"""Shared fixtures: the bundled methodology library and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import load_folder

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PORTFOLIO = REPO / "examples" / "portfolio_fy2023.csv"


@pytest.fixture(scope="session")
def library():
    lib, problems = load_folder(check_examples=False)
    assert not problems, problems
    return lib
