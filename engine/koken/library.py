"""The methodology library: the bundled methodologies, a company's or working group's own files added
to them, the factor tables they read and the device ratio files, checked as ``koken validate`` checks.

Policy lives here, not in the command line, so that ``import koken`` and ``koken …`` apply the same
checks:

* every file passes the format, unit and formula checks (:mod:`koken.methodology.compile`);
* its worked examples and property checks reproduce (:mod:`koken.examples`): a methodology that fails
  its own examples is not used;
* a released version whose content changed is refused (the ``versions.lock`` of the folder the file
  came from, :mod:`koken.methodology.lock`);
* two files with one id in one folder are an error; a file added later (``Library.add``,
  ``--methodologies DIR``) replaces a methodology of the same id from an earlier source, with a notice.

Sources of the rules: IEC 63372:2026 (a methodology states its baseline, functional unit and data,
and is reproducible), the WBCSD Guidance on Avoided Emissions (2023, version control of methods).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from koken.attribution import RatioFile, load_ratio_file
from koken.base import cache
from koken.base.errors import KokenError, KokenErrors, Location, MethodologyError, gather
from koken.base.i18n import _
from koken.base.paths import display_path, methodologies_dir
from koken.examples import check_examples as run_examples
from koken.factors import FactorTable, load_factor_tables
from koken.methodology import Methodology, read_methodology
from koken.methodology.compile import definitions_key, read_specification
from koken.methodology.lock import check_lock, lock_path, read_lock, write_lock
from koken.methodology.schema import MethodologySpec

BUNDLED = "bundled"
"""How the shipped methodology folder is named in results and notices."""


def find_methodology_files(root: str | Path) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` file under ``root`` (or ``root`` itself if it is a file), sorted.

    The lock file ``versions.lock`` is not a methodology and is never listed.
    """
    p = Path(root)
    if p.is_file():
        return [p]
    return sorted(f for f in p.rglob("*") if f.suffix.lower() in (".yaml", ".yml") and f.is_file())


_EXAMPLES_PASSED: dict[int, Methodology] = {}
"""This process's methodologies whose worked examples passed (by object: the compile memo returns the
same object for the same bytes, units and factor tables; the reference keeps the id from being reused)."""


def load_methodology(path: str | Path, check_examples: bool = True, check_location: bool = True,
                     categories: Mapping[str, Methodology] | None = None) -> Methodology:
    """Read, validate and compile one methodology file, and run its worked examples and checks.

    Args:
        path: ``methodologies/<category>/<id>.yaml`` (or any path with ``check_location=False``).
        check_examples: run the file's ``examples`` and ``checks`` (once per process for the same file).
        check_location: require ``<category>/<id>.yaml``.
        categories: category methodologies a product file may extend, by id (default: the bundled ones).
    Returns:
        Methodology.
    Raises:
        KokenErrors: every problem of the file, each naming file, field or step and what was expected.
    """
    if categories is None:
        categories = bundled_categories()
    m = read_methodology(path, check_location=check_location, categories=categories)
    if check_examples and id(m) not in _EXAMPLES_PASSED:
        key = cache.key_of("examples", m.content_hash, m.path, definitions_key())
        if cache.read("examples", key) != {"passed": m.content_hash}:  # failures are never cached: they are reported
            problems = run_examples(m)
            if problems:
                raise KokenErrors(problems)
            cache.write("examples", key, {"passed": m.content_hash})
        _EXAMPLES_PASSED[id(m)] = m
    return m


def is_category_file(path: Path) -> bool:
    """A category methodology's file: ``<category>/<category>.yaml`` (read before the products that extend it)."""
    return path.stem == path.parent.name


def bundled_categories() -> dict[str, Methodology]:
    """The bundled category methodologies by id (what a product file extends unless told otherwise); one that cannot
    be read (a broken factor table it uses) is left out here: its problems are reported where the bundled folder is
    read, and a product extending it is refused naming it."""
    found: dict[str, Methodology] = {}
    for path in find_methodology_files(methodologies_dir()):
        if is_category_file(path):
            try:
                m = read_methodology(path)
            except KokenErrors:
                continue
            found[m.id] = m
    return found


class Deferred:
    """A methodology file read as far as its specification (format, category merged, id unique), compiled and
    checked when first used (``load_library(lazy=True)``; docs/performance.md § Start-up).

    :meth:`compile` does what ``koken validate`` does to one file: units, formulas and references
    (:func:`koken.methodology.read_methodology`), its worked examples (:func:`load_methodology`, the start-up
    cache), and the version lock of its folder and of the sources read before it (:func:`check_lock`).

    Attributes:
        path: the file.
        spec: its specification (a product's merged with its category).
        extends: the category it extends, or None.
    """

    def __init__(self, path: Path, spec: MethodologySpec, extends: str | None,
                 categories: Mapping[str, Methodology | Deferred | None], lock: Path,
                 released: Mapping[str, Mapping[str, tuple[str, str]]] | None, check_examples: bool):
        self.file, self.spec, self.extends = path, spec, extends
        self._categories, self._lock, self._released = categories, lock, released
        self._check_examples = check_examples
        self._compiled: Methodology | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def path(self) -> str:
        """As a compiled methodology records it (:func:`koken.base.paths.display_path`)."""
        return display_path(self.file)

    def compile(self) -> Methodology:
        """The compiled methodology (compiled once).

        Raises:
            KokenErrors: every problem of the file (its category's, if that cannot be compiled): units, formulas,
                references, worked examples, a released version whose content changed.
        """
        if self._compiled is None:
            base = self._categories.get(self.extends) if self.extends is not None else None
            if isinstance(base, Deferred):
                base = base.compile()
            categories = {self.extends: base} if self.extends is not None else {}
            problems: list[KokenError] = []
            m = gather(lambda p: read_methodology(p, categories=categories), self.file, problems)
            if m is not None:
                lock_errors, _warnings = check_lock({m.id: m}, self._lock, self._released)
                if self._check_examples:
                    gather(lambda p: load_methodology(p, categories=categories), self.file, problems)
                problems.extend(lock_errors)
            if problems:
                raise KokenErrors(problems)
            self._compiled = m
        return self._compiled


def _compiled(m: Methodology | Deferred) -> Methodology:
    return m.compile() if isinstance(m, Deferred) else m


@dataclass(frozen=True)
class LibrarySource:
    """One folder (or file) the library read, and what it gave."""

    path: str
    """As shown in results: ``bundled`` for the shipped folder, else the path as given."""
    ids: tuple[str, ...]


@dataclass
class LibraryScan:
    """What reading methodology sources found: the usable library and every problem and warning.

    Attributes:
        library: the methodologies that passed every check.
        problems: every problem of every file (format, units, formulas, examples, lock, duplicate ids).
        warnings: findings that do not stop a file (numeric literals, versions not yet locked).
        files: every file read.
    """

    library: Library
    problems: list[KokenError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


class Library(Mapping[str, Methodology]):
    """Methodologies by id, with the factor tables and device ratio files they are used with.

    A ``Library`` is a read-only mapping ``id → Methodology`` (``lib["refrigerator"]``, ``"server" in lib``,
    ``len(lib)``); :meth:`add` brings in more files. A library loaded with ``lazy=True`` holds every file's
    specification (:attr:`specs`) and compiles a methodology when it is first looked up (``lib[id]``,
    ``lib.values()``): the lookup then raises :class:`KokenErrors` for that file's problems.

    Attributes:
        sources: the folders or files read, in order (a later one overrides an earlier one's ids).
        notices: one line per methodology replaced by a later source.
        warnings: findings that do not stop a file (numeric literals in formulas, versions not locked).
        factor_tables: the shared factor tables (``factors/``) by id.
    """

    def __init__(self, methodologies: Mapping[str, Methodology | Deferred] | None = None,
                 sources: Iterable[LibrarySource] = (), notices: Iterable[str] = (), warnings: Iterable[str] = ()):
        self._methodologies: dict[str, Methodology | Deferred] = dict(methodologies or {})
        self.sources: list[LibrarySource] = list(sources)
        self.notices: list[str] = list(notices)
        self.warnings: list[str] = list(warnings)
        self.factor_tables: dict[str, FactorTable] = load_factor_tables()[0]
        self._ratios: RatioFile | None = None
        self._released: dict[str, dict[str, tuple[str, str]]] = {}  # versions the sources' locks released

    def __getitem__(self, methodology_id: str) -> Methodology:
        try:
            m = self._methodologies[methodology_id]
        except KeyError:
            import difflib

            hint = difflib.get_close_matches(methodology_id, list(self._methodologies), n=1)
            if hint:
                raise KeyError(_("no methodology {id!r}; did you mean {hint!r}?").format(id=methodology_id, hint=hint[0])
                               ) from None
            raise KeyError(_("no methodology {id!r}").format(id=methodology_id)) from None
        if isinstance(m, Deferred):
            m = self._methodologies[methodology_id] = m.compile()
        return m

    def __contains__(self, methodology_id: object) -> bool:
        return methodology_id in self._methodologies  # without compiling a deferred methodology

    def __iter__(self) -> Iterator[str]:
        return iter(self._methodologies)

    def __len__(self) -> int:
        return len(self._methodologies)

    def __repr__(self) -> str:
        return f"<koken.Library of {len(self)} methodologies from {', '.join(s.path for s in self.sources) or 'nothing'}>"

    @property
    def description(self) -> str:
        """The sources as recorded in results: ``bundled``, ``bundled + my/methodologies``, or a path."""
        return " + ".join(s.path for s in self.sources) or "none"

    @property
    def specs(self) -> dict[str, MethodologySpec]:
        """Every methodology's specification by id (a product's merged with its category), compiled or not: the
        names, parameters and units a portfolio's columns are read with."""
        return {mid: m.spec for mid, m in self._methodologies.items()}

    @property
    def categories(self) -> dict[str, Methodology]:
        """The category methodologies (``kind: category``) by id: what product files added later may extend."""
        return {mid: self[mid] for mid in self._category_ids()}

    def _category_ids(self) -> list[str]:
        return [mid for mid, m in self._methodologies.items() if m.spec.kind == "category"]

    @property
    def ratios(self) -> RatioFile:
        """The shipped device contribution-ratio file (loaded on first use)."""
        if self._ratios is None:
            self._ratios = load_ratio_file(None)
        return self._ratios

    def add(self, path: str | Path, check_examples: bool = True) -> Library:
        """Add a methodology file or every file of a folder; a methodology whose id is already in the library
        replaces it, with a line in :attr:`notices`.

        Args:
            path: a ``.yaml`` file or a folder of them (checked as ``koken validate`` checks, with the
                folder's ``versions.lock`` if it has one).
            check_examples: run the files' worked examples and checks.
        Returns:
            The library itself (so that calls chain).
        Raises:
            KokenErrors: every problem of every file added; the library is then unchanged.
        """
        scan = _scan_source(Path(path) if str(path) else Path("\0empty"), str(path), check_examples, self._released,
                            self.categories)
        if scan.problems:
            raise KokenErrors(scan.problems)
        self._merge(scan)
        return self

    def _merge(self, scan: _SourceScan) -> None:
        for mid, m in scan.methodologies.items():
            if mid in self._methodologies:
                old = self._methodologies[mid]
                self.notices.append(_("methodology {id!r} {version} from {path} replaces {old_version} from "
                                      "{old_path}").format(id=mid, version=m.version, path=m.path,
                                                          old_version=old.version, old_path=old.path))
            self._methodologies[mid] = m
        self.sources.append(LibrarySource(scan.name, tuple(scan.methodologies)))
        self.warnings.extend(scan.warnings)
        for mid, versions in scan.released.items():
            self._released.setdefault(mid, {}).update(versions)


@dataclass
class _SourceScan:
    name: str
    methodologies: dict[str, Methodology | Deferred]
    problems: list[KokenError]
    warnings: list[str]
    files: list[Path]
    released: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)


def _scan_source(root: Path, name: str, check_examples: bool,
                 released: Mapping[str, Mapping[str, tuple[str, str]]] | None = None,
                 categories: Mapping[str, Methodology | Deferred] | None = None, lazy: bool = False) -> _SourceScan:
    """Read every methodology of one folder or file: each file's problems, duplicate ids, the folder's lock and
    ``released``, the versions earlier sources' locks released (id → version → (content hash, lock file)).
    Category methodologies are read first; a product file extends one of this folder's or of ``categories``
    (those of the sources read before). ``lazy``: each file is read as far as its specification only
    (:class:`Deferred`), its format and id checked, the rest when it is first used."""
    if lazy:
        return _scan_specifications(root, name, check_examples, released, categories)
    problems: list[KokenError] = []
    found: dict[str, Methodology] = {}
    unchecked: dict[str, Methodology] = {}
    files = find_methodology_files(root)
    if not str(root) or not root.exists():
        problems.append(MethodologyError(_("no such file or folder"), Location(file=str(root))))
        files = []
    elif not files and name != BUNDLED:  # a source that adds nothing would silently leave the bundled formulas
        problems.append(MethodologyError(_("no methodology files (<category>/<id>.yaml) here"), Location(file=str(root))))
    known: dict[str, Methodology | None] = {**bundled_categories(),  # a folder of products alone
                                            **{cid: _compiled(c) for cid, c in (categories or {}).items()}}
    # extends the bundled categories; None: a category file of this folder that cannot be read
    for path in sorted(files, key=lambda p: not is_category_file(p)):  # categories first, else in file order
        m = gather(lambda p: read_methodology(p, categories=known), path, problems)
        if m is None:
            if is_category_file(path) and path.stem not in known:  # its products name it as unreadable
                known[path.stem] = None
            continue
        if m.id in unchecked:
            problems.append(MethodologyError(_("id {id!r} is also defined in {path}").format(
                id=m.id, path=unchecked[m.id].path), Location(file=display_path(path))))
            continue
        unchecked[m.id] = m  # files failing their examples still face the lock
        if check_examples:
            m = gather(lambda p: load_methodology(p, categories=known), path, problems)
            if m is None:
                continue
        if m.spec.kind == "category":
            known[m.id] = m
        found[m.id] = m
    lock_errors, lock_warnings = check_lock(unchecked, lock_path(root), released)
    problems.extend(lock_errors)
    refused = {e.location.file for e in lock_errors}  # a released version whose content changed is not used
    found = {mid: m for mid, m in found.items() if m.path not in refused}
    warnings = [w for m in found.values() for w in m.warnings] + lock_warnings
    return _SourceScan(name, found, problems, warnings, files, _released_versions(root))


def _scan_specifications(root: Path, name: str, check_examples: bool,
                         released: Mapping[str, Mapping[str, tuple[str, str]]] | None,
                         categories: Mapping[str, Methodology | Deferred] | None) -> _SourceScan:
    """:func:`_scan_source` with ``lazy``: what it checks before compiling (the files found, each file's YAML and
    format, a product's category, ids defined twice, a lock that cannot be read), each methodology left
    :class:`Deferred`."""
    problems: list[KokenError] = []
    found: dict[str, Methodology | Deferred] = {}
    files = find_methodology_files(root)
    if not str(root) or not root.exists():
        problems.append(MethodologyError(_("no such file or folder"), Location(file=str(root))))
        files = []
    elif not files and name != BUNDLED:
        problems.append(MethodologyError(_("no methodology files (<category>/<id>.yaml) here"), Location(file=str(root))))
    known: dict[str, Methodology | Deferred | None] = {  # as _scan_source; the bundled folder reads its own first
        **(_deferred_bundled_categories(check_examples) if name != BUNDLED else {}), **(categories or {})}
    lock = lock_path(root)
    try:
        read_lock(lock)
    except KokenError as err:
        problems.append(err)
    for path in sorted(files, key=lambda p: not is_category_file(p)):
        read = gather(lambda p: read_specification(p, {cid: c.spec if c is not None else None
                                                       for cid, c in known.items()}), path, problems)
        if read is None:
            if is_category_file(path) and path.stem not in known:
                known[path.stem] = None
            continue
        spec, extends = read
        if spec.id in found:
            problems.append(MethodologyError(_("id {id!r} is also defined in {path}").format(
                id=spec.id, path=found[spec.id].path), Location(file=display_path(path))))
            continue
        m = Deferred(path, spec, extends, known, lock, released, check_examples)
        if spec.kind == "category":
            known[spec.id] = m
        found[spec.id] = m
    return _SourceScan(name, found, problems, [], files, _released_versions(root))


def _deferred_bundled_categories(check_examples: bool) -> dict[str, Deferred]:
    """:func:`bundled_categories`, each left :class:`Deferred` (one whose specification cannot be read is left out)."""
    root = methodologies_dir()
    found: dict[str, Deferred] = {}
    for path in find_methodology_files(root):
        if is_category_file(path):
            try:
                spec, extends = read_specification(path)
            except KokenErrors:
                continue
            found[spec.id] = Deferred(path, spec, extends, {}, lock_path(root), None, check_examples)
    return found


def _released_versions(root: Path) -> dict[str, dict[str, tuple[str, str]]]:
    """The versions a folder's lock released: id → version → (content hash, lock file); empty if unreadable
    (the unreadable lock is reported by :func:`check_lock`)."""
    path = lock_path(root)
    try:
        lock = read_lock(path)
    except KokenError:
        return {}
    return {mid: {v: (h, display_path(path)) for v, h in versions.items()} for mid, versions in lock.items()}


def scan_library(paths: str | Path | Iterable[str | Path] | None = None, bundled: bool = True,
                 check_examples: bool = True, lazy: bool = False) -> LibraryScan:
    """Read methodology sources and report everything found, never raising for a bad file (``koken validate``).

    Args:
        paths: methodology files or folders added after the bundled set (in order).
        bundled: start from the bundled ``methodologies/``.
        check_examples: run worked examples and property checks.
        lazy: check each file's format and id only, and compile a methodology when it is first used (its other
            problems are then raised by the lookup); ``koken validate`` never uses it.
    Returns:
        LibraryScan: the usable library (files with problems left out), every problem once (a factor table's,
        found by each methodology compiled, is listed once), every warning.
    """
    roots: list[tuple[Path, str]] = [(methodologies_dir(), BUNDLED)] if bundled else []
    if paths is not None:
        for p in [paths] if isinstance(paths, (str, Path)) else paths:
            roots.append((Path(p) if str(p) else Path("\0empty"), str(p)))
    library = Library()
    scan = LibraryScan(library=library)
    for root, name in roots:
        categories = {mid: library._methodologies[mid] for mid in library._category_ids()}
        source = _scan_source(root, name, check_examples, library._released, categories, lazy)
        scan.problems.extend(source.problems)
        scan.files.extend(source.files)
        library._merge(source)
    scan.warnings = list(library.warnings)
    once: dict[tuple[str, str], KokenError] = {}  # a broken factor table is a problem of every methodology using it
    for problem in scan.problems:
        once.setdefault((type(problem).__name__, str(problem)), problem)
    scan.problems = list(once.values())
    return scan


def load_library(paths: str | Path | Iterable[str | Path] | None = None, bundled: bool = True,
                 check_examples: bool = True, lazy: bool = False) -> Library:
    """The methodologies to compute with: the bundled set, plus ``paths`` (files or folders), checked as
    ``koken validate`` checks them.

    Args:
        paths: methodology files or folders added after the bundled set, in order; a methodology whose id
            is already there replaces it (the replacement is listed in ``Library.notices``).
        bundled: start from the bundled ``methodologies/`` (False: only ``paths``).
        check_examples: run every file's worked examples and property checks (a methodology failing its own
            examples is an error).
        lazy: read every file as far as its specification (YAML, format, category, id) and compile and check a
            methodology when it is first looked up, which then raises its problems (``koken calculate``: a portfolio
            uses a few of the methodologies; docs/performance.md § Start-up). The results are the same.
    Returns:
        Library.
    Raises:
        KokenErrors: every problem of every file (format, units, formulas, examples, version lock, an id
            defined twice in one folder), each naming its file and field.

    >>> lib = load_library()
    >>> len(lib), lib["transformer"].category, lib["transformer"].extends   # 24 products on 5 categories
    (29, 'industrial_equipment', 'industrial_equipment')
    """
    scan = scan_library(paths, bundled, check_examples, lazy)
    if scan.problems:
        raise KokenErrors(scan.problems)
    return scan.library


def lock_library(root: str | Path | None = None) -> tuple[int, Path]:
    """Record the versions and content hashes of every methodology under ``root`` (default: the bundled folder)
    in its ``versions.lock``; released entries are kept as they are.

    Returns:
        (entries added, the lock file).
    Raises:
        KokenErrors: a file has problems (its examples included), or a current version is already locked with
            another hash (bump the version first); nothing is written then.
    """
    from koken.methodology.compile import forget_compiled

    folder = Path(root) if root is not None else methodologies_dir()
    forget_compiled()  # nor from what this process compiled before (a `koken server` compiled the bundled files)
    with cache.bypassed():  # what is locked is read from the files themselves
        source = _scan_source(folder, str(folder), check_examples=True,
                              categories=None if folder.resolve() == methodologies_dir().resolve()
                              else bundled_categories())
    if source.problems:
        raise KokenErrors(source.problems)
    path = lock_path(folder)
    return write_lock(source.methodologies, path), path
