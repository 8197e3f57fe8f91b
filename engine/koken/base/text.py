"""Text from input files, made safe to show: control characters (terminal escapes, NUL, line breaks) written as
``\\x..`` instead of being obeyed. Used by the console (``koken.cli.render``) and the Markdown exports."""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` with every control character except tab shown as ``\\xNN`` (C0, DEL and C1).

    >>> printable("A\\nB\\x1b[31m")
    'A\\\\x0aB\\\\x1b[31m'
    """
    return "".join(ch if ch in "\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160) else f"\\x{ord(ch):02x}"
                   for ch in text)
