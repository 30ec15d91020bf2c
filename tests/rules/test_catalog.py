"""Guards the rule catalog and its case files (``cases/*.yaml``, see ``README.md``).

Every rule in ``rules.yaml`` must be documented (summary, message, why), well named, and
covered by a case file with at least one case where it fires and one where it must not; a
rule whose severity depends on who reads the element needs fail cases at an input and at an
output. The CLI must list exactly the catalog's rules.
"""

from __future__ import annotations

import io
import json
import re
import string
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from rulecases import CASES_DIR, CaseFile, CaseFileError, case_paths, load_file, run

from tessera_engine import Effect, Mode, Position, Rule, load_catalog
from tessera_engine.catalog import raw_catalog
from tessera_engine.cli import main
from tessera_engine.modes import effective_position, severity

ID = re.compile(r"^(api|schema|meta|lifecycle)\.[a-z]+(-[a-z]+)*\.[a-z]+(-[a-z]+)*$")
CATALOG = load_catalog()
RULE_IDS = sorted(rule.id for rule in CATALOG)


def _raw_rules() -> list[dict[str, Any]]:
    """The catalog as written (every part), before the loader fills in defaults."""
    return [raw for part in raw_catalog() for raw in part["rules"] or []]


RAW = {raw["id"]: raw for raw in _raw_rules()}


def _loadable() -> list[CaseFile]:
    """The case files that parse (a malformed one fails ``test_case_file_names_its_rule``)."""
    found = []
    for path in case_paths():
        try:
            found.append(load_file(path))
        except CaseFileError:
            continue
    return found


@pytest.fixture(scope="module")
def case_files() -> dict[str, CaseFile]:
    """Every rule's cases, merged over its files (``cases/<rule>.yaml`` and, for the native
    formats, ``cases/<format>/<rule>.yaml``)."""
    merged: dict[str, CaseFile] = {}
    for case_file in _loadable():
        into = merged.setdefault(case_file.rule, CaseFile(case_file.path, case_file.rule))
        into.cases.extend(case_file.cases)
    return merged


# -- the catalog itself -----------------------------------------------------------------------


@pytest.mark.parametrize("rule_id", sorted(RAW))
def test_rule_id_is_layer_element_change(rule_id: str) -> None:
    assert ID.match(rule_id), (
        f"{rule_id!r} is not <layer>.<element>.<change> (kebab-case segments, "
        "layer one of api, schema, meta, lifecycle)"
    )


def test_rule_ids_are_unique() -> None:
    ids = [raw["id"] for raw in _raw_rules()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"rule ids listed twice: {duplicates}"


@pytest.mark.parametrize("rule_id", sorted(RAW))
def test_rule_is_documented(rule_id: str) -> None:
    raw = RAW[rule_id]
    for key in ("summary", "message", "why"):
        value = raw.get(key)
        assert isinstance(value, str) and value.strip(), f"{rule_id} has no {key} text"


@pytest.mark.parametrize("rule_id", sorted(RAW))
def test_why_is_prose_not_a_template(rule_id: str) -> None:
    """``why`` is shown as is (``tessera rules``, docs): a ``{placeholder}`` in it is never
    filled in."""
    fields = _template_fields(RAW[rule_id]["why"])
    assert not fields, f"{rule_id}: why text contains unfilled placeholders {sorted(fields)}"


@pytest.mark.parametrize("rule_id", sorted(RAW))
def test_effects_are_declared(rule_id: str) -> None:
    raw = RAW[rule_id]
    effect = raw.get("effect", "conditional")
    valid = {e.value for e in Effect}
    if effect == "conditional":
        effects = raw.get("effects")
        assert isinstance(effects, list) and effects, (
            f"{rule_id} is conditional but lists no `effects` the check may choose from"
        )
        assert set(effects) <= valid, f"{rule_id}: unknown effects {set(effects) - valid}"
        assert CATALOG[rule_id].effect is None
    else:
        assert effect in valid, f"{rule_id}: unknown effect {effect!r}"


def test_cli_lists_exactly_the_catalog() -> None:
    out = io.StringIO()
    assert main(["rules", "--output", "json"], stdout=out) == 0
    listed = [rule["id"] for rule in json.loads(out.getvalue())["rules"]]
    assert sorted(listed) == RULE_IDS
    assert len(listed) == len(set(listed)), "the CLI lists a rule twice"


# -- the case files ---------------------------------------------------------------------------


def test_every_rule_has_a_case_file() -> None:
    have = {path.stem for path in case_paths()}
    missing = [rule_id for rule_id in RULE_IDS if rule_id not in have]
    assert not missing, f"rules without tests/rules/cases/<rule>.yaml: {missing}"


@pytest.mark.parametrize("path", case_paths(), ids=lambda p: p.relative_to(CASES_DIR).as_posix())
def test_case_file_names_its_rule(path: Path) -> None:
    case_file = load_file(path)  # raises CaseFileError on a malformed file
    assert case_file.rule in CATALOG.rules, f"{path.name} names the unknown rule {case_file.rule}"
    assert path.stem == case_file.rule, (
        f"{path.name} holds cases of {case_file.rule}; name it {case_file.rule}.yaml"
    )


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_has_fail_and_pass_cases(rule_id: str, case_files: dict[str, CaseFile]) -> None:
    case_file = case_files.get(rule_id)
    if case_file is None:
        pytest.fail(f"{rule_id} has no case file")
    fails = [case for case in case_file.cases if case.fires]
    passes = [case for case in case_file.cases if not case.fires]
    assert fails, f"{rule_id}: no case where the rule fires (a non-empty `expect`)"
    assert passes, f"{rule_id}: no case where the rule must not fire (`expect: []`)"


def _depends_on_position(rule: Rule) -> bool:
    effects = [rule.effect] if rule.effect is not None else list(rule.effects)
    return any(
        severity(rule, effect, Position.INPUT, Mode.AUTO)
        != severity(rule, effect, Position.OUTPUT, Mode.AUTO)
        for effect in effects
    )


@pytest.mark.parametrize("rule_id", [rule.id for rule in CATALOG if _depends_on_position(rule)])
def test_position_dependent_rule_is_tested_at_both_positions(
    rule_id: str, case_files: dict[str, CaseFile]
) -> None:
    """When the catalog gives a rule a different severity on inputs and outputs, its fail
    cases must pin the severity at both (``both`` counts for neither: it merges the two).
    A case's mode counts: an input judged under ``forward`` is judged as an output."""
    case_file = case_files.get(rule_id)
    if case_file is None:
        pytest.fail(f"{rule_id} has no case file")
    positions = {
        effective_position(
            Mode.parse(case.options.get("mode", "auto")), Position(expected["position"])
        ).value
        for case in case_file.cases
        for expected in case.expect
        if "severity" in expected and "position" in expected
    }
    missing = {"input", "output"} - positions
    assert not missing, (
        f"{rule_id}: its severity depends on the position, but no fail case expects a "
        f"severity at {' or '.join(sorted(missing))}"
    )


# -- message templates ------------------------------------------------------------------------


def _template_fields(template: str) -> set[str]:
    fields = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name:
            fields.add(re.split(r"[.\[]", name, maxsplit=1)[0])
    return fields


@pytest.fixture(scope="module")
def produced_args(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """For every rule, the argument names its findings carried in any case of any file."""
    produced: dict[str, set[str]] = defaultdict(set)
    for case_file in _loadable():
        for index, case in enumerate(case_file.cases):
            workdir = tmp_path_factory.mktemp(f"{case_file.path.stem}-{index}")
            for finding in run(case, workdir).findings:
                produced[finding.rule].update(finding.args)
    return produced


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_message_arguments_are_produced(rule_id: str, produced_args: dict[str, set[str]]) -> None:
    """A message template only names arguments the rule's check really emits (a missing one
    renders as ``?``)."""
    fields = _template_fields(CATALOG[rule_id].message)
    if rule_id not in produced_args:
        pytest.fail(f"no case produced a finding of {rule_id}")
    unknown = fields - produced_args[rule_id]
    assert not unknown, (
        f"{rule_id}: the message uses {sorted(unknown)}, which no finding of it carried "
        f"(seen: {sorted(produced_args[rule_id])})"
    )
