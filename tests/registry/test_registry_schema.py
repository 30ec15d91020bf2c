"""The fast validity check and jsonschema's full report agree on every verdict."""

from __future__ import annotations

from typing import Any

import pytest
import yaml_rs

from tessera_engine.registry import schema

from .registry_helpers import TEMPLATE

DOCUMENTS: list[tuple[str, Any]] = [
    ("team", {"id": "a", "github_team": "x/y", "channels": [{"slack": "#a", "email": "a@b"}]}),
    ("team", {"id": "a", "github_team": "x/y", "channels": [{}]}),
    ("team", {"id": "a", "github_team": "x/y", "maintainers": ["a", "a"]}),
    ("contract", {"id": "c", "owner": "t", "format": "dbt", "source": {"repo": "a/b"}}),
    ("contract", {"id": "c", "owner": "t", "format": "cobol", "source": {"repo": "a/b"}}),
    (
        "contract",
        {
            "id": "c",
            "owner": "t",
            "format": "dbt",
            "source": {"repo": "a/b"},
            "annotations": {"x": []},
        },
    ),
    (
        "contract",
        {
            "id": "c",
            "owner": "t",
            "format": "dbt",
            "source": {"repo": "a/b"},
            "guarantees": {"declared": [{"kind": "unique", "within": 3}]},
        },
    ),
    ("consumer", {"team": "t", "service": "s", "consumes": [{"contract": "c", "uses": {}}]}),
    ("consumer", {"team": "t", "service": "s", "consumes": [{"contract": "c", "versions": 1}]}),
    ("consumer", {"team": "t", "service": "s", "consumes": "c"}),
    ("settings", {"impact": {"transitive_depth": 21}}),
    ("settings", {"defaults": {"versioning": {"prerelease": {"allowed": "yes"}}}}),
    (
        "version",
        {
            "contract": "c",
            "version": "1.0.0",
            "format": "openapi",
            "source": {"repo": "a/b", "paths": ["x"], "commit": "abcdef0"},
            "published_at": "2025-01-01T00:00:00Z",
            "files": {"x": "y"},
            "pull_request": None,
        },
    ),
    (
        "version",
        {
            "contract": "c",
            "version": "1.0",
            "format": "openapi",
            "source": {"repo": "a/b", "paths": ["x"], "commit": "abcdef0"},
            "published_at": "2025-01-01T00:00:00Z",
            "files": {},
        },
    ),
]
for _folder, _kind in (("teams", "team"), ("contracts", "contract"), ("consumers", "consumer")):
    for _path in sorted((TEMPLATE / _folder).glob("*.yaml")):
        DOCUMENTS.append((_kind, yaml_rs.loads(_path.read_text(encoding="utf-8"))))


@pytest.mark.parametrize(("kind", "data"), DOCUMENTS)
def test_fast_and_full_validators_agree(kind: str, data: Any) -> None:
    full = list(schema._validator(kind).iter_errors(data))
    assert schema.passes(kind, data) == (not full)
