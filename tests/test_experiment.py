"""The campaign statistics against textbook numbers and an independent implementation (SciPy)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from loyalty.experiment import Arm, Verdict, compare, enough_members, visits_difference


def arm(members: int, visited: int, spend: int = 50_000) -> Arm:
    return Arm(members, visited, [spend] * visited + [0] * (members - visited))


def test_a_worked_example_by_hand() -> None:
    # 60 of 200 visited against 20 of 100: difference 0.10.
    # Pooled p = 80/300, SE = sqrt(p(1-p)(1/200 + 1/100)) = 0.0541603, z = 1.846372,
    # p-value = 2 * (1 - Phi(1.846372)) = 0.064838. Unpooled SE = sqrt(.3*.7/200 + .2*.8/100)
    # = 0.0514782, so the interval is 0.1 +- 1.96 * 0.0514782 = [-0.000896, 0.200896].
    difference, p_value = visits_difference(arm(200, 60), arm(100, 20))
    assert difference.estimate == pytest.approx(0.10)
    assert p_value == pytest.approx(0.064838, abs=1e-6)
    assert difference.low == pytest.approx(-0.000896, abs=1e-6)
    assert difference.high == pytest.approx(0.200896, abs=1e-6)
    assert compare(arm(200, 60), arm(100, 20)).verdict is Verdict.NO_CLEAR_DIFFERENCE  # type: ignore[union-attr]


def test_a_clear_win_and_a_clear_loss() -> None:
    win = compare(arm(900, 300), arm(100, 15))
    loss = compare(arm(900, 90), arm(100, 30))
    assert win is not None and win.verdict is Verdict.MORE_VISITS and win.p_value < 0.05
    assert loss is not None and loss.verdict is Verdict.FEWER_VISITS and loss.p_value < 0.05


def test_small_arms_are_not_enough_to_tell() -> None:
    # 29 members held out: whatever the numbers say, the verdict is "too few".
    result = compare(arm(500, 400), arm(29, 1))
    assert result is not None and result.verdict is Verdict.TOO_FEW
    # Big arms but only 3 visitors in the holdout: the normal approximation does not hold.
    assert not enough_members(arm(1000, 200), arm(100, 3))
    assert compare(arm(10, 3), arm(0, 0)) is None


def test_nobody_visiting_anywhere_is_no_evidence() -> None:
    difference, p_value = visits_difference(arm(100, 0), arm(100, 0))
    assert difference.estimate == 0 and p_value == 1.0


@given(
    n1=st.integers(2, 3000),
    n0=st.integers(2, 3000),
    share1=st.floats(0, 1),
    share0=st.floats(0, 1),
)
def test_the_z_test_agrees_with_scipys_chi_square_test(
    n1: int, n0: int, share1: float, share0: float
) -> None:
    """The pooled two-proportion z-test is the 2x2 chi-square test without continuity
    correction: SciPy computes the latter independently."""
    x1, x0 = round(n1 * share1), round(n0 * share0)
    _, p_value = visits_difference(arm(n1, x1), arm(n0, x0))
    table = [[x1, n1 - x1], [x0, n0 - x0]]
    if min(x1 + x0, n1 + n0 - x1 - x0) == 0:
        assert p_value == 1.0
        return
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert p_value == pytest.approx(expected, rel=1e-6, abs=1e-12)


@given(
    sent=st.lists(st.integers(0, 500_000), min_size=30, max_size=200),
    held=st.lists(st.integers(0, 500_000), min_size=30, max_size=200),
)
def test_the_revenue_interval_uses_welchs_standard_error(sent: list[int], held: list[int]) -> None:
    result = compare(Arm(len(sent), 0, sent), Arm(len(held), 0, held))
    assert result is not None
    revenue = result.revenue
    assert revenue.estimate == pytest.approx(sum(sent) / len(sent) - sum(held) / len(held))
    welch = stats.ttest_ind(sent, held, equal_var=False)
    if math.isfinite(welch.statistic) and welch.statistic != 0:
        standard_error = revenue.estimate / welch.statistic
        assert (revenue.high - revenue.estimate) == pytest.approx(
            1.959963984540054 * abs(standard_error), rel=1e-6
        )
