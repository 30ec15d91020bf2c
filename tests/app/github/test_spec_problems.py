"""A spec that cannot be judged is described for what it is: it does not parse (with its
``file:line[:column]``), the pull request deleted it, or it is missing from its registered
path."""

from __future__ import annotations

from tessera_app.github.checks import error_title, problem_of
from tessera_app.github.pull_requests import Outcome, SpecError, _deleted_by

SPEC = "api/openapi.yaml"


def test_an_unparsable_spec_keeps_its_location_apart() -> None:
    problem = problem_of(SpecError(f"{SPEC}:12:3: mapping values are not allowed", SPEC, 12))
    assert problem is not None
    assert (problem.kind, problem.location, problem.message) == (
        "unparsable",
        f"{SPEC}:12:3",
        "mapping values are not allowed",
    )
    assert problem.title == "The spec does not parse"
    bare = problem_of(SpecError("the spec is not an OpenAPI document"))
    assert bare is not None and (bare.location, bare.message) == (
        None,
        "the spec is not an OpenAPI document",
    )


def test_a_spec_the_pull_request_deletes_is_deleted_else_missing() -> None:
    missing = SpecError(f"{SPEC}: not found in acme/orders at 0123456789ab", SPEC, missing=True)
    outcome = Outcome("orders-api", "acme/orders", 3, "f" * 40, (SPEC,), error=missing)
    deleted = _deleted_by(outcome, ["README.md", SPEC])
    assert deleted.error is not None and error_title(deleted.error) == "The spec was deleted"
    untouched = _deleted_by(outcome, ["README.md"])
    assert untouched.error is not None and error_title(untouched.error) == "The spec is missing"
    problem = problem_of(untouched.error)
    assert problem is not None and (problem.kind, problem.path) == ("missing", SPEC)
    assert problem_of(None) is None
