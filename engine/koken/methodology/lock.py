"""The version lock: released methodology versions and their content hashes.

``methodologies/versions.lock`` (YAML) maps each id to its released versions and their content
hashes. ``koken validate`` refuses a file whose version is in the lock with a different hash (the
content changed, so the version must be bumped) and warns about a version not in the lock yet;
``koken lock`` records the current versions (it adds entries and never rewrites a released one).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from koken.base.errors import KokenError, Location, MethodologyError
from koken.base.i18n import _
from koken.base.paths import display_path
from koken.base.safe_yaml import load_yaml_file
from koken.methodology.compile import Methodology

LOCK_NAME = "versions.lock"


def lock_path(root: str | Path) -> Path:
    """The lock file of a methodology folder (a file argument uses its library's root if present)."""
    p = Path(root)
    folder = p if p.is_dir() else p.parent.parent
    return folder / LOCK_NAME


def read_lock(path: Path) -> dict[str, dict[str, str]]:
    """id → {version: content hash}; an absent file is an empty lock."""
    if not path.exists():
        return {}
    data = load_yaml_file(path) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()) or not all(
            isinstance(h, str) and h.startswith("sha256:") for v in data.values() for h in v.values()):
        raise KokenError(_("the version lock must map ids to {{version: sha256:…}}; restore it from version control").format(),
                         Location(file=str(path)))
    return {str(k): {str(v): str(h) for v, h in versions.items()} for k, versions in data.items()}


def check_lock(library: Mapping[str, Methodology], path: Path,
               earlier: Mapping[str, Mapping[str, tuple[str, str]]] | None = None) -> tuple[list[KokenError], list[str]]:
    """Check methodologies against their folder's lock and the locks of the sources read before it.

    Args:
        library: methodologies by id.
        path: the folder's ``versions.lock`` (absent: an empty lock).
        earlier: id → version → (content hash, lock file) released by earlier sources (the bundled set's lock):
            a company copy of a released methodology must keep its content or take a new version.
    Returns:
        (errors: released versions whose content changed, or an unreadable lock; warnings: versions in no lock).
    """
    try:
        lock = read_lock(path)
    except KokenError as err:
        return [err], []
    errors: list[KokenError] = []
    warnings: list[str] = []
    for m in library.values():
        released = dict((earlier or {}).get(m.id, {}))  # version → (content hash, lock file)
        released.update({v: (h, display_path(path)) for v, h in lock.get(m.id, {}).items()})
        if m.version in released and released[m.version][0] != m.content_hash:
            content_hash, where = released[m.version]
            errors.append(MethodologyError(
                _("version {version} was released with content hash {released} ({lock}), but the file's content is "
                  "now {current}: bump the version (see koken diff)").format(
                    version=m.version, released=content_hash, lock=where, current=m.content_hash),
                Location(file=m.path, field="version")))
        elif m.version not in released:
            warnings.append(_("{path}: version {version} is not in {lock} yet (run `koken lock` when released)").format(
                path=m.path, version=m.version, lock=path.name))
    return errors, warnings


def write_lock(library: Mapping[str, Methodology], path: Path) -> int:
    """Add the current versions to the lock (released entries are kept as they are).

    Returns:
        The number of entries added.
    Raises:
        KokenError: a current version is already locked with another hash (bump it first).
    """
    from koken.base.files import atomic_write

    lock = read_lock(path)
    added = 0
    for m in sorted(library.values(), key=lambda m: m.id):
        versions = lock.setdefault(m.id, {})
        if m.version in versions and versions[m.version] != m.content_hash:
            raise KokenError(_("{id} {version} is already locked with another content hash: bump the version").format(
                id=m.id, version=m.version), Location(file=m.path))
        if m.version not in versions:
            versions[m.version] = m.content_hash
            added += 1
    header = "# " + _("Released methodology versions and their content hashes (koken lock). Do not edit by hand.") + "\n"
    atomic_write(path, (header + yaml.safe_dump(lock, sort_keys=True, allow_unicode=True)).encode("utf-8"))
    return added
