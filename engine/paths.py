"""Where koken's data (methodologies/, factors/, units/) lives.

An installed wheel carries them inside the package as ``engine/_data/{methodologies,factors,units}``
(see ``[tool.hatch.build.targets.wheel.force-include]`` in pyproject.toml); an editable install
or a checkout reads them from the repository root, next to ``engine/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_root() -> Path:
    """Return the folder that holds ``methodologies/`` and ``units/``.

    Returns:
        ``engine/_data`` in an installed wheel, else the repository root.
    """
    bundled = _PACKAGE_DIR / "_data"
    if (bundled / "units").is_dir():
        return bundled
    return _PACKAGE_DIR.parent


def methodologies_dir() -> Path:
    """The bundled methodology library folder (``methodologies/``)."""
    return data_root() / "methodologies"


def factors_dir() -> Path:
    """The bundled factor tables folder (``factors/``)."""
    return data_root() / "factors"


def units_dir() -> Path:
    """The folder of koken's Pint definition files (``units/``)."""
    return data_root() / "units"
