"""Regions of use: codes (ISO 3166-1 alpha-2, and EU) and the names people write for them.

The table is data (``vocabulary/regions.yaml``, with its sources): a portfolio's region cell may hold the
code (``US``), an English name (``United States``) or a Japanese one (``米国``, ``アメリカ``), and is read as
the code, which is what the factor tables are keyed by. Names are compared without case and with
full-width letters folded (``ｕｓ`` is ``US``).

>>> region_code("米国"), region_code("united states"), region_code("JP"), region_code("Atlantis")
('US', 'US', 'JP', None)
"""

from __future__ import annotations

import difflib
import functools
from typing import Annotated

from pydantic import Field, ValidationError

from koken.base.errors import KokenError, KokenErrors, Location
from koken.base.i18n import _, pick
from koken.base.models import StrictModel
from koken.base.paths import vocabulary_dir
from koken.base.safe_yaml import load_yaml_file
from koken.base.vocabulary import fold_width

ShortName = Annotated[str, Field(min_length=1, max_length=80)]


class Region(StrictModel):
    """A region: its code, its English and Japanese names, and other names it is written as."""

    code: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    en: ShortName
    ja: ShortName
    aliases: list[ShortName] = Field(default_factory=list)


class RegionSource(StrictModel):
    id: str
    title: str
    publisher: str
    url: str


class RegionTable(StrictModel):
    sources: list[RegionSource] = Field(min_length=1)
    regions: list[Region] = Field(min_length=1)


def _key(name: str) -> str:
    return fold_width(name).strip().casefold()


@functools.cache
def regions() -> tuple[dict[str, Region], dict[str, str]]:
    """The region table: code → :class:`Region`, and every accepted name (folded) → code.

    Raises:
        KokenErrors: the table breaks its format, or a code or name is given twice.
    """
    path = vocabulary_dir() / "regions.yaml"
    where = Location(file=str(path))
    try:
        table = RegionTable.model_validate(load_yaml_file(path))
    except ValidationError as err:
        raise KokenErrors([KokenError(e["msg"], where.at(field=".".join(map(str, e["loc"]))))
                           for e in err.errors()]) from None
    by_code: dict[str, Region] = {}
    names: dict[str, str] = {}
    problems = []
    for region in table.regions:
        if region.code in by_code:
            problems.append(KokenError(_("region {code} is listed twice").format(code=region.code), where))
        by_code[region.code] = region
        for name in (region.code, region.en, region.ja, *region.aliases):
            key = _key(name)
            if names.setdefault(key, region.code) != region.code:
                problems.append(KokenError(_("the name {name!r} is given to both {first} and {second}").format(
                    name=name, first=names[key], second=region.code), where))
    if problems:
        raise KokenErrors(problems)
    return by_code, names


def region_code(text: str) -> str | None:
    """The code a region cell means (``"米国"`` → ``"US"``), or None when the table has no such name."""
    return regions()[1].get(_key(text))


def region_name(code: str) -> str:
    """A region's name in the current language (the code itself when the table does not have it)."""
    region = regions()[0].get(code)
    return pick(region.ja, region.en) if region is not None else code


def suggest_region(text: str) -> tuple[str, str] | None:
    """The known region name closest to ``text`` and its code (``("ベトナム", "VN")`` for ベトナン), or None when
    none is plausibly close. Names are compared only with names of the same script: a Japanese text with Japanese
    names, allowing one character off in a name of up to five and two in a longer one (米囯 for 米国, ベトナン for ベトナム,
    but not ナルニア for ルーマニア); a Latin text with Latin names and codes, closely (North Korea is not Korea,
    Niger is not Nigeria).

    >>> suggest_region("ベトナン"), suggest_region("ナルニア"), suggest_region("Untied States")
    (('ベトナム', 'VN'), None, ('United States', 'US'))
    """
    by_code, names = regions()
    key = _key(text)
    if not key:
        return None
    if key.isascii():
        match = difflib.get_close_matches(key, [n for n in names if n.isascii()], n=1, cutoff=0.85)
        found = match[0] if match else None
    else:
        allowed = 1 if len(key) <= 5 else 2
        close = [(_edits(key, n), n) for n in names if not n.isascii() and abs(len(n) - len(key)) <= allowed]
        close = [(d, n) for d, n in close if d <= allowed]
        found = min(close)[1] if close else None
    if found is None:
        return None
    code = names[found]
    region = by_code[code]
    written = next(n for n in (region.code, region.en, region.ja, *region.aliases) if _key(n) == found)
    return written, code


def _edits(a: str, b: str) -> int:
    """Levenshtein distance: the characters to insert, delete or replace to turn ``a`` into ``b``."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def regions_file() -> str:
    """Where the region table is (for messages that send a reader to the names koken knows)."""
    return str(vocabulary_dir() / "regions.yaml")
