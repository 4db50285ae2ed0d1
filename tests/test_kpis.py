"""Shop KPIs on small hand-made histories whose answers are counted by hand in the comments."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty import kpis, vouchers
from loyalty.kpis import Cohort
from models.analytics import MemberInsight
from models.members import ChannelAccount, Customer
from models.purchases import Purchase
from models.rewards import Reward, Voucher
from models.staff import Store
from tests.conftest import FakeClock

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
keys = itertools.count()


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment on the shop's wall clock."""
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


#: November 2026 in the shop: [1 Nov 00:00, 1 Dec 00:00) local.
START, END = local(2026, 11, 1), local(2026, 12, 1)


async def member(name: str, joined: datetime, *, points: int = 0, erased: bool = False) -> int:
    customer = await Customer.create(
        display_name=name,
        joined_at=joined,
        points_balance=points,
        deleted_at=joined + timedelta(days=1) if erased else None,
    )
    return customer.id


async def buy(
    customer_id: int,
    at: datetime,
    amount: int,
    *,
    store: Store | None = None,
    voided: bool = False,
) -> None:
    await Purchase.create(
        customer_id=customer_id,
        store_id=store.id if store else None,
        amount_vnd=amount,
        points=amount // 1000,
        idempotency_key=f"test-{next(keys)}",
        created_at=at,
        voided_at=at + timedelta(minutes=5) if voided else None,
    )


async def give_voucher(customer_id: int, at: datetime, status: str = vouchers.ISSUED) -> None:
    issued = await vouchers.issue(
        customer_id,
        reason="campaign",
        title="Giảm 20.000 ₫",
        kind=vouchers.AMOUNT,
        value=20_000,
        valid_days=30,
        at=at,
        key=f"voucher-{next(keys)}",
    )
    if status == vouchers.REDEEMED:
        redeemed_at = (at + timedelta(days=2)).astimezone(UTC)
        await Voucher.filter(id=issued.voucher.id).update(status=status, redeemed_at=redeemed_at)
    elif status != vouchers.ISSUED:
        await Voucher.filter(id=issued.voucher.id).update(status=status)


async def november_shop() -> tuple[Store, Store]:
    """Five members, an erased one, one joining too late; two stores; a reward catalog.

    Windows for ``END`` (1 Dec local): recent = [1 Nov, 1 Dec), earlier = [2 Oct, 1 Nov) local
    (30 and 60 days before ``END``; November has 30 days, so "recent" is November itself).
    """
    a, b = await Store.create(name="Quận 1"), await Store.create(name="Quận 3")
    an = await member("An", local(2026, 9, 1), points=1000)
    binh = await member("Bình", local(2026, 10, 1), points=500)
    chi = await member("Chi", local(2026, 11, 3))
    await member("Dũng", local(2026, 11, 25))  # new, never bought
    hoa = await member("Hoa", local(2026, 9, 10))
    em = await member("Em", local(2026, 8, 1), points=9999, erased=True)
    await member("Giang", local(2026, 12, 5))  # joins after the period

    await buy(an, local(2026, 10, 10), 50_000, store=a)  # earlier window
    await buy(an, START, 60_000, store=a)  # exactly at the start: in
    await buy(an, local(2026, 11, 20), 40_000, store=b)
    await buy(an, END, 999_000, store=a)  # exactly at the end: next period
    await buy(binh, local(2026, 10, 15), 30_000, store=a)  # earlier window, then gone
    await buy(binh, local(2026, 11, 12), 100_000, store=a, voided=True)
    await buy(chi, local(2026, 11, 10), 45_000, store=b)
    await buy(hoa, local(2026, 10, 20), 20_000, store=a)  # earlier window, then gone
    await buy(em, local(2026, 11, 8), 70_000, store=a)  # erased: revenue yes, member no

    # Issued in November: 3 redeemed, 1 expired, 1 live, 1 voided (left out). One from October.
    for status in ("redeemed", "redeemed", "redeemed", "expired", "issued", "voided"):
        await give_voucher(an, local(2026, 11, 5), status)
    await give_voucher(an, local(2026, 10, 31, 23, 59), "redeemed")

    owner = await ChannelAccount.create(channel="telegram", external_id="1", chat_id="1")
    # 20 and 40 VND per point: a mean of 30. The paused and the percent rewards do not count.
    await vouchers.add_reward(
        owner.id, title="Giảm 20k", kind="amount", value=20_000, cost=1000, valid_days=30
    )
    await vouchers.add_reward(
        owner.id, title="Giảm 10k", kind="amount", value=10_000, cost=250, valid_days=30
    )
    paused = await vouchers.add_reward(
        owner.id, title="Giảm 100k", kind="amount", value=100_000, cost=100, valid_days=30
    )
    await Reward.filter(id=paused.id).update(active=False)
    await vouchers.add_reward(
        owner.id, title="Giảm 20%", kind="percent", value=20, cost=10, valid_days=30
    )
    return a, b


async def test_every_kpi_of_a_month(db: str) -> None:
    await november_shop()
    result = await kpis.shop_kpis(START, END)
    assert result.start == START and result.end == END and result.store_id is None
    assert result.members == 5  # An, Bình, Chi, Dũng, Hoa
    assert result.new_members == 2  # Chi, Dũng
    assert result.active_members == 2  # An, Chi (Em is erased)
    assert result.purchases == 4  # An x2, Chi, Em: not the voided bill, not the one at END
    assert result.revenue_vnd == 60_000 + 40_000 + 45_000 + 70_000
    assert result.average_order_vnd == 215_000 // 4
    assert result.repeat_rate == pytest.approx(1 / 2)  # An twice, Chi once
    assert result.redemption_rate == pytest.approx(3 / 5)
    assert result.churn_rate == pytest.approx(2 / 3)  # An, Bình, Hoa in October: Bình, Hoa gone
    assert result.points_outstanding == 1500  # not Em's 9999
    assert result.points_liability_vnd == 1500 * 30


async def test_store_filter_narrows_purchases_and_activity(db: str) -> None:
    a, b = await november_shop()
    at_a = await kpis.shop_kpis(START, END, store_id=a.id)
    assert at_a.store_id == a.id
    assert (at_a.members, at_a.points_outstanding) == (5, 1500)  # membership is shop-wide
    assert (at_a.purchases, at_a.revenue_vnd, at_a.average_order_vnd) == (2, 130_000, 65_000)
    assert (at_a.active_members, at_a.new_members) == (1, 0)
    assert at_a.repeat_rate == 0.0  # An bought once at Quận 1 in November
    assert at_a.churn_rate == pytest.approx(2 / 3)  # same three in October, all at Quận 1
    assert at_a.redemption_rate == pytest.approx(3 / 5)  # vouchers are shop-wide

    at_b = await kpis.shop_kpis(START, END, store_id=b.id)
    assert (at_b.purchases, at_b.revenue_vnd, at_b.average_order_vnd) == (2, 85_000, 42_500)
    assert (at_b.active_members, at_b.new_members) == (2, 1)  # Chi joined and bought there
    assert at_b.repeat_rate == 0.0
    assert at_b.churn_rate is None  # nobody bought at Quận 3 in October


async def test_an_empty_shop_has_zeros_and_no_rates(db: str) -> None:
    result = await kpis.shop_kpis(START, END)
    assert (result.members, result.active_members, result.new_members) == (0, 0, 0)
    assert (result.purchases, result.revenue_vnd, result.average_order_vnd) == (0, 0, 0)
    assert result.repeat_rate is None and result.churn_rate is None
    assert result.redemption_rate is None
    assert result.points_outstanding == 0 and result.points_liability_vnd is None
    assert await kpis.retention_by_segment(END) == {}
    assert await kpis.cohort_retention(END, ZONE) == []
    series = await kpis.visits_and_revenue(START, END, ZONE)
    assert [day for day, _, _ in series] == [date(2026, 11, d) for d in (1, 8, 15, 22, 29)]
    assert all(n == 0 and vnd == 0 for _, n, vnd in series)


async def test_bounds_must_be_aware_and_ordered(db: str) -> None:
    with pytest.raises(ValueError):
        await kpis.shop_kpis(END, START)
    with pytest.raises(ValueError):
        await kpis.shop_kpis(datetime(2026, 11, 1), datetime(2026, 12, 1))


async def test_retention_by_segment(db: str, clock: FakeClock) -> None:
    now = clock.now
    rows = [
        ("champions", now - timedelta(days=1), False, False),
        ("champions", now - timedelta(days=29), False, False),
        ("champions", now - timedelta(days=31), False, False),  # outside the 30 days
        ("champions", now - timedelta(days=2), True, False),  # voided: not a visit
        ("champions", now - timedelta(days=1), False, True),  # erased: left out
        ("lost", now - timedelta(days=200), False, False),
    ]
    for index, (segment, at, voided, erased) in enumerate(rows):
        customer_id = await member(f"m{index}", now - timedelta(days=300), erased=erased)
        await buy(customer_id, at, 30_000, voided=voided)
        await MemberInsight.create(customer_id=customer_id, as_of=now, segment=segment)
    found = await kpis.retention_by_segment(now)
    assert found == {"champions": (4, 2), "lost": (1, 0)}
    assert list(found) == ["champions", "lost"]  # largest first


async def test_cohorts_follow_local_months(db: str, clock: FakeClock) -> None:
    """``clock.now`` is 22 Nov 2026, 10:00 local: six months are June to November."""
    x = await member("X", local(2026, 1, 1))
    await buy(x, local(2026, 8, 31, 23, 30), 10_000)  # 16:30 UTC, still August locally
    await buy(x, local(2026, 9, 30, 23, 30), 10_000)  # September
    await buy(x, local(2026, 11, 1, 0, 10), 10_000)  # 31 Oct in UTC, November locally
    z = await member("Z", local(2026, 1, 1))
    await buy(z, local(2026, 8, 15), 10_000)
    await buy(z, local(2026, 8, 20), 10_000)
    y = await member("Y", local(2026, 1, 1))
    await buy(y, local(2026, 9, 1, 0, 30), 10_000)  # 31 Aug in UTC, September locally
    await buy(y, local(2026, 10, 5), 10_000)
    await buy(y, local(2026, 11, 25), 10_000)  # after now: not seen
    w = await member("W", local(2026, 1, 1))
    await buy(w, local(2026, 4, 2), 10_000)  # first bought before the six months
    await buy(w, local(2026, 8, 2), 10_000)
    v = await member("V", local(2026, 1, 1))
    await buy(v, local(2026, 7, 2), 10_000, voided=True)
    await buy(v, local(2026, 10, 10), 10_000)
    gone = await member("Erased", local(2026, 1, 1), erased=True)
    await buy(gone, local(2026, 10, 12), 10_000)
    u = await member("U", local(2026, 1, 1))
    await buy(u, local(2026, 11, 2), 10_000)

    assert await kpis.cohort_retention(clock.now, ZONE) == [
        Cohort(date(2026, 8, 1), 2, [1.0, 0.5, 0.0, 0.5]),
        Cohort(date(2026, 9, 1), 1, [1.0, 1.0, 0.0]),
        Cohort(date(2026, 10, 1), 1, [1.0, 0.0]),
        Cohort(date(2026, 11, 1), 1, [1.0]),
    ]
    # Three months: X and Z first bought in August, before the window.
    assert await kpis.cohort_retention(clock.now, ZONE, months=3) == [
        Cohort(date(2026, 9, 1), 1, [1.0, 1.0, 0.0]),
        Cohort(date(2026, 10, 1), 1, [1.0, 0.0]),
        Cohort(date(2026, 11, 1), 1, [1.0]),
    ]


async def test_visits_and_revenue_buckets_local_days(db: str) -> None:
    c = await member("C", local(2026, 1, 1))
    await buy(c, local(2026, 10, 31, 23), 1_000)  # before the start
    await buy(c, local(2026, 11, 1), 10_000)
    await buy(c, local(2026, 11, 7, 23, 59), 20_000)
    await buy(c, local(2026, 11, 8, 0, 30), 30_000)  # 7 Nov in UTC, 8 Nov locally
    await buy(c, local(2026, 11, 9), 500_000, voided=True)
    await buy(c, local(2026, 11, 22, 9), 40_000)
    await buy(c, local(2026, 11, 22, 11), 2_000)  # after the end
    end = local(2026, 11, 22, 10)
    assert await kpis.visits_and_revenue(START, end, ZONE) == [
        (date(2026, 11, 1), 2, 30_000),
        (date(2026, 11, 8), 1, 30_000),
        (date(2026, 11, 15), 0, 0),
        (date(2026, 11, 22), 1, 40_000),  # a partial week
    ]
    # A start in the middle of a day: buckets still begin at local midnight, bills before
    # the start are left out.
    noon = await kpis.visits_and_revenue(local(2026, 11, 1, 12), end, ZONE, days_per_bucket=14)
    assert noon == [(date(2026, 11, 1), 2, 50_000), (date(2026, 11, 15), 1, 40_000)]
    daily = await kpis.visits_and_revenue(START, END, ZONE, days_per_bucket=1)
    assert len(daily) == 30 and daily[7] == (date(2026, 11, 8), 1, 30_000)


# (joined days before the end, erased, [(days before the end, amount, voided, store?)])
histories = st.lists(
    st.tuples(
        st.integers(-5, 120),
        st.booleans(),
        st.lists(
            st.tuples(st.integers(0, 120), st.integers(1, 500_000), st.booleans(), st.booleans()),
            max_size=6,
        ),
    ),
    max_size=6,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(histories=histories, days=st.integers(1, 90), statuses=st.lists(st.booleans(), max_size=5))
async def test_kpis_stay_in_bounds(
    db: str, histories: list[tuple[int, bool, list]], days: int, statuses: list[bool]
) -> None:
    await Voucher.all().delete()
    await Purchase.all().delete()
    await Customer.all().delete()
    store = await Store.create(name="Quận 1")
    end = local(2026, 12, 1)
    start = end - timedelta(days=days)
    for index, (joined, erased, bills) in enumerate(histories):
        customer_id = await member(f"p{index}", end - timedelta(days=joined), erased=erased)
        for before, amount, voided, at_store in bills:
            at = end - timedelta(days=before, minutes=index)
            await buy(customer_id, at, amount, store=store if at_store else None, voided=voided)
        for redeemed in statuses:
            await give_voucher(customer_id, start, "redeemed" if redeemed else "issued")
    for store_id in (None, store.id):
        result = await kpis.shop_kpis(start, end, store_id=store_id)
        assert 0 <= result.active_members <= result.members
        assert 0 <= result.new_members <= result.members
        assert result.average_order_vnd * result.purchases <= result.revenue_vnd
        for rate in (result.repeat_rate, result.redemption_rate, result.churn_rate):
            assert rate is None or 0.0 <= rate <= 1.0
