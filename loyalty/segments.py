"""RFM scores and the named segments owners see.

Recency and frequency are scored with fixed thresholds rather than quintiles: in a café most
customers have visited once or twice, and splitting a crowd of identical one-visit customers into
different quintiles would be random. Monetary value has no such ties, so it is a quintile (SQL
``NTILE(5)`` ordered by spend, then by member id so ties break the same way every night).

The segment comes from recency and frequency alone, by the rule table ``SEGMENT_RULES`` below: it
is data, shown to owners in ``/segments``, and covers every (R, F) pair exactly once. A member who
has never bought is scored as one visit on the day they joined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import connections

#: (upper bound of days since the last visit, R score), checked in order; beyond the last: R = 1.
RECENCY_SCORES = ((14, 5), (30, 4), (60, 3), (120, 2))
#: (at least this many visits, F score), checked in order; one visit (or none): F = 1.
FREQUENCY_SCORES = ((12, 5), (6, 4), (3, 3), (2, 2))

CHAMPIONS, LOYAL, POTENTIAL, NEW = "champions", "loyal", "potential", "new"
PROMISING, ATTENTION, SLEEPING = "promising", "attention", "sleeping"
AT_RISK, CANT_LOSE, HIBERNATING, LOST = "at-risk", "cant-lose", "hibernating", "lost"


@dataclass(frozen=True)
class SegmentRule:
    segment: str
    recency: tuple[int, ...]
    frequency: tuple[int, ...]


#: Which (R, F) cells make each segment. Order is the order owners see them in.
SEGMENT_RULES = (
    SegmentRule(CHAMPIONS, (5,), (4, 5)),
    SegmentRule(LOYAL, (3, 4), (4, 5)),
    SegmentRule(POTENTIAL, (4, 5), (2, 3)),
    SegmentRule(NEW, (5,), (1,)),
    SegmentRule(PROMISING, (4,), (1,)),
    SegmentRule(ATTENTION, (3,), (3,)),
    SegmentRule(SLEEPING, (3,), (1, 2)),
    SegmentRule(AT_RISK, (1, 2), (3, 4)),
    SegmentRule(CANT_LOSE, (1, 2), (5,)),
    SegmentRule(HIBERNATING, (2,), (1, 2)),
    SegmentRule(LOST, (1,), (1, 2)),
)
SEGMENTS = tuple(rule.segment for rule in SEGMENT_RULES)
_BY_CELL = {
    (r, f): rule.segment for rule in SEGMENT_RULES for r in rule.recency for f in rule.frequency
}


def recency_score(days: int) -> int:
    for bound, score in RECENCY_SCORES:
        if days <= bound:
            return score
    return 1


def frequency_score(visits: int) -> int:
    for at_least, score in FREQUENCY_SCORES:
        if visits >= at_least:
            return score
    return 1


def segment_of(r: int, f: int) -> str:
    return _BY_CELL[(r, f)]


@dataclass(frozen=True)
class Scored:
    customer_id: int
    visits: int
    first_visit_at: datetime | None
    last_visit_at: datetime | None
    recency_days: int
    spend_vnd: int
    r: int
    f: int
    m: int
    segment: str


def _moment(value: object) -> datetime | None:
    """SQLite hands back text, PostgreSQL a datetime: both become an aware UTC datetime."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


#: Per member: visits, first and last visit, spend, and the spend quintile. One statement,
#: portable between SQLite (3.25+, window functions) and PostgreSQL.
RFM_SQL = """
SELECT c.id AS customer_id, c.joined_at AS joined_at,
       COUNT(p.id) AS visits, MIN(p.created_at) AS first_at, MAX(p.created_at) AS last_at,
       COALESCE(SUM(p.amount_vnd), 0) AS spend,
       NTILE(5) OVER (ORDER BY COALESCE(SUM(p.amount_vnd), 0), c.id) AS m_score
FROM customer c
LEFT JOIN purchase p ON p.customer_id = c.id AND p.voided_at IS NULL AND p.created_at <= {now}
WHERE c.deleted_at IS NULL
GROUP BY c.id, c.joined_at
ORDER BY c.id
"""


async def score_members(now: datetime) -> list[Scored]:
    """Every member's RFM scores and segment as of ``now``."""
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    sql = RFM_SQL.format(now="$1" if postgres else "?")
    utc_now = now.astimezone(UTC)
    rows = await connection.execute_query_dict(sql, [utc_now if postgres else str(utc_now)])
    scored = []
    for row in rows:
        visits = int(row["visits"])
        last = _moment(row["last_at"])
        since = last or _moment(row["joined_at"]) or utc_now
        days = max(0, (utc_now - since).days)
        r, f = recency_score(days), frequency_score(visits)
        scored.append(
            Scored(
                customer_id=int(row["customer_id"]),
                visits=visits,
                first_visit_at=_moment(row["first_at"]),
                last_visit_at=last,
                recency_days=days,
                spend_vnd=int(row["spend"]),
                r=r,
                f=f,
                m=int(row["m_score"]),
                segment=segment_of(r, f),
            )
        )
    return scored
