"""The points ledger's invariants, by example and by hypothesis, on the real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty import ledger
from models.ledger import LedgerEntry, LotDraw, PointsLot
from models.members import Customer

START = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)


async def new_customer() -> int:
    customer = await Customer.create(display_name="Test")
    return customer.id


async def assert_consistent(customer_id: int) -> int:
    """Cached balance = sum of ledger = sum of open lots, never negative."""
    cached = (await Customer.get(id=customer_id)).points_balance
    lots = sum(lot.remaining for lot in await PointsLot.filter(customer_id=customer_id))
    assert cached == await ledger.ledger_sum(customer_id) == lots
    assert cached >= 0
    last = await LedgerEntry.filter(customer_id=customer_id).order_by("-id").first()
    assert last is None or last.balance_after == cached
    return cached


async def test_spend_takes_oldest_lots_first_and_never_expired_ones(db: str) -> None:
    cid = await new_customer()
    await ledger.earn(cid, 100, at=START)
    await ledger.earn(cid, 50, at=START + timedelta(days=200))
    await ledger.earn(cid, 30, at=START + timedelta(days=300))
    at = START + timedelta(days=370)  # the first lot has expired, unprocessed
    assert (await ledger.balance(cid, at, timedelta(days=30))).points == 80
    with pytest.raises(ledger.NotEnoughPoints):
        await ledger.spend(cid, 81, at=at)
    entry = await ledger.spend(cid, 60, at=at)
    draws = await LotDraw.filter(entry=entry).prefetch_related("lot")
    assert sorted((d.lot.points, d.points) for d in draws) == [(30, 10), (50, 50)]
    assert await assert_consistent(cid) == 20
    kinds = await LedgerEntry.filter(customer_id=cid).order_by("id").values_list("kind", flat=True)
    assert kinds == ["earn", "earn", "earn", "expire", "spend"]


async def test_replayed_key_changes_nothing(db: str) -> None:
    cid = await new_customer()
    first = await ledger.earn(cid, 40, at=START, key="pos:order-1")
    again = await ledger.earn(cid, 40, at=START, key="pos:order-1")
    assert again.id == first.id
    spent = await ledger.spend(cid, 10, at=START, key="voucher:abc")
    assert (await ledger.spend(cid, 10, at=START, key="voucher:abc")).id == spent.id
    assert await assert_consistent(cid) == 30


async def test_concurrent_replays_write_once(db: str) -> None:
    cid = await new_customer()
    entries = await asyncio.gather(
        *(ledger.earn(cid, 25, at=START, key="tap-twice") for _ in range(8))
    )
    assert len({entry.id for entry in entries}) == 1
    assert await assert_consistent(cid) == 25


async def test_concurrent_spends_never_overdraw(db: str) -> None:
    cid = await new_customer()
    await ledger.earn(cid, 100, at=START)
    results = await asyncio.gather(
        *(ledger.spend(cid, 30, at=START) for _ in range(6)), return_exceptions=True
    )
    wins = [r for r in results if isinstance(r, LedgerEntry)]
    refusals = [r for r in results if isinstance(r, ledger.NotEnoughPoints)]
    assert (len(wins), len(refusals)) == (3, 3)
    assert await assert_consistent(cid) == 10


async def test_expiry_job_helpers(db: str) -> None:
    cid = await new_customer()
    await ledger.earn(cid, 70, at=START)
    later = START + timedelta(days=366)
    assert await ledger.customers_with_expired_lots(later) == [cid]
    entry = await ledger.expire_due(cid, later)
    assert entry is not None and entry.points == -70
    assert await ledger.expire_due(cid, later) is None
    assert await assert_consistent(cid) == 0


async def test_refuses_nonsense(db: str) -> None:
    cid = await new_customer()
    for bad in (0, -5):
        with pytest.raises(ledger.LedgerError):
            await ledger.earn(cid, bad, at=START)
        with pytest.raises(ledger.LedgerError):
            await ledger.spend(cid, bad, at=START)
    with pytest.raises(ledger.UnknownCustomer):
        await ledger.earn(cid + 999, 5, at=START)
    assert await assert_consistent(cid) == 0


operations = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(1, 500), st.integers(0, 120)),
        st.tuples(st.just("spend"), st.integers(1, 600), st.integers(0, 120)),
        st.tuples(st.just("expire"), st.just(0), st.integers(0, 400)),
        st.tuples(st.just("replay"), st.just(0), st.just(0)),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
async def test_ledger_invariants_hold_for_any_history(
    db: str, ops: list[tuple[str, int, int]]
) -> None:
    cid = await new_customer()
    at = START
    keys: list[tuple[str, int]] = []
    for step, (op, points, days) in enumerate(ops):
        at += timedelta(days=days)
        live_before = (await ledger.balance(cid, at, timedelta(0))).points
        if op == "earn":
            key = f"c{cid}-earn-{step}"
            await ledger.earn(cid, points, at=at, key=key)
            keys.append((key, points))
        elif op == "spend":
            try:
                entry = await ledger.spend(cid, points, at=at, key=f"c{cid}-spend-{step}")
            except ledger.NotEnoughPoints:
                assert live_before < points
            else:
                assert live_before >= points
                drawn = await LotDraw.filter(entry=entry).prefetch_related("lot")
                assert sum(d.points for d in drawn) == points
                assert all(d.lot.expires_at > at for d in drawn)
                newest = max(d.lot.expires_at for d in drawn)
                older_left = await PointsLot.filter(
                    customer_id=cid, remaining__gt=0, expires_at__gt=at, expires_at__lt=newest
                ).count()
                assert older_left == 0
        elif op == "expire":
            await ledger.expire_due(cid, at)
            assert cid not in await ledger.customers_with_expired_lots(at)
        elif keys:
            key, points = keys[-1]
            before = await assert_consistent(cid)
            await ledger.earn(cid, points, at=at, key=key)
            assert await assert_consistent(cid) == before
        await assert_consistent(cid)
