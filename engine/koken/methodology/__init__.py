"""Methodologies: the file format (:mod:`.schema`), its batch evaluator (:mod:`.evaluate`), the compiler
(:mod:`.compile`), the version lock (:mod:`.lock`) and the JSON Schema (:mod:`.json_schema`), in that
order of layers."""

from koken.methodology.compile import (
    Methodology,
    compile_methodology,
    content_hash,
    formula_identity,
    read_methodology,
)
from koken.methodology.evaluate import BatchResult, LineResult, evaluate
from koken.methodology.schema import MethodologySpec

__all__ = ["BatchResult", "LineResult", "Methodology", "MethodologySpec", "compile_methodology", "content_hash",
           "evaluate", "formula_identity", "read_methodology"]
