"""The full diff over a pair held in memory: what the pair targets run on each input.

``tessera_engine.diff`` loads both versions from a ``MemorySource``, compares them and
classifies the findings; every renderer then writes the result (the Action and the API
render what the engine returns, so a crash there is a crash too), and a native format's
element graph (impact analysis) is built for each version. The options (mode, policy,
protobuf level, dbt guarantees, ``--fail-on``) are picked from the input's checksum, so each
input always runs the same way and the corpus covers them all.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from harness import MemorySource, choice, split_pair

MODES = (
    "auto",
    "backward",
    "forward",
    "full",
    "none",
    "backward_transitive",
    "forward_transitive",
    "full_transitive",
)
TODAY = date(2030, 1, 1)
"""A fixed day, so sunset dates are judged the same on every run."""


def run_diff(
    data: bytes,
    format_name: str,
    names: tuple[str, str],
    *,
    extra: dict[str, bytes] | None = None,
) -> None:
    """Diff the pair in ``data``, stored under ``names`` (old, new) with ``extra`` files
    beside them, then render the result in every output."""
    from tessera_engine import DiffOptions, Mode, Severity, diff
    from tessera_engine.formats.native import NATIVE_NAMES, ReferencingFormat, native_format
    from tessera_engine.render import OUTPUTS, render

    old, new = split_pair(data)
    files = {names[0]: old, names[1]: new, **(extra or {})}
    options = DiffOptions(
        format=format_name,
        mode=Mode.parse(choice(data, MODES)),
        policy=choice(data[::-1], ("strict", "lenient")),
        fail_on=choice(data[1:], (Severity.BREAKING, Severity.DANGEROUS)),
        today=TODAY,
        proto_level=choice(data[2:], ("file", "package", "wire_json", "wire")),
        guarantees=choice(data[3:], ("strict", "notify", "ignore")),
    )
    graphs: list[Any] = []

    def loaded(olds: Any, new_version: Any) -> None:
        if format_name in NATIVE_NAMES:
            native = native_format(format_name)
            if isinstance(native, ReferencingFormat):
                graphs.extend(native.references(v) for v in (*olds, new_version))

    result = diff(names[0], names[1], options, source=MemorySource(files), loaded=loaded)
    for output in OUTPUTS:
        render(result, output)
