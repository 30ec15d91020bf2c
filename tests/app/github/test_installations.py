"""Installation events keep the ``installations`` and ``repositories`` tables right."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.registry_models import Installation, Repository
from tessera_app.github.installations import (
    on_installation,
    on_installation_repositories,
    repositories_of,
)
from tessera_app.github.payloads import installation_event, installation_repositories_event
from tessera_app.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
SETTINGS = Settings(environment="test")


def payload(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


def test_created_added_removed_deleted(sessions: sessionmaker[Session]) -> None:
    created = installation_event(payload("installation/created.payload.json"))
    with sessions.begin() as session:
        on_installation(session, None, created, SETTINGS)
        on_installation(session, None, created, SETTINGS)  # a duplicate delivery
    with sessions.begin() as session:
        row = session.get(Installation, 957387)
        assert row is not None and row.account == "Codertocat"
        assert repositories_of(session, 957387) == ["Codertocat/Hello-World"]
        added = installation_repositories_event(
            payload("installation_repositories/added.payload.json")
        )
        on_installation_repositories(session, None, added, SETTINGS)
    with sessions.begin() as session:
        assert repositories_of(session, 957387) == ["Codertocat/Hello-World", "Codertocat/Space"]
        removed = payload("installation_repositories/removed.payload.json")
        removed["installation"]["id"] = 957387
        removed["installation"]["account"]["login"] = "Codertocat"
        removed["repositories_removed"][0]["full_name"] = "Codertocat/Hello-World"
        on_installation_repositories(
            session, None, installation_repositories_event(removed), SETTINGS
        )
    with sessions.begin() as session:
        assert repositories_of(session, 957387) == ["Codertocat/Space"]
        deleted = payload("installation/deleted.payload.json")
        deleted["installation"]["id"] = 957387
        on_installation(session, None, installation_event(deleted), SETTINGS)
    with sessions.begin() as session:
        assert session.get(Installation, 957387) is None
        assert session.scalars(select(Repository)).all() == []
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
        assert actions[0] == "installation.created"
        assert "installation.repositories_added" in actions
        assert actions[-1] == "installation.deleted"


def test_suspend_keeps_the_rows_and_a_late_repository_event_creates_them(
    sessions: sessionmaker[Session],
) -> None:
    suspend = installation_event(payload("installation/suspend.payload.json"))
    with sessions.begin() as session:
        on_installation(session, None, suspend, SETTINGS)
        added = payload("installation_repositories/added.payload.json")
        added["installation"]["id"] = suspend.installation_id
        on_installation_repositories(
            session, None, installation_repositories_event(added), SETTINGS
        )
    with sessions.begin() as session:
        row = session.get(Installation, suspend.installation_id)
        assert row is not None and row.account == "Codertocat"
        assert repositories_of(session, row.id) == ["Codertocat/Space"]


def test_a_repository_moves_between_installations(sessions: sessionmaker[Session]) -> None:
    created = installation_event(payload("installation/created.payload.json"))
    with sessions.begin() as session:
        on_installation(session, None, created, SETTINGS)
        other = payload("installation/created.payload.json")
        other["installation"]["id"] = 1
        on_installation(session, None, installation_event(other), SETTINGS)
    with sessions.begin() as session:
        assert repositories_of(session, 957387) == []
        assert repositories_of(session, 1) == ["Codertocat/Hello-World"]
