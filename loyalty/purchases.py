"""Recording purchases at the till, and undoing a mistake.

A purchase and the points it earns are written in one transaction, keyed by the cashier's purchase
attempt: a double tap, a resent message or a retried request finds the first purchase and changes
nothing. An undo writes a reversing ledger entry (see ``ledger.take_back``), never a deletion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from loyalty import audit, ledger, notices, outbox, referrals, rules, tiers
from loyalty.staff import owner_accounts
from models.ledger import LedgerEntry
from models.members import ChannelAccount, Customer
from models.purchases import Purchase
from models.staff import ProgramRules, StaffMember

_AMOUNT = re.compile(
    r"^\s*(?P<number>\d{1,3}(?:[.,\s]\d{3})+|\d+)\s*(?P<unit>k|K|nghìn|ngàn)?\s*(?:đ|₫|vnd|VND|vnđ|VNĐ)?\s*$"
)


#: ``Purchase.source``: recorded in chat, or pushed by a POS through the API.
TILL, API = "till", "api"


class PurchaseRefused(Exception):
    """Nothing was recorded. ``reason`` picks the message for the cashier."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_amount(text: str) -> int:
    """What a cashier types: ``85000``, ``85k``, ``85.000``, ``85,000``, ``85 000 ₫``.

    Separators must group thousands (``85.5`` is refused rather than guessed). Raises
    ``PurchaseRefused("amount-format")``.
    """
    match = _AMOUNT.match(text)
    if not match:
        raise PurchaseRefused("amount-format")
    amount = int(re.sub(r"[.,\s]", "", match["number"]))
    return amount * 1000 if match["unit"] else amount


@dataclass(frozen=True)
class Recorded:
    """The outcome of ``award_purchase``: what the cashier and the customer are told."""

    purchase: Purchase
    new: bool
    points: int
    balance: int
    tier_before: tiers.TierRule
    progress: tiers.TierProgress
    purchases_today: int
    alert_over: int
    referral: referrals.Reward | None = None

    @property
    def tier_up(self) -> bool:
        return self.new and self.progress.current.threshold > self.tier_before.threshold

    @property
    def suspicious(self) -> bool:
        """More purchases for one member today than the owner's alert threshold."""
        return self.new and self.purchases_today > self.alert_over


@dataclass(frozen=True)
class Quote:
    """What a bill would earn, under the rules and tier in force now."""

    points: int
    program: ProgramRules
    tier: tiers.TierProgress


async def quote(customer: Customer, cashier: StaffMember, amount: int, at: datetime) -> Quote:
    """Refuse what is certainly a mistake or fraud, else say how many points the bill earns.

    The cashier sees this number before confirming, and ``award_purchase`` credits the same.
    """
    program = await rules.current()
    if amount <= 0:
        raise PurchaseRefused("amount-positive")
    if amount > program.max_purchase_vnd:
        raise PurchaseRefused("amount-too-big")
    await check_member(customer, cashier)
    tier = await tiers.refresh_tier(customer.id, at)
    points = rules.points_for(amount, program.earn_vnd_per_point, tier.current.multiplier_pct)
    return Quote(points, program, tier)


async def check_member(customer: Customer, cashier: StaffMember) -> None:
    """May this cashier serve this member at all? Not their own card, not an erased member."""
    own = await ChannelAccount.filter(id=cashier.account_id).values_list("customer_id", flat=True)
    if customer.id in own:
        raise PurchaseRefused("own-account")
    if customer.deleted_at is not None:
        raise PurchaseRefused("member-gone")


async def award_purchase(
    customer: Customer,
    amount: int,
    *,
    cashier: StaffMember,
    key: str,
    at: datetime,
    zone: ZoneInfo,
    items: list[str] | None = None,
    source: str = TILL,
    receipt_id: str | None = None,
) -> Recorded:
    """Record a bill and credit its points at the member's tier multiplier, exactly once per key.

    The purchase, its points, a referral bonus, the tier and the notices (to the member, to the
    referrer, to owners when a member buys suspiciously often) are one transaction.
    """
    priced = await quote(customer, cashier, amount, at)
    existing = await Purchase.get_or_none(idempotency_key=key)
    if existing is not None:
        return await _replayed(existing, priced, at, zone)
    try:
        async with in_transaction():
            bill = _Bill(amount, items or [], source, receipt_id)
            return await _record(customer, bill, priced, cashier, key, at, zone)
    except IntegrityError:
        existing = await Purchase.get_or_none(idempotency_key=key)
        if existing is None:
            raise
        return await _replayed(existing, priced, at, zone)


async def _purchases_today(customer_id: int, at: datetime, zone: ZoneInfo) -> int:
    # In UTC: SQLite compares stored times as text, and they are stored in UTC.
    local_midnight = at.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    local_midnight = local_midnight.astimezone(UTC)
    return await Purchase.filter(
        customer_id=customer_id, created_at__gte=local_midnight, voided_at__isnull=True
    ).count()


async def _replayed(purchase: Purchase, priced: Quote, at: datetime, zone: ZoneInfo) -> Recorded:
    """The first recording's outcome, for a replayed key: nothing is written or sent again."""
    customer_id = purchase.customer_id
    return Recorded(
        purchase=purchase,
        new=False,
        points=int(purchase.points),
        balance=int((await Customer.get(id=customer_id)).points_balance),
        tier_before=priced.tier.current,
        progress=await tiers.refresh_tier(customer_id, at),
        purchases_today=await _purchases_today(customer_id, at, zone),
        alert_over=priced.program.daily_purchases_alert,
    )


@dataclass(frozen=True)
class _Bill:
    """What the till says about one purchase."""

    amount: int
    items: list[str]
    source: str
    receipt_id: str | None


async def _record(
    customer: Customer,
    bill: _Bill,
    priced: Quote,
    cashier: StaffMember,
    key: str,
    at: datetime,
    zone: ZoneInfo,
) -> Recorded:
    """Inside the transaction: every write of one purchase, and the notices it causes."""
    program, points, amount = priced.program, priced.points, bill.amount
    entry = None
    if points > 0:
        entry = await ledger.credit(
            customer.id,
            points,
            at=at,
            key=f"purchase:{key}",
            note=f"{amount} VND",
            lifetime=timedelta(days=program.points_lifetime_days),
        )
    purchase = await Purchase.create(
        customer_id=customer.id,
        store_id=cashier.store_id,
        cashier_id=cashier.id,
        amount_vnd=amount,
        points=points,
        items=bill.items,
        idempotency_key=key,
        earn_entry=entry,
        created_at=at,
        source=bill.source,
        receipt_id=bill.receipt_id,
    )
    reward = await referrals.reward_first_purchase(customer.id, at, program)
    recorded = Recorded(
        purchase=purchase,
        new=True,
        points=points,
        balance=int((await Customer.get(id=customer.id)).points_balance),
        tier_before=priced.tier.current,
        progress=await tiers.refresh_tier(customer.id, at),
        purchases_today=await _purchases_today(customer.id, at, zone),
        alert_over=program.daily_purchases_alert,
        referral=reward,
    )
    await _queue_notices(recorded, customer.id, cashier, at)
    await audit.record(
        cashier.account_id,
        "purchase.record",
        str(customer.id),
        purchase=purchase.id,
        amount=amount,
        points=points,
    )
    return recorded


async def _queue_notices(
    recorded: Recorded, customer_id: int, cashier: StaffMember, at: datetime
) -> None:
    purchase, progress, reward = recorded.purchase, recorded.progress, recorded.referral
    upcoming = progress.next
    await outbox.to_member(
        customer_id,
        notices.earned(
            purchase.id,
            amount=int(purchase.amount_vnd),
            points=recorded.points,
            balance=recorded.balance,
            friend_points=reward.friend_points if reward else 0,
            new_tier=progress.current.code if recorded.tier_up else None,
            next_tier=(upcoming.code, progress.to_next) if upcoming is not None else None,
        ),
        at,
    )
    if reward is not None and reward.referrer_id is not None:
        await outbox.to_member(
            reward.referrer_id, notices.referral_thanks(customer_id, reward.referrer_points), at
        )
    if recorded.suspicious:
        alert = notices.many_purchases(
            purchase.id, customer_id, recorded.purchases_today, cashier.account_id
        )
        await outbox.to_accounts(await owner_accounts(), alert, at)


@dataclass(frozen=True)
class Undone:
    purchase: Purchase
    taken_back: int
    shortfall: int
    balance: int


async def undo_last(cashier: StaffMember, at: datetime) -> Undone:
    """Void this cashier's latest purchase if it is recent enough. Raises ``PurchaseRefused``."""
    program = await rules.current()
    last = (
        await Purchase.filter(
            cashier_id=cashier.id,
            voided_at__isnull=True,
            created_at__gte=at - timedelta(minutes=program.undo_minutes),
        )
        .order_by("-created_at", "-id")
        .first()
    )
    undone = await _void(last, cashier, at, "purchase.undo") if last is not None else None
    if undone is None:
        raise PurchaseRefused("nothing-to-undo")
    return undone


async def refund(purchase_id: int, till: StaffMember, at: datetime) -> Undone:
    """Void a purchase of the till's store (a POS refund), at any later time, exactly once: the
    points go back as ``undo_last`` takes them, and asking again reports that first refund with
    the member's current balance. Raises ``PurchaseRefused("unknown-purchase")`` for a purchase
    of another store, so a key cannot even learn that it exists."""
    purchase = await Purchase.get_or_none(id=purchase_id, store_id=till.store_id)
    if purchase is None or till.store_id is None:
        raise PurchaseRefused("unknown-purchase")
    if purchase.voided_at is None:
        undone = await _void(purchase, till, at, "purchase.refund")
        if undone is not None:
            return undone
        purchase = await Purchase.get(id=purchase_id)
    reversal = await LedgerEntry.get_or_none(idempotency_key=_reversal_key(purchase))
    taken = -int(reversal.points) if reversal else 0
    balance = int((await Customer.get(id=purchase.customer_id)).points_balance)
    return Undone(purchase, taken, int(purchase.points) - taken, balance)


def _reversal_key(purchase: Purchase) -> str:
    return f"undo:{purchase.id}"


async def _void(purchase: Purchase, actor: StaffMember, at: datetime, action: str) -> Undone | None:
    """Void one purchase and take its points back. None when another call voided it first."""
    # One transaction: the conditional void decides which of two concurrent calls wins, and the
    # reversal (keyed by the purchase), the tier and the member's notice go with it.
    async with in_transaction():
        voided = await Purchase.filter(id=purchase.id, voided_at__isnull=True).update(voided_at=at)
        if not voided:
            return None
        taken = 0
        if purchase.earn_entry_id is not None:
            earned = await LedgerEntry.get(id=purchase.earn_entry_id)
            reversal = await ledger.take_back(earned, at=at, key=_reversal_key(purchase))
            taken = -int(reversal.points) if reversal else 0
        await tiers.refresh_tier(purchase.customer_id, at)
        balance = int((await Customer.get(id=purchase.customer_id)).points_balance)
        amount = int(purchase.amount_vnd)
        notice = notices.undone(purchase.id, amount=amount, points=taken, balance=balance)
        await outbox.to_member(purchase.customer_id, notice, at)
        await audit.record(
            actor.account_id, action, str(purchase.customer_id), purchase=purchase.id, points=taken
        )
    purchase.voided_at = at
    return Undone(purchase, taken, int(purchase.points) - taken, balance)
