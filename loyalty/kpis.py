"""The shop's key numbers for ``/stats``: members, visits, money, retention, points owed.

Everything is counted by the database (aggregate SQL that runs on SQLite and PostgreSQL alike),
so a shop with years of bills costs a few small queries, never a walk over its purchases.

Words used in the definitions, which owners read back in chat:

* A **purchase** is a bill that was not voided (bills imported from a till export count too:
  they are real visits and real money).
* A **member** at a moment is a customer who had joined before it and has not been erased.
  Erased members drop out of every member count, but their bills stay in purchases and revenue:
  the shop's takings do not change when someone asks to be forgotten.
* Periods are half-open, ``[start, end)``: a bill at exactly ``end`` belongs to the next period,
  so consecutive months never count a bill twice.

Times reach SQL in UTC: on SQLite, stored times are UTC text and a bound with another offset
compares wrongly (see README, "Times are stored and compared in UTC").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import connections

from loyalty.vouchers import AMOUNT, REDEEMED, VOIDED
from models.rewards import Reward

#: "Recently": the window of the repeat rate and of each half of the churn rate.
RECENT = timedelta(days=30)


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC. A naive time would be read in the server's zone: refused."""
    if moment.tzinfo is None:
        raise ValueError("KPI bounds must be timezone-aware")
    return moment.astimezone(UTC)


class _Sql:
    """Collects the values of one statement and writes their placeholders: ``?`` on SQLite,
    ``$1, $2...`` on PostgreSQL. Times are bound as UTC (text on SQLite, in the stored format).

    ``?`` is positional, so call it inline, where the placeholder goes in the text (f-strings
    evaluate left to right), once per occurrence: a placeholder is never reused.
    """

    def __init__(self) -> None:
        self.connection = connections.get("default")
        self.postgres = self.connection.capabilities.dialect == "postgres"
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        if isinstance(value, datetime):
            value = _utc(value) if self.postgres else str(_utc(value))
        self.values.append(value)
        return f"${len(self.values)}" if self.postgres else "?"

    def store(self, store_id: int | None) -> str:
        """The purchase filter for one store (alias ``p``), or nothing for the whole shop."""
        return "" if store_id is None else f" AND p.store_id = {self(store_id)}"

    def bucket(self, column: str, bounds: list[datetime]) -> str:
        """The index of the interval of ``bounds`` that ``column`` falls in: 0 before
        ``bounds[1]``, 1 before ``bounds[2]``... (rows are filtered to the whole range)."""
        whens = " ".join(
            f"WHEN {column} < {self(bound)} THEN {index}" for index, bound in enumerate(bounds[1:])
        )
        return f"CASE {whens} ELSE {len(bounds) - 1} END" if whens else "0"

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        return await self.connection.execute_query_dict(sql, self.values)

    async def row(self, sql: str) -> dict[str, Any]:
        return (await self.rows(sql))[0]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# ------------------------------------------------------------------------------------- KPIs


@dataclass(frozen=True)
class Kpis:
    """The shop's numbers for the period ``[start, end)``, optionally for one store.

    * ``members``: members at ``end`` (joined before it, not erased). Membership is shop-wide:
      the store filter does not change it.
    * ``active_members``: members with at least one purchase in the period (at the store, with a
      store filter).
    * ``new_members``: members who joined in the period (with a store filter: and bought there
      in the period, so a store is credited with the newcomers it served).
    * ``purchases``, ``revenue_vnd``: purchases in the period and what they came to (at the store),
      erased members' bills included.
    * ``average_order_vnd``: revenue divided by purchases, rounded down (0 with no purchase).
    * ``repeat_rate``: of the members with a purchase in the 30 days before ``end``, the share
      with two purchases or more there. None when nobody bought in those 30 days.
    * ``redemption_rate``: of the vouchers issued in the period, the share redeemed so far.
      Vouchers the shop voided are left out (they were taken back, never had a chance to be
      used). Expired and still-valid ones count as not redeemed. Shop-wide. None with no voucher.
    * ``churn_rate``: of the members who bought in the 30 days before the last 30 (from ``end``
      minus 60 days to ``end`` minus 30 days), the share with no purchase in the last 30 days
      before ``end``. None when nobody bought in the earlier 30 days.
    * ``points_outstanding``: points members hold now (sum of balances, erased members left
      out). It is the current figure, not as of ``end``.
    * ``points_liability_vnd``: what those points are worth as money off, rounded to the đồng:
      points times the mean VND per point of the active amount-off rewards (each reward's value
      over its points cost). None when no such reward is on offer.

    With a store filter, the repeat and churn rates look only at purchases at that store.
    """

    start: datetime
    end: datetime
    store_id: int | None
    members: int
    active_members: int
    new_members: int
    purchases: int
    revenue_vnd: int
    average_order_vnd: int
    repeat_rate: float | None
    redemption_rate: float | None
    churn_rate: float | None
    points_outstanding: int
    points_liability_vnd: int | None


async def shop_kpis(start: datetime, end: datetime, *, store_id: int | None = None) -> Kpis:
    """The KPIs of ``[start, end)`` (see ``Kpis`` for each definition)."""
    if _utc(start) >= _utc(end):
        raise ValueError("start must be before end")
    members, new_members, points = await _membership(start, end, store_id)
    purchases, revenue, active = await _takings(start, end, store_id)
    points_value = await _vnd_per_point()
    return Kpis(
        start=start,
        end=end,
        store_id=store_id,
        members=members,
        active_members=active,
        new_members=new_members,
        purchases=purchases,
        revenue_vnd=revenue,
        average_order_vnd=revenue // purchases if purchases else 0,
        repeat_rate=await _repeat_rate(end, store_id),
        redemption_rate=await _redemption_rate(start, end),
        churn_rate=await _churn_rate(end, store_id),
        points_outstanding=points,
        points_liability_vnd=None if points_value is None else round(points * points_value),
    )


async def _membership(start: datetime, end: datetime, store_id: int | None) -> tuple[int, int, int]:
    """(members at ``end``, members who joined in the period, points members hold now)."""
    sql = _Sql()
    row = await sql.row(
        f"""
        SELECT COUNT(CASE WHEN c.joined_at < {sql(end)} THEN 1 END) AS members,
               COUNT(CASE WHEN c.joined_at >= {sql(start)} AND c.joined_at < {sql(end)}
                               {_served(sql, start, end, store_id)}
                          THEN 1 END) AS new_members,
               COALESCE(SUM(c.points_balance), 0) AS points
        FROM customer c
        WHERE c.deleted_at IS NULL
        """
    )
    return int(row["members"]), int(row["new_members"]), int(row["points"])


def _served(sql: _Sql, start: datetime, end: datetime, store_id: int | None) -> str:
    """With a store: the member (alias ``c``) bought there in ``[start, end)``."""
    if store_id is None:
        return ""
    return f"""
        AND EXISTS (SELECT 1 FROM purchase p
                    WHERE p.customer_id = c.id AND p.voided_at IS NULL
                          AND p.created_at >= {sql(start)} AND p.created_at < {sql(end)}
                          {sql.store(store_id)})
    """


async def _takings(start: datetime, end: datetime, store_id: int | None) -> tuple[int, int, int]:
    """(purchases, revenue, active members) of the period."""
    sql = _Sql()
    row = await sql.row(
        f"""
        SELECT COUNT(*) AS purchases, COALESCE(SUM(p.amount_vnd), 0) AS revenue,
               COUNT(DISTINCT CASE WHEN c.deleted_at IS NULL AND c.joined_at < {sql(end)}
                                   THEN p.customer_id END) AS active
        FROM purchase p JOIN customer c ON c.id = p.customer_id
        WHERE p.voided_at IS NULL AND p.created_at >= {sql(start)} AND p.created_at < {sql(end)}
              {sql.store(store_id)}
        """
    )
    return int(row["purchases"]), int(row["revenue"]), int(row["active"])


def _member_purchases(sql: _Sql, since: datetime, end: datetime, store_id: int | None) -> str:
    """FROM and WHERE for purchases by members at ``end`` in ``[since, end)``."""
    return f"""
        FROM purchase p JOIN customer c ON c.id = p.customer_id
        WHERE c.deleted_at IS NULL AND c.joined_at < {sql(end)} AND p.voided_at IS NULL
              AND p.created_at >= {sql(since)} AND p.created_at < {sql(end)}
              {sql.store(store_id)}
    """


async def _repeat_rate(end: datetime, store_id: int | None) -> float | None:
    sql = _Sql()
    row = await sql.row(
        f"""
        SELECT COUNT(*) AS buyers,
               COALESCE(SUM(CASE WHEN t.n >= 2 THEN 1 ELSE 0 END), 0) AS repeaters
        FROM (SELECT p.customer_id, COUNT(*) AS n
              {_member_purchases(sql, end - RECENT, end, store_id)}
              GROUP BY p.customer_id) t
        """
    )
    return _share(int(row["repeaters"]), int(row["buyers"]))


async def _churn_rate(end: datetime, store_id: int | None) -> float | None:
    sql = _Sql()
    middle = end - RECENT
    row = await sql.row(
        f"""
        SELECT COUNT(*) AS base, COALESCE(SUM(CASE WHEN t.later = 0 THEN 1 ELSE 0 END), 0) AS gone
        FROM (SELECT p.customer_id,
                     SUM(CASE WHEN p.created_at < {sql(middle)} THEN 1 ELSE 0 END) AS earlier,
                     SUM(CASE WHEN p.created_at < {sql(middle)} THEN 0 ELSE 1 END) AS later
              {_member_purchases(sql, end - 2 * RECENT, end, store_id)}
              GROUP BY p.customer_id) t
        WHERE t.earlier > 0
        """
    )
    return _share(int(row["gone"]), int(row["base"]))


async def _redemption_rate(start: datetime, end: datetime) -> float | None:
    sql = _Sql()
    row = await sql.row(
        f"""
        SELECT COUNT(*) AS issued,
               COUNT(CASE WHEN v.status = {sql(REDEEMED)} THEN 1 END) AS redeemed
        FROM voucher v
        WHERE v.issued_at >= {sql(start)} AND v.issued_at < {sql(end)}
              AND v.status <> {sql(VOIDED)}
        """
    )
    return _share(int(row["redeemed"]), int(row["issued"]))


async def _vnd_per_point() -> Fraction | None:
    """The mean VND per point of the active amount-off rewards (exact), None without any.

    The catalog is a handful of rows, so the mean is taken exactly here rather than in floats.
    """
    terms = await Reward.filter(active=True, kind=AMOUNT, cost_points__gt=0).values_list(
        "value", "cost_points"
    )
    if not terms:
        return None
    return sum((Fraction(int(value), int(cost)) for value, cost in terms), Fraction(0)) / len(terms)


# ---------------------------------------------------------------------------------- segments


async def retention_by_segment(now: datetime) -> dict[str, tuple[int, int]]:
    """Per segment of the last nightly analysis: (members, of them active in the 30 days before
    ``now``). Segments come from ``member_insight``; activity comes from the purchases, so a visit
    since last night already counts. Erased members are left out. Largest segment first."""
    sql = _Sql()
    rows = await sql.rows(
        f"""
        SELECT i.segment AS segment, COUNT(*) AS members,
               COALESCE(SUM(CASE WHEN EXISTS (
                   SELECT 1 FROM purchase p
                   WHERE p.customer_id = i.customer_id AND p.voided_at IS NULL
                         AND p.created_at >= {sql(now - RECENT)} AND p.created_at < {sql(now)}
               ) THEN 1 ELSE 0 END), 0) AS active
        FROM member_insight i JOIN customer c ON c.id = i.customer_id
        WHERE c.deleted_at IS NULL
        GROUP BY i.segment
        ORDER BY COUNT(*) DESC, i.segment
        """
    )
    return {str(row["segment"]): (int(row["members"]), int(row["active"])) for row in rows}


# ----------------------------------------------------------------------------------- cohorts


@dataclass(frozen=True)
class Cohort:
    """The members whose first purchase fell in ``month`` (its first day, in the shop's zone).

    ``active[k]`` is the share of them with a purchase in the ``k``-th calendar month after it
    (``active[0]`` is 1.0 by definition), up to the month in progress, which counts so far.
    """

    month: date
    size: int
    active: list[float]


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


async def cohort_retention(now: datetime, zone: ZoneInfo, months: int = 6) -> list[Cohort]:
    """Monthly cohorts of the last ``months`` calendar months in ``zone`` (this one included),
    oldest first, by the month of each member's first purchase ever (before ``now``).

    Months are local: a bill at 23:30 on the 31st in Ho Chi Minh City belongs to that month,
    though it is already the next day in UTC. Erased members are left out, and a month in which
    nobody bought for the first time has no cohort.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    local_now = now.astimezone(zone)
    first_month = _add_months(local_now.date().replace(day=1), 1 - months)
    firsts = [_add_months(first_month, k) for k in range(months)]
    bounds = [_local_midnight(month, zone) for month in firsts]
    sql = _Sql()
    rows = await sql.rows(
        f"""
        SELECT t.cohort AS cohort, t.month_index AS month_index,
               COUNT(DISTINCT t.customer_id) AS n
        FROM (SELECT f.cohort AS cohort, p.customer_id AS customer_id,
                     {sql.bucket("p.created_at", bounds)} AS month_index
              FROM purchase p
              JOIN (SELECT q.customer_id AS customer_id,
                           {sql.bucket("MIN(q.created_at)", bounds)} AS cohort
                    FROM purchase q JOIN customer c ON c.id = q.customer_id
                    WHERE q.voided_at IS NULL AND c.deleted_at IS NULL
                          AND q.created_at < {sql(now)}
                    GROUP BY q.customer_id
                    HAVING MIN(q.created_at) >= {sql(bounds[0])}) f
                   ON f.customer_id = p.customer_id
              WHERE p.voided_at IS NULL AND p.created_at >= {sql(bounds[0])}
                    AND p.created_at < {sql(now)}) t
        GROUP BY t.cohort, t.month_index
        """
    )
    counts = {(int(row["cohort"]), int(row["month_index"])): int(row["n"]) for row in rows}
    cohorts = []
    for index, month in enumerate(firsts):
        size = counts.get((index, index), 0)
        if size:
            active = [counts.get((index, later), 0) / size for later in range(index, months)]
            cohorts.append(Cohort(month=month, size=size, active=active))
    return cohorts


# ------------------------------------------------------------------------------ time series


async def visits_and_revenue(
    start: datetime, end: datetime, zone: ZoneInfo, *, days_per_bucket: int = 7
) -> list[tuple[date, int, int]]:
    """(first local day of the bucket, purchases, revenue) for consecutive buckets of
    ``days_per_bucket`` local days, the first starting at midnight of ``start``'s local day.

    Only purchases in ``[start, end)`` count, whole shop. Buckets without a purchase are there
    with zeros, so a chart's time axis has no gaps.
    """
    if days_per_bucket < 1:
        raise ValueError("days_per_bucket must be at least 1")
    if _utc(start) >= _utc(end):
        raise ValueError("start must be before end")
    days = [start.astimezone(zone).date()]
    while _local_midnight(days[-1] + timedelta(days=days_per_bucket), zone) < end:
        days.append(days[-1] + timedelta(days=days_per_bucket))
    bounds = [_local_midnight(day, zone) for day in days]
    sql = _Sql()
    rows = await sql.rows(
        f"""
        SELECT t.bucket AS bucket, COUNT(*) AS purchases, COALESCE(SUM(t.amount_vnd), 0) AS revenue
        FROM (SELECT {sql.bucket("p.created_at", bounds)} AS bucket, p.amount_vnd AS amount_vnd
              FROM purchase p
              WHERE p.voided_at IS NULL AND p.created_at >= {sql(start)}
                    AND p.created_at < {sql(end)}) t
        GROUP BY t.bucket
        """
    )
    found = {int(row["bucket"]): (int(row["purchases"]), int(row["revenue"])) for row in rows}
    return [(day, *found.get(index, (0, 0))) for index, day in enumerate(days)]
