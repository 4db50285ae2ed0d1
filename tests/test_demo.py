"""``quen demo``'s data: a believable café chain whose ledger is as consistent as a real one."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tortoise import Tortoise, connections

from loyalty import ledger, phones, rules, tiers, vouchers
from loyalty.demo import MENU, OWNER_EXTERNAL_ID, DemoRefused, fill_demo
from models.db import is_postgres
from models.ledger import LedgerEntry, PointsLot
from models.members import ConsentRecord, Customer
from models.purchases import MenuItem, Purchase
from models.rewards import Reward, Voucher
from models.staff import StaffMember, Store

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MEMBERS = 150


async def _counts() -> dict[str, int]:
    """Rows per table, for "nothing changed"."""
    return {
        model._meta.db_table: await model.all().count()
        for model in Tortoise.apps["models"].values()
    }


async def _empty_tables() -> None:
    """What the ``db`` fixture does, for a test that fills the database twice."""
    tables = [model._meta.db_table for model in Tortoise.apps["models"].values()]
    connection = connections.get("default")
    if is_postgres():
        await connection.execute_script(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    else:
        await connection.execute_script(
            "PRAGMA foreign_keys=OFF;"
            + "".join(f'DELETE FROM "{t}";' for t in tables)
            + "PRAGMA foreign_keys=ON;"
        )
    await tiers.ensure_default_tiers()


async def _fingerprint() -> tuple[list[Any], ...]:
    """The demo's content without database ids (they differ between runs on SQLite)."""
    members = (
        await Customer.all()
        .order_by("phone")
        .values_list(
            "phone",
            "display_name",
            "language",
            "birthday_day",
            "birthday_month",
            "birthday_year",
            "marketing_consent",
            "joined_at",
            "points_balance",
            "tier_code",
        )
    )
    purchases = await Purchase.all().values_list(
        "customer__phone", "store__name", "created_at", "amount_vnd", "points", "items"
    )
    claimed = await Voucher.all().values_list(
        "customer__phone", "title", "status", "issued_at", "redeemed_at"
    )
    return members, sorted(map(repr, purchases)), sorted(map(repr, claimed))


async def test_report_counts_what_is_in_the_database(db: str) -> None:
    report = await fill_demo(NOW, ZONE, members=MEMBERS)
    assert report.members == await Customer.all().count() == MEMBERS
    assert report.purchases == await Purchase.all().count() > MEMBERS * 10
    assert report.stores == await Store.all().count() == 2
    assert report.menu_items == await MenuItem.filter(active=True).count() == len(MENU)
    assert report.rewards == await Reward.all().count() == 4
    assert report.vouchers == await Voucher.all().count() == round(MEMBERS * 0.05)
    assert report.seconds > 0
    roles = Counter(await StaffMember.all().values_list("role", flat=True))
    assert roles == {"owner": 1, "cashier": 2}
    owner = await StaffMember.get(role="owner").prefetch_related("account")
    assert (owner.account.channel, owner.account.external_id) == ("console", OWNER_EXTERNAL_ID)
    assert set(await StaffMember.filter(role="cashier").values_list("store_id", flat=True)) == set(
        await Store.all().values_list("id", flat=True)
    )


async def test_members_look_like_vietnamese_customers(db: str) -> None:
    await fill_demo(NOW, ZONE, members=MEMBERS)
    members = await Customer.all()
    assert all(phones.to_e164(m.phone or "") == m.phone for m in members)
    assert len({m.phone for m in members}) == MEMBERS
    assert all(len(m.display_name.split()) == 3 for m in members)
    assert Counter(m.language for m in members)["vi"] > MEMBERS * 0.8
    consenting = sum(m.marketing_consent for m in members)
    assert MEMBERS * 0.45 < consenting < MEMBERS * 0.75
    assert 0 < sum(m.birthday_day is not None for m in members) < MEMBERS
    assert all(NOW - timedelta(days=365) < m.joined_at < NOW for m in members)
    records = await ConsentRecord.filter(purpose="marketing", granted=True).count()
    assert records == consenting
    assert await ConsentRecord.filter(purpose="membership", granted=True).count() == MEMBERS


async def _assert_ledger_consistent() -> None:
    """Each member: cached balance = sum of entries = sum of lots left, entries in time order
    with running balances, the stored tier is the one the rules give, nothing overdue."""
    lots: defaultdict[int, int] = defaultdict(int)
    for lot in await PointsLot.all():
        assert 0 <= lot.remaining <= lot.points
        lots[lot.customer_id] += int(lot.remaining)
    for customer in await Customer.all():
        assert customer.points_balance == await ledger.ledger_sum(customer.id)
        assert customer.points_balance == lots[customer.id]
        progress = await tiers.refresh_tier(customer.id, NOW)
        assert progress.current.code == customer.tier_code
    assert await ledger.customers_with_expired_lots(NOW) == []
    running: defaultdict[int, int] = defaultdict(int)
    last_at: dict[int, datetime] = {}
    for entry in await LedgerEntry.all().order_by("id"):
        running[entry.customer_id] += int(entry.points)
        assert entry.balance_after == running[entry.customer_id]
        assert entry.created_at >= last_at.get(entry.customer_id, entry.created_at)
        last_at[entry.customer_id] = entry.created_at


async def test_balances_agree_with_the_ledger_and_the_lots(db: str) -> None:
    await fill_demo(NOW, ZONE, members=MEMBERS)
    await _assert_ledger_consistent()
    assert Counter(await LedgerEntry.all().values_list("kind", flat=True)).keys() == {
        "earn",
        "spend",
    }


async def test_a_shorter_points_lifetime_expires_through_the_ledger(db: str) -> None:
    await rules.change(0, "expiry", ["6"])
    await fill_demo(NOW, ZONE, members=60)
    await _assert_ledger_consistent()
    assert await LedgerEntry.filter(kind="expire").exists()
    lifetime = timedelta(days=6 * 365 // 12)
    for lot in await PointsLot.all():
        assert lot.expires_at == lot.earned_at + lifetime


async def test_purchases_earn_like_the_till(db: str) -> None:
    await fill_demo(NOW, ZONE, members=MEMBERS)
    earned = {
        e.id: e
        for e in await LedgerEntry.filter(kind="earn").only("id", "points", "created_at", "kind")
    }
    for purchase in await Purchase.all():
        entry = earned[purchase.earn_entry_id or 0]
        assert (entry.points, entry.created_at) == (purchase.points, purchase.created_at)
        base = purchase.amount_vnd // 1000
        assert base <= purchase.points <= base * 150 // 100
        assert purchase.source == "till"
    assert len(earned) == await Purchase.all().count()


async def test_purchases_happen_when_a_cafe_is_open(db: str) -> None:
    await fill_demo(NOW, ZONE, members=MEMBERS)
    menu = {dish.name for dish in MENU}
    cashier_store = dict(await StaffMember.all().values_list("id", "store_id"))
    joined = dict(await Customer.all().values_list("id", "joined_at"))
    per_day: Counter[tuple[int, object]] = Counter()
    hours: Counter[int] = Counter()
    for purchase in await Purchase.all():
        local = purchase.created_at.astimezone(ZONE)
        assert 6 <= local.hour < 22
        hours[local.hour] += 1
        assert joined[purchase.customer_id] < purchase.created_at <= NOW
        assert 25_000 <= purchase.amount_vnd <= 250_000
        assert purchase.amount_vnd % 1000 == 0
        assert 1 <= len(purchase.items) <= 3
        assert set(purchase.items) <= menu
        assert cashier_store[purchase.cashier_id] == purchase.store_id
        per_day[(purchase.customer_id, local.date())] += 1
    assert max(per_day.values()) <= 2
    busiest = {hour for hour, _ in hours.most_common(4)}
    assert busiest <= {7, 8, 12, 13}


async def test_some_members_lapsed_and_some_are_regulars(db: str) -> None:
    await fill_demo(NOW, ZONE, members=MEMBERS)
    visits: Counter[int] = Counter()
    last: dict[int, datetime] = {}
    for customer_id, at in await Purchase.all().values_list("customer_id", "created_at"):
        visits[customer_id] += 1
        last[customer_id] = max(last.get(customer_id, at), at)
    lapsed = [c for c in visits if visits[c] >= 3 and last[c] < NOW - timedelta(days=60)]
    regulars = [c for c in visits if visits[c] >= 50]
    occasional = [c for c in visits if visits[c] <= 3]
    assert len(visits) == MEMBERS
    assert len(lapsed) >= MEMBERS * 0.1
    assert MEMBERS * 0.05 <= len(regulars) <= MEMBERS * 0.4
    assert len(occasional) >= MEMBERS * 0.1


async def test_vouchers_were_claimed_with_points_and_redeemed_once(db: str) -> None:
    await fill_demo(NOW, ZONE, members=MEMBERS)
    cost = dict(await Reward.all().values_list("id", "cost_points"))
    cashiers = await StaffMember.filter(role="cashier")
    stores = {cashier.id: cashier.store_id for cashier in cashiers}
    claimed = await Voucher.all().prefetch_related("spend_entry")
    assert {v.status for v in claimed} <= {"issued", "redeemed", "expired"}
    assert len({v.customer_id for v in claimed}) == len(claimed)
    for voucher in claimed:
        assert voucher.spend_entry is not None
        assert voucher.spend_entry.points == -cost[voucher.reward_id]
    redeemed = [v for v in claimed if v.status == "redeemed"]
    assert redeemed
    for voucher in redeemed:
        assert voucher.redeemed_at is not None and voucher.redeemed_by_id is not None
        assert voucher.issued_at < voucher.redeemed_at < voucher.expires_at
        assert stores[voucher.redeemed_by_id] == voucher.redeemed_store_id
        paid = await Purchase.get(
            customer_id=voucher.customer_id,
            created_at=(voucher.redeemed_at + timedelta(minutes=1)).astimezone(UTC),
        )
        assert paid.store_id == voucher.redeemed_store_id
        with pytest.raises(vouchers.VoucherError) as again:
            await vouchers.redeem(voucher.id, cashiers[0], voucher.redeemed_at)
        assert again.value.reason == "already-redeemed"
    mugs = await Reward.get(stock__isnull=False)
    assert mugs.stock == 40 - sum(v.reward_id == mugs.id for v in claimed)


async def test_same_seed_same_demo(db: str) -> None:
    await fill_demo(NOW, ZONE, members=60, seed=11)
    first = await _fingerprint()
    await _empty_tables()
    await fill_demo(NOW, ZONE, members=60, seed=11)
    assert await _fingerprint() == first
    await _empty_tables()
    await fill_demo(NOW, ZONE, members=60, seed=12)
    assert await _fingerprint() != first


async def test_refuses_a_database_with_members_and_leaves_it_alone(db: str) -> None:
    await Customer.create(display_name="Khách thật", phone="+84912345678")
    before = await _counts()
    with pytest.raises(DemoRefused, match="already has 1 member"):
        await fill_demo(NOW, ZONE, members=MEMBERS)
    assert await _counts() == before


async def test_refuses_a_naive_now(db: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await fill_demo(NOW.replace(tzinfo=None), ZONE, members=5)
    assert await Customer.all().count() == 0
