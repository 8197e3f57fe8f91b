"""Messages in Japanese or English: one catalogue (GNU gettext), each message written once.

Every text koken shows a person (error messages, console tables, report texts and notes) is written once
in the code, in English, inside ``_()``; its Japanese translation lives in the catalogue
``engine/koken/locale/ja/LC_MESSAGES/koken.po`` (compiled to ``koken.mo``, read with the standard library's
:mod:`gettext`). ``tests/base/test_i18n.py`` extracts every ``_()`` and ``N_()`` text with Babel and
fails when one lacks its Japanese translation, when a translation keeps other ``{placeholders}`` than its
English text, or when the compiled catalogue is older than the ``.po`` file (docs/i18n.md has the three
``pybabel`` commands that keep them in step).

A message with values is a literal with named placeholders, filled after translation::

    raise PortfolioError(_("unknown column {name!r}").format(name=name), location)

The language is, in order: :func:`set_language` (``koken --lang ja``, ``koken.set_language("ja")``), the
``KOKEN_LANG`` environment variable, the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``ja_JP.UTF-8``
gives Japanese), else English. A message is translated when it is made, so a text is in the language
that was chosen when the problem was found.

>>> with language("ja"):
...     _("row {row}").format(row=5)
'5行目'
>>> with language("en"):
...     _("row {row}").format(row=5)
'row 5'
"""

from __future__ import annotations

import contextlib
import gettext
import os
from collections.abc import Iterator
from pathlib import Path

LANGUAGES = ("en", "ja")
"""The languages koken speaks: English (the texts in the code) and Japanese (the catalogue)."""

DOMAIN = "koken"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
"""``engine/koken/locale``: ``<lang>/LC_MESSAGES/koken.po`` (source) and ``koken.mo`` (compiled)."""

ENVIRONMENT_VARIABLE = "KOKEN_LANG"

_chosen: str | None = None
_catalogues: dict[str, gettext.NullTranslations] = {}


ALIASES = {"jp": "ja", "jpn": "ja", "eng": "en"}
"""Other ways people write the two languages (``jp`` is the country code, often written for the language)."""


def _short(code: str) -> str:
    """``ja_JP.UTF-8``, ``ja-JP``, ``JA``, ``jp`` → ``ja``; anything else → its first two letters."""
    text = str(code).strip().lower().replace("-", "_")
    return ALIASES.get(text.split("_")[0].split(".")[0], text[:2])


def _from_environment() -> str:
    """``KOKEN_LANG``, else the locale's language (the first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set,
    as GNU gettext reads them)."""
    explicit = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if explicit:
        return _short(explicit) if _short(explicit) in LANGUAGES else "en"
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").split(":")[0]
        if value:
            return "ja" if _short(value) == "ja" else "en"
    return "en"


def current_language() -> str:
    """The language messages are made in now: ``"en"`` or ``"ja"``."""
    return _chosen if _chosen is not None else _from_environment()


def set_language(code: str | None) -> str:
    """Choose the language of every message made from now on (``None``: back to the environment's).

    Args:
        code: ``"ja"`` or ``"en"`` (a locale such as ``ja_JP`` by its language; ``jp`` is read as ``ja``).
    Returns:
        The language now in use.
    Raises:
        ValueError: a language koken does not have.
    """
    global _chosen
    if code is None:
        _chosen = None
        return current_language()
    short = _short(code)
    if short not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)} (got {code!r})")
    _chosen = short
    return short


@contextlib.contextmanager
def language(code: str | None) -> Iterator[str]:
    """Messages made inside the block are in ``code``; the language before is restored after it."""
    global _chosen
    before = _chosen
    try:
        yield set_language(code)
    finally:
        _chosen = before


def catalogue(code: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``code`` (English: the texts as written), read once per process.

    Raises:
        FileNotFoundError: the compiled catalogue is missing (a broken installation).
    """
    if code not in _catalogues:
        if code == "en":
            _catalogues[code] = gettext.NullTranslations()
        else:
            with open(LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as mo:
                _catalogues[code] = gettext.GNUTranslations(mo)
    return _catalogues[code]


def _(message: str) -> str:
    """``message`` (English, as written in the code) in the current language."""
    code = current_language()
    return message if code == "en" else catalogue(code).gettext(message)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for a text marked for extraction only)
    """Mark ``message`` for the catalogue without translating it now (module constants, translated on use
    with ``_(text)``)."""
    return message


def pick(ja: str, en: str) -> str:
    """Of a term's two names (the field's vocabulary carries both), the one of the current language."""
    return ja if current_language() == "ja" else en


def named(term_id: str, terms) -> str:
    """The name, in the current language, of a term of the field (a ``koken.base.vocabulary`` list of terms with
    ``id``, ``ja`` and ``en``); the id itself when it is none of them."""
    term = next((t for t in terms if t.id == term_id), None)
    return term_id if term is None else pick(term.ja, term.en)


def sentences(parts) -> str:
    """Several sentences as one text: ``a; b`` in English, ``a。b`` in Japanese, where each sentence already ends
    with its own 。 (none is doubled).

    >>> with language("ja"):
    ...     sentences(["見出しは 4 行目です。", "列：備考"])
    '見出しは 4 行目です。列：備考'
    >>> with language("en"):
    ...     sentences(["the header is row 4", "columns: 備考"])
    'the header is row 4; columns: 備考'
    """
    separator = _("; ")
    text = ""
    for part in parts:
        if text and not text.endswith((separator, "。", "？")):
            text += separator
        text += part
    return text
