"""Scheduled jobs run once per slot, whatever the number of processes or restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from loyalty import ledger
from models.audit import JobRun
from models.members import Customer
from scheduler.jobs import EXPIRE_POINTS, build_scheduler, expire_points

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
EARNED = datetime(2025, 11, 1, 3, 0, tzinfo=UTC)


async def test_expiry_runs_once_per_local_day(db: str) -> None:
    customers = [await Customer.create(display_name=f"K{i}") for i in range(3)]
    for customer in customers[:2]:
        await ledger.earn(customer.id, 120, at=EARNED)
    await ledger.earn(customers[2].id, 80, at=EARNED + timedelta(days=200))
    night = datetime(2026, 11, 22, 17, 15, tzinfo=UTC)  # 00:15 on 23/11 in Hồ Chí Minh City

    results = await asyncio.gather(*(expire_points(night, ZONE) for _ in range(4)))
    assert sorted(results, key=lambda r: r is None) == [2, None, None, None]
    assert [c.points_balance for c in await Customer.all().order_by("id")] == [0, 0, 80]
    run = await JobRun.get(job=EXPIRE_POINTS)
    assert run.slot == "2026-11-23" and run.outcome == "2 members"
    assert run.finished_at is not None
    assert await expire_points(night + timedelta(hours=1), ZONE) is None  # same local day
    assert await expire_points(night + timedelta(days=1), ZONE) == 0  # next day, nothing due


async def test_the_scheduler_knows_its_jobs_and_zone() -> None:
    scheduler = build_scheduler(ZONE, lambda: datetime.now(UTC))
    job = scheduler.get_job(EXPIRE_POINTS)
    assert job is not None
    assert str(job.trigger.timezone) == "Asia/Ho_Chi_Minh"
    assert "hour='0'" in str(job.trigger) and "minute='15'" in str(job.trigger)


async def test_voucher_expiry_runs_once_per_local_day(db: str) -> None:
    from loyalty import vouchers
    from models.rewards import Voucher
    from scheduler.jobs import mark_expired_vouchers

    customer = await Customer.create(display_name="Lan")
    for days in (3, 30):
        await vouchers.issue(
            customer.id,
            reason="birthday",
            title="Bánh",
            kind="item",
            value=0,
            valid_days=days,
            at=EARNED,
            key=f"bd-{days}",
        )
    night = EARNED + timedelta(days=4)
    assert await mark_expired_vouchers(night, ZONE) == 1
    assert await mark_expired_vouchers(night, ZONE) is None
    statuses = sorted(await Voucher.all().values_list("status", flat=True))
    assert statuses == ["expired", "issued"]
