"""A stateful fake GitHub for tests, end-to-end runs and demos (never reaches GitHub).

``create_app(state)`` is an ASGI app serving the REST endpoints the gateway calls under
``/api/v3/``; ``FakeState`` holds repositories, pull requests, issues, check runs, teams and
deliveries; ``SyncASGITransport`` lets the synchronous gateway reach it in-process. Standalone:
``python -m tessera_app.github.fake --port 9000`` (then seed it with ``POST /_fake/seed``).
``conformance.Description`` checks requests and answers against GitHub's REST description.
"""

from tessera_app.github.fake import conformance
from tessera_app.github.fake.app import create_app
from tessera_app.github.fake.state import FakeState, Fault
from tessera_app.github.fake.transport import SyncASGITransport

__all__ = ["FakeState", "Fault", "SyncASGITransport", "conformance", "create_app"]
