"""Which Tessera rules correspond to an oasdiff rule id.

oasdiff encodes direction and location in its ids (``request-property-max-length-decreased``);
Tessera's ids are direction-free (``schema.constraint.tightened``). The map below goes from
the change part of an oasdiff id to the Tessera rule families that report the same kind of
change. It is used to judge single-check oasdiff tests on what that check covers, not on
unrelated changes their fixtures happen to contain.
"""

from __future__ import annotations

import re

# (pattern on the oasdiff id, Tessera rule-id prefixes), first match wins
_TABLE: list[tuple[str, tuple[str, ...]]] = [
    (r"sunset-parse$", ("lifecycle.sunset.",)),
    (r"sunset-deleted$", ("lifecycle.sunset.",)),
    (r"removed-before-sunset$", ("lifecycle.sunset.", "api.operation.removed")),
    (r"invalid-stability-level$|stability-decreased$", ("lifecycle.stability.",)),
    (r"deprecated(-with-sunset)?$|reactivated$|deprecated-sunset-missing$", ("lifecycle.",)),
    (r"^(api-path-removed|api-removed|webhook-removed)", ("api.operation.removed",)),
    (r"^(endpoint-added|webhook-added)", ("api.operation.added",)),
    (r"^api-(global-)?security-component", ("api.security-scheme.",)),
    (r"^api-(global-)?security", ("api.security.",)),
    (
        r"^new-request-path-parameter$|^new-(required|optional)-request-parameter$",
        ("api.parameter.added",),
    ),
    (r"^request-parameter-removed$", ("api.parameter.removed",)),
    (r"^request-parameter-became-(required|optional)$", ("api.parameter.required-",)),
    (r"^request-body-(removed|added|became-required|became-optional)", ("api.request-body.",)),
    (r"media-?type-(added|removed)$", ("api.media-type.",)),
    (r"^response-(success|non-success)-status", ("api.response.",)),
    (
        r"^(optional|required)-response-header-removed$|^response-header-became-optional$",
        ("api.response-header.",),
    ),
    (r"x-extensible-enum|enum-value-(added|removed)$", ("schema.enum.",)),
    (r"became-enum$", ("schema.enum.",)),
    (r"became-(not-)?nullable$", ("schema.nullable.",)),
    # oasdiff's type checks leave null-only changes to its became-nullable rules
    (
        r"type-(changed|generalized|specialized|compatible)$|list-of-types",
        ("schema.type.", "schema.constraint.", "schema.composition."),
    ),
    (r"(max|min)-contains|contains-(added|removed)$", ("schema.constraint.", "schema.subschema.")),
    (
        r"(max-length|min-length|max-items|min-items|exclusive-max|exclusive-min|max|min)"
        r"-(set|unset|increased|decreased)$",
        ("schema.constraint.",),
    ),
    (
        r"pattern-property",
        ("schema.subschema.", "schema.type.", "schema.constraint.", "schema.property."),
    ),
    (r"pattern-(added|removed|changed)$", ("schema.constraint.",)),
    (r"property-names", ("schema.subschema.",)),
    # a new or removed positional item shows as that position's schema changing
    (r"prefix-items", ("schema.tuple-item.", "schema.type.", "schema.constraint.")),
    (r"unevaluated", ("schema.content-model.",)),
    (r"content-schema", ("schema.subschema.",)),
    (r"content-(encoding|media-type)", ("schema.constraint.",)),
    (r"dependent-(required|schema)", ("schema.dependency.",)),
    (r"const-changed$", ("schema.const.",)),
    (r"default-value", ("schema.default.",)),
    (r"discriminator", ("schema.discriminator.",)),
    (r"(one-of|any-of)-(added|removed)$", ("schema.composition.",)),
    (r"all-of-(added|removed)$", ("schema.composition.", "schema.property.")),
    (r"^request-parameter-.*became-required", ("api.parameter.required-",)),
    (
        r"became-required(-with-default)?$|became-optional$",
        ("schema.property.required-", "api.parameter.required-"),
    ),
    (r"read-only|write-only", ("schema.property.",)),
    (r"property-(added|removed)$|^new-(required|optional)-request-property", ("schema.property.",)),
]
_COMPILED = [(re.compile(pattern), prefixes) for pattern, prefixes in _TABLE]


_KEYWORDS = [
    ("exclusive-max", "exclusiveMaximum"),
    ("exclusive-min", "exclusiveMinimum"),
    ("max-length", "maxLength"),
    ("min-length", "minLength"),
    ("max-items", "maxItems"),
    ("min-items", "minItems"),
    ("max-contains", "maxContains"),
    ("min-contains", "minContains"),
    ("content-encoding", "contentEncoding"),
    ("content-media-type", "contentMediaType"),
    ("content-schema", "contentSchema"),
    ("property-names", "propertyNames"),
    ("pattern-property", "patternProperties"),
    ("pattern", "pattern"),
    ("contains", "contains"),
    ("-max-", "maximum"),
    ("-min-", "minimum"),
]


def keyword(oasdiff_id: str) -> str | None:
    """The JSON Schema keyword an oasdiff id is about (``maxLength``), if any."""
    for fragment, name in _KEYWORDS:
        if fragment in oasdiff_id:
            return name
    return None


def tessera_rules(oasdiff_id: str) -> tuple[str, ...]:
    """Tessera rule-id prefixes for one oasdiff id (empty when unknown)."""
    for pattern, prefixes in _COMPILED:
        if pattern.search(oasdiff_id):
            return prefixes
    return ()


def matches(rule: str, args: dict[str, object], oasdiff_ids: list[str] | set[str]) -> bool:
    """Whether a Tessera finding reports the same kind of change as one of ``oasdiff_ids``."""
    for oasdiff_id in oasdiff_ids:
        prefixes = tessera_rules(oasdiff_id)
        if not any(rule.startswith(prefix) for prefix in prefixes):
            continue
        wanted = keyword(oasdiff_id)
        found = args.get("keyword")
        if wanted is None or not isinstance(found, str) or _same_keyword(wanted, found):
            return True
    return False


def _same_keyword(wanted: str, found: str) -> bool:
    """``exclusiveMinimum`` and ``minimum`` describe the same bound (OpenAPI 3.0 writes an
    exclusive bound as ``minimum`` plus ``exclusiveMinimum: true``)."""

    def bound(name: str) -> str:
        return name.replace("exclusiveM", "m")

    return bound(wanted) == bound(found.split(" ", 1)[0])
