"""Output files written whole or not at all: a temporary file beside the target, renamed into place.

koken never leaves a partial output file: a run with a problem, a full disk, Ctrl-C or SIGTERM
removes the temporary file and leaves the target as it was (docs/security.md).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from koken.base.errors import KokenError, Location
from koken.base.i18n import _


def umask() -> int:
    """The process's file-creation mask (read without changing it)."""
    current = os.umask(0o022)
    os.umask(current)
    return current


class TemporaryTarget:
    """A temporary file in ``path``'s folder that becomes ``path`` on :meth:`publish`.

    Attributes:
        path: the target.
        temporary: the temporary file (None before :meth:`open` and after :meth:`publish`/:meth:`discard`).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.temporary: Path | None = None

    def open(self, mode: str = "wb") -> BinaryIO:
        """Create the temporary file (``.koken-*.tmp``) and open it (text modes in UTF-8).

        Raises:
            KokenError: the folder does not exist or is not writable.
        """
        folder = self.path.parent if str(self.path.parent) else Path(".")
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX)
        except OSError as err:
            raise KokenError(_("cannot write here: {reason}").format(reason=err.strerror),
                             Location(file=str(self.path))) from None
        self.temporary = Path(tmp)
        return os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8")

    def publish(self) -> None:
        """Give the file the usual permissions (mkstemp makes 0600) and rename it onto the target.

        Raises:
            KokenError: the rename or chmod failed (the temporary file is removed).
        """
        try:
            os.chmod(self.temporary, 0o666 & ~umask())
            os.replace(self.temporary, self.path)
        except OSError as err:
            self.discard()
            raise KokenError(_("cannot write the file: {reason}").format(reason=err.strerror),
                             Location(file=str(self.path))) from None
        self.temporary = None

    def discard(self) -> None:
        """Remove the temporary file, if any (the target is left as it was)."""
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)
            self.temporary = None


TEMPORARY_PREFIX, TEMPORARY_SUFFIX = ".koken-", ".tmp"


def leftover_temporaries(path: str | Path) -> list[Path]:
    """The temporary files (``.koken-*.tmp``) in the folder ``path`` will be written to: left by a run that was killed
    outright (``kill -9``, a power loss: no handler runs), or being written by another run at this moment, which
    is why they are reported, never removed. Sorted by name; none when the folder cannot be listed."""
    folder = Path(path).parent if str(Path(path).parent) else Path(".")
    try:
        return sorted(p for p in folder.glob(f"{TEMPORARY_PREFIX}*{TEMPORARY_SUFFIX}") if p.is_file())
    except OSError:
        return []


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Raises:
        KokenError: the folder does not exist or is not writable, or the disk is full (nothing is left behind).
    """
    target = TemporaryTarget(path)
    try:
        with target.open("wb") as fh:
            fh.write(data)
        target.publish()
    except OSError as err:  # disk full, name too long, permission: nothing is left behind
        target.discard()
        raise KokenError(_("cannot write the file: {reason}").format(reason=err.strerror),
                         Location(file=str(target.path))) from None
    except BaseException:
        target.discard()
        raise
