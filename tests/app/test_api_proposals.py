"""The proposals and audit API on both databases: reads are open, decisions need ``write``,
waivers and force-publish ``admin``; workflow refusals are 4xx JSON, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import workflow
from tessera_app.auth import create_key
from tessera_app.db.base import transaction
from tessera_app.settings import Settings
from tessera_app.web import create_app
from tessera_app.workflow import ImpactSummary

PEPPER = "p" * 32
API = "/api/v1"


@pytest.fixture
def client(database_url: str, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, secret_key=PEPPER))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _key(sessions: sessionmaker[Session], scope: str) -> dict[str, str]:
    with transaction(sessions) as session:
        key, _ = create_key(session, f"{scope}-bot", [scope], pepper=PEPPER)
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


def test_acknowledging_over_http(client: TestClient, sessions: sessionmaker[Session]) -> None:
    pid = _proposal(sessions)
    writer = _key(sessions, "write")
    url = f"{API}/proposals/{pid}/acknowledgements"
    body = {"team": "web", "kind": "approved", "actor": "octocat", "evidence": {"slug": "web"}}
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers=_key(sessions, "read")).status_code == 403
    made = client.post(url, json=body, headers=writer)
    assert made.status_code == 201, made.text
    ack = made.json()
    assert ack["actor"] == "octocat" and ack["fingerprints"] == ["fp-a"]
    assert ack["evidence"] == {"slug": "web", "via": "api", "api_key": "write-bot"}
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    data = {"team": "data", "kind": "migrating", "until": until}
    assert client.post(url, json=data, headers=writer).status_code == 201
    detail = client.get(f"{API}/proposals/{pid}").json()
    assert detail["state"] == "approved" and detail["waiting_on"] == []
    assert [(t["team"], t["state"]) for t in detail["teams"]] == [
        ("data", "migrating"),
        ("web", "approved"),
    ]
    assert len(detail["acknowledgements"]) == 2
    cancelled = client.delete(f"{url}/data?actor=lead", headers=writer)
    assert cancelled.status_code == 200 and cancelled.json()["end_reason"] == "cancelled"
    assert client.get(f"{API}/proposals/{pid}").json()["state"] == "open"
    listed = client.get(f"{API}/acknowledgements?team=data").json()
    assert listed["total"] == 1 and listed["items"][0]["active"] is False
    active = client.get(f"{API}/acknowledgements?active=true").json()
    assert [a["team"] for a in active["items"]] == ["web"]


def test_refusals_are_clear_4xx(client: TestClient, sessions: sessionmaker[Session]) -> None:
    pid = _proposal(sessions)
    writer = _key(sessions, "write")
    url = f"{API}/proposals/{pid}/acknowledgements"
    stranger = client.post(url, json={"team": "x", "kind": "approved"}, headers=writer)
    assert stranger.status_code == 422 and "team x is not a consumer" in stranger.json()["detail"]
    block = client.post(url, json={"team": "web", "kind": "blocked"}, headers=writer)
    assert block.status_code == 422
    assert block.json()["detail"][0]["loc"] == ["body", "blocked", "reason"]
    migrating = client.post(url, json={"team": "web", "kind": "migrating"}, headers=writer)
    assert migrating.json()["detail"][0]["loc"] == ["body", "migrating", "until"]
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    waiver = {"team": "web", "reason": "r", "until": past}
    late = client.post(
        f"{API}/proposals/{pid}/waivers", json=waiver, headers=_key(sessions, "admin")
    )
    assert late.status_code == 422 and late.json()["detail"] == "a waiver must end in the future"
    bad_kind = client.post(url, json={"team": "web", "kind": "maybe"}, headers=writer)
    assert bad_kind.status_code == 422
    missing = client.post(
        f"{API}/proposals/999/acknowledgements",
        json={"team": "web", "kind": "approved"},
        headers=writer,
    )
    assert missing.status_code == 404 and missing.json()["detail"] == "no proposal 999"
    none = client.delete(f"{url}/web", headers=writer)
    assert none.status_code == 409 and "no acknowledgement" in none.json()["detail"]
    assert client.get(f"{API}/proposals/0").status_code == 422


def test_holds_waivers_and_force_publish(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = _proposal(sessions)
    writer, admin = _key(sessions, "write"), _key(sessions, "admin")
    base = f"{API}/proposals/{pid}"
    held = client.post(f"{base}/holds", json={"team": "mail", "reason": "wait"}, headers=writer)
    assert held.status_code == 201 and held.json()["actor"] == "api-key:write-bot"
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    waiver = {"team": "data", "reason": "on leave", "until": until}
    assert client.post(f"{base}/waivers", json=waiver, headers=writer).status_code == 403
    assert client.post(f"{base}/waivers", json=waiver, headers=admin).status_code == 201
    detail = client.get(base).json()
    assert detail["waiting_on"] == ["web has not acknowledged", "mail holds it: wait"]
    assert client.delete(f"{base}/holds/mail", headers=writer).status_code == 200
    assert client.delete(f"{base}/waivers/data", headers=admin).status_code == 200
    assert (
        client.post(f"{base}/force-publish", json={"reason": ""}, headers=admin).status_code == 422
    )
    assert (
        client.post(f"{base}/force-publish", json={"reason": "x"}, headers=writer).status_code
        == 403
    )
    forced = client.post(f"{base}/force-publish", json={"reason": "outage"}, headers=admin)
    assert forced.status_code == 200
    assert forced.json()["state"] == "approved" and forced.json()["force_reason"] == "outage"
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
