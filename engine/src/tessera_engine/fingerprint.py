"""Stable fingerprints for findings.

A fingerprint identifies *the same change* across re-runs, rebases, reformatting and key
reordering, so an acknowledgement given to a finding survives a push that does not change it.
It hashes the rule id, the element's logical key (built from natural keys: operation
``GET /orders/{}``, parameter ``query.limit``, property names, component names, never list
positions or line numbers) and the arguments that say what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def fingerprint(rule: str, key: str, args: Mapping[str, Any]) -> str:
    payload = json.dumps(
        [rule, key, _canonical(args)],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, default=str))
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value
