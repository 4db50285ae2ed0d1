"""``quen check``: the rules the code keeps, verified on the data itself.

The ledger, vouchers, purchases and outbox each keep their rules inside one transaction, so a
database that breaks one was touched outside the code (a hand-written ``UPDATE``, a half-restored
backup, a bug). Each invariant below is one SQL statement selecting the ids of the rows that break
it, so a check of 200,000 members is a handful of scans and aggregates, not a Python loop: the
database counts the offenders and returns the first ten.

The points relation, exactly as ``loyalty/ledger.py`` keeps it: for every member,

    points_balance = sum of ledger entries = sum of ``remaining`` over ALL their lots

The lots include those past ``expires_at`` that the nightly job has not written off yet: an
expired lot still holds its points until an ``expire`` entry draws them, so the live balance
``/points`` shows is that sum minus the expired lots' remaining. Each lot's ``remaining`` is its
``points`` minus what draws took from it, each draw belongs to a debit entry (spend, expire,
reversal, negative adjustment) whose points the draws add up to, and each credit entry filled
exactly one lot of its size.

The outbox checks leave ``sending`` rows alone: a send in flight when a member is erased loses
its account but finishes (or is recovered) on its own.

Problems are errors (an invariant is broken: exit code 1), except ``expiry_overdue`` and
``outbox_stale_lease``, which are warnings: the data is still consistent, but a job that should
have run (the nightly expiry, the outbox sender's recovery) has not.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections

from locales import t

#: How many ids of offending rows a finding carries (enough to start looking).
EXAMPLES = 10
#: A lease this much past its end means no sender is recovering the outbox.
STALE_LEASE = timedelta(minutes=30)
#: Points of lots expired this long ago should have been written off by the nightly job.
EXPIRY_GRACE = timedelta(days=2)


@dataclass(frozen=True)
class Invariant:
    """One rule: ``sql`` selects the ``id`` of every row (of ``subject``) that breaks it. What the
    rule means, for the person reading the report, is the locale message ``rule_key(name)``: the
    name is an identifier (scripts and the README use it), the explanation is in their language."""

    name: str
    subject: str
    sql: str
    warning: bool = False


def rule_key(name: str) -> str:
    """The locale message that says in words what invariant ``name`` demands."""
    return f"check-rule-{name}"


@dataclass(frozen=True)
class Finding:
    """What one check found: how many rows break the rule and the first few ids."""

    name: str
    subject: str
    count: int
    examples: tuple[int, ...]
    warning: bool
    #: How long the query took (``quen check`` is meant to stay fast on a chain's database).
    seconds: float

    @property
    def ok(self) -> bool:
        return self.count == 0


_DEBIT_DRAWS = """
SELECT e.id FROM ledger_entry e
LEFT JOIN (SELECT entry_id, SUM(points) AS drawn, MIN(points) AS least FROM lot_draw
           GROUP BY entry_id) d ON d.entry_id = e.id
WHERE COALESCE(d.drawn, 0) <> CASE WHEN e.points < 0 THEN -e.points ELSE 0 END
   OR COALESCE(d.least, 1) <= 0
"""

_CREDIT_LOTS = """
SELECT e.id FROM ledger_entry e
LEFT JOIN (SELECT entry_id, COUNT(*) AS n, SUM(points) AS points, MIN(customer_id) AS low,
                  MAX(customer_id) AS high
           FROM points_lot GROUP BY entry_id) l ON l.entry_id = e.id
WHERE (e.points > 0 AND (l.n IS NULL OR l.n <> 1 OR l.points <> e.points
                         OR l.low <> e.customer_id OR l.high <> e.customer_id))
   OR (e.points <= 0 AND l.n IS NOT NULL)
"""

#: A purchase's reversal ``r`` that is not what ``take_back`` writes: a debit of at most the
#: purchase's points, of its member.
_BAD_REVERSAL = """(r.id IS NOT NULL AND (r.kind <> 'earn_reversal' OR r.points >= 0
                    OR -r.points > p.points OR r.customer_id <> p.customer_id))"""


def invariants(postgres: bool) -> list[Invariant]:
    """Every check, in the order they are printed. ``:now`` and ``:lease`` / ``:expiry`` are
    bound by ``run_checks``; the JSON lookup is the only dialect difference."""
    voucher_in_payload = (
        "(o.payload ->> 'voucher')::bigint" if postgres else "json_extract(o.payload, '$.voucher')"
    )
    return [
        Invariant(
            "balance_equals_ledger",
            "customer",
            """
            SELECT c.id FROM customer c
            LEFT JOIN (SELECT customer_id, SUM(points) AS total FROM ledger_entry
                       GROUP BY customer_id) l ON l.customer_id = c.id
            WHERE c.points_balance <> COALESCE(l.total, 0)
            """,
        ),
        Invariant(
            "balance_equals_lots",
            "customer",
            """
            SELECT c.id FROM customer c
            LEFT JOIN (SELECT customer_id, SUM(remaining) AS total FROM points_lot
                       GROUP BY customer_id) l ON l.customer_id = c.id
            WHERE c.points_balance <> COALESCE(l.total, 0)
            """,
        ),
        Invariant(
            "balance_not_negative",
            "customer",
            "SELECT id FROM customer WHERE points_balance < 0",
        ),
        Invariant(
            "balance_after_running_sum",
            "ledger_entry",
            """
            SELECT id FROM (
                SELECT id, balance_after,
                       SUM(points) OVER (PARTITION BY customer_id ORDER BY id) AS running
                FROM ledger_entry) r
            WHERE balance_after <> running
            """,
        ),
        Invariant(
            "lot_remaining_in_range",
            "points_lot",
            "SELECT id FROM points_lot WHERE remaining < 0 OR remaining > points OR points <= 0",
        ),
        Invariant(
            "lot_remaining_matches_draws",
            "points_lot",
            """
            SELECT l.id FROM points_lot l
            LEFT JOIN (SELECT lot_id, SUM(points) AS drawn FROM lot_draw GROUP BY lot_id) d
                   ON d.lot_id = l.id
            WHERE l.remaining <> l.points - COALESCE(d.drawn, 0)
            """,
        ),
        Invariant(
            "debit_matches_draws",
            "ledger_entry",
            _DEBIT_DRAWS,
        ),
        Invariant(
            "credit_fills_one_lot",
            "ledger_entry",
            _CREDIT_LOTS,
        ),
        Invariant(
            "draw_same_member",
            "lot_draw",
            """
            SELECT d.id FROM lot_draw d
            JOIN ledger_entry e ON e.id = d.entry_id
            JOIN points_lot l ON l.id = d.lot_id
            WHERE l.customer_id <> e.customer_id
            """,
        ),
        Invariant(
            "draw_respects_expiry",
            "lot_draw",
            """
            SELECT d.id FROM lot_draw d
            JOIN ledger_entry e ON e.id = d.entry_id
            JOIN points_lot l ON l.id = d.lot_id
            WHERE (e.kind = 'expire' AND l.expires_at > e.created_at)
               OR (e.kind <> 'expire' AND l.expires_at <= e.created_at)
            """,
        ),
        Invariant(
            "expiry_overdue",
            "points_lot",
            "SELECT id FROM points_lot WHERE remaining > 0 AND expires_at < :expiry",
            warning=True,
        ),
        Invariant(
            "voucher_redeemed_iff_redeemed_at",
            "voucher",
            """
            SELECT id FROM voucher
            WHERE (status = 'redeemed' AND redeemed_at IS NULL)
               OR (status <> 'redeemed' AND redeemed_at IS NOT NULL)
            """,
        ),
        Invariant(
            "voucher_paid_once",
            "voucher",
            """
            SELECT v.id FROM voucher v
            LEFT JOIN ledger_entry e ON e.id = v.spend_entry_id
            WHERE (v.reason = 'reward') <> (v.spend_entry_id IS NOT NULL)
               OR (v.spend_entry_id IS NOT NULL AND (e.id IS NULL OR e.kind <> 'spend'
                   OR e.points >= 0 OR e.customer_id <> v.customer_id))
               OR v.spend_entry_id IN (SELECT spend_entry_id FROM voucher
                                       WHERE spend_entry_id IS NOT NULL
                                       GROUP BY spend_entry_id HAVING COUNT(*) > 1)
            """,
        ),
        Invariant(
            "voucher_spend_has_voucher",
            "ledger_entry",
            """
            SELECT id FROM ledger_entry
            WHERE idempotency_key LIKE 'voucher:%'
              AND id NOT IN (SELECT spend_entry_id FROM voucher WHERE spend_entry_id IS NOT NULL)
            """,
        ),
        Invariant(
            "voucher_refund_iff_voided",
            "voucher",
            f"""
            SELECT v.id FROM voucher v
            LEFT JOIN ledger_entry s ON s.id = v.spend_entry_id
            LEFT JOIN ledger_entry r ON r.idempotency_key = {_concat(postgres, "'refund:'", "v.id")}
            WHERE (v.status = 'voided' AND v.spend_entry_id IS NOT NULL
                   AND (r.id IS NULL OR r.points <> -s.points OR r.kind <> 'refund'))
               OR ((v.status <> 'voided' OR v.spend_entry_id IS NULL) AND r.id IS NOT NULL)
               OR (v.status = 'voided' AND (v.redeemed_at IS NOT NULL
                                            OR v.redeemed_by_id IS NOT NULL))
            """,
        ),
        Invariant(
            "refund_has_voucher",
            "ledger_entry",
            f"""
            SELECT id FROM ledger_entry
            WHERE kind = 'refund' AND id NOT IN (
                SELECT r.id FROM voucher v
                JOIN ledger_entry r ON r.idempotency_key = {_concat(postgres, "'refund:'", "v.id")})
            """,
        ),
        Invariant(
            "purchase_earned_its_points",
            "purchase",
            """
            SELECT p.id FROM purchase p
            LEFT JOIN ledger_entry e ON e.id = p.earn_entry_id
            WHERE (p.points > 0) <> (p.earn_entry_id IS NOT NULL)
               OR (p.earn_entry_id IS NOT NULL AND (e.id IS NULL OR e.points <> p.points
                   OR e.kind <> 'earn' OR e.customer_id <> p.customer_id))
            """,
        ),
        Invariant(
            "voided_purchase_reversed",
            "purchase",
            f"""
            SELECT p.id FROM purchase p
            LEFT JOIN ledger_entry r ON r.idempotency_key = {_concat(postgres, "'undo:'", "p.id")}
            LEFT JOIN points_lot own ON own.entry_id = p.earn_entry_id
            WHERE p.voided_at IS NOT NULL AND p.earn_entry_id IS NOT NULL
              AND ((r.id IS NULL AND own.remaining > 0) OR {_BAD_REVERSAL})
            UNION
            SELECT p.id FROM ledger_entry r
            JOIN purchase p ON p.id = CAST(SUBSTR(r.idempotency_key, 6) AS BIGINT)
            WHERE r.idempotency_key LIKE 'undo:%' AND (p.voided_at IS NULL OR {_BAD_REVERSAL})
            """,
        ),
        Invariant(
            "outbox_has_account",
            "outbox_message",
            """
            SELECT o.id FROM outbox_message o
            WHERE o.status IN ('queued', 'claimed')
              AND (o.account_id IS NULL
                   OR NOT EXISTS (SELECT 1 FROM channel_account a WHERE a.id = o.account_id))
            """,
        ),
        Invariant(
            "outbox_has_customer",
            "outbox_message",
            """
            SELECT o.id FROM outbox_message o
            LEFT JOIN customer c ON c.id = o.customer_id
            WHERE o.customer_id IS NOT NULL
              AND (c.id IS NULL OR (c.deleted_at IS NOT NULL
                                    AND o.status IN ('queued', 'claimed')))
            """,
        ),
        Invariant(
            "outbox_has_voucher",
            "outbox_message",
            f"""
            SELECT o.id FROM outbox_message o
            WHERE {voucher_in_payload} IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM voucher v WHERE v.id = {voucher_in_payload})
            """,
        ),
        Invariant(
            "outbox_dedupe_unique",
            "outbox_message",
            """
            SELECT o.id FROM outbox_message o
            JOIN (SELECT account_id, dedupe_key FROM outbox_message WHERE account_id IS NOT NULL
                  GROUP BY account_id, dedupe_key HAVING COUNT(*) > 1) d
              ON d.account_id = o.account_id AND d.dedupe_key = o.dedupe_key
            """,
        ),
        Invariant(
            "outbox_stale_lease",
            "outbox_message",
            """
            SELECT id FROM outbox_message
            WHERE status IN ('claimed', 'sending') AND (lease_until IS NULL OR lease_until < :lease)
            """,
            warning=True,
        ),
        Invariant(
            "campaign_voucher_in_sent_arm",
            "campaign_member",
            """
            SELECT m.id FROM campaign_member m
            LEFT JOIN voucher v ON v.id = m.voucher_id
            WHERE m.voucher_id IS NOT NULL AND (m.holdout OR v.customer_id <> m.customer_id)
            """,
        ),
    ]


def _concat(postgres: bool, text: str, number: str) -> str:
    """``text || number`` with the number cast to text (PostgreSQL will not do it implicitly)."""
    return f"{text} || {number}::text" if postgres else f"{text} || {number}"


def _bind(sql: str, postgres: bool, values: dict[str, datetime]) -> tuple[str, list[Any]]:
    """Replace each ``:name`` with the dialect's placeholder, in order of appearance (a time as
    text in the stored format on SQLite, which compares stored times as strings)."""
    bound: list[Any] = []

    def placeholder(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        bound.append(value if postgres else str(value))
        return f"${len(bound)}" if postgres else "?"

    return re.sub(r"(?<!:):([a-z]+)\b", placeholder, sql), bound


async def run_checks(now: datetime) -> list[Finding]:
    """Every invariant's finding, in order. ``now`` is the moment leases and expiries are
    judged against (UTC)."""
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    now = now.astimezone(UTC)
    findings = []
    for invariant in invariants(postgres):
        sql, values = _bind(
            f"SELECT id, COUNT(*) OVER () AS total FROM ({invariant.sql}) broken"
            f" ORDER BY id LIMIT {EXAMPLES}",
            postgres,
            {"lease": now - STALE_LEASE, "expiry": now - EXPIRY_GRACE},
        )
        started = time.perf_counter()
        rows = await connection.execute_query_dict(sql, values)
        findings.append(
            Finding(
                name=invariant.name,
                subject=invariant.subject,
                count=int(rows[0]["total"]) if rows else 0,
                examples=tuple(int(row["id"]) for row in rows),
                warning=invariant.warning,
                seconds=time.perf_counter() - started,
            )
        )
    return findings


def describe(findings: list[Finding], language: str) -> str:
    """The report ``quen check`` prints, in ``language`` (the operator's ``QUEN_DEFAULT_LANGUAGE``):
    one line per invariant, problems with examples and the rule in words, then the verdict.
    Invariant and table names stay identifiers, so a report can be compared across languages and
    searched for in the README. Labels are padded to the widest, so the names line up."""
    labels = {state: t(language, f"check-label-{state}") for state in ("ok", "fail", "warn")}
    width = max(len(label) for label in labels.values()) + 2
    lines = []
    for finding in findings:
        if finding.ok:
            lines.append(f"{labels['ok']:<{width}}{finding.name}")
            continue
        label = labels["warn" if finding.warning else "fail"]
        ids = ", ".join(str(i) for i in finding.examples)
        more = ", ..." if finding.count > len(finding.examples) else ""
        found = t(
            language,
            "check-found",
            name=finding.name,
            count=finding.count,
            subject=finding.subject,
            ids=ids + more,
        )
        rule = t(language, "check-rule", rule=t(language, rule_key(finding.name)))
        lines.append(f"{label:<{width}}{found}\n{'':<{width}}{rule}")
    errors = sum(1 for f in findings if not f.ok and not f.warning)
    warnings = sum(1 for f in findings if not f.ok and f.warning)
    verdict = (
        t(language, "check-problems", broken=errors, warnings=warnings)
        if errors or warnings
        else t(language, "check-all-hold")
    )
    seconds = sum(f.seconds for f in findings)
    summary = t(language, "check-summary", count=len(findings), seconds=seconds, verdict=verdict)
    lines.append(summary)
    return "\n".join(lines)


def broken(findings: list[Finding]) -> bool:
    """True when an invariant (not just a warning) fails: ``quen check`` then exits 1."""
    return any(not f.ok and not f.warning for f in findings)
