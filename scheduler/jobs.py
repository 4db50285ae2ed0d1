"""The scheduled jobs and the scheduler that runs them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from loyalty.ledger import customers_with_expired_lots, expire_due
from loyalty.tiers import refresh_tier
from loyalty.vouchers import expire_vouchers
from scheduler.slots import claim_slot, finish

log = logging.getLogger(__name__)

EXPIRE_POINTS = "expire-points"
EXPIRE_VOUCHERS = "expire-vouchers"


async def expire_points(now: datetime, zone: ZoneInfo) -> int | None:
    """Write off expired lots for everyone, once per local day. Returns how many members were
    touched, or None when this day's run was already claimed."""
    run = await claim_slot(EXPIRE_POINTS, now.astimezone(zone).date().isoformat())
    if run is None:
        return None
    customers = await customers_with_expired_lots(now)
    for customer_id in customers:
        await expire_due(customer_id, now)
        await refresh_tier(customer_id, now)
    await finish(run, f"{len(customers)} members", now)
    log.info("expired points of %d members", len(customers))
    return len(customers)


async def mark_expired_vouchers(now: datetime, zone: ZoneInfo) -> int | None:
    """Mark vouchers that ran out, once per local day (redeem refuses them at any time)."""
    run = await claim_slot(EXPIRE_VOUCHERS, now.astimezone(zone).date().isoformat())
    if run is None:
        return None
    count = await expire_vouchers(now)
    await finish(run, f"{count} vouchers", now)
    return count


def build_scheduler(zone: ZoneInfo, clock: Callable[[], datetime]) -> AsyncIOScheduler:
    """Every job, on the shop's local clock. A missed run (process down) runs once on return."""
    scheduler = AsyncIOScheduler(timezone=zone)

    async def nightly_expiry() -> None:
        await expire_points(clock(), zone)
        await mark_expired_vouchers(clock(), zone)

    scheduler.add_job(
        nightly_expiry,
        CronTrigger(hour=0, minute=15, timezone=zone),
        id=EXPIRE_POINTS,
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
    return scheduler
