"""A cache on disk of what is slow to recompute and safe to keep: a methodology file's parsed YAML document, and
that its worked examples passed (issue 17 §4; docs/security.md § The start-up cache).

Where: ``$KOKEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/koken``, else ``~/.cache/koken``; ``KOKEN_NO_CACHE=1`` turns it
off, and ``koken validate`` never reads it (it does the full work).

What keeps a cache entry from changing a result:

* an entry is found by a key that is the sha256 of what it was computed from (the file's bytes, the engine's
  version and source, the unit and factor files' hashes, ...): a changed file, engine or table is another key, so
  a stale entry is never read;
* the entry repeats its kind and key, and holds the sha256 of its payload: an entry copied under another name, cut
  short or edited by hand without recomputing the hash is ignored;
* the cache folder must belong to the user and be writable by no one else (POSIX); otherwise it is neither read
  nor written;
* nothing in it is code: JSON only, read with :func:`json.loads` into plain data (no pickle); formulas are parsed
  again through the whitelist parser and compiled on every run, and the content hash a result or the version lock
  records is computed from what is evaluated, so an entry that does not match a released version is refused
  there (the library then reads the file again without the cache);
* every failure (unreadable, malformed, mismatching, a folder that cannot be written) is silent: the work is
  redone, never an error.

Writes are atomic (a temporary file in the same folder, then :func:`os.replace`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
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
_refresh = 0


@contextlib.contextmanager
def bypassed() -> Iterator[None]:
    """Within the block the cache is neither read nor written (``koken validate`` does the full work)."""
    global _bypass
    _bypass += 1
    try:
        yield
    finally:
        _bypass -= 1


@contextlib.contextmanager
def refreshed() -> Iterator[None]:
    """Within the block the cache is not read, and what is computed is written (a file whose cached reading the
    version lock refused is read again from its bytes, and its entries replaced)."""
    global _refresh
    _refresh += 1
    try:
        yield
    finally:
        _refresh -= 1


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


def in_use() -> bool:
    """Entries may be read now (the cache is on, its folder safe, and not being refreshed)."""
    return not _refresh and cache_dir() is not None


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
    if root is None or _refresh:
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


def encode(value: Any) -> Any:
    """Plain YAML data (dict, list, str, int, float, bool, None, date, datetime) as JSON that :func:`decode` turns
    back into exactly the same values and types: a mapping is ``{"m": [[key, value], ...]}`` (keys of any scalar
    type, in order), a date ``{"d": "2024-04-01"}``, a datetime ``{"t": ...}``.

    Raises:
        TypeError: a value of another type (the document is then not cached).
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"m": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    raise TypeError(type(value).__name__)


def decode(value: Any) -> Any:
    """The values :func:`encode` encoded.

    Raises:
        ValueError, TypeError: not something :func:`encode` writes.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        (tag, inner), = value.items()
        if tag == "m" and isinstance(inner, list):
            out = {}
            for pair in inner:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise ValueError("pair")
                key = decode(pair[0])
                if isinstance(key, (list, dict)) or key in out:
                    raise ValueError("key")
                out[key] = decode(pair[1])
            return out
        if tag == "t" and isinstance(inner, str):
            return dt.datetime.fromisoformat(inner)
        if tag == "d" and isinstance(inner, str):
            return dt.date.fromisoformat(inner)
    raise ValueError("not an encoded value")
