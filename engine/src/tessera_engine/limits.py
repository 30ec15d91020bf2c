"""What one input may cost: the limits every reader and comparator enforces, and their settings.

Specs reach Tessera from strangers (a pull request's checkout in the Action, an anonymous
pre-publish check, a webhook), so each is bounded before work grows with it. A limit that is
hit refuses the input with a ``LimitError`` naming the file, the limit and the setting that
raises it (exit 2 in the CLI, 422 in the API); it never truncates silently. (What a finding
carries is another matter: a value nested more than 64 levels deep is shown cut, with ``…``
where the cut is, while its message and fingerprint use the whole value.)

    size      TESSERA_MAX_FILE_BYTES   bytes in one file (default 32 MB)
    elements  TESSERA_MAX_ELEMENTS     values in one document: every mapping, list and scalar
                                       of a JSON/YAML file; every definition, field, argument,
                                       value and type reference (each list a reference) of a
                                       GraphQL schema; every schema (union branches too),
                                       field and enum symbol of an Avro schema (default
                                       500,000)
    depth     MAX_NESTING              arrays and objects nested in one file (1,000, fixed);
                                       GraphQL values; Avro schemas nested through the
                                       named types they enter
    defaults  MAX_DEFAULT_NESTING      arrays and objects nested in one Avro field default
                                       (100, fixed): a default travels in findings, which are
                                       fingerprinted and printed at the interpreter's usual
                                       recursion limit
    lists     MAX_LIST_NESTING         lists nested in one GraphQL type reference (32,
                                       fixed; real schemas use one to three): each level's
                                       nullability is a finding that names the whole type,
                                       so the output grows with the square of this depth
    work      WORK_PER_ELEMENT         steps of comparing two Avro versions per schema, field
                                       and symbol they hold (8, fixed; real pairs take at
                                       most 3): named types met with many different
                                       counterparts cannot multiply the work
    expanded  TESSERA_MAX_ELEMENTS     what references expand an OpenAPI/Swagger document
                                       into, per version: the API model's operations,
                                       parameters, responses, headers and media types (a
                                       shared response under every operation, callbacks
                                       naming callbacks); the members copied into flattened
                                       ``allOf`` schemas (a base under every subtype)
    schemas   MAX_DEPTH (diff.core),   schema comparisons nested in one another, and
              MAX_FLATTEN_NESTING      ``allOf``s flattened into one another through
              (diff.resolve)           references (400 each, fixed)

The largest real specs we know (GitHub's and Stripe's REST descriptions, a dbt manifest of
4 MB) hold under 100,000 values, so the defaults leave five times that room.
"""

from __future__ import annotations

import os

from .errors import LimitError

DEFAULT_MAX_FILE_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_ELEMENTS = 500_000
MAX_NESTING = 1000
MAX_LIST_NESTING = 32
MAX_DEFAULT_NESTING = 100
WORK_PER_ELEMENT = 8


def _setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


def max_file_bytes() -> int:
    """Largest file accepted, in bytes (``TESSERA_MAX_FILE_BYTES``)."""
    return _setting("TESSERA_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES)


def max_elements() -> int:
    """Most values accepted in one document (``TESSERA_MAX_ELEMENTS``)."""
    return _setting("TESSERA_MAX_ELEMENTS", DEFAULT_MAX_ELEMENTS)


def too_many_elements(
    file: str | None, count: int | None = None, *, what: str = "values", line: int | None = None
) -> LimitError:
    """The error for a document over the element limit (``count`` when known)."""
    limit = max_elements()
    found = f"{count:,} {what}" if count is not None else f"more than {limit:,} {what}"
    return LimitError(
        f"{found}, over the limit of {limit:,} per document (set TESSERA_MAX_ELEMENTS to raise it)",
        file=file,
        line=line,
    )
