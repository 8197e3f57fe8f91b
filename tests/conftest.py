"""Shared fixtures: the bundled methodology library and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from koken.methodology.compile import load_library

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PORTFOLIO = REPO / "examples" / "portfolio_fy2023.csv"


@pytest.fixture(scope="session")
def library():
    lib, problems = load_library(check_examples=False)
    assert not problems, problems
    return lib
