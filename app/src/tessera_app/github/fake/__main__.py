"""``python -m tessera_app.github.fake --port N``: the fake GitHub on 127.0.0.1.

Seed it with ``POST /_fake/seed`` (``--seed FILE`` applies a JSON seed at start), read it with
``GET /_fake/state``; point the App at ``http://127.0.0.1:N/api/v3``. ``--description FILE``
checks every request and answer against a GitHub REST description (the vendored
``tests/app/github/rest_description/github-rest-2022-11-28.json``); what it rejects is answered
422/500 and listed under ``violations`` in ``GET /_fake/state``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn

from tessera_app.github.fake.app import create_app
from tessera_app.github.fake.conformance import Description
from tessera_app.github.fake.state import FakeState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tessera_app.github.fake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback by default")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--seed", type=Path, help="a JSON seed document applied at start")
    parser.add_argument(
        "--description", type=Path, help="check the traffic against this REST description"
    )
    args = parser.parse_args(argv)
    state = FakeState()
    if args.seed:
        state.seed(json.loads(args.seed.read_text()))
    description = Description.load(args.description) if args.description else None
    app = create_app(state, description=description)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
