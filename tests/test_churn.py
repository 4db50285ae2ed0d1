"""BG/NBD and Gamma-Gamma: recovery from simulated customers, hand-computed values, fallbacks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from loyalty.churn import (
    MIN_CUSTOMERS,
    MONTH_DAYS,
    BgNbd,
    Fit,
    GammaGamma,
    History,
    TooLittle,
    bgnbd_log_likelihood,
    fit,
    gamma_gamma_log_likelihood,
    gap_rule_risk,
    value_12m,
)

# A café population in days: about one visit a month on average, most stop within a few visits.
R, ALPHA, A, B = 0.8, 20.0, 0.8, 2.5
# Spend in VND: about 50.000 ₫ per visit on average (p v / (q - 1)).
P, Q, V = 6.0, 4.0, 25_000.0


def simulate(rng: np.random.Generator, n: int, window: float = 365.0) -> History:
    """Draw customers from BG/NBD and Gamma-Gamma with the parameters above.

    First visits are spread over the window (so ages vary from 30 to 365 days); after each repeat
    visit a customer leaves for good with probability p.
    """
    rate = rng.gamma(R, 1 / ALPHA, n)
    dropout = rng.beta(A, B, n)
    age = window - rng.uniform(0, window - 30, n)
    frequency, recency, now = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        who = np.flatnonzero(active)
        now[who] += rng.exponential(1 / rate[who])
        came = who[now[who] <= age[who]]
        active[who[now[who] > age[who]]] = False
        frequency[came] += 1
        recency[came] = now[came]
        active[came[rng.random(came.size) < dropout[came]]] = False
    scale = rng.gamma(Q, 1 / V, n)  # nu per customer; a visit's spend is Gamma(P, rate nu)
    visits = np.maximum(frequency, 1)
    average_spend = np.where(frequency > 0, rng.gamma(P * visits, 1 / scale) / visits, 0.0)
    return History(frequency, recency, age, average_spend)


MODEL = BgNbd(r=R, alpha=ALPHA, a=A, b=B, log_likelihood=0.0, n=0)


@pytest.fixture(scope="module")
def simulated() -> tuple[History, Fit]:
    history = simulate(np.random.default_rng(20240601), 4_000)
    fitted = fit(history)
    assert isinstance(fitted, Fit), fitted
    return history, fitted


def test_bgnbd_recovers_simulated_parameters(simulated: tuple[History, Fit]) -> None:
    model = simulated[1].bgnbd
    for fitted, true in ((model.r, R), (model.alpha, ALPHA), (model.a, A), (model.b, B)):
        assert fitted == pytest.approx(true, rel=0.25)
    assert model.r / model.alpha == pytest.approx(R / ALPHA, rel=0.15)
    assert model.n == 4_000


def test_gamma_gamma_recovers_simulated_parameters(simulated: tuple[History, Fit]) -> None:
    history, fitted = simulated
    model = fitted.gamma_gamma
    for estimate, true in ((model.p, P), (model.q, Q), (model.v, V)):
        assert estimate == pytest.approx(true, rel=0.25)
    assert model.mean_spend == pytest.approx(P * V / (Q - 1), rel=0.10)
    assert model.n == int((history.frequency > 0).sum())


def test_bgnbd_log_likelihood_by_hand() -> None:
    r, alpha, a, b = 0.5, 10.0, 0.7, 2.0
    rows = [(0, 0.0, 40.0), (1, 5.0, 30.0), (4, 50.0, 60.0)]

    def by_hand(x: int, t_x: float, big_t: float) -> float:
        beta = math.gamma(a) * math.gamma(b) / math.gamma(a + b)
        gamma_part = math.gamma(r + x) * alpha**r / math.gamma(r)
        alive = math.gamma(a) * math.gamma(b + x) / math.gamma(a + b + x) / beta
        value = alive * gamma_part / (alpha + big_t) ** (r + x)
        if x > 0:
            gone = math.gamma(a + 1) * math.gamma(b + x - 1) / math.gamma(a + b + x) / beta
            value += gone * gamma_part / (alpha + t_x) ** (r + x)
        return math.log(value)

    x, t_x, big_t = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    computed = bgnbd_log_likelihood((r, alpha, a, b), x, t_x, big_t)
    assert computed == pytest.approx([by_hand(*row) for row in rows], rel=1e-12)


def test_gamma_gamma_log_likelihood_by_hand() -> None:
    p, q, v = 3.0, 5.0, 200_000.0
    x, mean = 3, 60_000.0
    # Sum of x spends ~ Gamma(p x, nu); mixing nu ~ Gamma(q, v) gives the density of the mean.
    expected = (
        math.lgamma(p * x + q)
        - math.lgamma(p * x)
        - math.lgamma(q)
        + q * math.log(v)
        + (p * x - 1) * math.log(mean * x)
        - (p * x + q) * math.log(v + mean * x)
        + math.log(x)  # density of the mean = x * density of the sum
    )
    computed = gamma_gamma_log_likelihood((p, q, v), np.array([float(x)]), np.array([mean]))
    assert computed[0] == pytest.approx(expected, rel=1e-12)


def test_p_alive_is_one_without_repeat_visits_and_falls_with_older_recency() -> None:
    assert MODEL.p_alive([0, 0], [0, 0], [1, 300]).tolist() == [1.0, 1.0]
    recency = np.arange(1.0, 101.0)
    alive = MODEL.p_alive(3, recency, 100)
    assert ((alive > 0) & (alive <= 1)).all()
    assert (np.diff(alive) > 0).all()  # the longer ago the last visit, the less likely alive


@pytest.mark.parametrize(
    "model",
    [
        MODEL,
        BgNbd(r=R, alpha=ALPHA, a=1.0, b=B, log_likelihood=0.0, n=0),  # eq. 10 divides by a - 1
        BgNbd(r=R, alpha=ALPHA, a=400.0, b=1_000.0, log_likelihood=0.0, n=0),  # hyp2f1 gives nan
    ],
    ids=["typical", "a=1", "large a and b"],
)
def test_expected_purchases_matches_direct_integration(model: BgNbd) -> None:
    """Compare with E[(1 - e^(-lambda p t)) / p] integrated over the posterior of lambda and p."""

    def integrand(p: float, x: int, big_t: float, t: float) -> float:
        base = model.alpha + big_t
        no_visits_left = (base / (base + p * t)) ** (model.r + x)  # lambda ~ Gamma(r + x, base)
        return (1 - no_visits_left) / p * float(stats.beta.pdf(p, model.a, model.b + x))

    cases = (
        (0, 0.0, 0.0, 365.0),
        (0, 0.0, 50.0, 30.0),
        (2, 20.0, 90.0, 365.0),
        (12, 200.0, 210.0, 60.0),
    )
    for x, t_x, big_t, t in cases:
        mean = model.a / (model.a + model.b + x)
        alive_value = integrate.quad(integrand, 0, 1, args=(x, big_t, t), points=[mean], limit=200)
        expected = model.p_alive(x, t_x, big_t) * alive_value[0]
        assert model.expected_purchases(t, x, t_x, big_t) == pytest.approx(expected, rel=1e-7)


def test_expected_purchases_grow_with_horizon() -> None:
    horizons = np.array([0.0, 1.0, 7.0, 30.0, 365.0, 3650.0])
    for x, t_x, big_t in ((0, 0.0, 10.0), (5, 80.0, 100.0), (30, 10.0, 300.0)):
        values = MODEL.expected_purchases(horizons, x, t_x, big_t)
        assert values[0] == 0
        assert (np.diff(values) > 0).all()


def test_expected_spend_shrinks_towards_the_population_mean() -> None:
    model = GammaGamma(p=P, q=Q, v=V, log_likelihood=0.0, n=0)
    spend = model.expected_spend([0, 1, 50], [0.0, 100_000.0, 100_000.0])
    assert spend[0] == pytest.approx(model.mean_spend)
    assert model.mean_spend < spend[1] < spend[2] < 100_000


def test_value_12m_is_discounted_purchases_times_spend(simulated: tuple[History, Fit]) -> None:
    history, fitted = simulated
    values = value_12m(fitted.bgnbd, fitted.gamma_gamma, history, monthly_discount=0.0)
    purchases = fitted.bgnbd.expected_purchases(
        12 * MONTH_DAYS, history.frequency, history.recency, history.age
    )
    spend = fitted.gamma_gamma.expected_spend(history.frequency, history.average_spend)
    assert values.dtype == np.int64
    np.testing.assert_allclose(values, np.floor(purchases * spend), atol=1)
    discounted = value_12m(fitted.bgnbd, fitted.gamma_gamma, history)
    assert (discounted <= values).all()
    assert discounted.sum() > 0.9 * values.sum()


def test_history_from_rows() -> None:
    history = History.from_rows([(2, 30.0, 60.0, 45_000.0), (0, 0.0, 10.0, 0.0)])
    assert history.frequency.tolist() == [2.0, 0.0]
    assert history.average_spend.dtype == np.float64
    assert len(History.from_rows([])) == 0


@pytest.mark.parametrize(
    ("history", "reason"),
    [
        (History.from_rows([]), "too few customers (0)"),
        (History.from_rows([(1, 5.0, 9.0, 40_000.0)]), "too few customers (1)"),
        (History.from_rows([(3, 20.0, 30.0, 40_000.0)] * 10), "too few customers (10)"),
        (History.from_rows([(0, 0.0, 30.0, 0.0)] * 500), "too few customers came back (0)"),
        (History.from_rows([(2, 40.0, 30.0, 1.0)] * 500), "recency"),
        (History.from_rows([(2, float("nan"), 30.0, 1.0)] * 500), "missing"),
        (History(*(np.full(500, value) for value in (1.5, 10.0, 30.0, 1.0))), "whole number"),
        (History.from_rows([(2, 0.0, 30.0, 1.0)] * 500), "recency above 0"),
    ],
)
def test_too_little(history: History, reason: str) -> None:
    result = fit(history)
    assert isinstance(result, TooLittle)
    assert reason in result.reason


def test_too_few_repeaters() -> None:
    rows = [(0, 0.0, 100.0, 0.0)] * MIN_CUSTOMERS + [(2, 50.0, 100.0, 40_000.0)] * 10
    result = fit(History.from_rows(rows))
    assert isinstance(result, TooLittle)
    assert "too few customers came back (10)" in result.reason


def test_gap_rule() -> None:
    days_since_last = np.array([20, 20, 15, 13, 31, 30, 400])
    usual_gap_days = np.array([7, 12, 3, 3, 0, 0, 0])
    visits = np.array([5, 5, 9, 9, 1, 1, 0])
    assert gap_rule_risk(days_since_last, usual_gap_days, visits).tolist() == [
        True,  # 20 > 2 x 7
        False,  # 20 <= 2 x 12
        True,  # daily-ish regular: 15 > the 14-day floor
        False,  # 13 <= 14
        True,  # one visit, 31 > 30
        False,  # one visit, 30 days is not yet
        False,  # never visited: nothing to lose
    ]


shape = st.floats(min_value=0.01, max_value=100.0)
dropout_shape = st.floats(min_value=0.01, max_value=10_000.0)  # fits can drift to large a and b


@settings(max_examples=200, deadline=None)
@given(
    params=st.tuples(shape, st.floats(0.1, 1_000.0), dropout_shape, dropout_shape),
    x=st.integers(0, 300),
    age=st.floats(0.0, 3_000.0),
    share=st.floats(0.0, 1.0),
    t=st.floats(0.0, 3_650.0),
)
def test_outputs_stay_in_range(
    params: tuple[float, float, float, float], x: int, age: float, share: float, t: float
) -> None:
    r, alpha, a, b = params
    model = BgNbd(r, alpha, a, b, log_likelihood=0.0, n=0)
    recency = share * age
    alive = float(model.p_alive(x, recency, age))
    purchases = float(model.expected_purchases(t, x, recency, age))
    assert 0.0 <= alive <= 1.0
    assert 0.0 <= purchases < math.inf
    # Nobody alive buys faster than their posterior mean rate (r + x) / (alpha + age).
    assert purchases <= alive * (r + x) * t / (alpha + age) * (1 + 1e-6) + 1e-9
