"""``tessera impact`` on a registry directory: outputs, exit codes, one-line errors, and the
published version as OLD."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from tessera_engine.cli import main
from tessera_engine.registry.model import PublishedVersion
from tessera_engine.registry.versions import write_version

HERE = Path(__file__).parent / "impact"
REGISTRY = HERE / "registry"
V1, V2 = str(HERE / "openapi/v1.yaml"), str(HERE / "openapi/v2.yaml")


def tessera(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def impact(*argv: str, registry: Path = REGISTRY) -> tuple[int, str, str]:
    return tessera("impact", "--registry", str(registry), "--contract", "orders-api", *argv)


def test_json_lists_direct_and_transitive_consumers() -> None:
    code, out, err = impact(V1, V2, "--current-version", "1.4.0", "--output", "json")
    assert (code, err) == (1, "")
    data = json.loads(out)
    assert data["versions"]["proposed"] == "2.0.0"
    assert data["acknowledgement"]["required"] is True
    assert sorted(data["acknowledgement"]["teams"]) == ["data", "web"]
    consumers = {c["consumer"]: c for c in data["consumers"]}
    assert set(consumers) == {"storefront", "etl", "dashboards"}  # mailer uses NewOrder.sku
    assert consumers["storefront"]["in_range"] is False
    assert consumers["storefront"]["matches"][0]["usage"] == {
        "kind": "operations",
        "entry": "GET /orders/{orderId}",
        "relation": "exact",
    }
    assert consumers["dashboards"]["chain"] == [
        {"consumer": "etl", "team": "data", "service": "orders-etl", "republishes": "warehouse"}
    ]
    assert consumers["dashboards"]["must_acknowledge"] is False
    assert data["diff"]["verdict"] == "breaking"


def test_text_and_markdown() -> None:
    code, text, _ = impact(V1, V2, "--current-version", "1.4.0")
    assert code == 1
    assert "acknowledgement required" in text
    assert "via orders-api → etl (data) → warehouse" in text
    code, markdown, _ = impact(V1, V2, "--current-version", "1.4.0", "-o", "markdown")
    assert code == 1
    assert "| Team | Consumer (service) | Range | What changes for them | Through |" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| web "))
    assert "must acknowledge" in row and "^1 (2.0.0 outside)" in row
    assert "GET /orders/\\{orderId\\}" in row or "GET /orders/{orderId}" in row


def test_no_changes_exit_zero() -> None:
    code, out, _ = impact(V1, V1)
    assert code == 0
    assert "acknowledgement not required: no breaking changes" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--contract", "nope", V1, V2), "no contract 'nope'"),
        (("--contract", "orders-api", V1, str(HERE / "missing.yaml")), "missing.yaml"),
        (("--contract", "orders-api", V1), "no published version"),
        (("--contract", "orders-api", V1, V2, "--proposed-version", "2.0.0"), "versioning: auto"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: tuple[str, ...], message: str) -> None:
    code, out, err = tessera("impact", "--registry", str(REGISTRY), *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_broken_registry_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "registry"
    shutil.copytree(REGISTRY, broken)
    (broken / "consumers" / "mailer.yaml").write_text("team: [\n", encoding="utf-8")
    code, _, err = impact(V1, V2, registry=broken)
    assert code == 2 and "consumers/mailer.yaml:" in err and err.count("\n") == 1


def test_new_alone_is_compared_with_the_published_version(tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(REGISTRY, registry)
    published = PublishedVersion(
        contract="orders-api",
        version="1.4.0",
        format="openapi",
        repo="acme/orders",
        paths=("openapi.yaml",),
        commit="0123abc",
        published_at="2025-01-01T00:00:00Z",
        files={"openapi.yaml": Path(V1).read_text(encoding="utf-8")},
    )
    write_version(registry, published)
    code, out, err = impact(V2, "-o", "json", registry=registry)
    assert (code, err) == (1, "")
    data = json.loads(out)
    assert data["versions"]["current"] == "1.4.0" and data["versions"]["proposed"] == "2.0.0"
    assert data["diff"]["old"] == "orders-api@1.4.0:openapi.yaml"
