"""Rewards and vouchers: points become a voucher, a cashier redeems it exactly once.

* A voucher's QR carries a 128-bit random token; only its SHA-256 is stored. Re-sending a card
  draws it with a fresh token (the old picture stops working), so no raw token is ever kept.
* The short code (10 Crockford base32 characters, ~50 bits) is for reading aloud when a camera
  fails; guessing is throttled per cashier.
* Redemption is one conditional UPDATE (``status = 'issued' AND expires_at > now``): whatever the
  number of cashiers, exactly one wins.
* A voucher copies what it gives from the reward when issued, so later edits change nothing in
  customers' hands. Vouchers from later features (birthday, campaigns) use ``issue`` with their own
  ``reason``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from loyalty import audit, ledger, notices, outbox, tiers
from loyalty.members import hash_token
from loyalty.staff import owner_accounts
from models.ledger import LedgerEntry
from models.members import Customer
from models.rewards import RedeemFailure, Reward, Voucher
from models.staff import StaffMember

PERCENT, AMOUNT, ITEM = "percent", "amount", "item"
KINDS = (PERCENT, AMOUNT, ITEM)
ISSUED, REDEEMED, EXPIRED, VOIDED = "issued", "redeemed", "expired", "voided"
REWARD_REASON = "reward"
REFUND = "refund"
VOUCHER_PREFIX = "v_"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
#: Short-code guessing: this many wrong codes within the window locks ``/redeem`` for the window.
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=10)
MAX_VALID_DAYS = 366


class VoucherError(Exception):
    """Refused; nothing changed. ``reason`` picks the message."""

    def __init__(self, reason: str, voucher: Voucher | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.voucher = voucher


@dataclass(frozen=True)
class Issued:
    voucher: Voucher
    token: str


def new_short_code() -> str:
    return "".join(secrets.choice(CROCKFORD) for _ in range(CODE_LENGTH))


def grouped(code: str) -> str:
    """``7K3M9QXD2F`` -> ``7K3M-9QXD-2F``: easier to read aloud and type."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalize_code(typed: str) -> str | None:
    """What a cashier types, the Crockford way: case, spaces and dashes ignored, I/L read as 1,
    O as 0. None if it cannot be a code."""
    text = "".join(ch for ch in typed.upper() if ch not in " -_.")
    text = text.replace("I", "1").replace("L", "1").replace("O", "0")
    if len(text) != CODE_LENGTH or any(ch not in CROCKFORD for ch in text):
        return None
    return text


# -------------------------------------------------------------------------------- the catalog


def check_value(kind: str, value: int) -> None:
    """What a voucher gives must make sense: 1-100 % off, or at least 1,000 ₫ off. Rewards and
    campaigns' one-off vouchers share this. Raises ``VoucherError``."""
    if kind not in KINDS:
        raise VoucherError("reward-kind")
    if kind == PERCENT and not 1 <= value <= 100:
        raise VoucherError("reward-value")
    if kind == AMOUNT and value < 1000:
        raise VoucherError("reward-value")


def check_reward_terms(
    kind: str, value: int, cost: int, valid_days: int, min_spend: int | None, stock: int | None
) -> None:
    """Refuse a reward nobody could honour. Raises ``VoucherError``."""
    if kind not in KINDS:
        raise VoucherError("reward-kind")
    if cost <= 0:
        raise VoucherError("reward-cost")
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise VoucherError("reward-days")
    check_value(kind, value)
    if (min_spend is not None and min_spend < 0) or (stock is not None and stock < 0):
        raise VoucherError("reward-value")


async def add_reward(
    actor_account_id: int,
    *,
    title: str,
    kind: str,
    value: int,
    cost: int,
    valid_days: int,
    item_name: str = "",
    min_spend: int | None = None,
    stock: int | None = None,
    tier_code: str | None = None,
) -> Reward:
    check_reward_terms(kind, value, cost, valid_days, min_spend, stock)
    clean = " ".join(title.split())[:80]
    if not clean:
        raise VoucherError("reward-title")
    reward = await Reward.create(
        title=clean,
        kind=kind,
        value=0 if kind == ITEM else value,
        item_name=item_name[:64],
        cost_points=cost,
        valid_days=valid_days,
        min_spend_vnd=min_spend,
        stock=stock,
        tier_code=tier_code,
    )
    await audit.record(actor_account_id, "reward.add", clean, reward=reward.id, cost=cost)
    return reward


EDITABLE = ("cost", "days", "minspend", "stock", "tier", "title")


async def edit_reward(actor_account_id: int, reward_id: int, field: str, value: str) -> Reward:
    """One field at a time, checked as a whole reward would be."""
    reward = await Reward.get_or_none(id=reward_id)
    if reward is None:
        raise VoucherError("reward-unknown")
    if field not in EDITABLE:
        raise VoucherError("reward-field")
    if field == "title":
        reward.title = " ".join(value.split())[:80] or reward.title
    elif field == "tier":
        codes = [rule.code for rule in await tiers.current_rules()]
        if value.lower() not in (*codes, "none"):
            raise VoucherError("reward-tier")
        reward.tier_code = None if value.lower() == "none" else value.lower()
    else:
        number = None if value.lower() == "none" else _whole(value)
        if field == "cost":
            reward.cost_points = number if number is not None else -1
        elif field == "days":
            reward.valid_days = number if number is not None else 0
        elif field == "minspend":
            reward.min_spend_vnd = number
        else:
            reward.stock = number
    check_reward_terms(
        reward.kind,
        int(reward.value) if reward.kind != ITEM else 0,
        int(reward.cost_points),
        reward.valid_days,
        reward.min_spend_vnd,
        reward.stock,
    )
    await reward.save()
    await audit.record(actor_account_id, "reward.edit", field, reward=reward.id, value=value[:40])
    return reward


def _whole(text: str) -> int:
    cleaned = text.replace(".", "").replace(",", "")
    if not cleaned.lstrip("-").isdigit():
        raise VoucherError("reward-value")
    return int(cleaned)


async def set_active(actor_account_id: int, reward_id: int, active: bool) -> Reward:
    changed = await Reward.filter(id=reward_id).update(active=active)
    if not changed:
        raise VoucherError("reward-unknown")
    await audit.record(
        actor_account_id, "reward.resume" if active else "reward.pause", "", reward=reward_id
    )
    return await Reward.get(id=reward_id)


async def catalog(include_paused: bool = False) -> list[Reward]:
    query = Reward.all() if include_paused else Reward.filter(active=True)
    return await query.order_by("cost_points", "id")


async def tier_allows(customer: Customer, reward: Reward) -> bool:
    """A tier-restricted reward is for that tier and the ones above it."""
    if reward.tier_code is None:
        return True
    rules = await tiers.current_rules()
    rank = {rule.code: rule.threshold for rule in rules}
    return rank.get(customer.tier_code, 0) >= rank.get(reward.tier_code, 0)


# ------------------------------------------------------------------------------- issuing


async def _new_voucher(
    customer_id: int,
    token: str,
    at: datetime,
    key: str | None,
    *,
    reason: str,
    title: str,
    kind: str,
    value: int,
    item_name: str,
    min_spend: int | None,
    valid_days: int,
    reward_id: int | None = None,
    spend_entry: LedgerEntry | None = None,
) -> Voucher:
    """The row. Short codes are random in 32^10 (a clash fails like a replay, on the index)."""
    return await Voucher.create(
        customer_id=customer_id,
        reward_id=reward_id,
        reason=reason,
        title=title,
        kind=kind,
        value=value,
        item_name=item_name,
        min_spend_vnd=min_spend,
        token_hash=hash_token(token),
        short_code=new_short_code(),
        status=ISSUED,
        issued_at=at,
        expires_at=at + timedelta(days=valid_days),
        spend_entry=spend_entry,
        idempotency_key=key,
    )


async def issue(
    customer_id: int,
    *,
    reason: str,
    title: str,
    kind: str,
    value: int,
    valid_days: int,
    at: datetime,
    key: str,
    item_name: str = "",
    min_spend: int | None = None,
) -> Issued:
    """A voucher the shop gives (birthday, campaign...): no points involved, once per ``key``."""
    existing = await Voucher.get_or_none(idempotency_key=key)
    if existing is not None:
        return Issued(existing, await fresh_token(existing))
    token = secrets.token_urlsafe(16)
    try:
        voucher = await _new_voucher(
            customer_id,
            token,
            at,
            key,
            reason=reason,
            title=title,
            kind=kind,
            value=value,
            item_name=item_name,
            min_spend=min_spend,
            valid_days=valid_days,
        )
        return Issued(voucher, token)
    except IntegrityError:
        existing = await Voucher.get(idempotency_key=key)
        return Issued(existing, await fresh_token(existing))


async def claim_reward(customer: Customer, reward_id: int, *, at: datetime, key: str) -> Issued:
    """Turn points into a voucher, once per ``key``: stock, tier and balance are checked inside
    one transaction, and the points come from the lots that expire first."""
    existing = await Voucher.get_or_none(idempotency_key=key)
    if existing is not None:
        return Issued(existing, await fresh_token(existing))
    reward = await Reward.get_or_none(id=reward_id, active=True)
    if reward is None:
        raise VoucherError("reward-unknown")
    if not await tier_allows(customer, reward):
        raise VoucherError("reward-tier-only")
    token = secrets.token_urlsafe(16)
    try:
        async with in_transaction():
            if reward.stock is not None:
                taken = await Reward.filter(id=reward.id, stock__gt=0).update(stock=F("stock") - 1)
                if not taken:
                    raise VoucherError("reward-out-of-stock")
            try:
                entry = await ledger.debit(
                    customer.id,
                    int(reward.cost_points),
                    at=at,
                    key=f"voucher:{key}",
                    note=f"reward {reward.id}",
                )
            except ledger.NotEnoughPoints as short:
                raise VoucherError("not-enough-points") from short
            voucher = await _new_voucher(
                customer.id,
                token,
                at,
                key,
                reason=REWARD_REASON,
                title=reward.title,
                kind=reward.kind,
                value=int(reward.value),
                item_name=reward.item_name,
                min_spend=reward.min_spend_vnd,
                valid_days=reward.valid_days,
                reward_id=reward.id,
                spend_entry=entry,
            )
    except IntegrityError:
        existing = await Voucher.get_or_none(idempotency_key=key)
        if existing is None:
            raise
        return Issued(existing, await fresh_token(existing))
    return Issued(voucher, token)


async def fresh_token(voucher: Voucher) -> str:
    """A new token for re-sending a card: the old picture stops scanning."""
    token = secrets.token_urlsafe(16)
    await Voucher.filter(id=voucher.id).update(token_hash=hash_token(token))
    voucher.token_hash = hash_token(token)
    return token


def state(voucher: Voucher, at: datetime) -> str:
    """``live``, or why it cannot be used: ``already-redeemed``, ``voided`` or ``expired``."""
    if voucher.status == ISSUED and voucher.expires_at > at:
        return "live"
    return {REDEEMED: "already-redeemed", VOIDED: "voided"}.get(voucher.status, "expired")


def can_claim(balance: int, reward: Reward) -> bool:
    """Affordable and in stock (the tier rule is ``tier_allows``)."""
    return int(reward.cost_points) <= balance and reward.stock != 0


async def live_vouchers(customer_id: int, at: datetime) -> list[Voucher]:
    return await Voucher.filter(customer_id=customer_id, status=ISSUED, expires_at__gt=at).order_by(
        "expires_at"
    )


async def by_token(token: str) -> Voucher | None:
    return await Voucher.get_or_none(token_hash=hash_token(token))


async def by_code(typed: str) -> Voucher | None:
    code = normalize_code(typed)
    return await Voucher.get_or_none(short_code=code) if code else None


# ------------------------------------------------------------------------------ redeeming


async def redeem(voucher_id: int, staff: StaffMember, at: datetime) -> Voucher:
    """Use the voucher: one conditional UPDATE decides who wins. Raises ``VoucherError`` with
    ``already-redeemed``, ``expired`` or ``voided`` (and the voucher, to say when and where).
    The member's "your voucher was used" notice is queued in the same transaction."""
    async with in_transaction():
        won = await Voucher.filter(id=voucher_id, status=ISSUED, expires_at__gt=at).update(
            status=REDEEMED,
            redeemed_at=at,
            redeemed_by_id=staff.id,
            redeemed_store_id=staff.store_id,
        )
        voucher = await Voucher.get(id=voucher_id)
        if won:
            await outbox.to_member(
                voucher.customer_id, notices.voucher_used(voucher.id, voucher.title), at
            )
            await audit.record(
                staff.account_id, "voucher.redeem", voucher.short_code, voucher=voucher.id
            )
    if not won:
        raise VoucherError(state(voucher, at), voucher)
    return voucher


async def guessing_locked(staff: StaffMember, at: datetime) -> bool:
    recent = await RedeemFailure.filter(staff_id=staff.id, at__gt=at - FAILURE_WINDOW).count()
    return recent >= MAX_FAILURES


async def record_failure(staff: StaffMember, at: datetime) -> bool:
    """Count a wrong code. True exactly when this failure locks the cashier; the owners' alert
    is queued with it."""
    async with in_transaction():
        await RedeemFailure.create(staff_id=staff.id, at=at)
        recent = await RedeemFailure.filter(staff_id=staff.id, at__gt=at - FAILURE_WINDOW).count()
        locks = recent == MAX_FAILURES
        if locks:
            alert = notices.code_guessing(staff.id, at.isoformat(), staff.account_id)
            await outbox.to_accounts(await owner_accounts(), alert, at)
    return locks


async def void(voucher: Voucher, actor_account_id: int, at: datetime) -> LedgerEntry | None:
    """Cancel a live voucher. A reward voucher gives its points back as a new lot (so they get a
    fresh expiry). Returns the refund entry, if any. The member is told in the same transaction."""
    async with in_transaction():
        changed = await Voucher.filter(id=voucher.id, status=ISSUED).update(status=VOIDED)
        if not changed:
            raise VoucherError("not-live", voucher)
        refund = None
        if voucher.spend_entry_id is not None:
            spent = await LedgerEntry.get(id=voucher.spend_entry_id)
            refund = await ledger.earn(
                voucher.customer_id,
                -int(spent.points),
                at=at,
                key=f"refund:{voucher.id}",
                kind=REFUND,
                note=f"voucher {voucher.id} voided",
            )
        points = int(refund.points) if refund else 0
        notice = notices.voucher_voided(voucher.id, voucher.title, points)
        await outbox.to_member(voucher.customer_id, notice, at)
        await audit.record(
            actor_account_id, "voucher.void", voucher.short_code, voucher=voucher.id, refund=points
        )
    return refund


async def expire_vouchers(at: datetime) -> int:
    """The daily job: mark what ran out, so lists and reports agree with the redeem check."""
    return await Voucher.filter(status=ISSUED, expires_at__lte=at).update(status=EXPIRED)
