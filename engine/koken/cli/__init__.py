"""The ``koken`` command line: options parsed, one library call, output rendered."""

from koken.cli.commands import main

__all__ = ["main"]
