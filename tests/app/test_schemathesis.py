"""schemathesis against the app's own OpenAPI document (in-process ASGI, SQLite, an admin key
so writes are exercised): no response is a server error, and every response conforms to the
document (status codes, content types, bodies, headers) and writes refuse missing keys.
Bounded: a few examples per operation.

One check is left out: ``positive_data_acceptance`` (schema-valid data must not get a 4xx)
flags the business rules a JSON Schema cannot say (a waiver ends in the future, ``migrating``
needs a date, a key expires in the future); those answer 422 with a message, by design.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance

from tessera_app.auth import create_key
from tessera_app.db.base import transaction
from tessera_app.db.models import load_all
from tessera_app.settings import Settings
from tessera_app.web import create_app

PEPPER = "z" * 32
EXAMPLES = 8  # per operation: the whole run stays well under 30 s
UNLIMITED = "1000000/second"


def test_the_api_conforms_to_its_openapi_document(tmp_path: Path) -> None:
    app = create_app(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'api.db'}",
            secret_key=PEPPER,
            rate_limit_per_key=UNLIMITED,  # the fuzzing sends far more than a client would
            rate_limit_per_address=UNLIMITED,
        )
    )
    load_all().metadata.create_all(app.state.engine)
    with transaction(app.state.sessions) as session:
        key, _ = create_key(session, "schemathesis", ["admin"], owner="ci", pepper=PEPPER)
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5

    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), authorized=st.booleans())
        def run(case: Any, authorized: bool) -> None:
            case.call_and_validate(
                headers=headers if authorized else None, excluded_checks=[positive_data_acceptance]
            )

        try:
            run()
        except (
            Exception,
            BaseExceptionGroup,
        ) as err:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {err}")
    app.state.engine.dispose()
    assert not failures, "\n\n".join(failures)
