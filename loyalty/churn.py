"""Churn and customer value: BG/NBD for visits, Gamma-Gamma for spend, a gap rule as fallback.

Cafés do not see customers leave; they only see them stop coming. BG/NBD (Fader, Hardie & Lee
2005, "Counting your customers the easy way") turns each member's (frequency, recency, age) into
P(alive) and expected visits, and Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV") adds the
expected spend per visit. Both are fitted by maximum likelihood with numpy/scipy only (``lifetimes``
is archived, pymc-marketing is far too heavy). A small shop cannot support a fit, so ``fit``
returns ``TooLittle`` with a reason and the scheduler falls back to ``gap_rule_risk``.

All times are in **days**: the fitted ``alpha`` is in days, ``r / alpha`` is visits per day.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.integrate import quad
from scipy.optimize import minimize
from scipy.special import betaln, expit, gammaln, hyp2f1

Array = npt.NDArray[np.float64]

#: Below this many customers (or repeat customers) the parameters are mostly noise.
MIN_CUSTOMERS = 200
MIN_REPEATERS = 50
#: P(alive) below this counts as churn risk.
P_ALIVE_RISK = 0.3
#: Average month, so that 12 of them make a year.
MONTH_DAYS = 365.25 / 12
#: The closed form for expected purchases divides by a - 1: this close to a = 1 it loses too many
#: digits (further away the error stays near 1e-8 visits), so the expectation is integrated instead.
_NEAR_ONE = 1e-6
#: The search moves each parameter at most e^15 (~3 million) times away from its starting value.
_LOG_BOUNDS = (-15.0, 15.0)


class FitFailed(ValueError):
    """The optimiser could not produce usable parameters (the message says why)."""


def _array(values: npt.ArrayLike) -> Array:
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True)
class History:
    """One entry per customer, times in days, spend in VND.

    ``frequency`` counts *repeat* purchases on distinct days (visits - 1), ``recency`` is the day of
    the last purchase counted from the first, ``age`` the days from the first purchase to the as-of
    date, and ``average_spend`` the mean spend of the repeat purchases (anything for frequency 0).
    """

    frequency: Array
    recency: Array
    age: Array
    average_spend: Array

    def __post_init__(self) -> None:
        for name in ("frequency", "recency", "age", "average_spend"):
            object.__setattr__(self, name, _array(getattr(self, name)).reshape(-1))
        if not len(self.frequency) == len(self.recency) == len(self.age) == len(self.average_spend):
            raise ValueError("History arrays must have one entry per customer")

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, float, float, float]]) -> History:
        """Build from (frequency, recency_days, age_days, average_spend) rows, e.g. a SQL result."""
        table = np.array(list(rows), dtype=np.float64).reshape(-1, 4)
        return cls(table[:, 0], table[:, 1], table[:, 2], table[:, 3])

    def __len__(self) -> int:
        return len(self.frequency)


def _problem(history: History) -> str | None:
    """Why the values cannot come from real visits, or None when they can."""
    x, t_x, big_t, spend = history.frequency, history.recency, history.age, history.average_spend
    if not all(np.isfinite(values).all() for values in (x, t_x, big_t, spend)):
        return "history contains missing or infinite values"
    if (x < 0).any() or (x != np.round(x)).any():
        return "frequency must be a whole number of repeat purchases, at least 0"
    if (t_x < 0).any() or (t_x > big_t).any():
        return "recency must lie between 0 and the customer's age"
    if ((x > 0) & (t_x == 0)).any():
        return "repeat purchases (on other days) need a recency above 0"
    if (spend < 0).any():
        return "average spend cannot be negative"
    return None


def _minimise(model: str, neg_ll: Callable[[Array], float], start: Array) -> Array:
    """Minimise over log(params / start); FitFailed if it fails or stops at the edge of the box.

    Logs keep the parameters positive, and dividing by the start keeps the search well scaled
    whether a parameter is near 1 (shapes) or in tens of thousands (VND, for Gamma-Gamma's v).
    """

    def objective(log_ratio: Array) -> float:
        return neg_ll(start * np.exp(log_ratio))

    with np.errstate(all="ignore"):
        result = minimize(
            objective, np.zeros(len(start)), method="L-BFGS-B", bounds=[_LOG_BOUNDS] * len(start)
        )
    if not result.success or not np.isfinite(result.fun):
        raise FitFailed(f"{model}: the optimiser did not converge ({result.message})")
    if (np.abs(result.x) > _LOG_BOUNDS[1] - 0.01).any():
        raise FitFailed(f"{model}: a parameter ran off towards 0 or infinity (degenerate data)")
    return start * np.exp(result.x)


def bgnbd_log_likelihood(
    params: tuple[float, float, float, float], frequency: Array, recency: Array, age: Array
) -> Array:
    """Per-customer log-likelihood of BG/NBD (FHL 2005, eq. 6) for params (r, alpha, a, b).

    The two terms of the likelihood are added with log-sum-exp: for frequent customers both are
    far below the smallest float.
    """
    r, alpha, a, b = params
    x, t_x, big_t = frequency, recency, age
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    still_alive = betaln(a, b + x) - (r + x) * np.log(alpha + big_t)
    dropped = np.where(  # only for x > 0; the maximum keeps betaln quiet for x = 0
        x > 0,
        betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return common + np.logaddexp(still_alive, dropped)


def gamma_gamma_log_likelihood(
    params: tuple[float, float, float], frequency: Array, average_spend: Array
) -> Array:
    """Per-customer log-likelihood of the mean spend of x repeat purchases (Fader & Hardie note).

    Spends are Gamma(p, nu) per purchase, nu ~ Gamma(q, v) across customers; only customers with
    x > 0 and positive spend carry information.
    """
    p, q, v = params
    x, m = frequency, average_spend
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + x * m)
    )


def _alive_purchases_by_quadrature(a: float, b: float, k: float, s: float) -> float:
    """E[(1 - (1 + p s)^-k) / p] for p ~ Beta(a, b): BG/NBD purchases while alive, integrated.

    The variable is y = logit(p), centred and scaled to the spread of the Beta, so the integrand
    is smooth and well placed for any a and b; p underflowing to 0 is harmless (the limit is k s).
    """
    centre, width, log_beta = math.log(a / b), math.sqrt(1 / a + 1 / b), float(betaln(a, b))

    def integrand(v: float) -> float:
        y = centre + width * v
        log_p = -max(-y, 0.0) - math.log1p(math.exp(-abs(y)))
        log_q = log_p - y  # log(1 - p)
        p = math.exp(log_p)
        rate = k * s if p * s < 1e-12 else -math.expm1(-k * math.log1p(p * s)) / p
        return rate * math.exp(a * log_p + b * log_q - log_beta) * width

    return float(quad(integrand, -np.inf, 0)[0] + quad(integrand, 0, np.inf)[0])


@dataclass(frozen=True)
class BgNbd:
    """Fitted BG/NBD: visit rates ~ Gamma(r, alpha) per day, dropout ~ Beta(a, b) per visit."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int

    def p_alive(
        self, frequency: npt.ArrayLike, recency: npt.ArrayLike, age: npt.ArrayLike
    ) -> Array:
        """P(still a customer at ``age``); 1 for x = 0 as BG/NBD only drops after a purchase."""
        x, t_x, big_t = _array(frequency), _array(recency), _array(age)
        safe_b = np.maximum(self.b + x - 1, 1e-300)  # only used where x > 0, where it is >= b
        log_odds_dead = (
            np.log(self.a)
            - np.log(safe_b)
            + (self.r + x) * (np.log(self.alpha + big_t) - np.log(self.alpha + t_x))
        )
        return np.where(x > 0, expit(-log_odds_dead), 1.0)

    def expected_purchases(
        self,
        t: npt.ArrayLike,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        age: npt.ArrayLike,
    ) -> Array:
        """Expected repeat purchases in the next ``t`` days (FHL 2005, eq. 10).

        The hypergeometric term is rewritten with Euler's transformation,
        ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z),
        so it stays bounded for frequent customers. scipy's hyp2f1 still fails for large a or b
        (nearly the same dropout for everyone, where a fit can drift) and at a few exact points;
        a customer alive buys between 0 and k s times (k = r + x, s = t / (alpha + T)), so any
        value outside that range is recomputed by numerical integration.
        """
        t, x, t_x, big_t = np.broadcast_arrays(
            _array(t), _array(frequency), _array(recency), _array(age)
        )
        k, s = self.r + x, t / (self.alpha + big_t)
        c, z = self.a + self.b + x - 1, t / (self.alpha + big_t + t)
        with np.errstate(all="ignore"):
            hyp = (1 - z) ** (self.a - 1) * hyp2f1(self.a + self.b - 1 - self.r, self.a - 1, c, z)
            alive = np.array(c / (self.a - 1) * (1 - hyp))  # an array even for scalar inputs
        suspect = ~((alive >= 0) & (alive <= k * s)) | (abs(self.a - 1) < _NEAR_ONE)
        for i in np.flatnonzero(suspect):
            alive.flat[i] = _alive_purchases_by_quadrature(
                self.a, self.b + x.flat[i], k.flat[i], s.flat[i]
            )
        return alive * self.p_alive(x, t_x, big_t)


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma spend model: per-purchase spend ~ Gamma(p, nu), nu ~ Gamma(q, v)."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n: int

    @property
    def mean_spend(self) -> float:
        """Population mean spend per purchase in VND, p v / (q - 1)."""
        return self.p * self.v / (self.q - 1)

    def expected_spend(self, frequency: npt.ArrayLike, average_spend: npt.ArrayLike) -> Array:
        """Posterior mean spend per purchase: a weighted mix of the population and own mean.

        The weight on the customer's own average grows with x; for x = 0 it is the population mean.
        """
        x, m = _array(frequency), _array(average_spend)
        return self.p * (self.v + x * m) / (self.p * x + self.q - 1)


@dataclass(frozen=True)
class Fit:
    bgnbd: BgNbd
    gamma_gamma: GammaGamma


@dataclass(frozen=True)
class TooLittle:
    """No model: the reason is for logs and the owner's report, in plain English."""

    reason: str


def fit_bgnbd(history: History) -> BgNbd:
    """Maximum-likelihood BG/NBD; raises FitFailed when the optimiser gives up."""
    x, t_x, big_t = history.frequency, history.recency, history.age
    n = len(history)

    def neg_ll(params: Array) -> float:
        r, alpha, a, b = params
        return -float(bgnbd_log_likelihood((r, alpha, a, b), x, t_x, big_t).sum()) / n

    # Start where r / alpha matches the observed purchase rate.
    start = np.array([1.0, max(big_t.sum(), 1.0) / max(x.sum(), 1.0), 1.0, 1.0])
    r, alpha, a, b = _minimise("BG/NBD", neg_ll, start)
    log_likelihood = float(bgnbd_log_likelihood((r, alpha, a, b), x, t_x, big_t).sum())
    return BgNbd(float(r), float(alpha), float(a), float(b), log_likelihood, n)


def fit_gamma_gamma(frequency: npt.ArrayLike, average_spend: npt.ArrayLike) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma on customers with repeat purchases and positive spend."""
    x, m = _array(frequency), _array(average_spend)
    used = (x > 0) & (m > 0)
    x, m = x[used], m[used]
    if x.size == 0:
        raise FitFailed("Gamma-Gamma: no repeat purchases with a positive spend")

    def neg_ll(params: Array) -> float:
        p, q, v = params
        return -float(gamma_gamma_log_likelihood((p, q, v), x, m).sum()) / x.size

    p, q, v = _minimise("Gamma-Gamma", neg_ll, np.array([1.0, 2.0, float(m.mean())]))
    log_likelihood = float(gamma_gamma_log_likelihood((p, q, v), x, m).sum())
    return GammaGamma(float(p), float(q), float(v), log_likelihood, int(x.size))


def fit(history: History) -> Fit | TooLittle:
    """Fit both models, or say in English why the data cannot support them. Never raises."""
    if problem := _problem(history):
        return TooLittle(problem)
    n, repeaters = len(history), int((history.frequency > 0).sum())
    if n < MIN_CUSTOMERS:
        return TooLittle(f"too few customers ({n}); the model needs at least {MIN_CUSTOMERS}")
    if repeaters < MIN_REPEATERS:
        return TooLittle(
            f"too few customers came back ({repeaters}); the model needs at least {MIN_REPEATERS}"
        )
    try:
        bgnbd = fit_bgnbd(history)
        gamma_gamma = fit_gamma_gamma(history.frequency, history.average_spend)
    except FitFailed as failure:
        return TooLittle(str(failure))
    if gamma_gamma.q <= 1:
        return TooLittle("spend varies too much between customers (Gamma-Gamma q <= 1)")
    return Fit(bgnbd, gamma_gamma)


def value_12m(
    bgnbd: BgNbd, gg: GammaGamma, history: History, monthly_discount: float = 0.01
) -> npt.NDArray[np.int64]:
    """Expected value of each customer over the next 12 months, whole VND rounded down.

    value = sum_{k=1..12} [E(Y(k m)) - E(Y((k-1) m))] * E(spend) / (1 + d)^k, with m = 365.25/12
    days, E(Y(t)) the BG/NBD expected purchases in the next t days and E(spend) the Gamma-Gamma
    posterior mean spend. Margin is not applied: this is revenue, not profit.
    """
    x, t_x, big_t = history.frequency, history.recency, history.age
    horizons = MONTH_DAYS * np.arange(13)[:, None]
    cumulative = bgnbd.expected_purchases(horizons, x, t_x, big_t)
    discount = (1 + monthly_discount) ** -np.arange(1, 13)[:, None]
    purchases = (np.diff(cumulative, axis=0) * discount).sum(axis=0)
    return np.floor(purchases * gg.expected_spend(x, history.average_spend)).astype(np.int64)


def gap_rule_risk(
    days_since_last: npt.ArrayLike, usual_gap_days: npt.ArrayLike, visits: npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """At risk without a model: away much longer than the member's own rhythm.

    Members with 2+ visits are at risk after max(2 x usual gap, 14) days away (the floor keeps
    daily regulars from being flagged after a long weekend); one-visit members after 30 days.
    Members with no visit are never flagged.
    """
    since, gap, count = _array(days_since_last), _array(usual_gap_days), _array(visits)
    regular = (count >= 2) & (since > np.maximum(2 * gap, 14))
    newcomer = (count == 1) & (since > 30)
    return regular | newcomer
