"""Runs every case in ``cases/*.yaml``: one test per case, ``<rule>::<case name>``.

A case diffs two small documents and checks the findings of its rule (see ``README.md``).
When it fails, the message lists every finding the engine produced, so a wrong document and
a wrong engine are easy to tell apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rulecases import Case, CaseFileError, case_paths, describe, load_file, problems, run


def _cases() -> list[pytest.ParameterSet]:
    params = []
    for path in case_paths():
        try:
            case_file = load_file(path)
        except CaseFileError as err:  # reported as a failing test, not a collection error
            params.append(pytest.param(err, id=f"{path.stem}::(invalid case file)"))
            continue
        params.extend(pytest.param(case, id=case.id) for case in case_file.cases)
    return params


@pytest.mark.parametrize("case", _cases())
def test_rule_case(case: Case | CaseFileError, tmp_path: Path) -> None:
    if isinstance(case, CaseFileError):
        pytest.fail(str(case), pytrace=False)
    result = run(case, tmp_path)
    issues = problems(case, result)
    if issues:
        pytest.fail(
            f"{case.file.name}: {case.name}\n"
            + "\n".join(f"- {issue}" for issue in issues)
            + f"\nfindings produced (verdict {result.verdict}):\n{describe(result)}",
            pytrace=False,
        )
