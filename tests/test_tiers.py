"""Tier rules: by points earned in the last 12 months, never by balance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from loyalty import ledger, tiers
from loyalty.tiers import DEFAULT_TIERS, TierRule, progress_bar, progress_for, tier_for
from models.ledger import Tier
from models.members import Customer

AT = datetime(2026, 11, 22, tzinfo=UTC)
rule_sets = st.lists(
    st.tuples(st.integers(0, 100_000), st.integers(100, 300)),
    min_size=1,
    max_size=6,
    unique_by=lambda r: r[0],
).map(lambda rows: [TierRule(f"t{i}", f"v{i}", f"e{i}", th, m) for i, (th, m) in enumerate(rows)])


@given(earned=st.integers(0, 200_000), more=st.integers(0, 50_000), rules=rule_sets)
def test_tier_is_monotonic_and_reached(earned: int, more: int, rules: list[TierRule]) -> None:
    low, high = tier_for(earned, rules), tier_for(earned + more, rules)
    assert high.threshold >= low.threshold
    lowest = min(rules, key=lambda r: r.threshold)
    assert low.threshold <= earned or low == lowest
    assert not any(low.threshold < r.threshold <= earned for r in rules)


@given(earned=st.integers(0, 200_000))
def test_progress_adds_up(earned: int) -> None:
    progress = progress_for(earned, DEFAULT_TIERS)
    assert 0 <= progress.percent <= 100
    assert len(progress_bar(progress.percent)) == 10
    if progress.next is None:
        assert progress.current.code == "platinum" and progress.to_next == 0
    else:
        assert progress.earned + progress.to_next == progress.next.threshold
        assert progress.to_next > 0


def test_default_thresholds_are_the_documented_ones() -> None:
    assert [(r.code, r.threshold, r.multiplier_pct) for r in DEFAULT_TIERS] == [
        ("member", 0, 100),
        ("silver", 3_000, 110),
        ("gold", 10_000, 125),
        ("platinum", 30_000, 150),
    ]
    assert progress_bar(0) == "░" * 10 and progress_bar(100) == "▓" * 10


async def test_tier_follows_earnings_not_balance_and_the_window_rolls(db: str) -> None:
    customer = await Customer.create(display_name="Minh")
    await ledger.earn(customer.id, 12000, at=AT - timedelta(days=300))
    assert (await tiers.refresh_tier(customer.id, AT)).current.code == "gold"
    await ledger.spend(customer.id, 11000, at=AT)  # spending on rewards does not demote
    assert (await tiers.refresh_tier(customer.id, AT)).current.code == "gold"
    await ledger.earn(customer.id, 5, at=AT, kind="gift")  # gifts do not count
    later = AT + timedelta(days=70)  # the 12000 left the 12-month window
    progress = await tiers.refresh_tier(customer.id, later)
    assert progress.current.code == "member" and progress.earned == 0
    assert (await Customer.get(id=customer.id)).tier_code == "member"


async def test_owner_edits_survive_reseeding(db: str) -> None:
    await Tier.filter(code="silver").update(threshold=500)
    await tiers.ensure_default_tiers()
    rules = await tiers.current_rules()
    assert [r.threshold for r in rules] == [0, 500, 10_000, 30_000]
