"""Every gateway call against the fake GitHub, in-process, through githubkit's real HTTP stack."""

from __future__ import annotations

from typing import Any

import pytest

from tessera_app.github.gateway import COMMIT_ATTEMPTS, Annotation, GitHubError, Installation

from .conftest import FakeGitHub

REPO = "acme/api"


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.seed(
        {
            "repos": [
                {
                    "full_name": REPO,
                    "installation": 1,
                    "branches": {
                        "main": {
                            "spec.yaml": "openapi: 3.1.0\n",
                            "contracts/orders.yaml": "id: orders\n",
                            "contracts/deep/er/billing.yaml": "id: billing\n",
                            "teams/payments.yaml": "slug: payments\n",
                        }
                    },
                }
            ]
        }
    )
    return fake_github


def test_read_file(repo: FakeGitHub) -> None:
    gh = repo.gh
    assert gh.read_file(REPO, "spec.yaml", "main") == "openapi: 3.1.0\n"
    assert gh.read_file(REPO, "missing.yaml", "main") is None
    assert gh.read_file(REPO, "spec.yaml", "no-such-branch") is None
    assert gh.read_file(REPO, "contracts", "main") is None  # a directory is not a file
    sha = repo.state.push(REPO, "main", {"spec.yaml": "openapi: 3.0.3\n"})
    assert gh.read_file(REPO, "spec.yaml", sha) == "openapi: 3.0.3\n"
    assert gh.read_file(REPO, "spec.yaml", "main") == "openapi: 3.0.3\n"


def test_read_file_over_one_megabyte_goes_through_the_blob(repo: FakeGitHub) -> None:
    big = "x: " + "y" * (1024 * 1024 + 10) + "\n"
    repo.state.push(REPO, "main", {"big.yaml": big})
    assert repo.gh.read_file(REPO, "big.yaml", "main") == big
    assert repo.state.requests_to("GET", r"/git/blobs/")


def test_list_files(repo: FakeGitHub) -> None:
    gh = repo.gh
    assert gh.list_files(REPO, "main", "contracts") == {
        "contracts/deep/er/billing.yaml": "id: billing\n",
        "contracts/orders.yaml": "id: orders\n",
    }
    assert gh.list_files(REPO, "main", "contracts/deep") == {
        "contracts/deep/er/billing.yaml": "id: billing\n"
    }
    assert gh.list_files(REPO, "main", "nowhere") == {}
    assert gh.list_files(REPO, "main", "spec.yaml") == {}  # a file, not a directory
    assert set(gh.list_files(REPO, "main", "")) == set(repo.state.files_at(REPO, "main"))
    with pytest.raises(GitHubError) as err:
        gh.list_files(REPO, "no-such-branch", "contracts")
    assert err.value.status in (404, 422)


def test_pull_requests(repo: FakeGitHub) -> None:
    state, gh = repo.state, repo.gh
    base = state.repo(REPO).refs["heads/main"]
    head = state.push(
        REPO,
        "feature",
        {"spec.yaml": "openapi: 3.1.1\n", "teams/payments.yaml": None},
        from_branch="main",
    )
    pull = state.open_pull_request(REPO, "feature", title="Change the spec", author="alice")
    info = gh.pull_request(REPO, pull.number)
    assert (info.number, info.state, info.merged, info.merge_commit_sha) == (
        pull.number,
        "open",
        False,
        None,
    )
    assert (info.head_sha, info.head_ref, info.base_ref, info.base_sha) == (
        head,
        "feature",
        "main",
        base,
    )
    assert (info.author, info.title) == ("alice", "Change the spec")
    assert sorted(gh.pull_request_files(REPO, pull.number)) == ["spec.yaml", "teams/payments.yaml"]
    assert [p.number for p in gh.open_pull_requests(REPO)] == [pull.number]

    merge = state.merge_pull_request(REPO, pull.number, merged_by="bob")
    merged = gh.pull_request(REPO, pull.number)
    assert (merged.state, merged.merged, merged.merge_commit_sha) == ("closed", True, merge)
    assert gh.open_pull_requests(REPO) == []
    assert gh.read_file(REPO, "spec.yaml", "main") == "openapi: 3.1.1\n"
    with pytest.raises(GitHubError) as err:
        gh.pull_request(REPO, 99)
    assert err.value.status == 404


def test_listings_follow_pages(repo: FakeGitHub) -> None:
    files = {f"many/f{i:03}.yaml": str(i) for i in range(230)}
    repo.state.push(REPO, "big", files, from_branch="main")
    pull = repo.state.open_pull_request(REPO, "big")
    assert sorted(repo.gh.pull_request_files(REPO, pull.number)) == sorted(files)
    assert len(repo.state.requests_to("GET", r"pulls/\d+/files$")) == 3


def _annotations(n: int) -> list[Annotation]:
    return [Annotation("spec.yaml", i, i, "warning", f"change {i}", title="t") for i in range(n)]


def test_upsert_check_run_batches_annotations_and_updates_in_place(repo: FakeGitHub) -> None:
    gh, state = repo.gh, repo.state
    sha = state.repo(REPO).refs["heads/main"]
    run_id = gh.upsert_check_run(
        REPO,
        sha,
        "tessera/orders",
        status="in_progress",
        conclusion=None,
        title="Checking",
        summary="…",
    )
    same = gh.upsert_check_run(
        REPO,
        sha,
        "tessera/orders",
        status="completed",
        conclusion="action_required",
        title="2 breaking changes",
        summary="## Summary",
        text="details",
        annotations=_annotations(120),
        details_url="https://tessera.example/p/1",
    )
    assert same == run_id
    run = state.check_runs[run_id]
    assert (run.status, run.conclusion, run.title, run.text) == (
        "completed",
        "action_required",
        "2 breaking changes",
        "details",
    )
    assert len(run.annotations) == 120
    assert [a["start_line"] for a in run.annotations] == list(range(120))
    writes = state.requests_to("PATCH", r"check-runs/\d+$") + state.requests_to(
        "POST", r"check-runs$"
    )
    assert len(writes) == 1 + 3  # created once, then 50 + 50 + 20 annotations


def test_upsert_check_run_replaces_a_run_whose_annotations_would_pile_up(repo: FakeGitHub) -> None:
    gh, state = repo.gh, repo.state
    sha = state.repo(REPO).refs["heads/main"]
    kwargs: dict[str, Any] = {"status": "completed", "title": "t", "summary": "s"}
    first = gh.upsert_check_run(
        REPO, sha, "tessera/orders", conclusion="neutral", annotations=_annotations(3), **kwargs
    )
    second = gh.upsert_check_run(
        REPO, sha, "tessera/orders", conclusion="success", annotations=_annotations(2), **kwargs
    )
    assert second != first and len(state.check_runs[second].annotations) == 2
    third = gh.upsert_check_run(REPO, sha, "tessera/orders", conclusion="success", **kwargs)
    assert third == second  # no new annotations: updated in place
    other = gh.upsert_check_run(REPO, sha, "tessera/billing", conclusion="success", **kwargs)
    assert other not in (first, second)


def test_upsert_comment_edits_only_the_apps_marked_comment(repo: FakeGitHub) -> None:
    gh, state = repo.gh, repo.state
    state.push(REPO, "feature", {"spec.yaml": "v2"}, from_branch="main")
    number = state.open_pull_request(REPO, "feature").number
    marker = "<!-- tessera:summary -->"
    impostor = state.add_comment(REPO, number, f"{marker} quoting the bot", user="mallory")
    first = gh.upsert_comment(REPO, number, marker, "table v1")
    assert first != impostor.id
    assert state.comments[first].body == f"{marker}\ntable v1"
    assert gh.upsert_comment(REPO, number, marker, "table v2") == first
    assert gh.upsert_comment(REPO, number, marker, "table v2") == first
    assert state.comments[first].body == f"{marker}\ntable v2"
    assert state.comments[impostor.id].body == f"{marker} quoting the bot"
    assert len(state.requests_to("PATCH", r"issues/comments/\d+$")) == 1  # unchanged: no edit
    assert gh.upsert_comment(REPO, number, "<!-- other -->", "x") not in (first, impostor.id)


def test_comments_issues_and_reactions(repo: FakeGitHub) -> None:
    gh, state = repo.gh, repo.state
    number = gh.create_issue(
        REPO, "[tessera] orders 1.0→2.0", "@acme/payments", ["tessera:proposal"]
    )
    issue = state.issue(REPO, number)
    assert (issue.title, issue.user, issue.labels) == (
        "[tessera] orders 1.0→2.0",
        "tessera[bot]",
        ["tessera:proposal"],
    )
    comment_id = gh.create_comment(REPO, number, "Waiting for acks")
    assert state.comments[comment_id].user == "tessera[bot]"
    gh.update_issue(REPO, number, body="edited")
    gh.update_issue(REPO, number, state="closed", state_reason="not_planned")
    assert (issue.body, issue.state, issue.state_reason) == ("edited", "closed", "not_planned")
    user_comment = state.add_comment(REPO, number, "/tessera ack", user="bob")
    gh.add_reaction(REPO, user_comment.id, "eyes")
    gh.add_reaction(REPO, user_comment.id, "eyes")
    gh.add_reaction(REPO, user_comment.id, "+1")
    assert [(r.comment_id, r.content) for r in state.reactions] == [
        (user_comment.id, "eyes"),
        (user_comment.id, "+1"),
    ]
    with pytest.raises(GitHubError) as err:
        gh.add_reaction(REPO, 424242, "eyes")
    assert err.value.status == 404


def test_long_bodies_are_clipped_to_githubs_limit(repo: FakeGitHub) -> None:
    number = repo.gh.create_issue(REPO, "t", "b")
    comment_id = repo.gh.create_comment(REPO, number, "x" * 70000)
    assert len(repo.state.comments[comment_id].body) == 65535


def test_team_member(repo: FakeGitHub) -> None:
    repo.seed(
        {"teams": [{"org": "acme", "slug": "payments", "members": ["bob"], "pending": ["eve"]}]}
    )
    gh: Installation = repo.gh
    assert gh.team_member("acme", "payments", "bob") is True
    assert gh.team_member("acme", "payments", "eve") is False  # invited, not active
    assert gh.team_member("acme", "payments", "carol") is False
    assert gh.team_member("acme", "no-such-team", "bob") is False


def test_commit_files_makes_one_commit(repo: FakeGitHub) -> None:
    state = repo.state
    before = state.repo(REPO).refs["heads/main"]
    sha = repo.gh.commit_files(
        REPO,
        "main",
        "Publish orders 2.0.0 (acme/api#7)",
        {"published/orders/2.0.0.yaml": "v2", "contracts/orders.yaml": "id: orders\nv: 2\n"},
    )
    git = state.repo(REPO).git
    assert state.repo(REPO).refs["heads/main"] == sha
    assert git.commits[sha].parents == (before,)
    assert git.commits[sha].message == "Publish orders 2.0.0 (acme/api#7)"
    files = state.files_at(REPO, "main")
    assert files["published/orders/2.0.0.yaml"] == "v2"
    assert files["contracts/orders.yaml"] == "id: orders\nv: 2\n"
    assert files["spec.yaml"] == "openapi: 3.1.0\n"  # the rest of the tree is kept


def test_commit_files_rebuilds_once_when_the_branch_moved(
    repo: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh, state = repo.gh, repo.state
    real = Installation._commit_on_tip
    calls: list[int] = []

    def racing(self: Installation, *args: object) -> str:
        sha = real(self, *args)  # type: ignore[arg-type]
        calls.append(1)
        if len(calls) == 1:  # someone pushes between our commit and the ref update
            state.push(REPO, "main", {"other.yaml": "pushed meanwhile"})
        return sha

    monkeypatch.setattr(Installation, "_commit_on_tip", racing)
    sha = gh.commit_files(REPO, "main", "publish", {"published/a.yaml": "A"})
    assert len(calls) == 2
    files = state.files_at(REPO, "main")
    assert files["other.yaml"] == "pushed meanwhile" and files["published/a.yaml"] == "A"
    assert state.repo(REPO).refs["heads/main"] == sha
    assert len(state.requests_to("PATCH", r"git/refs/heads/main$")) == 2


def test_deliveries_and_redelivery(repo: FakeGitHub) -> None:
    state, app = repo.state, repo.app
    made = [
        state.add_delivery("pull_request", action="opened", status_code=s) for s in (200, 502, 200)
    ]
    for i in range(150):  # more than one page
        state.add_delivery("push", status_code=200, guid=f"bulk-{i}")
    listed = app.deliveries()
    assert [d.id for d in listed] == sorted(d.id for d in state.deliveries)
    assert [d.failed for d in listed[:3]] == [False, True, False]
    assert len(state.requests_to("GET", r"^app/hook/deliveries$")) == 2
    newer = app.deliveries(since_id=made[1].id)
    assert [d.id for d in newer] == [d.id for d in state.deliveries[2:]]
    app.redeliver(made[1].id)  # accepted (202); the attempt happens in the background
    state.wait_for_redeliveries()
    again = state.deliveries[-1]
    assert (again.guid, again.redelivery, again.event) == (made[1].guid, True, "pull_request")
    with pytest.raises(GitHubError) as err:
        app.redeliver(999999)
    assert err.value.status == 404


def test_repositories_outside_the_installation_are_not_found(repo: FakeGitHub) -> None:
    repo.state.add_repo("other/secret", installation_id=None)
    repo.state.push("other/secret", "main", {"a": "b"})
    assert repo.gh.read_file("other/secret", "a", "main") is None
    with pytest.raises(GitHubError) as err:
        repo.gh.pull_request("other/secret", 1)
    assert err.value.status == 404


def test_commit_files_keeps_trying_while_the_branch_moves_then_says_conflict(
    repo: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy registry branch: rebuilt on each new tip (a publication must land), and a
    branch that never stops moving is a conflict to retry later (409), not a refusal (422)."""
    gh, state = repo.gh, repo.state
    real = Installation._commit_on_tip
    moves: list[int] = []

    def racing(self: Installation, *args: object) -> str:
        sha = real(self, *args)  # type: ignore[arg-type]
        if len(moves) < limit:
            moves.append(1)
            state.push(REPO, "main", {f"other-{len(moves)}.yaml": "pushed meanwhile"})
        return sha

    monkeypatch.setattr(Installation, "_commit_on_tip", racing)
    limit = COMMIT_ATTEMPTS - 1  # the last attempt lands
    sha = gh.commit_files(REPO, "main", "publish", {"published/a.yaml": "A"})
    assert state.repo(REPO).refs["heads/main"] == sha
    moves.clear()
    limit = COMMIT_ATTEMPTS  # it never lands
    with pytest.raises(GitHubError) as raised:
        gh.commit_files(REPO, "main", "publish", {"published/b.yaml": "B"})
    assert raised.value.status == 409
    assert "published/b.yaml" not in state.files_at(REPO, "main")
