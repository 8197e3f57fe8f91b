"""koken's version: the one place it is written (the base layer, so that every layer may record it)."""

__version__ = "0.1.0"
