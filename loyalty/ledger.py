"""The points ledger: append-only entries, expiring lots, and the cached balance kept in step.

Invariants (guarded by the property tests):

* a customer's ``points_balance`` equals the sum of their ledger entries and the sum of the
  ``remaining`` points of their lots, and is never negative;
* spending draws from the lots that expire first, and never from an expired lot (due lots are
  expired first, in the same transaction);
* a write with an idempotency key happens at most once: replaying it returns the first entry.

Every operation starts with an ``UPDATE`` of the customer's row. On PostgreSQL that row lock
orders concurrent operations on one customer; on SQLite tortoise runs one transaction at a time
per process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from models.ledger import LedgerEntry, LotDraw, PointsLot
from models.members import Customer

EARN = "earn"
EARN_REVERSAL = "earn_reversal"
SPEND = "spend"
EXPIRE = "expire"
POINTS_LIFETIME = timedelta(days=365)


class LedgerError(Exception):
    """A ledger operation was refused; nothing was written."""


class NotEnoughPoints(LedgerError):
    def __init__(self, balance: int, wanted: int) -> None:
        super().__init__(f"balance {balance} < {wanted}")
        self.balance = balance
        self.wanted = wanted


class UnknownCustomer(LedgerError):
    pass


class _NothingToTake(LedgerError):
    """Raised inside a transaction to roll it back when a reversal finds no points left."""


@dataclass(frozen=True)
class Balance:
    """What ``/points`` needs: the balance, and what expires soon and when."""

    points: int
    expiring_points: int
    next_expiry: datetime | None


async def _replayed(key: str | None) -> LedgerEntry | None:
    if key is None:
        return None
    return await LedgerEntry.get_or_none(idempotency_key=key)


async def _once(key: str | None, write: Callable[[], Awaitable[LedgerEntry]]) -> LedgerEntry:
    """Run ``write`` in a transaction unless ``key`` was used already (then return that entry).

    A concurrent replay loses the race on the unique index; its transaction rolls back and it
    returns the winner's entry.
    """
    first = await _replayed(key)
    if first is not None:
        return first
    try:
        async with in_transaction():
            return await write()
    except IntegrityError:
        first = await _replayed(key)
        if first is None:
            raise
        return first


async def _move_balance(customer_id: int, delta: int) -> int:
    """Change the cached balance, refusing to go below zero. Returns the new balance."""
    if delta < 0:
        changed = await Customer.filter(id=customer_id, points_balance__gte=-delta).update(
            points_balance=F("points_balance") + delta
        )
    else:
        changed = await Customer.filter(id=customer_id).update(
            points_balance=F("points_balance") + delta
        )
    row = await Customer.filter(id=customer_id).first().values("points_balance")
    if row is None:
        raise UnknownCustomer(str(customer_id))
    if not changed:
        raise NotEnoughPoints(int(row["points_balance"]), -delta)
    return int(row["points_balance"])


async def _append(
    customer_id: int, kind: str, points: int, at: datetime, key: str | None = None, note: str = ""
) -> LedgerEntry:
    """Move the cached balance by ``points`` and write the entry that explains it."""
    balance = await _move_balance(customer_id, points)
    return await LedgerEntry.create(
        customer_id=customer_id,
        kind=kind,
        points=points,
        balance_after=balance,
        idempotency_key=key,
        note=note,
        created_at=at,
    )


async def _draw(customer_id: int, entry: LedgerEntry, points: int, lots: list[PointsLot]) -> None:
    """Take ``points`` from ``lots`` in order, recording each draw so it can be undone exactly."""
    left = points
    for lot in lots:
        if left == 0:
            break
        take = min(left, lot.remaining)
        taken = await PointsLot.filter(id=lot.id, remaining__gte=take).update(
            remaining=F("remaining") - take
        )
        if not taken:
            raise LedgerError(f"lot {lot.id} changed under customer {customer_id}")
        await LotDraw.create(entry=entry, lot=lot, points=take)
        left -= take
    if left:
        raise LedgerError(f"lots of customer {customer_id} short by {left}")


async def _expire_due_locked(customer_id: int, at: datetime) -> LedgerEntry | None:
    due = await PointsLot.filter(customer_id=customer_id, remaining__gt=0, expires_at__lte=at)
    total = sum(lot.remaining for lot in due)
    if total == 0:
        return None
    entry = await _append(customer_id, EXPIRE, -total, at)
    await _draw(customer_id, entry, total, sorted(due, key=lambda lot: (lot.expires_at, lot.id)))
    return entry


async def earn(
    customer_id: int,
    points: int,
    *,
    at: datetime,
    key: str | None = None,
    kind: str = EARN,
    note: str = "",
    lifetime: timedelta = POINTS_LIFETIME,
) -> LedgerEntry:
    """Credit ``points`` in a new lot that expires ``lifetime`` after ``at``."""
    return await _once(
        key,
        lambda: credit(
            customer_id, points, at=at, key=key, kind=kind, note=note, lifetime=lifetime
        ),
    )


async def credit(
    customer_id: int,
    points: int,
    *,
    at: datetime,
    key: str | None = None,
    kind: str = EARN,
    note: str = "",
    lifetime: timedelta = POINTS_LIFETIME,
) -> LedgerEntry:
    """``earn`` for a caller that already holds a transaction (a purchase and its points are
    written together)."""
    if points <= 0:
        raise LedgerError("points to earn must be positive")
    entry = await _append(customer_id, kind, points, at, key, note)
    await PointsLot.create(
        customer_id=customer_id,
        entry=entry,
        points=points,
        remaining=points,
        earned_at=at,
        expires_at=at + lifetime,
    )
    return entry


async def spend(
    customer_id: int,
    points: int,
    *,
    at: datetime,
    key: str | None = None,
    kind: str = SPEND,
    note: str = "",
) -> LedgerEntry:
    """Debit ``points`` from the lots that expire first. Raises ``NotEnoughPoints``."""
    return await _once(
        key, lambda: debit(customer_id, points, at=at, key=key, kind=kind, note=note)
    )


async def debit(
    customer_id: int,
    points: int,
    *,
    at: datetime,
    key: str | None = None,
    kind: str = SPEND,
    note: str = "",
) -> LedgerEntry:
    """``spend`` for a caller that already holds a transaction (a voucher and its cost)."""
    if points <= 0:
        raise LedgerError("points to spend must be positive")
    await _move_balance(customer_id, 0)  # take the customer's row lock first
    await _expire_due_locked(customer_id, at)
    entry = await _append(customer_id, kind, -points, at, key, note)
    lots = await PointsLot.filter(customer_id=customer_id, remaining__gt=0).order_by(
        "expires_at", "id"
    )
    await _draw(customer_id, entry, points, lots)
    return entry


async def take_back(
    earned: LedgerEntry, *, at: datetime, key: str, kind: str = EARN_REVERSAL
) -> LedgerEntry | None:
    """Reverse an earning (an undone purchase) without ever going below zero.

    The points come out of the earning's own lot first, then the lots that expire first. If the
    member already spent some of them, only what is left is taken back and the shortfall is written
    in the entry's note: the shop absorbs it rather than putting a member in debt. Returns None when
    there was nothing left to take.
    """

    async def write() -> LedgerEntry:
        await _move_balance(earned.customer_id, 0)
        await _expire_due_locked(earned.customer_id, at)
        own = await PointsLot.filter(entry_id=earned.id, remaining__gt=0)
        others = (
            await PointsLot.filter(customer_id=earned.customer_id, remaining__gt=0)
            .exclude(entry_id=earned.id)
            .order_by("expires_at", "id")
        )
        available = sum(lot.remaining for lot in [*own, *others])
        points = min(int(earned.points), available)
        if points == 0:
            raise _NothingToTake()
        shortfall = int(earned.points) - points
        note = f"reverses entry {earned.id}" + (f", {shortfall} already spent" if shortfall else "")
        entry = await _append(earned.customer_id, kind, -points, at, key, note)
        await _draw(earned.customer_id, entry, points, [*own, *others])
        return entry

    try:
        return await _once(key, write)
    except _NothingToTake:
        return None


async def expire_due(customer_id: int, at: datetime) -> LedgerEntry | None:
    """Write off the points of lots that expired by ``at``. Returns the entry, if any."""
    async with in_transaction():
        await _move_balance(customer_id, 0)
        return await _expire_due_locked(customer_id, at)


async def customers_with_expired_lots(at: datetime) -> list[int]:
    """Who has points that expired by ``at`` and are not yet written off (for the nightly job)."""
    rows = await (
        PointsLot.filter(remaining__gt=0, expires_at__lte=at).distinct().values("customer_id")
    )
    return sorted(int(row["customer_id"]) for row in rows)


async def balance(customer_id: int, at: datetime, horizon: timedelta) -> Balance:
    """The live balance (expired lots excluded even before the nightly job) and what expires
    within ``horizon``."""
    open_lots = await PointsLot.filter(
        customer_id=customer_id, remaining__gt=0, expires_at__gt=at
    ).order_by("expires_at")
    soon = [lot for lot in open_lots if lot.expires_at <= at + horizon]
    return Balance(
        points=sum(lot.remaining for lot in open_lots),
        expiring_points=sum(lot.remaining for lot in soon),
        next_expiry=soon[0].expires_at if soon else None,
    )


async def ledger_sum(customer_id: int) -> int:
    """Sum of all entries: the balance by definition (the cached one must agree)."""
    row = (
        await LedgerEntry.filter(customer_id=customer_id)
        .annotate(total=Sum("points"))
        .first()
        .values("total")
    )
    return int(row["total"] or 0) if row else 0


ADJUST = "adjust"
MAX_ADJUST = 1_000_000


async def adjust(
    customer_id: int, delta: int, *, at: datetime, reason: str, key: str | None
) -> LedgerEntry:
    """An owner's manual correction: a credit in a new lot, or a debit that never goes below zero
    (``NotEnoughPoints``). Adjustments do not count towards tiers, and one is at most
    ``MAX_ADJUST`` points either way (a typo should not mint a fortune)."""
    if delta == 0 or abs(delta) > MAX_ADJUST:
        raise LedgerError(f"adjustment must be 1..{MAX_ADJUST} points either way")
    if delta > 0:
        return await earn(customer_id, delta, at=at, key=key, kind=ADJUST, note=reason[:255])
    return await spend(customer_id, -delta, at=at, key=key, kind=ADJUST, note=reason[:255])
