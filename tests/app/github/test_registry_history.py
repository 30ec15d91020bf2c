"""Whether one registry commit descends from another, through the gateway against the fake."""

from __future__ import annotations

from tessera_app.github.registry_history import Descent, descends

from .conftest import INSTALLATION_ID, FakeGitHub

REPO = "acme/registry"


def make_history(fake_github: FakeGitHub) -> dict[str, str]:
    """root - a - b (main) - m (merge of side) ; root - side ; root - other (unrelated branch)."""
    fake_github.seed(
        {
            "repos": [
                {
                    "full_name": REPO,
                    "installation": INSTALLATION_ID,
                    "branches": {"main": {"tessera.yaml": "rules_version: 1\n"}},
                }
            ]
        }
    )
    state = fake_github.state
    root = state.repo(REPO).branch_sha("main")
    side = state.push(REPO, "side", {"teams/a.yaml": "id: a\n"}, from_branch="main")
    other = state.push(REPO, "other", {"teams/d.yaml": "id: d\n"}, from_branch="main")
    a = state.push(REPO, "main", {"teams/b.yaml": "id: b\n"})
    b = state.push(REPO, "main", {"teams/c.yaml": "id: c\n"})
    repo = state.repo(REPO)
    with state.lock:
        tree = repo.git.commits[b].tree
        merge = repo.git.put_commit(
            tree, (b, side), "Merge side", "octocat", repo.git.commits[b].date
        )
    return {"root": root, "a": a, "b": b, "side": side, "other": other, "merge": merge}


def test_descendants_ancestors_and_strangers(fake_github: FakeGitHub) -> None:
    c = make_history(fake_github)
    gh = fake_github.gh
    assert descends(gh, REPO, c["b"], c["b"]) is Descent.YES
    assert descends(gh, REPO, c["b"], c["root"]) is Descent.YES
    assert descends(gh, REPO, c["merge"], c["side"]) is Descent.YES  # through the second parent
    assert descends(gh, REPO, c["merge"], c["a"]) is Descent.YES
    assert descends(gh, REPO, c["root"], c["b"]) is Descent.NO  # rewound
    assert descends(gh, REPO, c["other"], c["b"]) is Descent.NO  # diverged
    assert descends(gh, REPO, c["b"], "f" * 40) is Descent.NO  # the applied commit is gone


def test_a_walk_too_long_is_unknown(fake_github: FakeGitHub) -> None:
    c = make_history(fake_github)
    assert descends(fake_github.gh, REPO, c["merge"], c["root"], limit=2) is Descent.UNKNOWN


def test_commits_older_than_the_ancestor_are_not_followed(fake_github: FakeGitHub) -> None:
    c = make_history(fake_github)
    state = fake_github.state
    repo = state.repo(REPO)
    with state.lock:  # a commit of the year 2000 on top of b: b is reached without it mattering
        old = repo.git.put_commit(
            repo.git.commits[c["root"]].tree, (c["root"],), "old", "octocat", "2000-01-01T00:00:00Z"
        )
    before = len(state.requests)
    assert descends(fake_github.gh, REPO, old, c["b"]) is Descent.NO
    reads = [r for r in state.requests[before:] if "/git/commits/" in r.path]
    assert len(reads) == 2  # the ancestor and the head, nothing below
