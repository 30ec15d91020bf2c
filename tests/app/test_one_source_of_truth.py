"""One source of truth for the registry: when the GitHub App publishes, a local registry checkout
is refused at start-up, by ``tessera-app serve``, ``tessera-app worker`` and the container
entrypoint alike (exit code 2, one line that says what to do)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from tessera_app.settings import Settings, describe

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
APP = {"github_app_id": 1, "registry_repo": "acme/registry"}


def test_a_local_registry_next_to_the_app_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(registry_path="registry-template", **APP)  # type: ignore[arg-type]
    line = describe(caught.value)
    assert "\n" not in line
    assert line.startswith("TESSERA_REGISTRY_PATH (registry-template) cannot be used with")
    assert "acme/registry on GitHub is the source of truth" in line
    assert line.endswith("unset TESSERA_REGISTRY_PATH")


@pytest.mark.parametrize(
    "values",
    [
        {"registry_path": "registry-template"},  # no App: the local checkout is the source
        {"registry_path": "registry-template", "github_app_id": 1},  # the App publishes nowhere
        {"registry_path": "", **APP},  # an empty variable (compose's ${VAR:-}) is unset
        APP,
    ],
)
def test_the_safe_configurations_start(values: dict[str, object]) -> None:
    settings = Settings(**values)  # type: ignore[arg-type]
    assert not (settings.app_publishes and settings.registry_path)


def test_describe_names_each_setting_in_one_line() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(port=0, worker_poll_seconds=0)
    assert describe(caught.value) == (
        "TESSERA_PORT: Input should be greater than or equal to 1; "
        "TESSERA_WORKER_POLL_SECONDS: Input should be greater than 0"
    )


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "tessera-app"), "serve", "--no-migrate"],
        [str(BIN / "tessera-app"), "worker"],
        [sys.executable, "-m", "tessera_app.entrypoint"],
        [sys.executable, "-m", "tessera_app.entrypoint", "worker"],
    ],
    ids=["serve", "worker", "entrypoint", "entrypoint-worker"],
)
def test_start_up_refuses_it_with_exit_code_2_and_one_line(
    command: list[str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env |= {
        "TESSERA_DATABASE_URL": f"sqlite:///{tmp_path / 'never-created.db'}",
        "TESSERA_GITHUB_APP_ID": "1",
        "TESSERA_REGISTRY_REPO": "acme/registry",
        "TESSERA_REGISTRY_PATH": str(ROOT / "registry-template"),
    }
    done = subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tessera-app: invalid settings: TESSERA_REGISTRY_PATH (")
    assert "unset TESSERA_REGISTRY_PATH" in lines[0]
    assert not (tmp_path / "never-created.db").exists()  # refused before touching anything
