"""Where koken's data (methodologies/, factors/, attribution/, action_plan/, vocabulary/, claims/, units/) lives.

An installed wheel carries them inside the package as ``koken/_data/{methodologies,factors,attribution,action_plan,units}``
(see ``[tool.hatch.build.targets.wheel.force-include]`` in pyproject.toml); an editable install
or a checkout reads them from the repository root, two levels above the package (``engine/koken/``).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
"""The ``koken`` package folder."""


def data_root() -> Path:
    """Return the folder that holds ``methodologies/`` and ``units/``.

    Returns:
        ``koken/_data`` in an installed wheel, else the repository root.
    """
    bundled = _PACKAGE_DIR / "_data"
    if (bundled / "units").is_dir():
        return bundled
    return _PACKAGE_DIR.parent.parent


def methodologies_dir() -> Path:
    """The bundled methodology library folder (``methodologies/``)."""
    return data_root() / "methodologies"


def factors_dir() -> Path:
    """The bundled factor tables folder (``factors/``)."""
    return data_root() / "factors"


def action_plan_dir() -> Path:
    """The bundled action-plan data folder (``action_plan/``: energy carriers and the targets)."""
    return data_root() / "action_plan"


def vocabulary_dir() -> Path:
    """The folder of the field's vocabulary as data (``vocabulary/``: regions and their names)."""
    return data_root() / "vocabulary"


def gate_sets_dir() -> Path:
    """The folder of the shipped eligibility-gate sets (``claims/gates/``: WBCSD v2.0)."""
    return data_root() / "claims" / "gates"


def units_dir() -> Path:
    """The folder of koken's Pint definition files (``units/``)."""
    return data_root() / "units"


def display_path(path: str | Path) -> str:
    """A bundled file as ``methodologies/<category>/<id>.yaml`` (the same on every machine); others as given.

    >>> display_path(methodologies_dir() / "home_appliances" / "refrigerator.yaml")
    'methodologies/home_appliances/refrigerator.yaml'
    """
    p = Path(path)
    try:
        return str(p.resolve().relative_to(data_root().resolve()))
    except ValueError:
        return str(path)
