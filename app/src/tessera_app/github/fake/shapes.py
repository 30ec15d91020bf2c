"""GitHub-shaped JSON for the fake's responses, as GitHub's REST API 2022-11-28 describes them.

Every field the description requires is filled from the fake's state (diff counts and patches
from the real blobs, URLs under the fake's own base); ``conformance.py`` checks each answer
against the description, and githubkit reads them with its typed models for that version.
"""

from __future__ import annotations

from typing import Any

from tessera_app.github.fake.git import FileChange, commits_between, patch
from tessera_app.github.fake.state import (
    App,
    CheckRun,
    Comment,
    Delivery,
    FakeState,
    Issue,
    Pull,
    Reaction,
    Repo,
    Review,
    iso,
)

Json = dict[str, Any]


class Shapes:
    """Builders bound to one fake state and the base URL the client used (``.../api/v3``)."""

    def __init__(self, state: FakeState, api: str) -> None:
        self.state = state
        self.api = api.rstrip("/")
        self.web = self.api.removesuffix("/api/v3")

    def user(self, login: str) -> Json:
        url = f"{self.api}/users/{login}"
        uid = self.state.user_id(login)
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_{uid}",
            "avatar_url": f"{self.web}/avatars/{login}",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.web}/{login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": "Bot" if login.endswith("[bot]") else "User",
            "site_admin": False,
        }

    def app(self, app: App) -> Json:
        return {
            "id": app.id,
            "slug": app.slug,
            "node_id": f"A_{app.id}",
            "client_id": f"Iv1.{app.id:016x}",
            "owner": self.user(app.owner),
            "name": app.name,
            "description": "Contracts-as-code",
            "external_url": self.web,
            "html_url": f"{self.web}/apps/{app.slug}",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "permissions": {
                "checks": "write",
                "contents": "write",
                "issues": "write",
                "pull_requests": "write",
                "members": "read",
                "metadata": "read",
            },
            "events": ["push", "pull_request", "issue_comment", "check_run"],
        }

    def repo(self, repo: Repo) -> Json:
        url = f"{self.api}/repos/{repo.full_name}"
        suffixes = {
            "archive_url": "/{archive_format}{/ref}",
            "assignees_url": "/assignees{/user}",
            "blobs_url": "/git/blobs{/sha}",
            "branches_url": "/branches{/branch}",
            "collaborators_url": "/collaborators{/collaborator}",
            "comments_url": "/comments{/number}",
            "commits_url": "/commits{/sha}",
            "compare_url": "/compare/{base}...{head}",
            "contents_url": "/contents/{+path}",
            "contributors_url": "/contributors",
            "deployments_url": "/deployments",
            "downloads_url": "/downloads",
            "events_url": "/events",
            "forks_url": "/forks",
            "git_commits_url": "/git/commits{/sha}",
            "git_refs_url": "/git/refs{/sha}",
            "git_tags_url": "/git/tags{/sha}",
            "issue_comment_url": "/issues/comments{/number}",
            "issue_events_url": "/issues/events{/number}",
            "issues_url": "/issues{/number}",
            "keys_url": "/keys{/key_id}",
            "labels_url": "/labels{/name}",
            "languages_url": "/languages",
            "merges_url": "/merges",
            "milestones_url": "/milestones{/number}",
            "notifications_url": "/notifications{?since,all,participating}",
            "pulls_url": "/pulls{/number}",
            "releases_url": "/releases{/id}",
            "stargazers_url": "/stargazers",
            "statuses_url": "/statuses/{sha}",
            "subscribers_url": "/subscribers",
            "subscription_url": "/subscription",
            "tags_url": "/tags",
            "teams_url": "/teams",
            "trees_url": "/git/trees{/sha}",
            "hooks_url": "/hooks",
        }
        html = f"{self.web}/{repo.full_name}"
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "license": None,
            "forks": 0,
            "owner": self.user(repo.owner),
            "private": True,
            "html_url": html,
            "description": None,
            "fork": False,
            "url": url,
            **{key: url + suffix for key, suffix in suffixes.items()},
            "git_url": f"git://fake/{repo.full_name}.git",
            "ssh_url": f"git@fake:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "mirror_url": None,
            "homepage": None,
            "language": None,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "size": 0,
            "default_branch": repo.default_branch,
            "open_issues_count": 0,
            "has_pages": False,
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_downloads": False,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "is_template": False,
            "visibility": "private",
            "topics": [],
            "allow_forking": False,
            "web_commit_signoff_required": False,
            "pushed_at": "2026-01-01T00:00:00Z",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "open_issues": 0,
            "watchers": 0,
        }

    def pull(self, pull: Pull, *, full: bool) -> Json:
        """A pull request (``full``: as ``pulls/get`` answers, with the counts of its diff)."""
        repo = self.state.repo(pull.repo)
        key = (pull.repo, pull.number)
        url = f"{self.api}/repos/{repo.full_name}/pulls/{pull.number}"
        issue_url = f"{self.api}/repos/{repo.full_name}/issues/{pull.number}"
        html = f"{self.web}/{repo.full_name}/pull/{pull.number}"
        repo_json = self.repo(repo)
        review_comment = f"{self.api}/repos/{repo.full_name}/pulls/comments{{/number}}"

        def side(ref: str, sha: str) -> Json:
            return {
                "label": f"{repo.owner}:{ref}",
                "ref": ref,
                "sha": sha,
                "repo": repo_json,
                "user": repo_json["owner"],
            }

        out: Json = {
            "url": url,
            "id": pull.number + repo.id * 100000,
            "node_id": f"PR_{repo.id}_{pull.number}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{self.api}/repos/{repo.full_name}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{self.api}/repos/{repo.full_name}/statuses/{pull.head_sha}",
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self.user(pull.user),
            "body": pull.body,
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.closed_at,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha,
            "draft": False,
            "head": side(pull.head_ref, pull.head_sha),
            "base": side(pull.base_ref, pull.base_sha),
            "_links": {
                name: {"href": href}
                for name, href in {
                    "comments": f"{issue_url}/comments",
                    "commits": f"{url}/commits",
                    "statuses": f"{self.api}/repos/{repo.full_name}/statuses/{pull.head_sha}",
                    "html": html,
                    "issue": issue_url,
                    "review_comments": f"{url}/comments",
                    "review_comment": review_comment,
                    "self": url,
                }.items()
            },
            "author_association": "MEMBER",
            "auto_merge": None,
        }
        if full:
            changes = self.state.pull_changes(pull)
            patches = [patch(repo.git, c.old_sha, c.new_sha) for c in changes]
            comments = sum(1 for c in self.state.comments.values() if (c.repo, c.number) == key)
            out |= {
                "merged": pull.merged,
                "mergeable": None if pull.state != "open" else True,
                "mergeable_state": "clean" if pull.state == "open" else "unknown",
                "merged_by": self.user(pull.merged_by) if pull.merged_by else None,
                "comments": comments,
                "review_comments": 0,
                "maintainer_can_modify": False,
                "commits": len(commits_between(repo.git.commits, pull.base_sha, pull.head_sha)),
                "additions": sum(p.additions for p in patches),
                "deletions": sum(p.deletions for p in patches),
                "changed_files": len(changes),
            }
        return out

    def diff_entry(self, repo: Repo, head_sha: str, change: FileChange) -> Json:
        """One entry of a pull request's files: the patch and its counts come from the blobs."""
        diff = patch(repo.git, change.old_sha, change.new_sha)
        path = change.path
        out: Json = {
            "sha": change.new_sha or change.old_sha,
            "filename": path,
            "status": change.status,
            "additions": diff.additions,
            "deletions": diff.deletions,
            "changes": diff.additions + diff.deletions,
            "blob_url": f"{self.web}/{repo.full_name}/blob/{head_sha}/{path}",
            "raw_url": f"{self.web}/{repo.full_name}/raw/{head_sha}/{path}",
            "contents_url": f"{self.api}/repos/{repo.full_name}/contents/{path}?ref={head_sha}",
        }
        if diff.text is not None:
            out["patch"] = diff.text
        if change.previous_path is not None:
            out["previous_filename"] = change.previous_path
        return out

    def issue(self, issue: Issue) -> Json:
        url = f"{self.api}/repos/{issue.repo}/issues/{issue.number}"
        comments = sum(
            1
            for c in self.state.comments.values()
            if (c.repo, c.number) == (issue.repo, issue.number)
        )
        return {
            "id": self.state.repo(issue.repo).id * 100000 + issue.number,
            "node_id": f"I_{issue.repo}_{issue.number}",
            "url": url,
            "repository_url": f"{self.api}/repos/{issue.repo}",
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{self.web}/{issue.repo}/issues/{issue.number}",
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body,
            "user": self.user(issue.user),
            "labels": [self.label(issue.repo, name) for name in issue.labels],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "comments": comments,
            "closed_at": issue.closed_at,
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "author_association": "NONE",
        }

    def label(self, repo: str, name: str) -> Json:
        return {
            "id": abs(hash((repo, name))) % 10**9,
            "node_id": f"L_{name}",
            "url": f"{self.api}/repos/{repo}/labels/{name}",
            "name": name,
            "description": None,
            "color": "ededed",
            "default": False,
        }

    def comment(self, comment: Comment) -> Json:
        return {
            "id": comment.id,
            "node_id": f"IC_{comment.id}",
            "url": f"{self.api}/repos/{comment.repo}/issues/comments/{comment.id}",
            "html_url": f"{self.web}/{comment.repo}/issues/{comment.number}"
            f"#issuecomment-{comment.id}",
            "issue_url": f"{self.api}/repos/{comment.repo}/issues/{comment.number}",
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "author_association": "NONE",
            "performed_via_github_app": self.app(self.state.app) if comment.via_app else None,
        }

    def reaction(self, reaction: Reaction) -> Json:
        return {
            "id": reaction.id,
            "node_id": f"RE_{reaction.id}",
            "user": self.user(reaction.user),
            "content": reaction.content,
            "created_at": reaction.created_at,
        }

    def review(self, review: Review) -> Json:
        return {
            "id": review.id,
            "node_id": f"PRR_{review.id}",
            "user": self.user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": f"{self.web}/{review.repo}/pull/{review.number}"
            f"#pullrequestreview-{review.id}",
            "pull_request_url": f"{self.api}/repos/{review.repo}/pulls/{review.number}",
            "_links": {
                "html": {"href": f"{self.web}/{review.repo}/pull/{review.number}"},
                "pull_request": {"href": f"{self.api}/repos/{review.repo}/pulls/{review.number}"},
            },
            "submitted_at": review.submitted_at,
            "commit_id": review.commit_id,
            "author_association": "MEMBER",
        }

    def check_run(self, run: CheckRun) -> Json:
        url = f"{self.api}/repos/{run.repo}/check-runs/{run.id}"
        pulls = [
            {
                "id": p.number,
                "number": p.number,
                "url": f"{self.api}/repos/{p.repo}/pulls/{p.number}",
                "head": self._minimal_side(p.repo, p.head_ref, p.head_sha),
                "base": self._minimal_side(p.repo, p.base_ref, p.base_sha),
            }
            for p in self.state.pulls.values()
            if p.repo == run.repo and p.head_sha == run.head_sha and p.state == "open"
        ]
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": f"CR_{run.id}",
            "external_id": run.external_id,
            "url": url,
            "html_url": f"{self.web}/{run.repo}/runs/{run.id}",
            "details_url": run.details_url,
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": run.started_at,
            "completed_at": run.completed_at,
            "output": {
                "title": run.title,
                "summary": run.summary,
                "text": run.text,
                "annotations_count": len(run.annotations),
                "annotations_url": f"{url}/annotations",
            },
            "name": run.name,
            "check_suite": {"id": run.id},
            "app": self.app(self.state.app),
            "pull_requests": pulls,
        }

    def _minimal_side(self, full_name: str, ref: str, sha: str) -> Json:
        repo = self.state.repo(full_name)
        url = f"{self.api}/repos/{repo.full_name}"
        return {"ref": ref, "sha": sha, "repo": {"id": repo.id, "url": url, "name": repo.name}}

    def delivery(self, delivery: Delivery) -> Json:
        return {
            "id": delivery.id,
            "guid": delivery.guid,
            "delivered_at": delivery.delivered_at,
            "redelivery": delivery.redelivery,
            "duration": 0.05,
            "status": delivery.status,
            "status_code": delivery.status_code,
            "event": delivery.event,
            "action": delivery.action,
            "installation_id": delivery.installation_id,
            "repository_id": delivery.repository_id,
            "throttled_at": None,
        }

    def commit(self, repo: Repo, sha: str) -> Json:
        commit = repo.git.commits[sha]
        person = {
            "date": commit.date,
            "email": f"{commit.author}@users.noreply",
            "name": commit.author,
        }
        base = f"{self.api}/repos/{repo.full_name}/git"
        return {
            "sha": sha,
            "node_id": f"C_{sha}",
            "url": f"{base}/commits/{sha}",
            "html_url": f"{self.web}/{repo.full_name}/commit/{sha}",
            "author": person,
            "committer": person,
            "message": commit.message,
            "tree": {"sha": commit.tree, "url": f"{base}/trees/{commit.tree}"},
            "parents": [
                {
                    "sha": p,
                    "url": f"{base}/commits/{p}",
                    "html_url": f"{self.web}/{repo.full_name}/commit/{p}",
                }
                for p in commit.parents
            ],
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        }

    def ref(self, repo: Repo, name: str) -> Json:
        sha = repo.refs[name]
        return {
            "ref": f"refs/{name}",
            "node_id": f"REF_{name}",
            "url": f"{self.api}/repos/{repo.full_name}/git/refs/{name}",
            "object": {
                "type": "commit",
                "sha": sha,
                "url": f"{self.api}/repos/{repo.full_name}/git/commits/{sha}",
            },
        }

    def tree(self, repo: Repo, sha: str, *, recursive: bool, limit: int | None = None) -> Json:
        """A tree listing; a recursive one longer than ``limit`` entries is cut there and says
        ``truncated`` (as GitHub does past 100,000 entries or 7 MB)."""
        base = f"{self.api}/repos/{repo.full_name}/git"
        entries: list[Json] = []

        def walk(tree: str, prefix: str) -> None:
            for name, (mode, child) in sorted(repo.git.trees[tree].items()):
                is_tree = mode == "040000"
                entry: Json = {
                    "path": prefix + name,
                    "mode": mode,
                    "type": "tree" if is_tree else "blob",
                    "sha": child,
                    "url": f"{base}/{'trees' if is_tree else 'blobs'}/{child}",
                }
                if not is_tree:
                    entry["size"] = len(repo.git.blobs[child])
                entries.append(entry)
                if is_tree and recursive:
                    walk(child, f"{prefix}{name}/")

        walk(sha, "")
        truncated = recursive and limit is not None and len(entries) > limit
        if truncated:
            entries = entries[:limit]
        return {"sha": sha, "url": f"{base}/trees/{sha}", "truncated": truncated, "tree": entries}

    def token(self, token: str, expires: str) -> Json:
        return {
            "token": token,
            "expires_at": expires,
            "permissions": {"checks": "write", "contents": "write", "issues": "write"},
            "repository_selection": "selected",
        }


__all__ = ["Shapes", "iso"]
