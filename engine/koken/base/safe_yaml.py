"""Safe YAML loading with limits: no code, no tags, bounded size, aliases and depth.

Methodology and portfolio files come from many authors (threat model: docs/security.md).
PyYAML's SafeLoader never builds Python objects from tags; on top of it koken bounds:

* the file size (:data:`MAX_YAML_BYTES`), checked before parsing;
* the number of alias references (:data:`MAX_ALIASES`): a "billion laughs" file is refused while
  it is composed, before anything is expanded;
* the nesting depth (:data:`MAX_DEPTH`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import yaml

from koken.base.errors import Location, YamlError
from koken.base.i18n import N_, _

MAX_YAML_BYTES = 1_000_000
MAX_ALIASES = 50
MAX_DEPTH = 40
MAX_EXPANDED_NODES = 200_000
"""Nodes a document may have once its aliases are expanded (50 aliases can still nest exponentially)."""


_CORE_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_CORE_INT = re.compile(r"^[-+]?[0-9]+$")
_CORE_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"
                         r"|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$")
UNPAIRED_SURROGATE = re.compile(r"[\ud800-\udfff]")
"""A surrogate code point standing alone in a decoded text (a pair decodes to one character): no character at all,
which Arrow, a workbook or a terminal cannot write."""
UNPAIRED_SURROGATE_PROBLEM = N_("text contains an unpaired surrogate (\\uD800-\\uDFFF): not valid Unicode")


class _Limits:
    """SafeLoader with YAML 1.2 core-schema scalars, no duplicate keys, and counted aliases and depth.

    PyYAML resolves scalars by YAML 1.1 rules, where ``NO`` (Norway) and ``on`` are booleans, ``0100``
    is octal 64 and ``1:20`` is 80. koken uses the YAML 1.2 core schema instead: booleans are only
    true/false, integers are decimal (``0100`` is 100), floats are plain decimal or scientific.
    """

    yaml_implicit_resolvers: ClassVar[dict] = {
        first: [(tag, rx) for tag, rx in resolvers
                if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def _start(self, source: str) -> None:
        self._aliases = 0
        self._depth = 0
        self._expanded = 0
        self._sizes: dict[int, int] = {}
        self._source = source

    def _size(self, node) -> int:
        """Number of nodes once expanded (shared sub-nodes counted each time they appear), memoised."""
        key = id(node)
        if key not in self._sizes:
            if isinstance(node, yaml.SequenceNode):
                total = 1 + sum(self._size(child) for child in node.value)
            elif isinstance(node, yaml.MappingNode):
                total = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
            else:
                total = 1 + len(node.value) // 64  # long scalars weigh by their length
            self._sizes[key] = min(total, MAX_EXPANDED_NODES + 1)
        return self._sizes[key]

    def compose_node(self, parent, index):
        event = self.peek_event()
        implicit = getattr(event, "implicit", True)
        explicit = implicit is False or (isinstance(implicit, tuple) and not any(implicit))
        if getattr(event, "tag", None) not in (None, "!") and explicit:
            raise YamlError(_("YAML tags such as {tag} are not allowed: koken reads plain data only").format(tag=event.tag),
                            Location(file=self._source, row=event.start_mark.line + 1))
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            mark = self.peek_event().start_mark
            if self._aliases > MAX_ALIASES:
                raise YamlError(_("more than {limit} YAML aliases (refused to expand)").format(limit=MAX_ALIASES),
                                Location(file=self._source, row=mark.line + 1))
            node = super().compose_node(parent, index)
            self._expanded += self._size(node)
            if self._expanded > MAX_EXPANDED_NODES:
                raise YamlError(_("YAML aliases would expand to more than {limit:,} nodes (refused)").format(
                    limit=MAX_EXPANDED_NODES),
                                Location(file=self._source, row=mark.line + 1))
            return node
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlError(_("YAML nesting deeper than {limit} levels").format(limit=MAX_DEPTH),
                                Location(file=self._source, row=mark.line + 1))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                raise YamlError(_("a mapping key must be text or a number"),
                                Location(file=self._source, row=key_node.start_mark.line + 1))
            if key in seen:
                raise YamlError(_("key {key!r} appears twice in one mapping (rows {first} and {second}); koken "
                                  "does not guess which one you meant").format(
                                    key=key, first=seen[key], second=key_node.start_mark.line + 1),
                                Location(file=self._source, row=key_node.start_mark.line + 1))
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node):
        return int(self.construct_scalar(node), 10)

    def construct_yaml_str(self, node):
        value = super().construct_yaml_str(node)
        if UNPAIRED_SURROGATE.search(value):
            raise YamlError(_(UNPAIRED_SURROGATE_PROBLEM),
                            Location(file=self._source, row=node.start_mark.line + 1))
        return value


class _LimitedLoader(_Limits, yaml.SafeLoader):
    """The pure-Python loader: its errors name what is wrong and where (read again with it when the fast loader
    refuses a file)."""

    def __init__(self, stream: str, source: str):
        super().__init__(stream)
        self._start(source)


_FAST = getattr(yaml, "__with_libyaml__", False)


if _FAST:
    from yaml._yaml import CParser

    class _FastLoader(_Limits, yaml.composer.Composer, CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """The same limits, composer and constructor, over libyaml's scanner and parser (C): about ten times faster.
        Only a file it reads without an error is taken from it; any error is reported by :class:`_LimitedLoader`."""

        def __init__(self, stream: str, source: str):
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._start(source)


for _first in "tfTF":
    _LimitedLoader.yaml_implicit_resolvers.setdefault(_first, []).append(("tag:yaml.org,2002:bool", _CORE_BOOL))
for _first in "-+0123456789":
    _LimitedLoader.yaml_implicit_resolvers.setdefault(_first, []).append(("tag:yaml.org,2002:int", _CORE_INT))
for _first in "-+0123456789.":
    _LimitedLoader.yaml_implicit_resolvers.setdefault(_first, []).append(("tag:yaml.org,2002:float", _CORE_FLOAT))
for _loader in (_LimitedLoader, _FastLoader) if _FAST else (_LimitedLoader,):
    _loader.add_constructor("tag:yaml.org,2002:int", _Limits.construct_yaml_int)
    _loader.add_constructor("tag:yaml.org,2002:str", _Limits.construct_yaml_str)


def load_yaml_text(text: str, source: str = "<text>") -> Any:
    """Parse YAML text under koken's limits.

    Args:
        text: the YAML document.
        source: file name for error messages.
    Returns:
        Plain Python data (dict, list, str, int, float, bool, None, date).
    Raises:
        YamlError: too large, too many aliases, too deep, a control character, or a syntax error (with line
            number).
    """
    return _load(text, source)[0]


def load_yaml_node(text: str, source: str = "<text>") -> tuple[Any, yaml.Node | None]:
    """Parse YAML text under koken's limits, and keep its node tree: where each value is in the text
    (``node.start_mark.line`` is 0-based), for messages that name a line.

    Returns:
        (plain Python data as :func:`load_yaml_text` gives it, the document's root node or None when empty).
    Raises:
        YamlError: as :func:`load_yaml_text`.
    """
    return _load(text, source)


def _load(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    if len(text.encode("utf-8", errors="replace")) > MAX_YAML_BYTES:
        raise YamlError(_("file is larger than {limit:,} bytes").format(limit=MAX_YAML_BYTES), Location(file=source))
    # libyaml takes tabs where PyYAML's scanner refuses them ("found character '\t' that cannot start any token"):
    # a text with a tab is read by the pure-Python loader, so that both read the same files alike
    if _FAST and "\t" not in text and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        fast = _FastLoader(text, source)
        try:  # what both parsers read alike; anything else (an error, a limit) is read again below to say why
            node = fast.get_single_node()
            return (fast.construct_document(node) if node is not None else None), node
        except Exception:  # the pure-Python loader below reports the problem in its own words
            pass
        finally:
            fast.dispose()
    try:
        loader = _LimitedLoader(text, source)  # PyYAML's reader checks every character here, before parsing
    except yaml.reader.ReaderError as err:
        raise _control_character(text, err, source) from None
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    except yaml.constructor.ConstructorError as err:
        mark = err.problem_mark
        raise YamlError(_("YAML tags such as {tag} are not allowed: koken reads plain data only (no objects, "
                          "no code)").format(tag=err.problem.split("tag ")[-1] if err.problem else "!!"),
                        Location(file=source, row=mark.line + 1 if mark is not None else None)) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        row = mark.line + 1 if mark is not None else None
        raise YamlError(_("YAML syntax error: {problem}").format(problem=err.problem), Location(file=source, row=row)
                        ) from None
    except yaml.YAMLError as err:
        raise YamlError(_("YAML error: {problem}").format(problem=err), Location(file=source)) from None
    except RecursionError:
        raise YamlError(_("YAML nesting too deep"), Location(file=source)) from None
    except (ValueError, TypeError, OverflowError) as err:
        raise YamlError(_("a YAML value cannot be read: {problem}").format(problem=err), Location(file=source)) from None
    finally:
        loader.dispose()


def _control_character(text: str, err: yaml.reader.ReaderError, source: str) -> YamlError:
    """The error for a character YAML does not allow in a file (a control character such as BEL or ESC, U+FFFE),
    with its line and column: PyYAML raises it while the loader is made, as its own exception type."""
    position = err.position if isinstance(err.position, int) and 0 <= err.position < len(text) else 0
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = err.character if isinstance(err.character, int) else ord(text[position]) if text else 0
    return YamlError(_("control character U+{code:04X} at column {column}: a YAML file may not hold control "
                       "characters (delete it, or write it as an escape inside double quotes)").format(
        code=code, column=column), Location(file=source, row=line))


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (a device, FIFO or larger file is refused
    without reading it whole: ``/dev/zero`` has size 0 but never ends)."""
    import stat as stat_module

    info = path.stat()
    if not stat_module.S_ISREG(info.st_mode):
        raise YamlError(_("not a regular file (a device, pipe or folder)"), Location(file=str(path)))
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise YamlError(_("file is larger than {limit:,} bytes").format(limit=limit), Location(file=str(path)))
    return data


def load_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file under koken's limits (size checked before reading it whole).

    Raises:
        YamlError: as :func:`load_yaml_text`, or when the file is not UTF-8 or cannot be read.
    """
    p = Path(path)
    return load_yaml_text(yaml_file_text(read_yaml_bytes(p), p), str(p))


def read_yaml_bytes(path: Path) -> bytes:
    """A YAML file's bytes, at most :data:`MAX_YAML_BYTES` (read once: what is hashed is what is parsed).

    Raises:
        YamlError: larger, not a regular file, or unreadable.
    """
    try:
        return read_limited(path, MAX_YAML_BYTES)
    except OSError as err:
        raise YamlError(_("cannot read file: {reason}").format(reason=err.strerror), Location(file=str(path))) from None


def yaml_file_text(raw: bytes, path: Path) -> str:
    """The text of a YAML file's bytes (UTF-8, a byte-order mark dropped).

    Raises:
        YamlError: the bytes are not UTF-8.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise YamlError(_("file is not UTF-8 text (byte {position})").format(position=err.start),
                        Location(file=str(path))) from None
