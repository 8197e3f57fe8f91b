"""JSON Schema of the methodology format, generated from the pydantic models in koken.methodology.schema."""

from __future__ import annotations

import json

from koken.methodology.schema import MethodologySpec

SCHEMA_ID = "https://koken.invalid/schema/methodology-1.json"


def schema_json() -> str:
    """The JSON Schema (draft 2020-12, as pydantic emits it) of a methodology file, as text.

    Editors that understand YAML schemas (e.g. the YAML language server:
    ``# yaml-language-server: $schema=../../docs/methodology.schema.json``) use it for completion.
    """
    schema = MethodologySpec.model_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
              "title": "koken methodology", **schema}
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
