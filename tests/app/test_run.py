"""``tessera-app``: migrate, create a key, serve (API + worker) on a free port with SQLite, use
it, and stop it with SIGTERM: both processes exit cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from tessera_app.cli import main

CLI = [sys.executable, "-m", "tessera_app.cli"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_then_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "TESSERA_DATABASE_URL": f"sqlite:///{tmp_path / 'tessera.db'}",
        "TESSERA_HOST": "127.0.0.1",
        "TESSERA_PORT": str(port),
        "TESSERA_SECRET_KEY": "s" * 32,
        "TESSERA_WORKER_POLL_SECONDS": "0.1",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
        )

    assert cli("migrate").returncode == 0
    created = cli("keys", "create", "--name", "ops", "--scopes", "admin", "--owner", "ops-lead")
    key = created.stdout.strip()
    assert key.startswith("tsk_") and "not shown again" in created.stderr

    server = subprocess.Popen(
        [*CLI, "serve"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()[0].decode()
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.1)
        headers = {"Authorization": f"Bearer {key}"}
        created_key = httpx.post(
            f"{base}/api/v1/keys", json={"name": "ci", "scopes": ["read"]}, headers=headers
        )
        assert created_key.status_code == 201, created_key.text
        while httpx.get(f"{base}/api/v1/jobs/status").json()["states"]["done"] < 1:
            assert time.monotonic() < deadline, "the worker ran no periodic job"
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    assert server.returncode == 0, output
    assert "worker" in output and "stopped" in output  # the worker child stopped cleanly
    assert "Application shutdown complete" in output


def test_keys_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TESSERA_DATABASE_URL", f"sqlite:///{tmp_path / 'tessera.db'}")
    assert main(["migrate"]) == 0
    assert (
        main(["keys", "create", "--name", "ops", "--scopes", "write,admin", "--owner", "al"]) == 0
    )
    key = capsys.readouterr().out.strip()
    assert key.startswith("tsk_")
    assert main(["keys", "create", "--name", "x", "--scopes", "root"]) == 2
    assert "scopes" in capsys.readouterr().err
    assert (
        main(["keys", "create", "--name", "ci", "--scopes", "read", "--expires-in-days", "-1"]) == 0
    )
    capsys.readouterr()
    assert main(["keys", "revoke", "1"]) == 0
    assert main(["keys", "revoke", "99"]) == 1
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[2:] for line in listed] == [
        ["ops", "write,admin", "admin al", "revoked"],
        ["ci", "read", "read", "expired"],
    ]
    assert key not in "\n".join(listed) and listed[0].split("\t")[1].rstrip("…") == key[:12]


def test_bad_settings_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TESSERA_ENVIRONMENT", "production")
    monkeypatch.setenv("TESSERA_SECRET_KEY", "changeme")
    assert main(["migrate"]) == 2
    assert "TESSERA_SECRET_KEY" in capsys.readouterr().err
