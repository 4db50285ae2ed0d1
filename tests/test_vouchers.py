"""Rewards and vouchers without a chat: claiming, redeeming once, voiding, expiry, codes."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty import ledger, vouchers
from loyalty.vouchers import VoucherError
from models.ledger import PointsLot
from models.members import ChannelAccount, Customer
from models.rewards import Reward, Voucher
from models.staff import StaffMember

AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


async def cashier(external: str = "900") -> StaffMember:
    account = await ChannelAccount.create(
        channel="telegram", external_id=external, chat_id=external
    )
    return await StaffMember.create(account_id=account.id, role="cashier")


async def reward(**terms: object) -> Reward:
    base: dict[str, object] = {
        "title": "Giảm 20%",
        "kind": "percent",
        "value": 20,
        "cost": 500,
        "valid_days": 30,
    }
    return await vouchers.add_reward(1, **{**base, **terms})  # type: ignore[arg-type]


async def member(points: int = 0) -> Customer:
    customer = await Customer.create(display_name="Lan")
    if points:
        await ledger.earn(customer.id, points, at=AT - timedelta(days=10))
    return await Customer.get(id=customer.id)


def test_short_codes_read_like_crockford() -> None:
    code = vouchers.new_short_code()
    assert len(code) == 10 and set(code) <= set(vouchers.CROCKFORD)
    assert not set("ILOU") & set(vouchers.CROCKFORD)
    assert vouchers.grouped("7K3M9QXD2F") == "7K3M-9QXD-2F"
    assert vouchers.normalize_code("7k3m-9qxd 2f") == "7K3M9QXD2F"
    assert vouchers.normalize_code("lo00-0000-00") == "1000000000"
    for bad in ("", "7K3M", "7K3M9QXD2FF", "UUUUUUUUUU", "7K3M-9QXD-2!"):
        assert vouchers.normalize_code(bad) is None


@given(st.text(max_size=30))
def test_normalize_never_crashes(typed: str) -> None:
    code = vouchers.normalize_code(typed)
    assert code is None or (len(code) == 10 and set(code) <= set(vouchers.CROCKFORD))


async def test_rewards_nobody_could_honour_are_refused(db: str) -> None:
    for terms, reason in (
        ({"cost": -5}, "reward-cost"),
        ({"cost": 0}, "reward-cost"),
        ({"valid_days": 0}, "reward-days"),
        ({"kind": "hug"}, "reward-kind"),
        ({"value": 150}, "reward-value"),
        ({"kind": "amount", "value": 5}, "reward-value"),
        ({"title": "  "}, "reward-title"),
        ({"stock": -1}, "reward-value"),
    ):
        with pytest.raises(VoucherError) as caught:
            await reward(**terms)
        assert caught.value.reason == reason, terms
    assert await Reward.all().count() == 0


async def test_claim_spends_points_and_is_once_per_key(db: str) -> None:
    customer = await member(800)
    offer = await reward()
    first = await vouchers.claim_reward(customer, offer.id, at=AT, key="k1")
    again = await vouchers.claim_reward(customer, offer.id, at=AT, key="k1")
    assert first.voucher.id == again.voucher.id and first.token != again.token
    assert await vouchers.by_token(first.token) is None  # re-sent card: old picture stops
    assert (await vouchers.by_token(again.token)).id == first.voucher.id  # type: ignore[union-attr]
    assert (await Customer.get(id=customer.id)).points_balance == 300
    with pytest.raises(VoucherError, match="not-enough-points"):
        await vouchers.claim_reward(customer, offer.id, at=AT, key="k2")
    assert await Voucher.all().count() == 1
    assert (await Customer.get(id=customer.id)).points_balance == 300


async def test_stock_and_tier_limits(db: str) -> None:
    customer = await member(5000)
    scarce = await reward(stock=1)
    gold_only = await reward(tier_code="gold")
    await vouchers.claim_reward(customer, scarce.id, at=AT, key="s1")
    with pytest.raises(VoucherError, match="reward-out-of-stock"):
        await vouchers.claim_reward(customer, scarce.id, at=AT, key="s2")
    with pytest.raises(VoucherError, match="reward-tier-only"):
        await vouchers.claim_reward(customer, gold_only.id, at=AT, key="g1")
    await Customer.filter(id=customer.id).update(tier_code="platinum")
    customer = await Customer.get(id=customer.id)
    await vouchers.claim_reward(customer, gold_only.id, at=AT, key="g2")
    await vouchers.set_active(1, scarce.id, False)
    with pytest.raises(VoucherError, match="reward-unknown"):
        await vouchers.claim_reward(customer, scarce.id, at=AT, key="s3")
    assert (await Customer.get(id=customer.id)).points_balance == 4000


async def test_fifty_cashiers_one_redemption(db: str) -> None:
    customer = await member(800)
    issued = await vouchers.claim_reward(customer, (await reward()).id, at=AT, key="c")
    staff = [await cashier(str(900 + i)) for i in range(50)]
    results = await asyncio.gather(
        *(vouchers.redeem(issued.voucher.id, s, AT + timedelta(hours=1)) for s in staff),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Voucher) for r in results) == 1
    refusals = [r for r in results if isinstance(r, VoucherError)]
    assert len(refusals) == 49 and {r.reason for r in refusals} == {"already-redeemed"}
    assert (await Voucher.get()).status == "redeemed"


async def test_expired_and_voided_vouchers_cannot_be_redeemed(db: str) -> None:
    customer = await member(2000)
    offer = await reward(valid_days=7)
    old = await vouchers.claim_reward(customer, offer.id, at=AT, key="old")
    with pytest.raises(VoucherError, match="expired"):
        await vouchers.redeem(old.voucher.id, await cashier(), AT + timedelta(days=8))
    assert await vouchers.expire_vouchers(AT + timedelta(days=8)) == 1
    live = await vouchers.claim_reward(customer, offer.id, at=AT, key="live")
    refund = await vouchers.void(live.voucher, 1, AT + timedelta(days=1))
    assert refund is not None and refund.points == 500 and refund.kind == "refund"
    lot = await PointsLot.get(entry_id=refund.id)
    assert lot.expires_at == AT + timedelta(days=1) + ledger.POINTS_LIFETIME  # a new lot
    with pytest.raises(VoucherError, match="voided"):
        await vouchers.redeem(live.voucher.id, await cashier("901"), AT + timedelta(days=1))
    with pytest.raises(VoucherError, match="not-live"):
        await vouchers.void(live.voucher, 1, AT + timedelta(days=1))
    assert (await Customer.get(id=customer.id)).points_balance == 2000 - 500


async def test_guessing_codes_locks_the_cashier(db: str) -> None:
    staff = await cashier()
    locks = [await vouchers.record_failure(staff, AT + timedelta(seconds=i)) for i in range(12)]
    assert locks.count(True) == 1 and locks[9] is True
    assert await vouchers.guessing_locked(staff, AT + timedelta(minutes=1))
    assert not await vouchers.guessing_locked(staff, AT + timedelta(minutes=11))


async def test_shop_given_vouchers_use_the_same_path(db: str) -> None:
    customer = await member()
    gift = await vouchers.issue(
        customer.id,
        reason="birthday",
        title="Bánh sinh nhật",
        kind="item",
        value=0,
        valid_days=14,
        at=AT,
        key="bd:2026:1",
    )
    again = await vouchers.issue(
        customer.id,
        reason="birthday",
        title="Bánh sinh nhật",
        kind="item",
        value=0,
        valid_days=14,
        at=AT,
        key="bd:2026:1",
    )
    assert gift.voucher.id == again.voucher.id and gift.voucher.spend_entry_id is None
    assert await vouchers.void(again.voucher, 1, AT) is None  # nothing to refund


claims = st.lists(
    st.one_of(
        st.tuples(st.just("claim"), st.integers(1, 3)),
        st.tuples(st.just("void"), st.integers(0, 5)),
        st.tuples(st.just("earn"), st.integers(1, 2000)),
        st.tuples(st.just("wait"), st.integers(1, 200)),
    ),
    min_size=1,
    max_size=15,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=claims)
async def test_vouchers_and_refunds_keep_the_ledger_straight(
    db: str, script: list[tuple[str, int]]
) -> None:
    customer = await member()
    offers = [await reward(cost=cost) for cost in (100, 400, 900)]
    issued: list[Voucher] = []
    at = AT
    for step, (op, value) in enumerate(script):
        if op == "claim":
            with contextlib.suppress(VoucherError):
                fresh = await Customer.get(id=customer.id)
                made = await vouchers.claim_reward(
                    fresh, offers[value - 1].id, at=at, key=f"{customer.id}-{step}"
                )
                issued.append(made.voucher)
        elif op == "void" and issued:
            with contextlib.suppress(VoucherError):
                await vouchers.void(issued[value % len(issued)], 1, at)
        elif op == "earn":
            await ledger.earn(customer.id, value, at=at)
        else:
            at += timedelta(days=value)
        cached = (await Customer.get(id=customer.id)).points_balance
        lots = sum(lot.remaining for lot in await PointsLot.filter(customer_id=customer.id))
        assert cached == await ledger.ledger_sum(customer.id) == lots >= 0


async def test_voucher_state_and_claimability(db: str) -> None:
    customer = await member(600)
    offer = await reward(stock=2)
    issued = await vouchers.claim_reward(customer, offer.id, at=AT, key="st")
    voucher = issued.voucher
    assert vouchers.state(voucher, AT) == "live"
    assert vouchers.state(voucher, voucher.expires_at) == "expired"
    assert vouchers.can_claim(500, offer) and not vouchers.can_claim(499, offer)
    await Reward.filter(id=offer.id).update(stock=0)
    assert not vouchers.can_claim(10_000, await Reward.get(id=offer.id))
    await vouchers.redeem(voucher.id, await cashier(), AT)
    assert vouchers.state(await Voucher.get(id=voucher.id), AT) == "already-redeemed"


async def test_adjustments_are_capped(db: str) -> None:
    customer = await member()
    for delta in (0, ledger.MAX_ADJUST + 1, -ledger.MAX_ADJUST - 1):
        with pytest.raises(ledger.LedgerError):
            await ledger.adjust(customer.id, delta, at=AT, reason="typo", key=None)
    assert (await Customer.get(id=customer.id)).points_balance == 0
