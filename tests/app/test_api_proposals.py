"""The proposals and audit API on both databases: decisions need a ``write`` key bound to the
team (or an ``admin`` key, for any team), waivers and force-publish ``admin``; the actor is the
key's principal, never the request's; workflow refusals are 4xx JSON, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import workflow
from tessera_app.auth import create_key
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction
from tessera_app.db.registry_models import Team
from tessera_app.db.workflow_models import Acknowledgement, Hold
from tessera_app.settings import Settings
from tessera_app.web import create_app
from tessera_app.workflow import ImpactSummary

PEPPER = "p" * 32
API = "/api/v1"
TEAMS = ("web", "data", "mail")


@pytest.fixture
def client(database_url: str, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with transaction(sessions) as session:
        session.add_all(Team(id=team, github_team=f"acme/{team}") for team in TEAMS)
    app = create_app(Settings(database_url=database_url, secret_key=PEPPER))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _key(sessions: sessionmaker[Session], scope: str, team: str = "web") -> dict[str, str]:
    """Headers with a new key: ``write`` for ``team`` (named ``<team>-bot``), ``admin`` owned
    by alice (named ``ops``), ``read``."""
    principal: dict[str, Any] = {"write": {"team": team}, "admin": {"owner": "alice"}}.get(
        scope, {}
    )
    name = {"write": f"{team}-bot", "admin": "ops"}.get(scope, "reader")
    with transaction(sessions) as session:
        key, _ = create_key(session, name, [scope], pepper=PEPPER, **principal)
    return {"Authorization": f"Bearer {key}"}


def _proposal(sessions: sessionmaker[Session], pr: int = 5, contract: str = "orders-api") -> int:
    impact = ImpactSummary(
        contract=contract,
        required={"web": frozenset({"fp-a"}), "data": frozenset({"fp-b"})},
        breaking=frozenset({"fp-a", "fp-b"}),
        informed=frozenset({"mail"}),
        bump="major",
        current_version="1.0.0",
        version_origin="the next major version (auto)",
    )
    with transaction(sessions) as session:
        return workflow.open_or_update(session, contract, pr, "sha", impact).id


def _counts(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    """(acknowledgements, holds, audit events): what a refused request must leave alone."""
    with sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Acknowledgement)) or 0,
            session.scalar(select(func.count()).select_from(Hold)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def _last_event(sessions: sessionmaker[Session]) -> AuditEvent:
    with sessions() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert event is not None
        return event


def test_acknowledging_over_http(client: TestClient, sessions: sessionmaker[Session]) -> None:
    pid = _proposal(sessions)
    web, data = _key(sessions, "write", "web"), _key(sessions, "write", "data")
    url = f"{API}/proposals/{pid}/acknowledgements"
    body = {"team": "web", "kind": "approved", "evidence": {"ticket": "OPS-1"}}
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers=_key(sessions, "read")).status_code == 403
    made = client.post(url, json=body, headers=web)
    assert made.status_code == 201, made.text
    ack = made.json()
    assert ack["actor"] == "team web (key web-bot)" and ack["fingerprints"] == ["fp-a"]
    key = ack["evidence"]["api_key"]
    assert ack["evidence"]["via"] == "api" and ack["evidence"]["stated_by_caller"] == {
        "ticket": "OPS-1"
    }
    assert (key["name"], key["team"], key["role"]) == ("web-bot", "web", "write")
    assert isinstance(key["id"], int) and web["Authorization"].startswith(f"Bearer {key['prefix']}")
    with sessions() as session:
        recorded = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "ack.approved")
        ).one()
        assert (recorded.actor, recorded.team) == ("team web (key web-bot)", "web")
        assert recorded.details["evidence"]["api_key"]["name"] == "web-bot"

    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    migrating = {"team": "data", "kind": "migrating", "until": until}
    assert client.post(url, json=migrating, headers=data).status_code == 201
    detail = client.get(f"{API}/proposals/{pid}").json()
    assert detail["state"] == "approved" and detail["waiting_on"] == []
    assert [(t["team"], t["state"]) for t in detail["teams"]] == [
        ("data", "migrating"),
        ("web", "approved"),
    ]
    assert len(detail["acknowledgements"]) == 2
    cancelled = client.delete(f"{url}/data", headers=data)
    assert cancelled.status_code == 200 and cancelled.json()["end_reason"] == "cancelled"
    assert cancelled.json()["ended_by"] == "team data (key data-bot)"
    assert client.get(f"{API}/proposals/{pid}").json()["state"] == "open"
    listed = client.get(f"{API}/acknowledgements?team=data").json()
    assert listed["total"] == 1 and listed["items"][0]["active"] is False
    active = client.get(f"{API}/acknowledgements?active=true").json()
    assert [a["team"] for a in active["items"]] == ["web"]


def test_a_team_key_cannot_act_for_another_team(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = _proposal(sessions)
    web = _key(sessions, "write", "web")
    base = f"{API}/proposals/{pid}"
    before = _counts(sessions)
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    attempts = [
        client.post(
            f"{base}/acknowledgements", json={"team": "data", "kind": "approved"}, headers=web
        ),
        client.post(
            f"{base}/acknowledgements",
            json={"team": "data", "kind": "blocked", "reason": "no"},
            headers=web,
        ),
        client.post(
            f"{base}/acknowledgements",
            json={"team": "data", "kind": "migrating", "until": until},
            headers=web,
        ),
        client.post(f"{base}/holds", json={"team": "mail"}, headers=web),
        client.delete(f"{base}/acknowledgements/data", headers=web),
        client.delete(f"{base}/holds/mail", headers=web),
    ]
    for response in attempts:
        assert response.status_code == 403, response.text
        assert response.json()["detail"].startswith("API key web-bot belongs to team web: ")
    assert "it cannot act for team data" in attempts[0].json()["detail"]
    assert _counts(sessions) == before  # nothing recorded
    assert client.get(base).json()["acknowledgements"] == []


def test_an_admin_key_acts_for_any_team_as_its_owner(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = _proposal(sessions)
    admin = _key(sessions, "admin")
    base = f"{API}/proposals/{pid}"
    made = client.post(
        f"{base}/acknowledgements", json={"team": "data", "kind": "approved"}, headers=admin
    )
    assert made.status_code == 201, made.text
    assert made.json()["actor"] == "alice (admin key ops) acting for data"
    assert made.json()["evidence"]["api_key"]["owner"] == "alice"
    with sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "ack.approved")).one()
        assert (event.actor, event.team) == ("alice (admin key ops) acting for data", "data")
        assert event.details["evidence"]["api_key"]["role"] == "admin"
    held = client.post(f"{base}/holds", json={"team": "mail"}, headers=admin)
    assert held.json()["actor"] == "alice (admin key ops) acting for mail"
    forced = client.post(f"{base}/force-publish", json={"reason": "outage"}, headers=admin)
    assert forced.json()["forced_by"] == "alice (admin key ops)"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "acknowledgements", {"team": "web", "kind": "approved", "actor": "octocat"}),
        (
            "post",
            "acknowledgements",
            {"team": "web", "kind": "blocked", "reason": "r", "actor": ""},
        ),
        ("post", "holds", {"team": "web", "actor": "octocat"}),
        ("post", "waivers", {"team": "web", "reason": "r", "until": "2999-01-01", "actor": "x"}),
        ("post", "force-publish", {"reason": "r", "actor": "octocat"}),
        ("post", "acknowledgements", {"team": "web", "kind": "approved", "as": "octocat"}),
        ("delete", "acknowledgements/web?actor=octocat", None),
        ("delete", "holds/web?actor=octocat", None),
        ("delete", "waivers/web?actor=octocat", None),
        ("post", "holds?actor=octocat", {"team": "web"}),
    ],
)
def test_an_actor_in_the_request_is_refused(
    client: TestClient,
    sessions: sessionmaker[Session],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    pid = _proposal(sessions)
    admin = _key(sessions, "admin")
    before = _counts(sessions)
    url = f"{API}/proposals/{pid}/{path}"
    if method == "post":
        response = client.post(url, json=body, headers=admin)
    else:
        response = client.delete(url, headers=admin)
    assert response.status_code == 422, response.text
    if "actor" in path or (body and "actor" in body):
        assert "`actor` is not accepted" in str(response.json()["detail"])
    assert _counts(sessions) == before


def test_a_migration_date_in_the_past_is_refused(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = _proposal(sessions)
    web = _key(sessions, "write", "web")
    url = f"{API}/proposals/{pid}/acknowledgements"
    before = _counts(sessions)
    for past in (datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) - timedelta(seconds=1)):
        body = {"team": "web", "kind": "migrating", "until": past.isoformat()}
        refused = client.post(url, json=body, headers=web)
        assert refused.status_code == 422, refused.text
        (error,) = refused.json()["detail"]
        assert error["loc"] == ["body", "migrating", "until"]
        assert "is in the past" in error["msg"]
    assert _counts(sessions) == before
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    accepted = client.post(
        url, json={"team": "web", "kind": "migrating", "until": future}, headers=web
    )
    assert accepted.status_code == 201, accepted.text


def test_refusals_are_clear_4xx(client: TestClient, sessions: sessionmaker[Session]) -> None:
    pid = _proposal(sessions)
    admin = _key(sessions, "admin")
    url = f"{API}/proposals/{pid}/acknowledgements"
    stranger = client.post(url, json={"team": "x", "kind": "approved"}, headers=admin)
    assert stranger.status_code == 422 and "team x is not a consumer" in stranger.json()["detail"]
    block = client.post(url, json={"team": "web", "kind": "blocked"}, headers=admin)
    assert block.status_code == 422
    assert block.json()["detail"][0]["loc"] == ["body", "blocked", "reason"]
    migrating = client.post(url, json={"team": "web", "kind": "migrating"}, headers=admin)
    assert migrating.json()["detail"][0]["loc"] == ["body", "migrating", "until"]
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    waiver = {"team": "web", "reason": "r", "until": past}
    late = client.post(f"{API}/proposals/{pid}/waivers", json=waiver, headers=admin)
    assert late.status_code == 422 and late.json()["detail"] == "a waiver must end in the future"
    bad_kind = client.post(url, json={"team": "web", "kind": "maybe"}, headers=admin)
    assert bad_kind.status_code == 422
    missing = client.post(
        f"{API}/proposals/999/acknowledgements",
        json={"team": "web", "kind": "approved"},
        headers=admin,
    )
    assert missing.status_code == 404 and missing.json()["detail"] == "no proposal 999"
    none = client.delete(f"{url}/web", headers=admin)
    assert none.status_code == 409 and "no acknowledgement" in none.json()["detail"]
    assert client.get(f"{API}/proposals/0").status_code == 422


def test_holds_waivers_and_force_publish(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = _proposal(sessions)
    mail, admin = _key(sessions, "write", "mail"), _key(sessions, "admin")
    base = f"{API}/proposals/{pid}"
    held = client.post(f"{base}/holds", json={"team": "mail", "reason": "wait"}, headers=mail)
    assert held.status_code == 201 and held.json()["actor"] == "team mail (key mail-bot)"
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    waiver = {"team": "data", "reason": "on leave", "until": until}
    assert client.post(f"{base}/waivers", json=waiver, headers=mail).status_code == 403
    granted = client.post(f"{base}/waivers", json=waiver, headers=admin)
    assert granted.status_code == 201
    assert granted.json()["actor"] == "alice (admin key ops) acting for data"
    detail = client.get(base).json()
    assert detail["waiting_on"] == ["web has not acknowledged", "mail holds it: wait"]
    assert client.delete(f"{base}/holds/mail", headers=mail).status_code == 200
    revoked = client.delete(f"{base}/waivers/data", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["ended_by"] == "alice (admin key ops) acting for data"
    assert (
        client.post(f"{base}/force-publish", json={"reason": ""}, headers=admin).status_code == 422
    )
    assert (
        client.post(f"{base}/force-publish", json={"reason": "x"}, headers=mail).status_code == 403
    )
    forced = client.post(f"{base}/force-publish", json={"reason": "outage"}, headers=admin)
    assert forced.status_code == 200
    assert forced.json()["state"] == "approved" and forced.json()["force_reason"] == "outage"
    event = _last_event(sessions)
    assert event.actor == "alice (admin key ops)"
    with sessions() as session:
        forced_event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "proposal.force_published")
        ).one()
        assert forced_event.details["evidence"]["api_key"]["owner"] == "alice"
    again = client.post(f"{base}/force-publish", json={"reason": "again"}, headers=admin)
    assert again.status_code == 409


def test_listing_filters(client: TestClient, sessions: sessionmaker[Session]) -> None:
    a, b = _proposal(sessions, 1), _proposal(sessions, 2, "payments")
    with transaction(sessions) as session:
        workflow.close(session, b, merged=False)
    everything = client.get(f"{API}/proposals").json()
    assert [p["id"] for p in everything["items"]] == [b, a] and everything["total"] == 2
    assert [p["id"] for p in client.get(f"{API}/proposals?state=open").json()["items"]] == [a]
    by_contract = client.get(f"{API}/proposals?contract=payments").json()["items"]
    assert [p["id"] for p in by_contract] == [b]
    assert client.get(f"{API}/proposals?team=mail").json()["total"] == 2
    assert client.get(f"{API}/proposals?team=nobody").json()["total"] == 0
    assert client.get(f"{API}/proposals?state=bogus").status_code == 422
    page = client.get(f"{API}/proposals?limit=1&offset=1").json()
    assert [p["id"] for p in page["items"]] == [a]


def test_audit_events_and_verify(client: TestClient, sessions: sessionmaker[Session]) -> None:
    pid = _proposal(sessions)
    writer = _key(sessions, "write")
    client.post(
        f"{API}/proposals/{pid}/acknowledgements",
        json={"team": "web", "kind": "approved"},
        headers=writer,
    )
    events = client.get(f"{API}/audit/events").json()
    actions = [e["action"] for e in events["items"]]
    assert actions[0] == "ack.approved" and "proposal.opened" in actions
    assert events["items"][0]["actor"] == "team web (key web-bot)"
    assert events["next_before"] is None
    page = client.get(f"{API}/audit/events?limit=1").json()
    assert len(page["items"]) == 1 and page["next_before"] == page["items"][0]["seq"]
    older = client.get(f"{API}/audit/events?limit=1&before={page['next_before']}").json()
    assert older["items"][0]["seq"] < page["items"][0]["seq"]
    only = client.get(f"{API}/audit/events?action=ack.approved").json()["items"]
    assert [e["subject"] for e in only] == [f"proposal:{pid}"]
    assert client.get(f"{API}/audit/events?subject=proposal:{pid}").json()["items"]
    verified = client.get(f"{API}/audit/verify").json()
    assert verified["ok"] is True and verified["checked"] >= 2
    with transaction(sessions) as session:
        session.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 1"))
    broken = client.get(f"{API}/audit/verify").json()
    assert broken["ok"] is False and broken["first_bad_seq"] == 1


def test_evidence_that_cannot_be_recorded_is_a_422_not_a_500(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = _proposal(sessions)
    web = _key(sessions, "write", "web")
    url = f"{API}/proposals/{pid}/acknowledgements"
    for evidence, why in (('{"n": NaN}', "NaN"), ('{"n": "' + "x" * 9000 + '"}', "characters")):
        body = '{"team": "web", "kind": "approved", "evidence": ' + evidence + "}"
        answer = client.post(url, content=body, headers={**web, "Content-Type": "application/json"})
        assert answer.status_code == 422, answer.text
        assert why in answer.text
    assert client.get(f"{API}/proposals/{pid}", headers=web).json()["state"] == "open"
