"""Consumer mode (``python -m tessera_engine.action.consumer``): validate the repository's
consumer declarations against the registry, then can-i-deploy against the published contracts
and the open proposals that would break what they declare.

Inputs: ``INPUT_REGISTRY`` (the registry checkout), ``INPUT_DECLARATIONS`` (a file or
directory), ``INPUT_API_URL`` and ``INPUT_API_TOKEN`` (open proposals from the service; else
from the registry's ``proposals/``), ``INPUT_CONSUMER_VERSION`` (the version being judged, for
the summary), ``INPUT_FAIL_ON``, ``INPUT_REPORT_PATH``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import partial

from .consumer_checks import ConsumerChecks, Proposals
from .declarations import overlay
from .proposals import from_api, from_registry
from .reasons import DECLARATION_INVALID, Check
from .report import Report
from .runner import read_input
from .step import in_workspace, main


def run(env: Mapping[str, str]) -> Report:
    registry = in_workspace(read_input("registry", "registry", env), env)
    declarations = in_workspace(read_input("declarations", "tessera/consumer.yaml", env), env)
    version = read_input("consumer_version", env.get("GITHUB_SHA", "")[:12] or "working tree", env)
    made = overlay(registry, declarations)
    try:
        title = f"Tessera consumer check: can {', '.join(made.ids) or 'it'} deploy ({version})?"
        if made.registry is None:
            checks = [
                Check(DECLARATION_INVALID, p.message, file=p.file, line=p.line, column=p.column)
                for p in made.problems
            ]
            return Report("consumer", checks, title, ["the declarations do not validate"])
        api_url = read_input("api_url", "", env)
        proposals: Proposals
        if api_url:
            proposals = partial(from_api, api_url, token=read_input("api_token", "", env))
            source = f"open proposals from {api_url}"
        else:
            proposals = partial(from_registry, made.registry.root)
            source = "open proposals from the registry's proposals/"
        checks = ConsumerChecks(made, proposals).run()
        deployable = not any(c.level == "error" for c in checks)
        notes = [f"can-i-deploy: {'yes' if deployable else 'no'} ({version}); {source}"]
        return Report("consumer", checks, title, notes)
    finally:
        made.close()


if __name__ == "__main__":
    sys.exit(main(run))
