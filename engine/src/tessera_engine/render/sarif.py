"""SARIF 2.1.0 for code-scanning tools (GitHub code scanning, IDE viewers).

One run; ``tool.driver.rules`` describes each rule that has a finding, from the catalog. Each
finding is a result at its location in the new file, with the finding's fingerprint as a partial
fingerprint so an alert keeps its identity while the lines around it move.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..catalog import Rule, load_catalog
from ..model import DiffResult, Finding, Location, Severity

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/tessera-contracts/tessera"
FINGERPRINT_KEY = "tesseraFingerprint/v1"

LEVELS = {
    Severity.BREAKING: "error",
    Severity.DANGEROUS: "warning",
    Severity.SAFE: "note",
    Severity.ANNOTATION: "note",
}


def render_sarif(result: DiffResult, color: bool = False) -> str:
    catalog = load_catalog()
    rule_ids = sorted({finding.rule for finding in result.findings})
    rule_index = {rule_id: index for index, rule_id in enumerate(rule_ids)}
    rules = [_rule(catalog[rule_id], _findings_of(result, rule_id)) for rule_id in rule_ids]
    run = {
        "tool": {"driver": _driver(rules)},
        "results": [_result(finding, rule_index[finding.rule]) for finding in result.findings],
    }
    log = {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def artifact_uri(file: str) -> str:
    """``file`` as a URI: relative ones with forward slashes and no leading ``./``, absolute
    ones as ``file:`` URIs."""
    path = file.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    if PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute():
        return "file:///" + quote(path.lstrip("/"), safe="/:")
    return quote(path, safe="/")


def _driver(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "tessera",
        "version": __version__,
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }


def _findings_of(result: DiffResult, rule_id: str) -> list[Finding]:
    return [finding for finding in result.findings if finding.rule == rule_id]


def _rule(rule: Rule, findings: Sequence[Finding]) -> dict[str, Any]:
    """A rule's descriptor. Severity depends on where a change is, so the default level is the
    level of the rule's most severe finding in this run."""
    most_severe = max(finding.severity for finding in findings)
    return {
        "id": rule.id,
        "name": _pascal_case(rule.id),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why},
        "help": {"text": f"{rule.summary} {rule.why}"},
        "defaultConfiguration": {"level": LEVELS[most_severe]},
        "properties": {"effect": rule.effect.value if rule.effect else "conditional"},
    }


def _pascal_case(rule_id: str) -> str:
    """``api.operation.id-changed`` → ``ApiOperationIdChanged`` (SARIF's rule ``name`` style)."""
    words = rule_id.replace("-", ".").split(".")
    return "".join(word.capitalize() for word in words)


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    sarif_result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.path}: {finding.message}"},
    }
    if finding.location:
        sarif_result["locations"] = [_location(finding.location)]
    sarif_result["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    sarif_result["properties"] = {
        "severity": finding.severity.value,
        "position": finding.position.value,
        "effect": finding.effect.value,
        "path": finding.path,
        "pointer": finding.pointer,
        "operations": list(finding.operations),
    }
    return sarif_result


def _location(location: Location) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(location.file)},
            "region": {"startLine": location.line, "startColumn": location.column},
        }
    }
