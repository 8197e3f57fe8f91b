"""The examples in koken's docstrings run as written (unit parsing, the formula parser, the public API)."""

import doctest
import importlib
import pkgutil

import pytest

import koken

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(koken.__path__, "koken."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples fail in {name}"


def test_the_unit_and_formula_modules_have_examples():
    """The units and the formula parser are documented by examples that run (issue 11)."""
    finder = doctest.DocTestFinder()
    for name in ("koken.base.units", "koken.formula.parse"):
        examples = sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
        assert examples >= 3, f"{name} has {examples} docstring examples"
