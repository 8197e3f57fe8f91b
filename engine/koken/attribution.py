"""Device attribution: the share of set products' avoided emissions attributed to semiconductors and
electronic components, by contribution ratios (寄与率) from input-output tables.

The industry reports the device contribution as a subset (内数) of the set products' figures, never
added to them (denki-denshi.jp contribution page; JEITA's guideline 「製品のCO2排出抑制貢献量に対する
半導体・電子部品の寄与率算定の考え方」). koken therefore adds device columns *beside* each result:
device share = figure × ratio, per device class, for the single-year and lifetime figures alike.

Ratios come from a ratio file (``attribution/*.yaml``):

* ``basis: methodology`` — one ratio per methodology and device class, as ``koken ratios`` derives
  them from an input-output table;
* ``basis: category_market`` — one ratio per category and market, such as the shipped
  ``ratios_fy2023_report.yaml`` implied by the FY2023 industry results (device ÷ total).

A methodology-level entry wins over a category-level one. A line with no ratio (the file says the
category is not reported) gets no device share, and the result says so; nothing is guessed.

Derivation (``koken ratios``, :func:`derive_ratios`): the direct input coefficient
``r[d, p] = X[d → p] / X[p]``: the value of device sector ``d`` bought by set-product sector ``p``
divided by ``p``'s domestic production, both from the basic transaction table (producer prices).
See docs/attribution.md for the choice and its variants.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import pydantic
from pydantic import Field, model_validator

from koken.base.errors import (
    KokenError,
    KokenErrors,
    Location,
    MethodologyError,
    PortfolioError,
)
from koken.base.grouping import group_codes
from koken.base.i18n import _
from koken.base.models import StrictModel
from koken.base.paths import data_root
from koken.base.safe_yaml import load_yaml_file, load_yaml_text, read_yaml_bytes, yaml_file_text
from koken.base.vocabulary import CATEGORY_IDS, FIGURES, MARKET_IDS

DEFAULT_RATIO_FILE = "ratios_fy2023_report.yaml"


class RatioSource(StrictModel):
    title: Annotated[str, Field(min_length=1, max_length=1000)]
    publisher: Annotated[str, Field(min_length=1, max_length=300)]
    year: Annotated[int, Field(ge=1900, le=2100)]
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None


class RatioEntry(StrictModel):
    """One ratio: for a methodology, or for a category and market; given directly or as device/total."""

    methodology: str | None = None
    category: Literal[CATEGORY_IDS] | None = None
    market: Literal[MARKET_IDS] | None = None
    device_class: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    ratio: Annotated[float, Field(ge=0, le=1)] | None = None
    device: Annotated[float, Field(ge=0)] | None = None
    total: Annotated[float, Field(gt=0)] | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> RatioEntry:
        if (self.ratio is None) == (self.device is None or self.total is None):
            raise ValueError(_("give either ratio, or device and total"))
        if self.device is not None and self.total is not None and self.device > self.total:
            raise ValueError(_("device share is larger than the total"))
        return self

    @property
    def value(self) -> float:
        return self.ratio if self.ratio is not None else self.device / self.total


class NotReported(StrictModel):
    category: str
    market: Literal[MARKET_IDS]
    note: str


class RatioFileSpec(StrictModel):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
    title: dict[Literal["ja", "en"], str]
    basis: Literal["methodology", "category_market"]
    source: RatioSource
    device_classes: dict[str, dict[Literal["ja", "en"], str]] = Field(min_length=1)
    entries: list[RatioEntry] = Field(min_length=1)
    not_reported: list[NotReported] = Field(default_factory=list)
    fiscal_years: list[Annotated[int, Field(ge=1990, le=2100)]] | None = Field(None, description=(
        "the reporting years the ratios describe; a line of another fiscal year gets no device share (None: any "
        "year, for ratios of an input-output table the company applies to every year)"))

    @model_validator(mode="after")
    def _consistent(self) -> RatioFileSpec:
        seen = set()
        for i, e in enumerate(self.entries):
            if e.device_class not in self.device_classes:
                raise ValueError(_("entries[{index}]: device class {device_class!r} is not declared").format(
                    index=i, device_class=e.device_class))
            key = (e.methodology,) if self.basis == "methodology" else (e.category, e.market)
            if None in key:
                raise ValueError((_("entries[{index}]: a {basis} file needs methodology") if self.basis == "methodology"
                                  else _("entries[{index}]: a {basis} file needs category and market")).format(
                    index=i, basis=self.basis))
            if key + (e.device_class,) in seen:
                raise ValueError(_("entries[{index}]: {key} appears twice").format(index=i, key=key + (e.device_class,)))
            seen.add(key + (e.device_class,))
        return self


@dataclass(frozen=True)
class RatioFile:
    spec: RatioFileSpec
    path: str
    content_hash: str

    @property
    def id(self) -> str:
        return self.spec.id

    def ratios_for(self, methodology: str, category: str, market: str,
                   mapped: frozenset[str] | None = None) -> dict[str, float] | None:
        """Device class → ratio for a line, or None when the file has no ratio for it (a category-average file
        covers only the methodologies mapped to a device-bearing set-product sector: :func:`mapped_methodologies`,
        read from its file unless given as ``mapped``)."""
        if self.spec.basis == "methodology":
            found = {e.device_class: e.value for e in self.spec.entries if e.methodology == methodology}
        else:
            if methodology not in (mapped_methodologies() if mapped is None else mapped):
                return None
            found = {e.device_class: e.value for e in self.spec.entries
                     if e.category == category and e.market == market}
        return found or None

    def covers(self, fiscal_year: int) -> bool:
        """Whether the ratios describe lines of ``fiscal_year``."""
        return self.spec.fiscal_years is None or int(fiscal_year) in self.spec.fiscal_years


def mapped_methodologies() -> frozenset[str]:
    """The methodologies mapped to a set-product sector of the input-output table (``attribution/sector_map.yaml``):
    the only ones a category-average ratio applies to. A custom methodology gets no device share unless the working
    group maps it there (issue 12 §7: a ratio for a category is an average over the products the category holds)."""
    path = attribution_dir() / "sector_map.yaml"
    return _sectors(read_yaml_bytes(path), str(path))  # the file is read each time; parsed once per content


@functools.lru_cache(maxsize=4)
def _sectors(raw: bytes, name: str) -> frozenset[str]:
    """The sector map's methodologies, from the file's bytes (parsing it took 20 ms, and a run asked twice per
    methodology, category, market and year: 2-4 s of every calculate, verify and report)."""
    data = load_yaml_text(yaml_file_text(raw, Path(name)), name)
    return frozenset((data or {}).get("sectors", {}))


def attribution_dir() -> Path:
    """The shipped attribution data (ratio files, sector maps)."""
    return data_root() / "attribution"


def load_ratio_file(path: str | Path | None = None) -> RatioFile:
    """Load a ratio file (default: the shipped FY2023-report-implied ratios).

    Raises:
        KokenErrors: format problems, each with the file and field.
    """
    p = Path(path) if path else attribution_dir() / DEFAULT_RATIO_FILE
    data = load_yaml_file(p)
    try:
        spec = RatioFileSpec.model_validate(data)
    except pydantic.ValidationError as err:
        raise KokenErrors([MethodologyError(e["msg"].removeprefix("Value error, "),
                                            Location(file=str(p), field=".".join(map(str, e["loc"])) or None))
                           for e in err.errors()]) from None
    canonical = json.dumps(spec.model_dump(mode="json", exclude_defaults=True), sort_keys=True, ensure_ascii=False)
    return RatioFile(spec=spec, path=str(path) if path else f"attribution/{DEFAULT_RATIO_FILE}",
                     content_hash="sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest())




def attribute(table: pd.DataFrame, ratios: RatioFile) -> pd.DataFrame:
    """Add device-share columns beside each result row (the set-product figures are not changed).

    Args:
        table: result rows with ``methodology``, ``category``, ``market`` and :data:`FIGURES`.
        ratios: the ratio file.
    Returns:
        A copy with, per device class ``c``: ``device_ratio:<c>`` and ``device_single_year:<c>[t-CO2e]``,
        ``device_lifetime:<c>[t-CO2e]``; plus ``device_ratio_basis`` naming the file and entry used,
        or saying that the file reports no ratio for the line (a label of ids, the same in every language:
        ``koken verify`` compares it and the action-plan report reads it).
    """
    out = table.copy(deep=False)  # columns are added, none is changed
    classes = list(ratios.spec.device_classes)
    key_columns = ["methodology", "category", "market", "fiscal_year"]
    codes, keys = group_codes([out[c] for c in key_columns]) if len(out) else (np.zeros(0, dtype=int), [])
    # once per distinct (methodology, category, market, fiscal year); a year the file does not describe gets none
    mapped = mapped_methodologies() if ratios.spec.basis == "category_market" else frozenset()
    lookup = [ratios.ratios_for(*k[:3], mapped=mapped) if ratios.covers(k[3]) else None for k in keys]
    for c in classes:
        per_key = np.array([(found or {}).get(c, np.nan) for found in lookup], dtype=float)
        out[f"device_ratio:{c}"] = per_key[codes] if len(out) else np.zeros(0)
        for figure in FIGURES:
            name = figure.split("[")[0]
            out[f"device_{name}:{c}[t-CO2e]"] = out[figure] * out[f"device_ratio:{c}"].fillna(0.0)
    labels = np.array([_basis_label(ratios, k, found, mapped) for k, found in zip(keys, lookup)], dtype=object)
    label_codes, distinct = pd.factorize(labels) if len(labels) else (np.zeros(0, dtype=int), np.zeros(0, dtype=object))
    out["device_ratio_basis"] = pd.Categorical.from_codes(label_codes[codes] if len(out) else np.zeros(0, dtype=int),
                                                          categories=distinct)
    return out


def _basis_label(ratios: RatioFile, key: tuple, found: dict | None, mapped: frozenset[str]) -> str:
    """The ``device_ratio_basis`` of a (methodology, category, market, fiscal year) group: a label of ids, the same in
    every language (``koken verify`` compares it; reports name it in words); ``mapped``: :func:`mapped_methodologies`."""
    methodology, category, market, year = key
    if not ratios.covers(year):
        return f"{ratios.id}: fiscal year {year} not covered"
    if ratios.spec.basis == "category_market" and methodology not in mapped:
        return f"{ratios.id}: {methodology} not mapped to a sector"
    if found is None:
        return f"{ratios.id}: no ratio reported for {category} {market}"
    if ratios.spec.basis == "methodology":
        return f"{ratios.id}: methodology {methodology}"
    return f"{ratios.id}: {category} {market} (category average)"


def device_columns(table: pd.DataFrame, figure: str) -> list[str]:
    """The device-share columns of one figure (``single_year`` or ``lifetime``)."""
    return [c for c in table.columns if c.startswith(f"device_{figure}:")]


# ---------------------------------------------------------------- derivation from an input-output table

class DeviceSectors(StrictModel):
    """Which input-output rows are device sectors, and their device class."""

    device_sectors: dict[str, Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]] = Field(min_length=1)
    production_row: str = "国内生産額"


def derive_ratios(io_table: str | Path, edition_year: int, device_sectors: str | Path | None = None,
                  sector_map: str | Path | None = None) -> dict:
    """Direct input coefficients of device sectors into each methodology's set-product sector.

    Args:
        io_table: CSV of the basic transaction table: first column the input (row) sector names, then
            one column per output sector; one row (``production_row``, default 国内生産額) holds each
            sector's domestic production. Values in any one currency unit (e.g. million yen).
        device_sectors: YAML naming the device rows and their class (default: shipped).
        sector_map: YAML mapping methodology id → set-product column name (default: shipped).
        edition_year: the year of the input-output table (recorded as the ratios' source).
    Returns:
        A ratio-file document (``basis: methodology``): per methodology and device class,
        ``ratio = Σ X[d → p] / X[p]`` over the device rows ``d`` of that class.
    Raises:
        KokenErrors: unreadable table, missing rows or columns, non-numeric or negative cells,
            zero production.
    """
    where = Location(file=str(io_table))
    devices = DeviceSectors.model_validate(load_yaml_file(device_sectors or attribution_dir() / "device_sectors.yaml"))
    mapping = load_yaml_file(sector_map or attribution_dir() / "sector_map.yaml")
    sectors = mapping.get("sectors") if isinstance(mapping, dict) else None
    if not isinstance(sectors, dict):
        raise KokenErrors([KokenError(_("the sector map needs 'sectors: {methodology: column}'"),
                                      Location(file=str(sector_map)))])
    try:
        raw = Path(io_table).read_bytes()
        text = raw.decode("utf-8-sig") if not raw.startswith(b"\xff") else raw.decode("utf-16")
    except (OSError, UnicodeDecodeError) as err:
        raise KokenErrors([PortfolioError(_("cannot read the table as UTF-8 text: {error}").format(error=err),
                                          where)]) from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise KokenErrors([PortfolioError(_("not a readable CSV table: {error}").format(error=err), where)]) from None
    frame = frame.set_index(frame.columns[0])
    frame.index = frame.index.str.strip()
    errors: list[KokenError] = []
    numbers = frame.apply(lambda s: pd.to_numeric(s.str.replace(",", "", regex=False), errors="coerce"))
    bad = numbers.isna() | (numbers < 0)
    for row, col in zip(*np.nonzero(bad.to_numpy())):
        errors.append(PortfolioError(_("{value!r} is not a number >= 0").format(value=frame.iat[row, col]),
                                     Location(file=str(io_table), row=int(row) + 2, column=str(frame.columns[col]))))
    if devices.production_row not in numbers.index:
        errors.append(PortfolioError(_("no row {row!r} (domestic production)").format(row=devices.production_row),
                                     where))
    missing_rows = [r for r in devices.device_sectors if r not in numbers.index]
    if missing_rows:
        errors.append(PortfolioError(_("device rows not in the table: {rows}").format(rows=", ".join(missing_rows)),
                                     where))
    missing_cols = sorted({c for c in sectors.values() if c not in numbers.columns})
    if missing_cols:
        errors.append(PortfolioError(_("set-product columns not in the table: {columns}").format(
            columns=", ".join(missing_cols)), where))
    if errors:
        raise KokenErrors(errors)
    production = numbers.loc[devices.production_row]
    entries = []
    classes = sorted(set(devices.device_sectors.values()))
    for methodology, column in sorted(sectors.items()):
        if production[column] <= 0:
            raise KokenErrors([PortfolioError(_("domestic production of {column!r} is not positive").format(
                column=column), where)])
        for c in classes:
            rows = [r for r, cls in devices.device_sectors.items() if cls == c]
            ratio = float(numbers.loc[rows, column].sum() / production[column])
            entries.append({"methodology": methodology, "device_class": c, "ratio": round(ratio, 12),
                            "note": f"Σ {', '.join(rows)} → {column} ÷ {devices.production_row}"})
    return {
        "id": "io_derived",
        "title": {"ja": "産業連関表から導出した寄与率（直接投入係数）",
                  "en": "Contribution ratios derived from an input-output table (direct input coefficients)"},
        "basis": "methodology",
        "source": {"title": f"{edition_year} input-output table (産業連関表), basic transaction table: "
                            f"{Path(io_table).name}",
                   "publisher": "総務省・関係府省庁 (Ministry of Internal Affairs and Communications and others)",
                   "year": edition_year},
        "device_classes": {c: {"ja": c, "en": c} for c in classes},
        "entries": entries,
    }


def write_ratio_file(io_table: str | Path, edition_year: int, output: str | Path,
                     device_sectors: str | Path | None = None, sector_map: str | Path | None = None) -> dict:
    """Derive contribution ratios from an input-output table (:func:`derive_ratios`) and write them as a ratio
    file for ``--ratios``, whole or not at all; what is written must read back as a ratio file.

    Returns:
        The document written (``entries``: one ratio per methodology and device class).
    Raises:
        KokenErrors / KokenError: the table's problems, or the file cannot be written.
    """
    import yaml

    from koken.base.files import atomic_write

    document = derive_ratios(io_table, edition_year, device_sectors, sector_map)
    header = "".join(f"# {line}\n" for line in _(
        "Contribution ratios derived by `koken ratios` from {table} ({year} table):\n"
        "direct input coefficients r = X[device -> sector] / X[sector], per methodology.").format(
            table=Path(io_table).name, year=edition_year).splitlines())
    atomic_write(output, (header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False)).encode("utf-8"))
    load_ratio_file(output)
    return document
