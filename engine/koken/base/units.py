"""koken's one application unit registry, and the only door through which unit text enters.

Pint is the unit engine (one registry per application, as Pint's docs advise). koken adds its
definitions from ``units/koken.txt`` (GHG dimension, 台/件, 千/万/億, crude-oil-equivalent kL)
and puts a normaliser in front of Pint's parser for the traps listed in
Pint's own issue tracker (hgrecco/pint #1121 GWP out of scope, #2205 percent, and the default
definitions of ``ton`` and ``kt``) and for Japanese reporting notation:

* ``t-CO2``, ``kg-CO2/kWh``, ``万t-CO2``: the hyphen before CO2 means "of", not minus;
* ``万台``, ``千kWh``, ``億kWh``, ``百万円``, ``10億円``: the multiplier binds to the unit it precedes
  with its power (``t-CO2/千kWh`` is t-CO2 per 1,000 kWh; ``千m3`` and ``千m³`` are 1,000 m³, never
  (1,000 m)³; ``10億円`` is read as 十億円, 10⁹ 円);
* ``m2``, ``m3``, ``km2``, ``cm3`` (a digit after a length, as sheets write them) are powers;
* ``原油換算万kL`` and ``万kL(原油換算)`` are crude-oil-equivalent energy (1 GJ = 0.0258 kL, the Energy
  Conservation Act's rule in ``units/koken.txt``); a plain ``万kL`` stays a volume, so the two never mix;
* ``年`` is the year, like ``yr``;
* full-width characters (``ｋＷｈ``) are NFKC-normalised; superscript powers (``m²``, ``kWh⁻¹``) and
  middle dots (``kg·m``, ``kg・m``) are read as ``**`` and ``*``;
* ``ton`` (Pint: US short ton, 907 kg) is refused as ambiguous; ``kt`` is the kilotonne, never the knot;
* ``year``/``yr``/``a`` mean the methodology's pinned year (8,760 h unless it declares another), never
  Pint's Julian 365.25 d, and a prefixed year (``ka``, ``kyr``, ``Ma``) is that multiple of it; ``month``
  and ``century`` are refused (Pint derives them from the Julian year); ``Pa`` and ``ha`` are the pascal
  and the hectare, as Pint reads them (not peta- or hecto-years);
* offset units (``degC``) are refused where a quantity is declared.

Every function raises :class:`koken.base.errors.UnitError` with the offending text and, for dimension
problems, both dimensions.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata

import pint

from koken.base.errors import Location, UnitError
from koken.base.i18n import N_, _
from koken.base.paths import units_dir

DEFAULT_HOURS_PER_YEAR = 8760
"""The year koken uses unless a methodology declares another: 365 d × 24 h, the 8,760 h/yr of the
Ministry of the Environment's transformer example and of capacity-factor yields."""

MAX_UNIT_TEXT = 200
"""Longest unit text accepted (characters); longer text is refused before parsing."""

_YEAR_TOKENS = {"year", "years", "yr", "yrs", "a", "annum", "年"}
_OTHER_YEARS = {"year", "julian_year", "century", "millennium", "decade", "gregorian_year", "sidereal_year",
                "tropical_year", "leap_year", "common_year", "eclipse_year", "month", "fortnight"}
_TON_HINT = N_("'{tok}' is ambiguous (Pint reads 'ton' as the US short ton, 907.18 kg): write t (tonne), short_ton or "
              "long_ton")
_IDENT = re.compile(r"[^\W\d][\w]*")
_HYPHEN_BEFORE_GHG = re.compile(r"[\-\u2010\u2011\u2012\u2013\u2014\u2212](?=CO2)")
_JP_MULTIPLIER = re.compile(r"([十百千万億]+)\s*([^\W\d]\w*(?:\s*(?:\*\*|\^)\s*[+\-]?\d+)?)")
_LENGTH_POWER = re.compile(r"(?<![A-Za-z0-9_])([kcdm]?m)([23])(?![A-Za-z0-9_])")
_JP_DIGIT_MULTIPLIER = re.compile(r"(?<![\w.])(10|100|1000)(?=[万億])")
_JP_DIGITS = {"10": "十", "100": "百", "1000": "千"}
_CRUDE_OIL_EQUIVALENT = re.compile(r"原油換算\s*([十百千万億]*)\s*k[lL](?![\w])|([十百千万億]*)\s*k[lL]\s*\(\s*原油換算\s*\)")
_NUMBER_WITH_COMMAS = re.compile(r"\s*[+\-]?[\d,]*(?:\.\d*)?")
_THOUSANDS = re.compile(r"[+\-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_NUMBER_PREFIX = re.compile(r"^\s*([+\-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+\-]?\d+)?)\s*(.*)$", re.S)

_SUPERSCRIPT = re.compile(r"[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_SUPERSCRIPT_DIGITS = str.maketrans("⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "+-0123456789")
_MULTIPLY_SIGNS = re.compile(r"[·・⋅×]")

_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """Return koken's application registry (built once per process).

    Returns:
        A ``pint.UnitRegistry`` with Pint's defaults plus every file in ``units/``; also set as
        Pint's application registry so that quantities from koken combine with each other.
    """
    ureg = pint.UnitRegistry(on_redefinition="raise", autoconvert_offset_to_baseunit=False)
    for path in sorted(units_dir().glob("*.txt")):
        ureg.load_definitions(str(path))
    pint.set_application_registry(ureg)
    return ureg


def year_unit_name(hours_per_year: float = DEFAULT_HOURS_PER_YEAR) -> str:
    """Name of the pinned year unit for a year of ``hours_per_year`` hours, defined on first use.

    Args:
        hours_per_year: length of the methodology's year in hours (e.g. 8760, or 8784 for a leap year).
    Returns:
        A unit name such as ``year_8760h``.
    Raises:
        UnitError: if the length is not a positive whole number of hours.
    """
    if not (isinstance(hours_per_year, (int, float)) and math.isfinite(hours_per_year)
            and hours_per_year > 0 and float(hours_per_year).is_integer()):
        raise UnitError(_("hours per year must be a positive whole number of hours, got {value!r}").format(
            value=hours_per_year))
    hours = int(hours_per_year)
    name = f"year_{hours}h"
    ureg = registry()
    with _lock:
        if name not in ureg:
            ureg.define(f"{name} = {hours} * hour")
    return name


def normalise_unit_text(text: str, hours_per_year: float = DEFAULT_HOURS_PER_YEAR) -> str:
    """Rewrite unit text in Japanese/industry notation into Pint syntax, refusing known traps.

    Args:
        text: unit text as written by a person, e.g. ``"万t-CO2"``, ``"kg-CO2/kWh"``, ``"kWh/yr"``.
        hours_per_year: the methodology's year length, for ``year``/``yr``/``a``.
    Returns:
        Text for Pint, e.g. ``"(万*t)*CO2"``, ``"kWh/year_8760h"``.
    Raises:
        UnitError: for ``ton``, ``month``, text longer than :data:`MAX_UNIT_TEXT`.
    """
    if len(text) > MAX_UNIT_TEXT:
        raise UnitError(_("unit text is longer than {limit} characters").format(limit=MAX_UNIT_TEXT))
    s = _SUPERSCRIPT.sub(lambda m: "**" + m.group(0).translate(_SUPERSCRIPT_DIGITS), text)
    s = _MULTIPLY_SIGNS.sub("*", s)
    s = unicodedata.normalize("NFKC", s).strip()
    s = _HYPHEN_BEFORE_GHG.sub("*", s)
    s = s.replace("\u2212", "-")
    if s.count("%") > 1:
        raise UnitError(_("'%' appears more than once"))
    if re.search(r"(?<![*^\s(])-\s*\d", s):
        raise UnitError(_("a minus sign after a unit (kWh-1) is ambiguous: write kWh**-1 or 1/kWh"))
    s = _JP_DIGIT_MULTIPLIER.sub(lambda m: _JP_DIGITS[m.group(1)], s)
    s = _CRUDE_OIL_EQUIVALENT.sub(lambda m: (m.group(1) or m.group(2) or "") + "原油換算kL", s)
    s = _LENGTH_POWER.sub(r"\1**\2", s)
    s = _JP_MULTIPLIER.sub(lambda m: "(" + "*".join(m.group(1)) + "*" + m.group(2) + ")", s)
    year = year_unit_name(hours_per_year)
    ureg = registry()

    def replace(match: re.Match[str]) -> str:
        tok = match.group(0)
        if tok in _YEAR_TOKENS:
            return year
        if tok == "kt":
            return "kilotonne"
        if tok in ("month", "months"):
            raise UnitError(_("'{tok}' is ambiguous (Pint makes it 1/12 of a Julian year): use d or h").format(tok=tok))
        try:
            candidates = ureg.parse_unit_name(tok)
        except Exception:  # Pint raises several types on odd names; treat as unknown here
            candidates = ()
        reading = candidates[0] if candidates else None  # what Pint makes of it: Pa is the pascal, not peta-annum
        if reading is not None and reading[1] == "year" and reading[0]:  # ka, kyr, Ma: a multiple of koken's year
            return f"{reading[0]}{year}"
        if reading is not None and reading[1] in _OTHER_YEARS:
            raise UnitError(_("'{tok}' is a Julian-year multiple (Pint: 365.25 d): write yr (koken's year, "
                              "{hours:g} h) with a number").format(tok=tok, hours=hours_per_year))
        if any(unit == "ton" for _prefix, unit, _suffix in candidates) and tok != "short_ton":
            raise UnitError(_(_TON_HINT).format(tok=tok))
        return tok

    return _IDENT.sub(replace, s)


def parse_unit(text: str, hours_per_year: float = DEFAULT_HOURS_PER_YEAR,
               location: Location | None = None) -> pint.Unit:
    """Parse unit text into a Pint unit of koken's registry.

    ``"-"``, ``"1"`` and ``"fraction"`` mean a dimensionless fraction; ``"%"`` means percent.

    Args:
        text: the unit as written (see :func:`normalise_unit_text` for accepted notations).
        hours_per_year: the methodology's year length in hours.
        location: where the text came from, for error messages.
    Returns:
        ``pint.Unit``.
    Raises:
        UnitError: unknown, ambiguous or malformed unit, naming the text and ``location``.

    >>> parse_unit("kg-CO2/kWh") == parse_unit("kg-CO2e") / parse_unit("kWh")  # CO2 counts as CO2e (GWP 1)
    True
    >>> parse_unit("kWh/yr")  # a year is 8,760 h unless the methodology says otherwise
    <Unit('kilowatt_hour / year_8760h')>
    >>> parse_unit("ton")
    Traceback (most recent call last):
    ...
    koken.base.errors.UnitError: unit 'ton': 'ton' is ambiguous (Pint reads ... write t (tonne), short_ton or long_ton
    """
    if not isinstance(text, str) or not text.strip():
        raise UnitError(_("a unit is required here but none was given"), location)
    try:
        return _parse_unit(text, float(hours_per_year))
    except UnitError as err:
        raise UnitError(err.message, location) from None


@functools.lru_cache(maxsize=4096)
def _parse_unit(text: str, hours_per_year: float) -> pint.Unit:
    """:func:`parse_unit` without a location, once per (text, year length): a column's unit is parsed
    once, not once per partition and methodology. Failures are not cached."""
    location = None
    stripped = text.strip()
    if stripped in ("-", "－", "1"):
        stripped = "fraction"
    try:
        pint_text = normalise_unit_text(stripped, hours_per_year)
        unit = registry().parse_units(pint_text)
    except UnitError as err:
        raise UnitError(_("unit {text!r}: {problem}").format(text=text, problem=err.message), location) from None
    except pint.errors.UndefinedUnitError as err:
        names = err.unit_names if isinstance(err.unit_names, (tuple, list)) else (err.unit_names,)
        raise UnitError(_("unknown unit in {text!r}: {names} is not defined in the unit registry").format(
            text=text, names=", ".join(repr(str(n)) for n in names)), location) from None
    except Exception:  # Pint's tokenizer raises assorted errors on malformed text
        raise UnitError(_("cannot read unit {text!r}: write units like kg-CO2/kWh, kWh/yr, t*km or m**2 "
                          "(names, *, /, ** and numbers)").format(text=text), location) from None
    return unit


def check_multiplicative(unit: pint.Unit, text: str, location: Location | None = None) -> None:
    """Refuse offset units (degC, degF): koken's kernel multiplies by conversion factors only.

    Raises:
        UnitError: if ``unit`` has an offset (use ``K`` or ``delta_degC``).
    """
    if not registry().Quantity(1.0, unit)._is_multiplicative:
        raise UnitError(_("unit {text!r} has an offset (like degC); use K or delta_degC").format(text=text), location)


def parse_quantity(text: str | int | float, default_unit: str | None = None,
                   hours_per_year: float = DEFAULT_HOURS_PER_YEAR,
                   location: Location | None = None) -> pint.Quantity:
    """Parse ``"420 kWh/yr"`` (a number then a unit) into a Quantity.

    Args:
        text: ``"<number> <unit>"``; or a bare number when ``default_unit`` is given.
        default_unit: unit used for a bare number (only dimensionless declarations allow this).
        hours_per_year: the methodology's year length in hours.
        location: where the text came from.
    Returns:
        ``pint.Quantity`` with a float magnitude.
    Raises:
        UnitError: no number, no unit where one is required, non-finite number, bad unit.

    >>> parse_quantity("4.5 万台")
    <Quantity(4.5, '万 * item')>
    >>> parse_quantity("4.5 万台").to("item").magnitude
    45000.0
    >>> parse_quantity("50 %").to("fraction")
    <Quantity(0.5, 'fraction')>
    >>> parse_quantity("420")
    Traceback (most recent call last):
    ...
    koken.base.errors.UnitError: value '420' has no unit; write it as '<number> <unit>'
    """
    if isinstance(text, bool):
        raise UnitError(_("expected a quantity such as '420 kWh/yr', got {value!r}").format(value=text), location)
    if isinstance(text, (int, float)):
        number, unit_text = float(text), ""
    else:
        normalised = unicodedata.normalize("NFKC", str(text))
        number_text = _NUMBER_WITH_COMMAS.match(normalised).group(0)
        if "," in number_text:
            if not _THOUSANDS.fullmatch(number_text.strip()):
                raise UnitError(_("{number!r} is not a number: a comma groups thousands (4,200 or 1,234.5); write a "
                                  "decimal point as '.'").format(number=number_text.strip()), location)
            normalised = number_text.replace(",", "") + normalised[len(number_text):]
        match = _NUMBER_PREFIX.match(normalised)
        if not match:
            raise UnitError(_("expected a number followed by a unit, such as '420 kWh/yr', got {value!r}").format(
                value=text), location)
        number, unit_text = float(match.group(1)), match.group(2).strip()
    if not math.isfinite(number):
        raise UnitError(_("value {value!r} is not a finite number").format(value=text), location)
    if not unit_text:
        if default_unit is None:
            raise UnitError(_("value {value!r} has no unit; write it as '<number> <unit>'").format(value=text), location)
        unit_text = default_unit
    unit = parse_unit(unit_text, hours_per_year, location)
    return registry().Quantity(number, unit)


def conversion_factor(from_unit: pint.Unit, to_unit: pint.Unit, what: str | None = None,
                      location: Location | None = None) -> float:
    """Factor ``f`` such that a magnitude in ``from_unit`` times ``f`` is the magnitude in ``to_unit``.

    Used once per column (never per row): the kernel then multiplies whole arrays by ``f``.

    Args:
        from_unit, to_unit: Pint units of koken's registry (multiplicative).
        what: a name for error messages (parameter or column; default: "value", in the current language).
        location: where the value came from.
    Returns:
        float conversion factor.
    Raises:
        UnitError: if the dimensions differ, naming both units and both dimensions.
    """
    what = _("value") if what is None else what
    ureg = registry()
    try:
        factor = float(ureg.Quantity(1.0, from_unit).to(to_unit).magnitude)
    except pint.errors.DimensionalityError:
        raise UnitError(
            _("{what}: unit '{unit}' has dimension {dimension}, but '{expected}' ({expected_dimension}) is "
              "expected").format(what=what, unit=f"{from_unit:~}", dimension=dimension_text(from_unit),
                                 expected=f"{to_unit:~}", expected_dimension=dimension_text(to_unit)),
            location,
        ) from None
    except (OverflowError, ZeroDivisionError):
        factor = float("inf")
    if not math.isfinite(factor) or factor == 0.0:
        raise UnitError(_("{what}: converting '{unit}' to '{expected}' gives a factor of {factor:g}; the unit is "
                          "out of any sensible range").format(what=what, unit=f"{from_unit:~}", expected=f"{to_unit:~}",
                                                              factor=factor), location)
    return factor


def dimension_text(unit: pint.Unit) -> str:
    """Human-readable dimension of a unit, e.g. ``[mass] * [carbon_dioxide_equivalent]`` (``dimensionless`` in
    the current language when it has none)."""
    dims = registry().Quantity(1.0, unit).dimensionality
    return str(dims) if dims else _("dimensionless")


def is_dimensionless(unit: pint.Unit) -> bool:
    """True for fraction, percent, ppm and other unit-free quantities."""
    return registry().Quantity(1.0, unit).dimensionless


COUNT_UNITS = frozenset({"item", "千", "万", "億"})


def is_count_unit(unit: pint.Unit) -> bool:
    """True for a number of things (台, 件, 万台 …); False for %, ppm, kg/t and other dimensionless units."""
    names = {name for name, _power in registry().Quantity(1.0, unit).unit_items()}
    return bool(names) and names <= COUNT_UNITS
