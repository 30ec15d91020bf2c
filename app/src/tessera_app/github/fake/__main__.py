"""``python -m tessera_app.github.fake --port N``: the fake GitHub on 127.0.0.1.

Seed it with ``POST /_fake/seed`` (``--seed FILE`` applies a JSON seed at start), read it with
``GET /_fake/state``; point the App at ``http://127.0.0.1:N/api/v3``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn

from tessera_app.github.fake.app import create_app
from tessera_app.github.fake.state import FakeState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tessera_app.github.fake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback by default")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--seed", type=Path, help="a JSON seed document applied at start")
    args = parser.parse_args(argv)
    state = FakeState()
    if args.seed:
        state.seed(json.loads(args.seed.read_text()))
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
