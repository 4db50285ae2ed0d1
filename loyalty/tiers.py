"""Tiers: reached by points *earned* in the last 12 months, never by the spendable balance.

Spending points on a reward must not demote anyone, and a member who stops coming drifts down as
old earnings leave the window: that is the rule the owner explains at the till. Thresholds and earn
multipliers live in the ``tier`` table (the defaults below are seeded once, owners edit them later).
Multipliers are integer percentages so earning stays integer arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.functions import Sum

from models.ledger import LedgerEntry, Tier
from models.members import Customer

TIER_WINDOW = timedelta(days=365)
#: Ledger kinds that count towards a tier (purchases and their reversals, not gifts or spending).
QUALIFYING_KINDS = ("earn", "earn_reversal")


@dataclass(frozen=True)
class TierRule:
    code: str
    name_vi: str
    name_en: str
    threshold: int
    multiplier_pct: int

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en


#: At the default earn rate of 1 point per 1.000 ₫, Silver is about 3 million ₫ a year
#: (a coffee a week), Gold 10 million, Platinum 30 million.
DEFAULT_TIERS = (
    TierRule("member", "Thành viên", "Member", 0, 100),
    TierRule("silver", "Bạc", "Silver", 3_000, 110),
    TierRule("gold", "Vàng", "Gold", 10_000, 125),
    TierRule("platinum", "Bạch kim", "Platinum", 30_000, 150),
)


@dataclass(frozen=True)
class TierProgress:
    """Where a member stands: their tier, the next one, and how far away it is."""

    current: TierRule
    next: TierRule | None
    earned: int

    @property
    def to_next(self) -> int:
        return max(0, self.next.threshold - self.earned) if self.next else 0

    @property
    def percent(self) -> int:
        """Progress from the current threshold to the next, 0-100 (100 at the top tier)."""
        if self.next is None:
            return 100
        span = self.next.threshold - self.current.threshold
        return min(100, max(0, (self.earned - self.current.threshold) * 100 // span))


def tier_for(earned: int, rules: Sequence[TierRule]) -> TierRule:
    """The highest tier whose threshold ``earned`` reaches (the lowest tier if none)."""
    ordered = sorted(rules, key=lambda rule: rule.threshold)
    reached = [rule for rule in ordered if rule.threshold <= earned]
    return reached[-1] if reached else ordered[0]


def progress_for(earned: int, rules: Sequence[TierRule]) -> TierProgress:
    current = tier_for(earned, rules)
    higher = sorted(
        (rule for rule in rules if rule.threshold > current.threshold), key=lambda r: r.threshold
    )
    return TierProgress(current=current, next=higher[0] if higher else None, earned=earned)


def progress_bar(percent: int, width: int = 10) -> str:
    """A bar that renders the same in any chat app: ``▓▓▓▓░░░░░░``."""
    filled = max(0, min(width, percent * width // 100))
    return "▓" * filled + "░" * (width - filled)


async def ensure_default_tiers() -> None:
    """Seed the default tiers into an empty table (owners' later edits are never overwritten)."""
    if await Tier.all().exists():
        return
    await Tier.bulk_create(
        [
            Tier(
                code=rule.code,
                name_vi=rule.name_vi,
                name_en=rule.name_en,
                threshold=rule.threshold,
                multiplier_pct=rule.multiplier_pct,
            )
            for rule in DEFAULT_TIERS
        ]
    )


async def current_rules() -> list[TierRule]:
    rows = await Tier.all().order_by("threshold")
    if not rows:
        return list(DEFAULT_TIERS)
    return [
        TierRule(row.code, row.name_vi, row.name_en, int(row.threshold), row.multiplier_pct)
        for row in rows
    ]


async def name_of(code: str, language: str) -> str:
    """A tier's name in ``language`` (the code itself if the tier no longer exists)."""
    for rule in await current_rules():
        if rule.code == code:
            return rule.name(language)
    return code


async def qualifying_points(customer_id: int, at: datetime) -> int:
    """Points earned from purchases in the 12 months up to ``at``."""
    rows = (
        await LedgerEntry.filter(
            customer_id=customer_id,
            kind__in=QUALIFYING_KINDS,
            created_at__gt=at - TIER_WINDOW,
            created_at__lte=at,
        )
        .annotate(total=Sum("points"))
        .first()
        .values("total")
    )
    return int(rows["total"] or 0) if rows else 0


async def refresh_tier(customer_id: int, at: datetime) -> TierProgress:
    """Recompute a member's tier from the rules and store it. Returns the fresh progress."""
    progress = progress_for(await qualifying_points(customer_id, at), await current_rules())
    await (
        Customer.filter(id=customer_id)
        .exclude(tier_code=progress.current.code)
        .update(tier_code=progress.current.code)
    )
    return progress
