"""The checks: one small module per rule family.

Schema checks take a ``Pair`` (an old and a new schema, already resolved) and emit rule ids
with arguments; API checks compare the elements of an operation. None of them formats text or
decides severities."""

from __future__ import annotations

from ..diff.core import SchemaCheck
from . import (
    schema_annotations,
    schema_arrays,
    schema_composition,
    schema_constraints,
    schema_objects,
    schema_types,
    schema_values,
)

SCHEMA_CHECKS: list[SchemaCheck] = [
    schema_types.check,
    schema_values.check,
    schema_constraints.check,
    schema_objects.check,
    schema_arrays.check,
    schema_composition.check,
    schema_annotations.check,
]
