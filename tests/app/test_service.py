"""The app factory, settings and probes, on both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine

from tessera_app.settings import Settings
from tessera_app.web import create_app


def test_probes(database_url: str, engine: Engine) -> None:
    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready["status"] == "ok"
        assert ready["registry"] == {
            "consistent": True,
            "sources": [],
            "findings": [],
            "findings_total": 0,
        }


def test_not_ready_without_a_database(tmp_path: object) -> None:
    app = create_app(Settings(database_url="sqlite:////nonexistent-dir/x/tessera.db"))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503


def test_importing_the_app_does_no_work() -> None:
    import importlib

    import tessera_app.web

    importlib.reload(tessera_app.web)  # no engine, no settings read at import time
    assert not hasattr(tessera_app.web, "app")


@pytest.mark.parametrize("secret", ["changeme", "short", "development"])
def test_placeholder_secrets_are_refused_in_production(secret: str) -> None:
    with pytest.raises(ValidationError, match="TESSERA_SECRET_KEY"):
        Settings(environment="production", secret_key=secret, webhook_secrets="x" * 32)


def test_real_secrets_are_accepted_in_production() -> None:
    settings = Settings(
        environment="production", secret_key="k" * 40, webhook_secrets="a" * 20 + ", " + "b" * 20
    )
    assert settings.secrets == ["a" * 20, "b" * 20]


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_PORT", "9001")
    monkeypatch.setenv("TESSERA_DATABASE_URL", "sqlite:///x.db")
    settings = Settings()
    assert settings.port == 9001
    assert settings.database_url == "sqlite:///x.db"
