"""A cache on disk of what is slow to recompute and cheap to check: that a methodology's worked examples passed
(issue 17 §4; docs/performance.md § Start-up, docs/security.md).

Where: ``$KOKEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/koken``, else ``~/.cache/koken``; ``KOKEN_NO_CACHE=1`` turns it
off, and ``koken validate`` and ``koken lock`` never read it (they do the full work).

What keeps a cache entry from changing a result:

* nothing in it is a formula, a unit or a number: every run reads, parses and compiles each methodology file from
  its bytes; an entry only says "the worked examples of the methodology whose content hash is H passed", and H is
  the hash of what was just compiled (the entry repeats it and is used only when it is equal), so a planted entry
  can at most skip re-running the examples of a formula that is read from its own file;
* an entry is found by a key that is the sha256 of what it was computed from (the content hash, the file's
  path, the engine's version and source, the unit and factor files' hashes): a changed file, engine or table is
  another key, so a stale entry is never read;
* the entry repeats its kind and key, and holds the sha256 of its payload: an entry copied under another name, cut
  short or edited by hand without recomputing the hash is ignored;
* the cache folder must belong to the user and be writable by no one else (POSIX); otherwise it is neither read
  nor written;
* JSON only, read with :func:`json.loads` into plain data (no pickle);
* every failure (unreadable, malformed, mismatching, a folder that cannot be written) is silent: the work is
  redone, never an error.

Writes are atomic (a temporary file in the same folder, then :func:`os.replace`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from koken.base.version import __version__

DIR_VARIABLE = "KOKEN_CACHE_DIR"
OFF_VARIABLE = "KOKEN_NO_CACHE"
FORMAT = 1
MAX_ENTRY_BYTES = 8_000_000

_bypass = 0


@contextlib.contextmanager
def bypassed() -> Iterator[None]:
    """Within the block the cache is neither read nor written (``koken validate`` does the full work)."""
    global _bypass
    _bypass += 1
    try:
        yield
    finally:
        _bypass -= 1


def cache_dir() -> Path | None:
    """The cache folder (created private if missing), or None when the cache is off or the folder is not safe."""
    if _bypass or os.environ.get(OFF_VARIABLE, "").strip() not in ("", "0"):
        return None
    given = os.environ.get(DIR_VARIABLE)
    if given:
        root = Path(given)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache") / "koken"
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        return root if _private(root) else None
    except (OSError, RuntimeError):
        return None


def _private(path: Path) -> bool:
    """A real folder (not a link), the user's own, writable by no one else (always true where POSIX owners do not
    apply)."""
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        return False
    if not hasattr(os, "getuid"):
        return True
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


_ENGINE: str | None = None


def engine_key() -> str:
    """The engine's version and a sha256 of its source files (a changed evaluator or parser is another key even at
    the same version number)."""
    global _ENGINE
    if _ENGINE is None:
        digest = hashlib.sha256(__version__.encode())
        package = Path(__file__).resolve().parent.parent
        for path in sorted(package.rglob("*.py")):
            digest.update(str(path.relative_to(package)).encode() + b"\0")
            digest.update(path.read_bytes())
        _ENGINE = f"{__version__}+{digest.hexdigest()[:32]}"
    return _ENGINE


def key_of(*parts: object) -> str:
    """The sha256 of the parts' canonical JSON, the engine key among them."""
    text = json.dumps([engine_key(), *parts], sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _entry_path(root: Path, kind: str, key: str) -> Path:
    return root / kind / key[:2] / f"{key}.json"


def read(kind: str, key: str) -> Any | None:
    """The payload stored for ``kind`` and ``key``, or None (no cache, no entry, or an entry that does not check)."""
    root = cache_dir()
    if root is None:
        return None
    try:
        path = _entry_path(root, kind, key)
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
            return None
        if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
            return None
        entry = json.loads(path.read_bytes())
        if not (isinstance(entry, dict) and entry.get("format") == FORMAT and entry.get("kind") == kind
                and entry.get("key") == key and entry.get("engine") == engine_key()):
            return None
        payload = entry.get("payload")
        if entry.get("sha256") != _payload_hash(payload):
            return None
        return payload
    except (OSError, ValueError, TypeError, RecursionError):
        return None


def write(kind: str, key: str, payload: Any) -> None:
    """Store ``payload`` (plain JSON data) atomically; any failure leaves the cache as it was, silently."""
    root = cache_dir()
    if root is None:
        return
    try:
        entry = {"format": FORMAT, "kind": kind, "key": key, "engine": engine_key(), "sha256": _payload_hash(payload),
                 "payload": payload}
        data = json.dumps(entry, ensure_ascii=False, allow_nan=True).encode()
        if len(data) > MAX_ENTRY_BYTES:
            return
        path = _entry_path(root, kind, key)
        for folder in (path.parent.parent, path.parent):
            folder.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except (OSError, ValueError, TypeError, RecursionError):
        return


def _payload_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=True, allow_nan=True).encode()).hexdigest()
