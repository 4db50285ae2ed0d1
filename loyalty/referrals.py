"""Referrals: a member's personal link brings a friend; the friend's first purchase rewards both.

Once, ever: the reward is claimed by a conditional UPDATE on the friend's row inside the purchase's
transaction, and each credit carries an idempotency key. Only people who were not yet members can
be referred, so nobody can refer themselves or an existing member.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from loyalty import ledger
from models.members import Customer
from models.staff import ProgramRules

REF_PREFIX = "ref_"
REFERRAL = "referral"
#: No 0/O or 1/I/L: codes are sometimes read aloud or typed.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


@dataclass(frozen=True)
class Reward:
    referrer_id: int | None
    referrer_points: int
    friend_points: int


async def code_of(customer: Customer) -> str:
    """The member's referral code, created on first use."""
    if customer.referral_code:
        return customer.referral_code
    while True:
        code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
        try:
            changed = await Customer.filter(id=customer.id, referral_code__isnull=True).update(
                referral_code=code
            )
        except IntegrityError:  # the same code twice: roll again
            continue
        if not changed:  # set concurrently: use theirs
            fresh = await Customer.get(id=customer.id)
            code = fresh.referral_code or code
        customer.referral_code = code
        return code


async def link_new_member(friend: Customer, code: str) -> bool:
    """Record who brought a member who has just joined. False for unknown codes."""
    referrer = await Customer.get_or_none(referral_code=code.upper(), deleted_at__isnull=True)
    if referrer is None or referrer.id == friend.id:
        return False
    changed = await Customer.filter(id=friend.id, referred_by_id__isnull=True).update(
        referred_by_id=referrer.id
    )
    return bool(changed)


async def reward_first_purchase(friend_id: int, at: datetime, rules: ProgramRules) -> Reward | None:
    """Credit both sides for the friend's first purchase (call inside the purchase transaction)."""
    claimed = await Customer.filter(
        id=friend_id, referred_by_id__isnull=False, referral_rewarded_at__isnull=True
    ).update(referral_rewarded_at=at)
    if not claimed:
        return None
    friend = await Customer.get(id=friend_id)
    lifetime = timedelta(days=rules.points_lifetime_days)
    referrer = await Customer.get_or_none(id=friend.referred_by_id, deleted_at__isnull=True)
    if rules.referral_points_friend > 0:
        await ledger.credit(
            friend_id,
            rules.referral_points_friend,
            at=at,
            kind=REFERRAL,
            key=f"referral:{friend_id}:friend",
            lifetime=lifetime,
        )
    referrer_points = rules.referral_points_referrer if referrer is not None else 0
    if referrer is not None and referrer_points > 0:
        await ledger.credit(
            referrer.id,
            referrer_points,
            at=at,
            kind=REFERRAL,
            key=f"referral:{friend_id}:referrer",
            lifetime=lifetime,
            note=f"friend {friend_id}",
        )
    return Reward(
        referrer_id=referrer.id if referrer else None,
        referrer_points=referrer_points,
        friend_points=rules.referral_points_friend,
    )
