"""The ``koken`` command line: options parsed, one library call, output rendered.

``koken`` (the console script, :func:`run`) first offers its command to a running ``koken server``
(:mod:`koken.cli.client`); without one it runs the command group :data:`main` (:mod:`koken.cli.commands`) here.
"""

from __future__ import annotations

import sys

__all__ = ["main", "run"]


def run() -> None:
    """The ``koken`` console script: the command on the running server if there is one, else here."""
    from koken.cli.client import hand_over

    code = hand_over(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from koken.cli.commands import main as commands

    commands()


def __getattr__(name: str):
    if name == "main":  # the click group, imported on first use (``koken`` handed to a server never imports it)
        from koken.cli.commands import main

        return main
    raise AttributeError(f"module 'koken.cli' has no attribute {name!r}")
