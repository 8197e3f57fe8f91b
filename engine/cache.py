"""A small on-disk cache of plain JSON data, keyed by content hashes (start-up speed only).

Two things are cached, never code:

* the parsed YAML of a methodology or data file, keyed by the sha256 of the file's bytes and koken's
  version (parsing YAML is the slowest part of loading the library);
* that a compiled methodology passed its worked examples, keyed by its content hash and koken's version.

A cached document goes through the same schema validation and compilation as a freshly parsed one, and
results record every methodology's content hash, so a tampered entry cannot pass unnoticed: it changes
the content hash, which the version lock refuses for a released version. Entries are JSON read with
``json.loads`` (no pickle, nothing executed).

Where: ``$KOKEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/koken``, else ``~/.cache/koken``. ``KOKEN_CACHE=off``
turns it off. A folder that is not the user's own or that others may write to is not used; a missing,
unreadable or corrupt entry is simply a miss, and a folder that cannot be written leaves the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine import __version__

_MISS = object()


@lru_cache(maxsize=None)
def cache_dir() -> Path | None:
    """The cache folder (created private), or None when the cache is off or the folder is unsafe."""
    if os.environ.get("KOKEN_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    root = os.environ.get("KOKEN_CACHE_DIR")
    if root:
        folder = Path(root)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "koken"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return None
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
        return None  # someone else could write entries here
    return folder


def _path(kind: str, key: str) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256(f"{__version__}\0{kind}\0{key}".encode()).hexdigest()
    return folder / f"{kind}-{digest}.json"


def get(kind: str, key: str) -> Any:
    """The cached value, or :data:`MISS`."""
    path = _path(kind, key)
    if path is None:
        return _MISS
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return _MISS


def put(kind: str, key: str, value: Any) -> None:
    """Store ``value`` (plain JSON data) if it survives a JSON round trip unchanged; errors are ignored."""
    path = _path(kind, key)
    if path is None:
        return
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        if json.loads(text) != value:
            return  # not plain JSON data (non-text keys, dates): not cached
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".koken-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except (OSError, ValueError, TypeError):
        try:
            Path(tmp).unlink(missing_ok=True)  # type: ignore[possibly-undefined]
        except (NameError, OSError):
            pass


MISS = _MISS
"""Returned by :func:`get` when there is no usable entry."""
