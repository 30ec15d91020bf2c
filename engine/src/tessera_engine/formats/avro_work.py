"""How much work comparing two Avro versions may take.

A named type is one object however many places refer to it, so it may be compared (and
resolved) against a different counterpart at every place: a record of many fields met with a
thousand different old records is walked a thousand times. Real schemas pair each type with
one or two counterparts: comparing them takes at most about 2.5 steps per schema, field and
symbol of the two versions (measured on the Apache Avro conformance pairs and on unions of
100,000 branches); ``WORK_PER_ELEMENT`` per element is allowed, so no arrangement of named
types can multiply the work past a fixed multiple of the input's size.
"""

from __future__ import annotations

from ..errors import LimitError
from ..limits import WORK_PER_ELEMENT

_FLOOR = 100_000
"""Steps always allowed, however small the schemas."""


class WorkBudget:
    """Steps left for one comparison: one per schema pair entered, field, branch or symbol
    walked, resolution decided and change found."""

    def __init__(self, elements: int, file: str) -> None:
        self.total = WORK_PER_ELEMENT * elements + _FLOOR
        self.left = self.total
        self.file = file

    def spend(self, steps: int = 1) -> None:
        self.left -= steps
        if self.left < 0:
            raise LimitError(
                f"comparing these schemas takes more than {self.total:,} steps "
                f"({WORK_PER_ELEMENT} per schema, field and symbol of both versions): named "
                "types are compared with too many different counterparts",
                file=self.file,
            )
