"""The till's rules without a chat: amounts, earning, idempotency, undo, staff invites."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locales import format_number
from loyalty import ledger, staff
from loyalty.purchases import PurchaseRefused, award_purchase, parse_amount, undo_last
from loyalty.rules import points_for
from models.audit import AuditEntry
from models.members import ChannelAccount, Customer
from models.purchases import Purchase
from models.staff import StaffMember

AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("85000", 85_000),
        ("85k", 85_000),
        ("85K", 85_000),
        ("85.000", 85_000),
        ("85,000", 85_000),
        ("85 000 ₫", 85_000),
        ("1.250.000đ", 1_250_000),
        ("120 nghìn", 120_000),
        ("0", 0),
    ],
)
def test_amounts_as_cashiers_type_them(typed: str, amount: int) -> None:
    assert parse_amount(typed) == amount


@pytest.mark.parametrize("typed", ["", "abc", "85.5", "-5000", "85,00", "1e6", "85kk", "8 5", "½"])
def test_amounts_that_are_refused(typed: str) -> None:
    with pytest.raises(PurchaseRefused):
        parse_amount(typed)


@given(st.integers(0, 10**12))
def test_every_formatted_amount_reads_back(amount: int) -> None:
    assert parse_amount(format_number(amount, "vi")) == amount
    assert parse_amount(format_number(amount, "en")) == amount
    assert parse_amount(str(amount)) == amount


@given(amount=st.integers(0, 10**9), rate=st.integers(1, 100_000), pct=st.integers(100, 300))
def test_points_never_exceed_the_exact_value(amount: int, rate: int, pct: int) -> None:
    points = points_for(amount, rate, pct)
    assert 0 <= points <= amount * pct // (rate * 100)
    assert points_for(85_000, 1000, 125) == 106


async def make_cashier(role: str = staff.CASHIER, external: str = "900") -> StaffMember:
    account = await ChannelAccount.create(
        channel="telegram", external_id=external, chat_id=external
    )
    return await StaffMember.create(account_id=account.id, role=role)


async def test_purchase_earns_at_tier_rate_and_is_recorded_once(db: str) -> None:
    customer = await Customer.create(display_name="Lan")
    cashier = await make_cashier()
    first = await award_purchase(customer, 85_000, cashier=cashier, key="k1", at=AT, zone=ZONE)
    again = await award_purchase(customer, 85_000, cashier=cashier, key="k1", at=AT, zone=ZONE)
    assert (first.new, again.new) == (True, False)
    assert first.points == again.points == 85 and first.balance == 85
    assert await Purchase.all().count() == 1
    await ledger.earn(customer.id, 10_000, at=AT, key="seed")  # Gold now
    gold = await award_purchase(customer, 85_000, cashier=cashier, key="k2", at=AT, zone=ZONE)
    assert gold.points == 106 and gold.tier_before.code == "gold"
    assert await AuditEntry.filter(action="purchase.record").count() == 2


async def test_tier_up_is_reported(db: str) -> None:
    customer = await Customer.create(display_name="Lan")
    cashier = await make_cashier()
    await award_purchase(customer, 2_500_000, cashier=cashier, key="a", at=AT, zone=ZONE)
    result = await award_purchase(customer, 600_000, cashier=cashier, key="b", at=AT, zone=ZONE)
    assert result.tier_up and result.progress.current.code == "silver"


async def test_limits(db: str) -> None:
    customer = await Customer.create(display_name="Lan")
    cashier = await make_cashier()
    for amount, reason in (
        (0, "amount-positive"),
        (-1, "amount-positive"),
        (5_000_001, "amount-too-big"),
    ):
        with pytest.raises(PurchaseRefused) as caught:
            await award_purchase(
                customer, amount, cashier=cashier, key=f"x{amount}", at=AT, zone=ZONE
            )
        assert caught.value.reason == reason
    await ChannelAccount.filter(id=cashier.account_id).update(customer_id=customer.id)
    with pytest.raises(PurchaseRefused, match="own-account"):
        await award_purchase(customer, 50_000, cashier=cashier, key="own", at=AT, zone=ZONE)
    assert await Purchase.all().count() == 0 and (await Customer.get()).points_balance == 0


async def test_more_than_the_daily_limit_is_flagged(db: str) -> None:
    customer = await Customer.create(display_name="Lan")
    cashier = await make_cashier()
    results = [
        await award_purchase(
            customer, 30_000, cashier=cashier, key=f"d{i}", at=AT + timedelta(minutes=i), zone=ZONE
        )
        for i in range(4)
    ]
    assert [r.suspicious for r in results] == [False, False, False, True]


async def test_the_daily_count_starts_at_local_midnight(db: str) -> None:
    """Stored times are UTC text on SQLite: a local-midnight bound must be compared in UTC too."""
    customer = await Customer.create(display_name="Lan")
    cashier = await make_cashier()
    late = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)  # 23:30 local on the 22nd
    for i in range(3):
        await award_purchase(
            customer,
            30_000,
            cashier=cashier,
            key=f"n{i}",
            at=late + timedelta(minutes=i),
            zone=ZONE,
        )
    after = late + timedelta(hours=1)  # 00:30 local on the 23rd: a new day
    first_of_day = await award_purchase(
        customer, 30_000, cashier=cashier, key="m", at=after, zone=ZONE
    )
    assert first_of_day.purchases_today == 1 and not first_of_day.suspicious


async def test_twenty_taps_one_purchase_fifty_purchases_exact_balance(db: str) -> None:
    customer = await Customer.create(display_name="Lan")
    cashier = await make_cashier()
    same = await asyncio.gather(
        *(
            award_purchase(customer, 45_000, cashier=cashier, key="tap", at=AT, zone=ZONE)
            for _ in range(20)
        )
    )
    assert len({r.purchase.id for r in same}) == 1
    assert sum(r.new for r in same) == 1
    await asyncio.gather(
        *(
            award_purchase(
                customer, 10_000 + i * 1000, cashier=cashier, key=f"p{i}", at=AT, zone=ZONE
            )
            for i in range(50)
        )
    )
    expected = 45 + sum(10 + i for i in range(50))
    assert (await Customer.get()).points_balance == expected
    assert await ledger.ledger_sum(customer.id) == expected
    assert await Purchase.all().count() == 51


async def test_undo_takes_back_only_what_is_left(db: str) -> None:
    customer = await Customer.create(display_name="Lan")
    cashier = await make_cashier()
    await award_purchase(customer, 100_000, cashier=cashier, key="u1", at=AT, zone=ZONE)
    await ledger.spend(customer.id, 70, at=AT + timedelta(minutes=1))
    undone = await undo_last(cashier, AT + timedelta(minutes=5))
    assert (undone.taken_back, undone.shortfall, undone.balance) == (30, 70, 0)
    with pytest.raises(PurchaseRefused, match="nothing-to-undo"):
        await undo_last(cashier, AT + timedelta(minutes=6))
    assert (await Purchase.get()).voided_at is not None


async def test_undo_only_within_the_window_and_only_own_purchases(db: str) -> None:
    customer = await Customer.create(display_name="Lan")
    cashier = await make_cashier()
    other = await make_cashier(external="901")
    await award_purchase(customer, 100_000, cashier=cashier, key="w", at=AT, zone=ZONE)
    with pytest.raises(PurchaseRefused):
        await undo_last(other, AT + timedelta(minutes=1))
    with pytest.raises(PurchaseRefused):
        await undo_last(cashier, AT + timedelta(minutes=16))
    assert (await Customer.get()).points_balance == 100


async def test_invite_works_once_and_expires(db: str) -> None:
    owner_account = await ChannelAccount.create(channel="telegram", external_id="1", chat_id="1")
    owner, created = await staff.ensure_owner(owner_account, AT)
    assert created and not (await staff.ensure_owner(owner_account, AT))[1]
    token = await staff.create_invite(owner, staff.CASHIER, None, AT)
    first = await ChannelAccount.create(channel="telegram", external_id="2", chat_id="2")
    second = await ChannelAccount.create(channel="telegram", external_id="3", chat_id="3")
    results = await asyncio.gather(
        staff.accept_invite(token, first, AT),
        staff.accept_invite(token, second, AT),
        return_exceptions=True,
    )
    assert sum(isinstance(r, StaffMember) for r in results) == 1
    assert sum(isinstance(r, staff.StaffError) for r in results) == 1
    late = await staff.create_invite(owner, staff.MANAGER, None, AT)
    with pytest.raises(staff.StaffError, match="invite-expired"):
        await staff.accept_invite(late, second, AT + timedelta(hours=25))
    with pytest.raises(staff.StaffError, match="invite-invalid"):
        await staff.accept_invite("forged", second, AT)


async def test_who_may_manage_whom(db: str) -> None:
    manager = await make_cashier(role=staff.MANAGER)
    with pytest.raises(staff.StaffError, match="not-allowed"):
        await staff.create_invite(manager, staff.MANAGER, None, AT)
    cashier = await make_cashier(external="902")
    with pytest.raises(staff.StaffError, match="not-allowed"):
        await staff.create_invite(cashier, staff.CASHIER, None, AT)
    removed = await staff.remove(manager, cashier.id, AT)
    assert removed.removed_at is not None
    account = await ChannelAccount.get(id=cashier.account_id)
    assert await staff.role_of(account) is None
    owner = await make_cashier(role=staff.OWNER, external="903")
    with pytest.raises(staff.StaffError, match="not-allowed"):
        await staff.remove(manager, owner.id, AT)


async def test_referral_reward_is_claimed_once_under_concurrency(db: str) -> None:
    from loyalty import referrals

    lan = await Customer.create(display_name="Lan")
    friend = await Customer.create(display_name="Bình")
    code = await referrals.code_of(lan)
    assert code == await referrals.code_of(lan) and len(code) == 8
    assert not await referrals.link_new_member(lan, code)  # nobody refers themselves
    assert not await referrals.link_new_member(friend, "NOPE1234")
    assert await referrals.link_new_member(friend, code.lower())
    assert not await referrals.link_new_member(friend, code)  # linked once
    cashier = await make_cashier()
    results = await asyncio.gather(
        *(
            award_purchase(friend, 30_000, cashier=cashier, key=f"r{i}", at=AT, zone=ZONE)
            for i in range(10)
        )
    )
    assert sum(r.referral is not None for r in results) == 1
    assert (await Customer.get(id=lan.id)).points_balance == 200
    assert (await Customer.get(id=friend.id)).points_balance == 10 * 30 + 200
    for customer_id in (lan.id, friend.id):
        assert (
            await ledger.ledger_sum(customer_id)
            == (await Customer.get(id=customer_id)).points_balance
        )


till_days = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.integers(1_000, 3_000_000)),
        st.tuples(st.just("undo"), st.just(0)),
        st.tuples(st.just("redeem"), st.integers(1, 4_000)),
        st.tuples(st.just("wait"), st.integers(1, 200)),
        st.tuples(st.just("expire"), st.just(0)),
    ),
    min_size=1,
    max_size=20,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=till_days)
async def test_any_till_history_keeps_the_books_straight(
    db: str, script: list[tuple[str, int]]
) -> None:
    from loyalty import tiers
    from models.ledger import PointsLot

    customer = await Customer.create(display_name="Prop")
    cashier = await make_cashier(external=f"c{customer.id}")
    at = AT
    for step, (op, value) in enumerate(script):
        if op == "buy":
            await award_purchase(
                customer, value, cashier=cashier, key=f"{customer.id}-{step}", at=at, zone=ZONE
            )
        elif op == "undo":
            with contextlib.suppress(PurchaseRefused):
                await undo_last(cashier, at)
        elif op == "redeem":
            with contextlib.suppress(ledger.NotEnoughPoints):
                await ledger.spend(customer.id, value, at=at)
        elif op == "wait":
            at += timedelta(days=value)
        else:
            await ledger.expire_due(customer.id, at)
        cached = (await Customer.get(id=customer.id)).points_balance
        lots = sum(lot.remaining for lot in await PointsLot.filter(customer_id=customer.id))
        assert cached == await ledger.ledger_sum(customer.id) == lots >= 0
        progress = await tiers.refresh_tier(customer.id, at)
        earned = await tiers.qualifying_points(customer.id, at)
        assert progress.current == tiers.tier_for(earned, await tiers.current_rules())
