"""A conformance score: agreement on a set of cases against a target."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Score:
    """Agreement on a corpus. ``agreed`` counts cases matching the target's sense (for an
    ``at_most`` score: the cases that went wrong). Cases with a documented deviation are
    counted in ``raw`` figures but left out of the target."""

    name: str
    target: float  # minimum fraction (or maximum, when ``at_most``)
    at_most: bool = False
    agreed: int = 0
    total: int = 0
    deviating: list[str] = field(default_factory=list)  # case ids with a documented deviation
    misses: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # documented deviations that now agree

    def count(self, case: str, hit: bool, detail: str, deviations: dict[str, str]) -> None:
        """Record one case. ``hit`` is True when the case counts towards ``agreed``."""
        disagrees = hit if self.at_most else not hit
        self.total += 1
        if hit:
            self.agreed += 1
        if case in deviations:
            if disagrees:
                self.deviating.append(case)
            else:
                self.stale.append(case)
        elif disagrees:
            self.misses.append(detail)

    @property
    def raw(self) -> float:
        return self.agreed / self.total if self.total else 0.0

    @property
    def fraction(self) -> float:
        """The score without the documented deviations."""
        total = self.total - len(self.deviating)
        agreed = self.agreed - (len(self.deviating) if self.at_most else 0)
        return agreed / total if total else 0.0

    @property
    def passed(self) -> bool:
        met = self.fraction < self.target if self.at_most else self.fraction >= self.target
        return met and not self.stale

    @property
    def target_text(self) -> str:
        """The target as people say it: "none" for a count that must stay at zero, "for
        information" for a score that has no target."""
        if self.at_most and self.target < 0.005:
            return "none"
        if not self.at_most and self.target <= 0:
            return "for information"
        return f"{'<' if self.at_most else '>='} {self.target:.0%}"

    def line(self) -> str:
        status = "ok" if self.passed else "MISSED"
        line = (
            f"{self.name}: {self.fraction:.1%} without {len(self.deviating)} documented "
            f"deviations (target {self.target_text}) {status}; raw "
            f"{self.agreed}/{self.total} = {self.raw:.1%}"
        )
        if self.stale:
            line += f"; STALE deviations (now agree, remove them): {', '.join(self.stale)}"
        return line
