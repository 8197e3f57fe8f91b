"""Shared fixtures: the bundled methodology library and paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import load_folder

os.environ["KOKEN_LANG"] = "en"  # messages in English whatever the machine's locale (tests/base/test_i18n.py sets others)

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PORTFOLIO = REPO / "examples" / "portfolio_fy2023.csv"


@pytest.fixture(scope="session")
def library():
    lib, problems = load_folder(check_examples=False)
    assert not problems, problems
    return lib
