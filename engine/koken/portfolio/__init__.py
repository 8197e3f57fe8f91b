"""Portfolios (shipment data): cell kernels (:mod:`.cells`), unit resolution per column (:mod:`.quantities`),
the header layout (:mod:`.layout`), file and DataFrame readers (:mod:`.readers`) and the typed product lines
(:mod:`.build`), in that order of layers."""

from koken.portfolio.build import Portfolio, build_portfolio, read_portfolio
from koken.portfolio.readers import PortfolioSource, open_portfolio

__all__ = ["Portfolio", "PortfolioSource", "build_portfolio", "open_portfolio", "read_portfolio"]
