"""The field's lists, each written once: categories, markets, standard portfolio columns, reserved
names and result columns.

Every other module takes these from here (the category list feeds the methodology schema, the
attribution schema, the report table and the docs index; the markets feed the portfolio reader and
the report), so that adding a category or a market is a change in one place.

Sources: the five categories and their Japanese names are those of the industry's Carbon Neutral
Action Plan report (電機・電子温暖化対策連絡会, FY2023 follow-up: 発電, 家電, 産業用機器, IT製品,
ソリューション); 国内/海外 is its split of domestic and overseas contributions.
"""

from __future__ import annotations

from typing import NamedTuple


class Term(NamedTuple):
    """A term of the field: its id in files and results, its Japanese and English names."""

    id: str
    ja: str
    en: str


CATEGORIES = (
    Term("generation", "発電", "Power generation"),
    Term("home_appliances", "家電", "Home appliances"),
    Term("industrial_equipment", "産業用機器", "Industrial equipment"),
    Term("it_equipment", "IT製品", "IT products"),
    Term("solutions", "ソリューション", "Solutions"),
)
"""The action plan's five categories (分野), in the report's order."""
CATEGORY_IDS = tuple(c.id for c in CATEGORIES)

MARKETS = (Term("domestic", "国内", "Domestic"), Term("overseas", "海外", "Overseas"))
"""Where the products are used: Japan (国内) or abroad (海外)."""
MARKET_IDS = tuple(m.id for m in MARKETS)
MARKET_NAMES = {name: m.id for m in MARKETS for name in (m.id, m.ja)}
"""Every accepted spelling of a market (the English id in any case, or the Japanese name) → its id."""

BASELINE_TYPES = (
    Term("market_most_used", "市場で最も多く使われている製品", "product most used on the market"),
    Term("market_average", "市場平均", "market average"),
    Term("base_year_model", "基準年度の製品", "base-year model"),
    Term("top_runner_standard", "トップランナー基準", "top-runner standard"),
    Term("previous_model", "従来機種", "previous model"),
    Term("grid_average", "系統電力の平均", "grid average"),
    Term("thermal_average", "火力平均", "thermal average"),
    Term("custom", "個別に定義", "defined for the methodology"),
)
"""Kinds of baseline (reference scenario) a methodology declares; IEC 63372 and the WBCSD guidance ask that the
kind be disclosed. The ids are the methodology format's values (``baseline.type``)."""
BASELINE_TYPE_IDS = tuple(t.id for t in BASELINE_TYPES)

CONTRIBUTION_ROLES = (
    Term("direct", "直接", "direct"),
    Term("enabling", "イネーブリング（他者の削減を可能にする）", "enabling"),
    Term("component", "部品（内数）", "component"),
)
"""The product's role in the avoided emissions (WBCSD 2023), disclosed with every result."""
CONTRIBUTION_ROLE_IDS = tuple(t.id for t in CONTRIBUTION_ROLES)

FACTOR_BASES = (
    Term("actual", "実排出係数", "actual"), Term("adjusted", "調整後排出係数", "adjusted"),
    Term("basic", "基礎排出係数", "basic"), Term("national_average", "全国平均係数", "national average"),
    Term("energy_statistics", "エネルギー統計", "energy statistics"), Term("generation", "発電量あたり", "generation"),
    Term("generation_gross", "総発電量あたり", "gross generation"), Term("consumption", "消費電力量あたり", "consumption"),
    Term("sales", "販売電力量あたり", "sales"), Term("combined_margin", "コンバインドマージン（CDM）", "combined margin"),
    Term("thermal_average", "火力平均", "thermal average"),
)
"""What a factor-table value is (docs/factors.md): the council's adjusted (調整後) or basic (基礎) factor, the Ministry
of the Environment's national average (全国平均係数), a per-generation or per-consumption average, a CDM margin."""

GATE_STATUSES = (
    Term("met", "満たす", "met"),
    Term("not_met", "満たさない", "not met"),
    Term("justified", "代替の根拠あり（柔軟性ルート）", "justified (flexibility route)"),
)
"""The status of one eligibility-gate criterion for a claim (WBCSD Guidance on Avoided Emissions v2.0, 2025):
met, not met, or justified — not met as written but covered by the guidance's flexibility route (why, the
alternative framework, its third-party verification), which the evidence must give."""
GATE_STATUS_IDS = tuple(t.id for t in GATE_STATUSES)

DATA_QUALITY_LEVELS = (
    Term("primary_measured", "一次データ（実測）", "primary, measured"),
    Term("secondary", "二次データ", "secondary"),
    Term("default", "デフォルト値", "default"),
)
"""Data-quality levels of an input, best first (WBCSD claim specificity; GHG Protocol primary vs secondary data):
a value the company measured for its own product, a value from another source (a factor table, a published
average, a company value with no declared level), a methodology's default."""
DATA_QUALITY_IDS = tuple(t.id for t in DATA_QUALITY_LEVELS)
DATA_QUALITY_NAMES = {name: t.id for t in DATA_QUALITY_LEVELS for name in (t.id, t.ja, t.en)}
"""Every accepted spelling of a data-quality level in a portfolio cell (id, Japanese or English name) → its id."""

DATA_QUALITY_PREFIX = "data_quality:"
DATA_QUALITY_PREFIXES = (DATA_QUALITY_PREFIX, "データ品質:")
"""A portfolio column ``data_quality:<parameter>`` (or ``データ品質:<parameter>``; the parameter by its name or an
alias) declares the data-quality level of that parameter's values; results carry it as
``data_quality:<parameter name>``."""

LEGITIMACY_FLAGS = (
    Term("fossil_lock_in", "化石燃料設備の効率向上（WBCSD の正当性の判定の対象）",
         "fossil lock-in: an efficiency gain on a fossil-fuel asset (WBCSD's legitimacy test)"),
)
"""Flags a methodology carries that every output reporting it shows (the methodology format's boolean of the same
name)."""

CLAIM_FORBIDDEN_WORDS = (
    ("offset", r"\boff[\s-]?set"), ("neutral", r"neutral"), ("negative emissions", r"negative[\s-]+emissions?"),
    ("compensate", r"compensat"),
    ("オフセット", "オフセット"), ("相殺", "相殺"), ("カーボンニュートラル", "カーボンニュートラル"),
    ("炭素中立", "炭素中立"), ("ネガティブエミッション", "ネガティブ・?エミッション"), ("埋め合わせ", "埋め合わせ"),
    ("net zero", r"net[\s-]*zero"), ("ネットゼロ", "ネットゼロ"), ("climate positive", r"climate[\s-]*positive"),
    ("carbon negative", r"carbon[\s-]*negative"),
    ("cancel out", r"cancel(?:s|led|ling)?[\s-]+out"),
    ("net against", r"\bnet(?:s|ted|ting)?(?:\s+\w+){0,2}?[\s-]+(?:against|off)\b"),
    ("実質ゼロ", "実質ゼロ"), ("打ち消し", "打ち?消"), ("差し引きゼロ", "差し?引き?ゼロ"),
)
"""Words a claim of avoided emissions never uses, as (the word named in the refusal, the pattern matched, case
ignored): avoided emissions are not an offset, make nothing neutral, are no removal and compensate nothing (GHG
Protocol Scope 3 Standard p. 114 and Product Standard; WBCSD Guidance on Avoided Emissions 2023 and v2.0). The text
is matched after NFKC folding with spaces, middle dots and hyphens between Japanese letters removed, so カーボン・
ニュートラル, カーボン ニュートラル and half-width ｵﾌｾｯﾄ are caught too, and invisible format characters (soft hyphen,
zero-width space) are removed first (koken.claim.statement.forbidden_words)."""


FACTOR_STATUSES = (
    Term("final", "確報", "final"), Term("preliminary", "速報", "preliminary"),
    Term("published", "公表値", "published"), Term("derived", "導出値", "derived"),
)
"""How final a factor-table value is: 確報 (final), 速報 (preliminary, may be revised), published (the source does
not say which), derived (computed from the source, with a note saying how)."""


UNITS_ROW_MARKERS = frozenset({"unit", "units", "単位"})
"""What the ``methodology`` cell of a units row (right under the header) says."""

STANDARD_COLUMNS = {
    "product_line": ("product_line", "product", "製品", "製品名", "品目"),
    "methodology": ("methodology", "methodology_id", "方法論", "算定方法"),
    "fiscal_year": ("fiscal_year", "年度", "報告年度"),
    "market": ("market", "市場", "国内海外"),
    "region": ("region", "地域", "国"),
    "units_shipped": ("units_shipped", "出荷台数", "出荷量", "出荷数量"),
}
"""Standard portfolio columns and their accepted headers (English and Japanese), shared by the
portfolio reader and the methodology checks, so that a parameter alias can never shadow one."""

STANDARD_HEADERS = frozenset(alias for aliases in STANDARD_COLUMNS.values() for alias in aliases)

REQUIRED_COLUMNS = ("methodology", "fiscal_year", "market", "units_shipped")
"""Columns every portfolio must have."""

AVOIDED_STEP = "avoided_per_unit_year"
"""The step every methodology must define: avoided GHG per functional unit per year."""

BASELINE_STEP = "baseline_emissions"
PRODUCT_STEP = "product_emissions"
"""The two scenarios every methodology names: the use-phase GHG emissions per functional unit and year of the
baseline (reference scenario) and of the product; ``avoided_per_unit_year`` is their difference (checked when a
methodology is read). The product's is what Scope 3 category 11 counts for the products sold, unless the methodology
names another step in ``category11_step``."""

RESERVED_NAMES = frozenset({*STANDARD_COLUMNS, "single_year", "lifetime", "row"})
"""Portfolio columns and result names that parameters and steps may not take."""

RESULT_UNIT = "t-CO2e"
"""Unit of single-year and lifetime contributions in results."""

FIGURES = ("single_year[t-CO2e]", "lifetime[t-CO2e]")
"""The set-product figures of a result row, in t-CO2e: two timeframes, never added together."""

AVOIDED_COLUMN = "avoided_per_unit_year[kg-CO2e/functional_unit/yr]"

BASELINE_COLUMN = "baseline_per_unit_year[kg-CO2e/functional_unit/yr]"
PRODUCT_COLUMN = "product_per_unit_year[kg-CO2e/functional_unit/yr]"
"""The two scenarios' use-phase emissions per functional unit and year (``avoided = baseline − product``)."""

AVOIDED_SHARE_COLUMN = "avoided_share[fraction]"
"""Avoided ÷ baseline emissions: the share of the baseline's emissions the product avoids (a maker's published
"reduction against the base-year model"); empty where the baseline emits nothing."""

BASELINE_LIFETIME_COLUMN = "baseline_lifetime[t-CO2e]"
"""The baseline scenario's emissions over the operating years of the units shipped (the denominator of the share at
the lifetime scale)."""

CATEGORY11_COLUMN = "scope3_cat11_lifetime[t-CO2e]"
"""Scope 3 category 11 (use of sold products; GHG Protocol Scope 3 Standard, ch. 5): the expected lifetime use-phase
emissions of the units shipped in the row's fiscal year. An inventory figure: never called avoided emissions, never
added to or netted with them; empty where the methodology counts no use phase (``category11_step: null``)."""

INSTALLED_BASE_COLUMN = "installed_base_annual[t-CO2e]"
"""The installed-base annual timeframe (stock view), when asked for: each row's part of the reporting year's figure,
one year of operation of its vintage's units still in service (koken.survival). A third timeframe, never added to
the single-year or lifetime figures; its total is the sum over vintages for the reporting year, not by fiscal
year."""

INVENTORY_FIGURES = (CATEGORY11_COLUMN,)
"""Inventory figures of a result row (emissions that happen), kept apart from the avoided-emissions figures."""

RESULT_COLUMNS = (
    "row", "product_line", "methodology", "methodology_version", "category", "fiscal_year", "market",
    "region", "units_shipped_as_entered", "units_shipped", "functional_unit", AVOIDED_COLUMN,
    "operating_years[yr]", *FIGURES, BASELINE_COLUMN, PRODUCT_COLUMN, AVOIDED_SHARE_COLUMN, BASELINE_LIFETIME_COLUMN,
    CATEGORY11_COLUMN, "defaults_used", "factors_from_tables", "co2_only_inputs",
)
"""Result table columns; ``units_shipped`` is in the methodology's functional unit (named beside it);
``co2_only_inputs`` names the inputs given in CO2 alone where the figures are CO2e."""

PROVENANCE_SHEET = "来歴 provenance"
"""The sheet of a results workbook (``koken calculate -o r.xlsx``) that records what produced it: how a results
workbook is told from a portfolio workbook."""

GROUP_KEYS = ("fiscal_year", "category", "methodology", "market")
"""The finest grouping of totals; every total koken prints or writes is a sum of these groups."""

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH[0x3000] = 0x20


def fold_width(text: str) -> str:
    """Full-width ASCII (``１２，３４５``, ``ｋＷｈ``) and the ideographic space to plain ASCII.

    Only these: unlike NFKC, superscripts (``10⁴``), fractions (``½``) and circled digits stay as they
    are, so that they are refused as numbers instead of silently becoming other digits (``104``).

    >>> fold_width("１２，３４５ ｋＷｈ")
    '12,345 kWh'
    >>> fold_width("10⁴")
    '10⁴'
    """
    return text.translate(_FULL_WIDTH)

TORNADO_COLUMNS = ("parameter", "unit", "low", "high", "result_at_low", "result_at_high", "swing")
"""A tornado table's columns (koken.sensitivity.tornado): the parameter, its declared unit, its low and high values
in that unit, the result (the avoided step, in its unit) at each, and the swing |result_at_high − result_at_low|."""

SOBOL_COLUMNS = ("parameter", "S1", "S1_conf", "ST", "ST_conf")
"""Sobol indices (koken.sensitivity.sobol): first-order and total, each with its 95 % confidence half-width."""

BOUND_ORIGINS = (Term("given", "指定値（--set）", "given (--set)"),
                 Term("declared_range", "方法論の範囲（range）", "declared range"),
                 Term("declared_range_narrowed", "方法論の範囲（計算できる値まで狭めた）",
                      "declared range, narrowed to computable values"))
"""Where a parameter's low and high values come from in ``koken sensitivity``: given by the caller (``--set``), the
parameter's declared ``range`` in the methodology file, or that range with an end moved towards the central value
because a derived step's own range (or a finite result) does not allow the declared end."""

CENTRAL_ORIGINS = (Term("example", "計算例の入力", "worked example"), Term("factor_table", "係数表", "factor table"),
                   Term("default", "既定値", "default"))
"""Where a central value comes from: the worked example's inputs, a factor table (the example's region and fiscal
year), or the parameter's default."""

NOT_VARIED_REASONS = (
    Term("no_range", "範囲の指定がない（両端の range も --set もない）", "no range (no range with both ends, no --set)"),
    Term("share_group", "割合グループに属する（合計 100 % のため単独では動かせない）",
         "in a share group (its shares add up to 100 %: it cannot move alone)"),
)
"""Why ``koken sensitivity`` leaves a parameter at its central value: no bounds given and no declared range with
both ends; a member of a share group (its shares must add up to 100 %, so it cannot move alone)."""

DISTRIBUTION_KINDS = ("fixed", "uniform", "triangular", "normal", "lognormal")
"""Kinds of uncertain value (koken.uncertainty; docs/uncertainty.md)."""
DISTRIBUTION_NAMES = {**{k: k for k in DISTRIBUTION_KINDS}, "一様": "uniform", "三角": "triangular", "正規": "normal",
                      "対数正規": "lognormal"}
"""Every accepted name of a distribution in a cell (case-folded) → its kind."""

BOUND_SUFFIXES = {"low": ("low", "下限"), "high": ("high", "上限")}
"""A portfolio column ``<parameter>:low`` (or ``:下限``) and ``<parameter>:high`` (``:上限``) gives the bounds of the
parameter's value on each row (a triangular from low through the value to high)."""

PERCENTILES = (5, 50, 95)
"""The percentiles of a Monte Carlo run reported per row and per total."""
UNCERTAINTY_COLUMNS = tuple(f"{figure.split('[')[0]}_p{p}[t-CO2e]" for figure in FIGURES for p in PERCENTILES)
"""Result columns of a Monte Carlo run, after the figures: ``single_year_p5[t-CO2e]`` … ``lifetime_p95[t-CO2e]``."""
INPUT_SOURCES = ("portfolio", "methodology", "factor_table")
"""Where an uncertain input comes from (the ``uncertainty.inputs`` of a result)."""
