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
* so are the spellings Pint reads otherwise than a reporter means them (:data:`_AMBIGUOUS`): ``mt`` (Pint: a
  millitonne), ``gr`` (the grain), ``MBtu`` (10⁶ Btu; 10³ in US usage), ``mW``/``mWh`` (beside MW/MWh),
  ``Tb``/``Gb`` (a barn, a gilbert: bits or bytes?) and the refrigeration ton (US 3.517 kW, Japanese 3.861 kW),
  each with the spelling to use;
* every character of a unit text is accounted for (:func:`check_characters`): Pint's tokenizer drops what it
  does not know (``kWh # MWh`` was kWh, ``台→万台`` 万台², ``kWh@yr`` kWh·yr), so any other character is refused;
  counts or multipliers multiplied together (``台 万台``) are refused too;
* a temperature difference (``delta_degC``) and an absolute temperature (``K``) never convert into each other;
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
_AMBIGUOUS = {
    "mt": N_("'{tok}' is ambiguous: Pint reads it as a millitonne, 1 kg, while reports mean the metric ton: write t "
             "(tonne) or kg"),
    "gr": N_("'{tok}' is ambiguous: Pint reads it as the grain, 64.8 mg, not a gram: write g (gram), or grain"),
    "MBtu": N_("'{tok}' is ambiguous: Pint reads it as 10⁶ Btu, US usage as 10³ Btu: write kBtu (10³ Btu) or MMBtu "
               "(10⁶ Btu)"),
    "mWh": N_("'{tok}' is ambiguous: a milliwatt-hour, easily a mistyped MWh (10⁹ times more): write MWh "
              "(megawatt-hour), or milliwatt_hour"),
    "mW": N_("'{tok}' is ambiguous: a milliwatt, easily a mistyped MW (10⁹ times more): write MW (megawatt), or "
             "milliwatt"),
    "refrigeration_ton": N_("'{tok}' is ambiguous: Pint reads it as the US refrigeration ton (12,000 Btu/h, 3.517 kW), "
                            "the Japanese one is 3,320 kcal/h (3.861 kW): write USRT or JRT"),
    "RT": N_("'{tok}' is ambiguous: Pint reads it as a ronnatesla; a refrigeration ton is the US one (12,000 Btu/h, "
             "3.517 kW) or the Japanese one (3,320 kcal/h, 3.861 kW): write USRT or JRT"),
}
"""Unit spellings Pint reads otherwise than a reporter means them, each refused with the spelling to use (the
ambiguous ``ton`` and ``month`` have their own messages)."""
_AMBIGUOUS_TOKENS = {"mt": "mt", "gr": "gr", "MBtu": "MBtu", "mWh": "mWh", "mW": "mW", "refrigeration_ton":
                     "refrigeration_ton", "ton_of_refrigeration": "refrigeration_ton", "RT": "RT", "Rt": "RT",
                     "TR": "RT", "冷凍トン": "refrigeration_ton", "冷凍t": "refrigeration_ton"}
_BITS_OR_BYTES = re.compile(r"^([kMGTPE]?)b$")
_BITS_OR_BYTES_HINT = N_("'{tok}' is ambiguous: Pint reads it as a {unit}, not as bits or bytes: write {byte} (bytes) "
                         "or {bit} (bits)")
_ACCOUNTED = re.compile(r"[\w\s*/^()+\-%‰°]|(?<=\d)\.(?=\d)")
"""The characters a unit text may hold: names (letters, digits, _ and the Japanese ones), spaces, ``* / ^ ( ) + -``,
``%``, ``‰``, ``°`` and a decimal point inside a number (``m**2.5``); Pint's tokenizer drops anything else."""
COUNT_FACTORS = frozenset({"item", "十", "百", "千", "万", "億"})
"""Counted things and the Japanese multipliers: each may appear once in a unit, to the power ±1."""
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


class OnDemandRegistry(pint.UnitRegistry):
    """Pint's ``UnitRegistry``, every definition parsed as Pint parses it, without the pass Pint makes at start-up
    over all of its ~1,000 units to work out each one's root units and dimension ahead of use (a third of the
    registry's start-up; issue 17 §4, docs/performance.md § Start-up). Pint works each out when it is first asked
    for and keeps it, with the same code (``tests/base/test_units.py`` compares every unit's root units, factor and
    dimension with Pint's own registry). ``get_compatible_units``, the one lookup that needs every unit's
    dimension at once, makes that pass on its first call.
    """

    _equivalents_built = False

    def _build_cache(self, loaded_files=None) -> None:
        from pint.facets.plain.registry import RegistryCache

        self._cache = RegistryCache()  # filled on use by Pint's own lookups
        self._caches[()] = self._cache  # the context facet's cache of "no context active"

    def _get_compatible_units(self, input_units, group_or_system=None):
        if not self._equivalents_built:
            self._equivalents_built = True
            super()._build_cache()
        return super()._get_compatible_units(input_units, group_or_system)


@functools.lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """Return koken's application registry (built once per process).

    Returns:
        A ``pint.UnitRegistry`` (:class:`OnDemandRegistry`) with Pint's defaults plus every file in ``units/``;
        also set as Pint's application registry so that quantities from koken combine with each other.
    """
    ureg = OnDemandRegistry(on_redefinition="raise", autoconvert_offset_to_baseunit=False)
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
    check_characters(s)
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
        if tok in _AMBIGUOUS_TOKENS:
            raise UnitError(_(_AMBIGUOUS[_AMBIGUOUS_TOKENS[tok]]).format(tok=tok))
        bits = _BITS_OR_BYTES.match(tok)
        if bits:
            raise UnitError(_(_BITS_OR_BYTES_HINT).format(
                tok=tok, unit=_("barn (an area)") if tok != "Gb" else _("gilbert (a magnetomotive force)"),
                byte=f"{bits.group(1)}B", bit=f"{bits.group(1)}bit"))
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


def check_characters(text: str) -> None:
    """Refuse a unit text with a character that is not part of a unit (:data:`_ACCOUNTED`).

    Pint's tokenizer skips what it does not know, so ``kWh # MWh`` read as kWh, ``台→万台`` as 台·万台 and
    ``kWh@yr`` as kWh·yr, and the ▲ of ``5▲ kWh/yr`` vanished (+5): every character must be accounted for.

    Args:
        text: unit text after width folding (NFKC) and the rewriting of superscripts and middle dots.
    Raises:
        UnitError: naming the first such character and its code point.

    >>> check_characters("kg-CO2/kWh")
    >>> check_characters("kWh # MWh")
    Traceback (most recent call last):
    ...
    koken.base.errors.UnitError: '#' (U+0023) is not part of a unit and the unit parser would ignore it: write ...
    """
    position = 0
    while position < len(text):
        match = _ACCOUNTED.match(text, position)
        if match is None or not match.group(0):
            char = text[position]
            raise UnitError(_("{char!r} (U+{code:04X}) is not part of a unit and the unit parser would ignore it: write "
                              "only the unit, with names, *, /, ** and numbers (a negative number as -5 or ▲5, before "
                              "the unit)").format(char=char, code=ord(char)))
        position = match.end()


def _check_counts(unit: pint.Unit) -> None:
    """Refuse counts or Japanese multipliers multiplied together (``台 万台``, ``万万台``): a space multiplies in
    Pint, so ``45000 台 万台`` was 45,000 × 10⁴ 台."""
    for name, power in unit._units.items():
        if name in COUNT_FACTORS and abs(power) > 1:
            raise UnitError(_("it multiplies counts or multipliers together ({name} to the power {power:g}): write one "
                              "count unit, such as 台 or 万台").format(name=name, power=power))


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
    if stripped.count("%") + stripped.count("％") == 1 and stripped not in ("%", "％"):
        # 420 % kWh/yr, or 420 ± 5 % kWh/yr read as 420 % of kWh/yr: 4.2 kWh/yr, a hundredfold off without a word
        raise UnitError(_("unit {text!r}: % with another unit multiplies the value by 0.01; % belongs to a plain "
                          "share (write 420 kWh/yr, or a range as 420 kWh/yr ± 5 %)").format(text=text), location)
    try:
        pint_text = normalise_unit_text(stripped, hours_per_year)
        unit = registry().parse_units(pint_text)
        _check_counts(unit)
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
    _same_temperature_kind(from_unit, to_unit, what, location)
    factor = _factor(from_unit, to_unit)
    if factor is None:
        raise UnitError(
            _("{what}: unit '{unit}' has dimension {dimension}, but '{expected}' ({expected_dimension}) is "
              "expected").format(what=what, unit=unit_display(from_unit), dimension=dimension_text(from_unit),
                                 expected=unit_display(to_unit), expected_dimension=dimension_text(to_unit)),
            location,
        )
    if not math.isfinite(factor) or factor == 0.0:
        raise UnitError(_("{what}: converting '{unit}' to '{expected}' gives a factor of {factor:g}; the unit is "
                          "out of any sensible range").format(what=what, unit=unit_display(from_unit),
                                                              expected=unit_display(to_unit),
                                                              factor=factor), location)
    return factor


@functools.lru_cache(maxsize=4096)
def _factor(from_unit: pint.Unit, to_unit: pint.Unit) -> float | None:
    """:func:`conversion_factor` without its checks and messages, once per pair of units (a column's units are
    converted once per partition and methodology, so the same pairs come again): None where the dimensions differ."""
    try:
        return float(registry().Quantity(1.0, from_unit).to(to_unit).magnitude)
    except pint.errors.DimensionalityError:
        return None
    except (OverflowError, ZeroDivisionError):
        return float("inf")


_SYMBOLS = {"frac": "fraction", "kl": "kL", "l": "L", "ml": "mL", "kLOE": "原油換算kL"}
"""Pint symbols shown as people write them (Pint spells the litre in lower case)."""
_MULTIPLIERS = ("十", "百", "千", "万", "億")
_YEAR_NAME = re.compile(r"^year_(\d+)h$")
_SUPERSCRIPT_POWERS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def unit_display(unit: pint.Unit) -> str:
    """A unit written as people write it, for messages: ``kWh/yr`` (never Pint's ``kWh / year_8760h``),
    ``kg-CO2e/kWh``, ``万台``, ``kWh/kW/yr``, ``m³``.

    >>> unit_display(parse_unit("kWh/yr")), unit_display(parse_unit("kg-CO2/kWh")), unit_display(parse_unit("万台"))
    ('kWh/yr', 'kg-CO2e/kWh', '万台')
    """
    ureg = registry()
    items = list(ureg.Quantity(1.0, unit).unit_items())
    if not items:
        return "fraction"

    def symbol(name: str, power: float) -> str:
        year = _YEAR_NAME.match(name)
        text = "yr" if year else _SYMBOLS.get(ureg.get_symbol(name), ureg.get_symbol(name))
        power = abs(power)
        if power == 1:
            return text
        shown = f"{power:g}"
        return text + shown.translate(_SUPERSCRIPT_POWERS) if shown.isdigit() else f"{text}**{shown}"

    over = [(n, e) for n, e in items if e > 0]
    under = [(n, e) for n, e in items if e < 0]
    prefix = "".join(n for n, e in over if n in _MULTIPLIERS and e == 1)
    over = [(n, e) for n, e in over if not (n in _MULTIPLIERS and e == 1)]
    parts = [symbol(n, e) for n, e in over]
    ghg = "carbon_dioxide_equivalent"
    mass = next((n for n, e in over if e == 1 and n != ghg
                 and ureg.Quantity(1.0, n).dimensionality == ureg.Quantity(1.0, "kg").dimensionality), None)
    if (ghg, 1) in over and mass is not None:  # kg-CO2e: the gas joined to its mass unit, as the field writes it
        parts = [symbol(mass, 1) + "-CO2e", *(symbol(n, e) for n, e in over if n not in (mass, ghg))]
    top = prefix + "·".join(parts) if parts else (prefix or "1")
    under.sort(key=lambda item: bool(_YEAR_NAME.match(item[0])))  # the year last: kWh/kW/yr
    return top + "".join("/" + symbol(n, e) for n, e in under)


_DIMENSIONS: dict[frozenset, str] = {
    frozenset(): N_("dimensionless"),
    frozenset({("[mass]", 1)}): N_("mass"),
    frozenset({("[length]", 1)}): N_("length"),
    frozenset({("[length]", 2)}): N_("area"),
    frozenset({("[length]", 3)}): N_("volume"),
    frozenset({("[time]", 1)}): N_("time"),
    frozenset({("[mass]", 1), ("[length]", 2), ("[time]", -2)}): N_("energy"),
    frozenset({("[mass]", 1), ("[length]", 2), ("[time]", -3)}): N_("power"),
    frozenset({("[mass]", 1), ("[time]", -2)}): N_("energy per area"),
    frozenset({("[mass]", 1), ("[carbon_dioxide_equivalent]", 1)}): N_("GHG emissions (CO2e)"),
    frozenset({("[carbon_dioxide_equivalent]", 1), ("[time]", 2), ("[length]", -2)}): N_(
        "GHG emissions per energy (an emission factor)"),
    frozenset({("[mass]", 1), ("[length]", 1)}): N_("mass × distance"),
    frozenset({("[currency]", 1)}): N_("money"),
    frozenset({("[computational_work]", 1)}): N_("computational work"),
}
"""Dimensions of the field, named in words (the Pint form, ``[mass] * [length] ** 2 / [time] ** 3``, only for
others)."""
_PER_TIME = {"year": N_("{dimension} per year"), "day": N_("{dimension} per day"), "hour": N_("{dimension} per hour"),
             "second": N_("{dimension} per second")}
_PER_TIME_ONLY = {"year": N_("per year"), "day": N_("per day"), "hour": N_("per hour"), "second": N_("per second")}
@functools.lru_cache(maxsize=4096)
def _temperature_kind(unit: pint.Unit) -> str | None:
    """``difference`` for a temperature difference (``delta_degC``, ``delta_degF``), ``absolute`` for an absolute
    temperature (``K``, ``degR``), None for a unit that is not a temperature alone (``W/K`` included: a unit per
    kelvin is per kelvin of difference whatever it is written with)."""
    if dict(registry().Quantity(1.0, unit).dimensionality) != {"[temperature]": 1}:
        return None
    return "difference" if any(name.startswith("delta_") for name in unit._units) else "absolute"


def _same_temperature_kind(from_unit: pint.Unit, to_unit: pint.Unit, what: str, location: Location | None) -> None:
    """Refuse converting a temperature difference into an absolute temperature or back.

    Pint gives both the dimension [temperature] and converts ``10 delta_degC`` into 10 K, which as an absolute
    temperature is −263 °C; the reverse reads an absolute 300 K as a 300 K rise.

    Raises:
        UnitError: the two are temperatures of different kinds.
    """
    given, declared = _temperature_kind(from_unit), _temperature_kind(to_unit)
    if given is None or declared is None or given == declared:
        return
    if given == "difference":
        raise UnitError(_("{what}: '{unit}' is a temperature difference, but '{expected}' is an absolute temperature: "
                          "give the temperature itself in K (an offset unit such as degC is not read)").format(
            what=what, unit=unit_display(from_unit), expected=unit_display(to_unit)), location)
    raise UnitError(_("{what}: '{unit}' is an absolute temperature, but '{expected}' is a temperature difference: give "
                      "the difference in delta_degC (1 delta_degC = 1 K of difference)").format(
        what=what, unit=unit_display(from_unit), expected=unit_display(to_unit)), location)


def dimension_text(unit: pint.Unit) -> str:
    """The dimension of a unit in words, in the current language: ``energy``, ``power``, ``mass``, ``GHG emissions
    (CO2e)``; a unit divided by a time is named per that time (``kWh/yr``: ``energy per year``, not power); Pint's
    form (``[mass] * [length] ** 2``) only for dimensions the field does not name.

    >>> dimension_text(parse_unit("kWh/yr")), dimension_text(parse_unit("kW")), dimension_text(parse_unit("kg"))
    ('energy per year', 'power', 'mass')
    """
    ureg = registry()
    quantity = ureg.Quantity(1.0, unit)
    for name, power in quantity.unit_items():
        per = _time_name(name) if power == -1 else None
        if per is not None:
            rest = ureg.Quantity(1.0, unit * ureg.Unit(name)).dimensionality
            named = _DIMENSIONS.get(frozenset(rest.items()))
            if named is not None:
                return _(_PER_TIME_ONLY[per]) if not rest else _(_PER_TIME[per]).format(dimension=_(named))
    dims = quantity.dimensionality
    named = _DIMENSIONS.get(frozenset(dims.items()))
    return _(named) if named is not None else str(dims)


def _time_name(name: str) -> str | None:
    """``year``, ``day``, ``hour`` or ``second`` when the unit ``name`` is one of them (koken's pinned years too)."""
    if _YEAR_NAME.match(name):
        return "year"
    return {"day": "day", "hour": "hour", "second": "second"}.get(name)


def is_dimensionless(unit: pint.Unit) -> bool:
    """True for fraction, percent, ppm and other unit-free quantities."""
    return registry().Quantity(1.0, unit).dimensionless


_CO2_ONLY = re.compile(r"CO2(?!\s*-?\s*e)", re.IGNORECASE)


def names_co2_only(text: str) -> bool:
    """Whether unit text gives a GHG amount in CO2 alone, not CO2e (``kg-CO2/kWh``, ``tCO2``; not ``kg-CO2e/kWh``,
    ``t-CO2eq``): koken counts CO2 as CO2e (GWP 1), so such a value leaves out the other gases of what it measures
    (the CH4 and N2O of power generation), and results mark it.

    >>> names_co2_only("kg-CO2/kWh"), names_co2_only("kg-CO2e/kWh"), names_co2_only("ｔ－ＣＯ２"), names_co2_only("kWh")
    (True, False, True, False)
    """
    return bool(_CO2_ONLY.search(unicodedata.normalize("NFKC", str(text))))


@functools.lru_cache(maxsize=4096)
def is_ghg_amount(unit: pint.Unit) -> bool:
    """True for units with the GHG dimension (kg-CO2e, kg-CO2/kWh …)."""
    return "[carbon_dioxide_equivalent]" in registry().Quantity(1.0, unit).dimensionality


COUNT_UNITS = frozenset({"item", "千", "万", "億"})


@functools.lru_cache(maxsize=4096)
def is_count_unit(unit: pint.Unit) -> bool:
    """True for a number of things (台, 件, 万台 …); False for %, ppm, kg/t and other dimensionless units."""
    names = {name for name, _power in registry().Quantity(1.0, unit).unit_items()}
    return bool(names) and names <= COUNT_UNITS
