"""Scheduled jobs run once per slot, whatever the number of processes or restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from loyalty import ledger, vouchers
from loyalty.voice import Voice
from models.audit import JobRun
from models.members import Customer
from models.rewards import Voucher
from scheduler.jobs import (
    ANALYZE,
    BIRTHDAY,
    EXPIRE_POINTS,
    EXPIRE_VOUCHERS,
    FORGET_UPDATES,
    JOBS,
    POINTS_EXPIRING,
    TIER_NUDGE,
    WINBACK,
    Job,
    build_scheduler,
    catch_up,
    latest_fire,
    run,
)
from scheduler.slots import Run, claim_slot

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
VOICE = Voice("Cà Phê Quen")
EARNED = datetime(2025, 11, 1, 3, 0, tzinfo=UTC)
#: 12:00 on 23 November 2026 in Hồ Chí Minh City: every daily job has had its turn today.
NOON = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


async def test_expiry_runs_once_per_local_day(db: str) -> None:
    customers = [await Customer.create(display_name=f"K{i}") for i in range(3)]
    for customer in customers[:2]:
        await ledger.earn(customer.id, 120, at=EARNED)
    await ledger.earn(customers[2].id, 80, at=EARNED + timedelta(days=200))
    night = datetime(2026, 11, 22, 17, 15, tzinfo=UTC)  # 00:15 on 23/11 in Hồ Chí Minh City

    results = await asyncio.gather(*(run(EXPIRE_POINTS, night, ZONE, VOICE) for _ in range(4)))
    assert sorted(results, key=lambda r: r is None) == ["members 2", None, None, None]
    assert [c.points_balance for c in await Customer.all().order_by("id")] == [0, 0, 80]
    claim = await JobRun.get(job=EXPIRE_POINTS)
    assert claim.slot == "2026-11-23" and claim.outcome == "members 2"
    assert claim.finished_at is not None and claim.finished_at >= night
    assert (
        await run(EXPIRE_POINTS, night + timedelta(hours=1), ZONE, VOICE) is None
    )  # same local day
    assert await run(EXPIRE_POINTS, night + timedelta(days=1), ZONE, VOICE) == "members 0"


async def test_voucher_expiry_runs_once_per_local_day(db: str) -> None:
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
    assert await run(EXPIRE_VOUCHERS, night, ZONE, VOICE) == "vouchers 1"
    assert await run(EXPIRE_VOUCHERS, night, ZONE, VOICE) is None
    statuses = sorted(await Voucher.all().values_list("status", flat=True))
    assert statuses == ["expired", "issued"]


async def test_the_scheduler_runs_every_job_on_local_time() -> None:
    scheduler = build_scheduler(ZONE, lambda: datetime.now(UTC), lambda: VOICE)
    assert [job.id for job in scheduler.get_jobs()] == list(JOBS)
    assert list(JOBS) == [
        EXPIRE_POINTS,
        EXPIRE_VOUCHERS,
        ANALYZE,
        FORGET_UPDATES,
        BIRTHDAY,
        WINBACK,
        POINTS_EXPIRING,
        TIER_NUDGE,
    ]
    for name, job in JOBS.items():
        scheduled = scheduler.get_job(name)
        assert scheduled is not None
        assert str(scheduled.trigger.timezone) == "Asia/Ho_Chi_Minh"
        assert f"hour='{job.at.hour}'" in str(scheduled.trigger)
        assert f"minute='{job.at.minute}'" in str(scheduled.trigger)
    times = {name: job.at for name, job in JOBS.items()}
    assert times[EXPIRE_POINTS] == time(0, 15) and times[BIRTHDAY] == time(9, 0)
    assert times[ANALYZE] == time(2, 0)  # before the offers that read its segments
    assert times[TIER_NUDGE] == time(11, 0)


def test_latest_fire_looks_back_over_the_grace_period() -> None:
    trigger = JOBS[BIRTHDAY].trigger(ZONE)
    fired = latest_fire(trigger, NOON)
    assert fired is not None and fired.astimezone(ZONE).isoformat() == "2026-11-23T09:00:00+07:00"
    assert latest_fire(trigger, NOON - timedelta(hours=3, seconds=1)) is None  # 08:59:59
    # 20:59 is within 12 hours of 09:00, 21:01 is not.
    assert latest_fire(trigger, NOON + timedelta(hours=8, minutes=59)) == fired
    assert latest_fire(trigger, NOON + timedelta(hours=9, minutes=1)) is None


async def test_catch_up_runs_what_a_restart_missed_once(db: str) -> None:
    await claim_slot(WINBACK, "2026-11-23")  # another process ran it this morning
    await claim_slot(BIRTHDAY, "2026-11-22")  # yesterday's run says nothing about today's

    ran = await catch_up(ZONE, NOON, VOICE)
    assert ran == [
        EXPIRE_POINTS,
        EXPIRE_VOUCHERS,
        ANALYZE,
        FORGET_UPDATES,
        BIRTHDAY,
        POINTS_EXPIRING,
        TIER_NUDGE,
    ]
    assert await catch_up(ZONE, NOON + timedelta(minutes=5), VOICE) == []
    assert await JobRun.filter(slot="2026-11-23").count() == len(JOBS)
    outcomes = dict(await JobRun.filter(slot="2026-11-23").values_list("job", "outcome"))
    assert outcomes[BIRTHDAY] == "no-reward" and outcomes[EXPIRE_POINTS] == "members 0"


async def test_catch_up_skips_jobs_outside_the_grace_period(db: str) -> None:
    evening = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 19:00 local
    assert await catch_up(ZONE, evening, VOICE) == [BIRTHDAY, WINBACK, POINTS_EXPIRING, TIER_NUDGE]
    night_jobs = [EXPIRE_POINTS, EXPIRE_VOUCHERS, ANALYZE, FORGET_UPDATES]
    assert not await JobRun.filter(job__in=night_jobs).exists()
    # Just after midnight: yesterday's morning jobs are 13 hours late, today's have not come.
    assert await catch_up(ZONE, datetime(2026, 11, 23, 17, 5, tzinfo=UTC), VOICE) == []


async def test_a_failing_job_is_recorded_and_the_others_still_run(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(_: Run) -> str:
        raise RuntimeError("database went away")

    monkeypatch.setitem(JOBS, BIRTHDAY, Job(time(9, 0), broken))
    ran = await catch_up(ZONE, NOON, VOICE)
    assert BIRTHDAY in ran and TIER_NUDGE in ran
    outcomes = dict(await JobRun.all().values_list("job", "outcome"))
    assert outcomes[BIRTHDAY] == "failed"
    assert outcomes[TIER_NUDGE] == "nudges 0"
    assert all(
        finished is not None
        for finished in await JobRun.all().values_list("finished_at", flat=True)
    )
