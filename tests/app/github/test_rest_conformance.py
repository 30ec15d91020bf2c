"""The fake GitHub against GitHub's own REST description (API version 2022-11-28).

Every operation the App uses is walked through the real gateway against the fake, and neither a
request nor an answer may depart from the vendored description (``rest_description/``); the
referee itself is shown to catch a broken answer and a bad request, so it cannot pass silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tessera_app.github.fake import SyncASGITransport, conformance, create_app
from tessera_app.github.fake import app as fake_app
from tessera_app.github.fake.shapes import Shapes
from tessera_app.github.gateway import API_VERSION, Annotation, GitHubError

from .conftest import DESCRIPTION, FakeGitHub
from .rest_description import regenerate

GATEWAY = Path(__file__).resolve().parents[3] / "app/src/tessera_app/github/gateway.py"
REPO = "acme/api"


def gateway_operations() -> set[str]:
    """The operationIds the gateway calls (githubkit names them ``rest.<tag>.<snake_name>``)."""
    calls = re.findall(r"rest\.(\w+)\.(\w+)", GATEWAY.read_text())
    return {f"{tag}/{name.replace('_', '-')}" for tag, name in calls}


def test_the_app_speaks_the_version_the_description_describes(
    rest_description: conformance.Description,
) -> None:
    doc = json.loads(DESCRIPTION.read_text())
    assert doc["info"]["x-github-api-version"] == API_VERSION == rest_description.api_version
    assert doc["info"]["x-source"]["package"] == "@octokit/openapi"
    assert "nullable" not in DESCRIPTION.read_text()  # converted to JSON Schema's null type
    assert "$ref" not in DESCRIPTION.read_text()  # dereferenced
    assert (DESCRIPTION.parent / "LICENSE.octokit-openapi.txt").read_text().startswith("MIT")


def test_every_gateway_call_and_fake_route_is_a_vendored_operation(
    rest_description: conformance.Description,
) -> None:
    used = gateway_operations()
    served = {endpoint.operation for endpoint in fake_app.ROUTES}
    assert len(used) >= 25 and used <= served, used - served  # the fake serves all the App uses
    assert set(regenerate.OPERATIONS) == set(rest_description.operations) == served
    for endpoint in fake_app.ROUTES:  # each route is its operation's method and path
        operation = rest_description.operations[endpoint.operation]
        template = "/" + endpoint.template.replace("*}", "}")
        assert (endpoint.method, template) == (operation.method, operation.path), endpoint


def test_the_converter_inlines_references_and_allows_null() -> None:
    """The converter on a small OpenAPI 3.0 description: refs inlined, nullable converted."""
    source: dict[str, Any] = {
        "openapi": "3.0.3",
        "paths": {
            "/things/{id}": {
                "get": {
                    "operationId": "pulls/get",
                    "summary": "s",
                    "parameters": [{"$ref": "#/components/parameters/id"}],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/thing"}
                                }
                            },
                        }
                    },
                    "x-github-breaking-changes": [{"version": "2026-03-10", "patch": {}}],
                }
            }
        },
        "components": {
            "parameters": {
                "id": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            },
            "schemas": {
                "thing": {
                    "type": "object",
                    "required": ["state", "description"],
                    "properties": {
                        "state": {"type": "string", "enum": ["a"], "nullable": True},
                        "description": {"type": "string", "example": "x"},
                        "owner": {"allOf": [{"type": "object"}], "nullable": True},
                    },
                }
            },
        },
    }
    converter = regenerate.Converter(source)
    schema = converter.schema(converter.resolve({"$ref": "#/components/schemas/thing"}))
    assert schema["properties"]["state"] == {"type": ["string", "null"], "enum": ["a", None]}
    assert schema["properties"]["description"] == {"type": "string"}  # a property, not prose
    assert schema["properties"]["owner"] == {
        "anyOf": [{"allOf": [{"type": "object"}]}, {"type": "null"}]
    }
    with pytest.raises(regenerate.DescriptionError, match="not in the description"):
        regenerate.convert(source, "0")  # the other operations are missing
    source["paths"]["/things/{id}"]["get"]["x-github-breaking-changes"] = [
        {"version": "2020-01-01"}
    ]
    with pytest.raises(regenerate.DescriptionError, match="not later than"):
        regenerate.convert(source, "0")


def _world(fake_github: FakeGitHub) -> None:
    fake_github.seed(
        {
            "repos": [
                {
                    "full_name": REPO,
                    "installation": 1,
                    "branches": {
                        "main": {
                            "spec.yaml": "a: 1\nb: 2\n",
                            "protos/a.proto": "syntax",
                            "protos/deep/b.proto": "syntax",
                            "protos/deep/c.proto": "syntax",
                            "old/name.yaml": "x: 1\ny: 2\nz: 3\n",
                        }
                    },
                    "tree_limit": 2,
                }
            ],
            "pushes": [
                {
                    "repo": REPO,
                    "branch": "feature",
                    "from": "main",
                    "files": {"spec.yaml": "a: 1\nb: 3\nc: 4\n", "gone.yaml": None},
                    "renames": {"old/name.yaml": "new/name.yaml"},
                }
            ],
            "pull_requests": [{"repo": REPO, "head": "feature", "author": "alice"}],
            "reviews": [{"repo": REPO, "number": 1, "user": "bob", "state": "APPROVED"}],
            "teams": [{"org": "acme", "slug": "payments", "members": ["bob"]}],
        }
    )


def test_every_operation_the_app_uses_conforms(
    fake_github: FakeGitHub, rest_description: conformance.Description
) -> None:
    """The walk: each gateway call (and the three operations only the fake serves for now),
    through githubkit against the fake; the referee sees every request and every answer."""
    _world(fake_github)
    app, gh, state = fake_github.app, fake_github.gh, fake_github.state
    assert app.bot_login() == "tessera[bot]"
    assert gh.read_file(REPO, "spec.yaml", "feature") == "a: 1\nb: 3\nc: 4\n"
    assert gh.read_file(REPO, "missing.yaml", "main") is None
    protos = gh.list_files(REPO, "main", "protos")  # truncated listing: walked level by level
    assert sorted(protos) == ["protos/a.proto", "protos/deep/b.proto", "protos/deep/c.proto"]
    info = gh.pull_request(REPO, 1)
    assert (info.state, info.head_ref, info.author) == ("open", "feature", "alice")
    assert sorted(gh.pull_request_files(REPO, 1)) == [
        "new/name.yaml",
        "old/name.yaml",
        "spec.yaml",
    ]
    assert [p.number for p in gh.open_pull_requests(REPO)] == [1]
    notes = [Annotation("spec.yaml", n, n, "warning", f"note {n}") for n in range(1, 61)]
    run = gh.upsert_check_run(
        REPO, info.head_sha, "tessera/x", status="in_progress", conclusion=None, title="t",
        summary="s", annotations=notes, details_url="https://example.test/x", external_id="x",
    )  # fmt: skip
    again = gh.upsert_check_run(
        REPO, info.head_sha, "tessera/x", status="completed", conclusion="success", title="t",
        summary="s", text="more",
    )  # fmt: skip
    assert run == again
    listed = gh.rest.checks.list_annotations("acme", "api", run, per_page=100).parsed_data
    assert len(listed) == 60
    comment = gh.upsert_comment(REPO, 1, "<!-- m -->", "hello")
    assert gh.upsert_comment(REPO, 1, "<!-- m -->", "hello again") == comment
    number = gh.create_issue(REPO, "A proposal", "body", ["tessera"])
    gh.update_issue(REPO, number, body="closed", state="closed", state_reason="not_planned")
    assert gh.rest.issues.get("acme", "api", number).parsed_data.state == "closed"
    gh.add_reaction(REPO, comment, "eyes")
    gh.add_reaction(REPO, comment, "eyes")  # twice: 200 the second time
    assert gh.team_member("acme", "payments", "bob") and not gh.team_member("acme", "x", "bob")
    sha = gh.commit_files(REPO, "main", "publish", {"published/v1.json": "{}"})
    assert gh.read_file(REPO, "published/v1.json", sha) == "{}"
    reviews = gh.rest.pulls.list_reviews("acme", "api", 1).parsed_data
    assert [r.state for r in reviews] == ["APPROVED"]
    pulls = gh.rest.repos.list_pull_requests_associated_with_commit("acme", "api", info.head_sha)
    assert [p.number for p in pulls.parsed_data] == [1]
    state.add_delivery("pull_request", action="opened", status_code=500)
    (delivery,) = app.deliveries()
    app.redeliver(delivery.id)
    state.wait_for_redeliveries()
    assert [d.redelivery for d in app.deliveries()] == [False, True]

    used = {r.operation for r in state.requests}
    assert used == set(rest_description.operations)  # all of them walked
    assert {r.api_version for r in state.requests} == {rest_description.api_version}
    assert rest_description.violations() == [] and state.violations == []


def test_the_referee_catches_a_broken_answer(
    fake_github: FakeGitHub,
    rest_description: conformance.Description,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _world(fake_github)
    original = Shapes.pull

    def broken(self: Shapes, pull: Any, *, full: bool) -> dict[str, Any]:
        out = original(self, pull, full=full)
        del out["head"]["sha"]  # required by pull-request.head
        out["state"] = 7  # a string
        return out

    monkeypatch.setattr(Shapes, "pull", broken)
    with pytest.raises(GitHubError) as err:
        fake_github.gh.pull_request(REPO, 1)
    assert err.value.status == 500 and "pulls/get response 200 at /head" in str(err.value)
    found = rest_description.take_violations()
    assert {(v.operation, v.direction, v.status, v.pointer) for v in found} == {
        ("pulls/get", "response", 200, "/head"),
        ("pulls/get", "response", 200, "/state"),
    }
    assert "'sha' is a required property" in {v.message for v in found}
    assert fake_github.state.violations  # also in GET /_fake/state


@contextmanager
def raw_client(fake_github: FakeGitHub) -> Iterator[httpx.Client]:
    """Plain HTTP to the fake as installation 1 (githubkit checks request bodies itself, so a
    bad request has to be sent without it)."""
    token, _ = fake_github.state.issue_token(1)
    transport = SyncASGITransport(create_app(fake_github.state))
    with httpx.Client(
        transport=transport,
        base_url="http://fake/api/v3",
        headers={"Authorization": f"token {token}", "X-GitHub-Api-Version": API_VERSION},
    ) as http:
        yield http


def test_the_referee_answers_a_bad_request_422_like_github(
    fake_github: FakeGitHub, rest_description: conformance.Description
) -> None:
    _world(fake_github)
    sha = fake_github.state.repo(REPO).refs["heads/main"]
    data = {"name": "n", "head_sha": sha, "conclusion": "great", "output": {"title": "t"}}
    with raw_client(fake_github) as http:
        refused = http.post("/repos/acme/api/check-runs", json=data)
        assert refused.status_code == 422
        assert refused.json()["message"].startswith("Invalid request.")
        found = rest_description.take_violations()
        assert {(v.operation, v.direction, v.pointer) for v in found} == {
            ("checks/create", "request", "/conclusion"),  # not one of the conclusions
            ("checks/create", "request", "/output"),  # output.summary is required
        }
        assert http.get("/repos/acme/api/pulls/one").status_code == 422  # an integer
        (bad,) = rest_description.take_violations()
        assert (bad.operation, bad.pointer) == ("pulls/get", "/path/pull_number")
        assert http.get("/repos/acme/api/pulls", params={"state": "merged"}).status_code == 422
        (bad,) = rest_description.take_violations()
        assert (bad.operation, bad.pointer) == ("pulls/list", "/query/state")
    assert fake_github.state.check_runs == {}  # nothing was done with the bad requests


def test_another_api_version_is_refused(
    fake_github: FakeGitHub, rest_description: conformance.Description
) -> None:
    _world(fake_github)
    with raw_client(fake_github) as http:
        refused = http.get(
            "/repos/acme/api/pulls/1", headers={"X-GitHub-Api-Version": "2026-03-10"}
        )
        assert refused.status_code == 400 and "2026-03-10" in refused.json()["message"]
        (found,) = rest_description.take_violations()
        assert found.pointer == "/header/X-GitHub-Api-Version"
        del http.headers["X-GitHub-Api-Version"]
        plain = http.get("/repos/acme/api/pulls/1")
        assert plain.status_code == 200  # no header: GitHub's default, 2022-11-28
