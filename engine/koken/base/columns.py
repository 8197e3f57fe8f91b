"""Standard portfolio columns and their accepted headers (shared by the portfolio reader and the
methodology checks, so that a parameter alias can never shadow a standard column)."""

from __future__ import annotations

STANDARD_COLUMNS = {
    "product_line": ("product_line", "product", "製品", "製品名", "品目"),
    "methodology": ("methodology", "methodology_id", "方法論", "算定方法"),
    "fiscal_year": ("fiscal_year", "年度", "報告年度"),
    "market": ("market", "市場", "国内海外"),
    "region": ("region", "地域", "国"),
    "units_shipped": ("units_shipped", "出荷台数", "出荷量", "出荷数量"),
}
"""Standard columns and their accepted headers (English and Japanese)."""

STANDARD_HEADERS = frozenset(alias for aliases in STANDARD_COLUMNS.values() for alias in aliases)

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH[0x3000] = 0x20


def fold_width(text: str) -> str:
    """Full-width ASCII (``１２，３４５``, ``ｋＷｈ``) and the ideographic space to plain ASCII.

    Only these: unlike NFKC, superscripts (``10⁴``), fractions (``½``) and circled digits stay as they
    are, so that they are refused as numbers instead of silently becoming other digits (``104``).
    """
    return text.translate(_FULL_WIDTH)
