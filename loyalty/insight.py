"""The nightly analysis: RFM segments, the churn model, and each member's habits.

One pass over the purchases (in blocks of members, so memory stays flat) gives what SQL cannot
say portably: distinct visit days for the churn model, favourite items, and the usual weekday and
hour in the shop's time zone. The results replace ``member_insight`` in one transaction, so
readers see either last night's analysis or tonight's, never half of each.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from loyalty import churn
from loyalty.segments import SEGMENTS, Scored, score_members
from models.analytics import MemberInsight, ModelFit

#: Members whose purchases are read in one query.
BLOCK = 2000
FAVOURITES = 3


@dataclass
class Habits:
    """What one member's purchases say beyond RFM."""

    days: list[date] = field(default_factory=list)
    day_spend: list[int] = field(default_factory=list)
    items: Counter[str] = field(default_factory=Counter)
    weekdays: Counter[int] = field(default_factory=Counter)
    hours: Counter[int] = field(default_factory=Counter)

    def add(self, local: datetime, amount: int, items: Sequence[str]) -> None:
        if self.days and self.days[-1] == local.date():
            self.day_spend[-1] += amount
        else:
            self.days.append(local.date())
            self.day_spend.append(amount)
        self.items.update(str(item) for item in items)
        self.weekdays[local.weekday()] += 1
        self.hours[local.hour] += 1

    def churn_row(self, today: date) -> tuple[int, float, float, float]:
        """(repeat visits, days from first to last visit, days since the first, mean repeat
        spend): the churn model counts visit days, not bills."""
        if not self.days:
            return 0, 0.0, 0.0, 0.0
        repeats = len(self.days) - 1
        spend = float(np.mean(self.day_spend[1:])) if repeats else 0.0
        first = self.days[0]
        return repeats, float((self.days[-1] - first).days), float((today - first).days), spend


#: Raw SQL: at a million rows, the ORM's per-value conversion (datetimes, JSON) costs more than
#: everything else in the analysis together.
HABITS_SQL = """
SELECT customer_id, created_at, amount_vnd, items FROM purchase
WHERE voided_at IS NULL AND created_at <= {now} AND customer_id >= {low} AND customer_id <= {high}
ORDER BY customer_id, created_at, id
"""


def _when(value: object) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _items(value: object) -> list[str]:
    if isinstance(value, list):
        return value
    text = str(value or "[]")
    return [] if text == "[]" else list(json.loads(text))


async def _habits(customer_ids: list[int], now: datetime, zone: ZoneInfo) -> dict[int, Habits]:
    """Read the purchases in blocks of ``BLOCK`` members (by id range, ids sorted)."""
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    marks = ("$1", "$2", "$3") if postgres else ("?", "?", "?")
    sql = HABITS_SQL.format(now=marks[0], low=marks[1], high=marks[2])
    utc_now = now.astimezone(UTC)
    found: dict[int, Habits] = {}
    for start in range(0, len(customer_ids), BLOCK):
        block = customer_ids[start : start + BLOCK]
        bound = utc_now if postgres else str(utc_now)
        _, rows = await connection.execute_query(sql, [bound, block[0], block[-1]])
        for customer_id, created_at, amount, items in rows:
            habits = found.setdefault(int(customer_id), Habits())
            habits.add(_when(created_at).astimezone(zone), int(amount), _items(items))
    return found


@dataclass(frozen=True)
class Analysis:
    """What ``quen analyze`` prints and ``/stats`` summarises."""

    as_of: datetime
    members: int
    segments: dict[str, int]
    model: churn.Fit | churn.TooLittle
    seconds: float


def model_params(model: churn.Fit | churn.TooLittle) -> dict[str, object]:
    """The fitted parameters as an analyst reads them (time unit: days; spend: VND)."""
    if not isinstance(model, churn.Fit):
        return {}
    return {
        "time_unit": "days",
        "bgnbd": asdict(model.bgnbd),
        "gamma_gamma": asdict(model.gamma_gamma),
    }


def _mode(counter: Counter[int]) -> int | None:
    return counter.most_common(1)[0][0] if counter else None


async def analyze(now: datetime, zone: ZoneInfo) -> Analysis:
    """Score every member, fit the churn model, and store the results."""
    started = time.perf_counter()
    scored = await score_members(now)
    habits = await _habits([s.customer_id for s in scored], now, zone)
    today = now.astimezone(zone).date()
    rows = [habits.get(s.customer_id, Habits()).churn_row(today) for s in scored]
    history = churn.History.from_rows(rows)
    model = churn.fit(history)
    predictions = _predict(model, history)
    insights = [
        _insight(member, habits.get(member.customer_id), now, predictions, index)
        for index, member in enumerate(scored)
    ]
    async with in_transaction() as connection:
        await _replace_insights(connection, insights)
        await ModelFit.create(
            as_of=now,
            fitted=isinstance(model, churn.Fit),
            params=model_params(model),
            log_likelihood=model.bgnbd.log_likelihood if isinstance(model, churn.Fit) else None,
            members=len(scored),
            note="" if isinstance(model, churn.Fit) else model.reason[:255],
        )
    counts = Counter(member.segment for member in scored)
    return Analysis(
        as_of=now,
        members=len(scored),
        segments={segment: counts.get(segment, 0) for segment in SEGMENTS},
        model=model,
        seconds=time.perf_counter() - started,
    )


Predictions = tuple[np.ndarray, np.ndarray, np.ndarray] | None


def _predict(model: churn.Fit | churn.TooLittle, history: churn.History) -> Predictions:
    if not isinstance(model, churn.Fit):
        return None
    x, t_x, age = history.frequency, history.recency, history.age
    return (
        model.bgnbd.p_alive(x, t_x, age),
        model.bgnbd.expected_purchases(30.0, x, t_x, age),
        churn.value_12m(model.bgnbd, model.gamma_gamma, history),
    )


INSIGHT_COLUMNS = (
    "customer_id",
    "as_of",
    "visits",
    "first_visit_at",
    "last_visit_at",
    "recency_days",
    "spend_vnd",
    "average_spend_vnd",
    "r_score",
    "f_score",
    "m_score",
    "segment",
    "p_alive",
    "expected_visits_30",
    "value_12m_vnd",
    "favourite_items",
    "usual_weekday",
    "usual_hour",
)


def _insight(
    member: Scored, habits: Habits | None, now: datetime, predictions: Predictions, index: int
) -> tuple[object, ...]:
    """One ``member_insight`` row as plain values: building 100,000 ORM objects would cost more
    than the rest of the analysis."""
    visited = member.visits > 0
    predicted = predictions is not None and visited
    favourites = [name for name, _ in habits.items.most_common(FAVOURITES)] if habits else []
    return (
        member.customer_id,
        now,
        member.visits,
        member.first_visit_at,
        member.last_visit_at,
        member.recency_days,
        member.spend_vnd,
        member.spend_vnd // member.visits if visited else 0,
        member.r,
        member.f,
        member.m,
        member.segment,
        float(predictions[0][index]) if predicted else None,  # type: ignore[index]
        float(predictions[1][index]) if predicted else None,  # type: ignore[index]
        int(predictions[2][index]) if predicted else None,  # type: ignore[index]
        json.dumps(favourites, ensure_ascii=False),
        _mode(habits.weekdays) if habits else None,
        _mode(habits.hours) if habits else None,
    )


async def _replace_insights(connection: BaseDBAsyncClient, rows: list[tuple[object, ...]]) -> None:
    """In the caller's transaction: last night's rows out, tonight's in, in batches."""
    postgres = connection.capabilities.dialect == "postgres"
    marks = ", ".join(f"${n}" if postgres else "?" for n in range(1, len(INSIGHT_COLUMNS) + 1))
    sql = f"INSERT INTO member_insight ({', '.join(INSIGHT_COLUMNS)}) VALUES ({marks})"
    await MemberInsight.all().using_db(connection).delete()
    for start in range(0, len(rows), 5000):
        # SQLite stores times as text, in tortoise's format.
        batch = [
            [value if postgres else _sqlite(value) for value in row]
            for row in rows[start : start + 5000]
        ]
        await connection.execute_many(sql, batch)


def _sqlite(value: object) -> object:
    return str(value.astimezone(UTC)) if isinstance(value, datetime) else value
