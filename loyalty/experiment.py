"""Did the campaign work? Compare the members who got it with the holdout who got nothing.

Visits are a yes/no per member, so the arms are compared as two proportions: the difference
with a 95 % Wald interval, and the p-value of the pooled two-proportion z-test (the textbook test
an owner's accountant can check by hand). Revenue per member is compared as two means with
Welch's standard error, because the arms differ in size and spread.

Both rest on the normal approximation, which needs enough members: with fewer than
``MIN_ARM`` members in an arm, or fewer than ``MIN_OUTCOMES`` visitors or non-visitors in one,
the verdict is "not enough members to tell" instead of a number that looks precise and is not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

Z_95 = 1.959963984540054
MIN_ARM = 30
MIN_OUTCOMES = 5
ALPHA = 0.05


class Verdict(StrEnum):
    TOO_FEW = "too-few"
    MORE_VISITS = "more-visits"
    FEWER_VISITS = "fewer-visits"
    NO_CLEAR_DIFFERENCE = "no-clear-difference"


@dataclass(frozen=True)
class Arm:
    """One arm's outcome: its members, those who visited, and each member's revenue in VND."""

    members: int
    visited: int
    revenue: Sequence[int]

    @property
    def visit_share(self) -> float:
        return self.visited / self.members if self.members else 0.0

    @property
    def revenue_per_member(self) -> float:
        return sum(self.revenue) / self.members if self.members else 0.0


@dataclass(frozen=True)
class Difference:
    """``estimate`` (sent minus holdout) with its 95 % interval."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    visits: Difference
    p_value: float
    revenue: Difference
    verdict: Verdict


def _normal_two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def _variance(values: Sequence[int], mean: float) -> float:
    if len(values) < 2:
        return 0.0
    return sum((value - mean) ** 2 for value in values) / (len(values) - 1)


def visits_difference(sent: Arm, holdout: Arm) -> tuple[Difference, float]:
    """The visit-share difference, its 95 % interval (unpooled) and the z-test p-value (pooled).
    Without any spread (everyone visited, or nobody) the p-value is 1: no evidence either way."""
    p1, p0 = sent.visit_share, holdout.visit_share
    estimate = p1 - p0
    spread = math.sqrt(p1 * (1 - p1) / sent.members + p0 * (1 - p0) / holdout.members)
    pooled = (sent.visited + holdout.visited) / (sent.members + holdout.members)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / sent.members + 1 / holdout.members))
    p_value = _normal_two_sided(estimate / pooled_se) if pooled_se > 0 else 1.0
    margin = Z_95 * spread
    return Difference(estimate, estimate - margin, estimate + margin), p_value


def revenue_difference(sent: Arm, holdout: Arm) -> Difference:
    """Revenue per member, sent minus holdout, with Welch's 95 % interval."""
    m1, m0 = sent.revenue_per_member, holdout.revenue_per_member
    se = math.sqrt(
        _variance(sent.revenue, m1) / sent.members
        + _variance(holdout.revenue, m0) / holdout.members
    )
    return Difference(m1 - m0, m1 - m0 - Z_95 * se, m1 - m0 + Z_95 * se)


def enough_members(sent: Arm, holdout: Arm) -> bool:
    """Whether the normal approximation behind the test can be trusted."""
    if min(sent.members, holdout.members) < MIN_ARM:
        return False
    outcomes = (
        sent.visited,
        sent.members - sent.visited,
        holdout.visited,
        holdout.members - holdout.visited,
    )
    return min(outcomes) >= MIN_OUTCOMES


def compare(sent: Arm, holdout: Arm) -> Comparison | None:
    """The comparison, or None when an arm is empty (nothing to compare at all)."""
    if sent.members == 0 or holdout.members == 0:
        return None
    visits, p_value = visits_difference(sent, holdout)
    revenue = revenue_difference(sent, holdout)
    if not enough_members(sent, holdout):
        verdict = Verdict.TOO_FEW
    elif p_value >= ALPHA:
        verdict = Verdict.NO_CLEAR_DIFFERENCE
    elif visits.estimate > 0:
        verdict = Verdict.MORE_VISITS
    else:
        verdict = Verdict.FEWER_VISITS
    return Comparison(visits, p_value, revenue, verdict)
