"""The scheduled jobs, the table that names them, and the scheduler that runs them.

``JOBS`` is the one list: ``build_scheduler`` schedules it, ``catch_up`` replays what a restart
missed, ``/jobs`` shows it. A job's body is a plain coroutine ``(slot date, now, zone) -> outcome``
(no sleeping, no scheduler), so the tests drive it with a fake clock. ``run`` claims the
``(job, slot)`` row first, so two processes, or a catch-up racing the scheduler, run a slot once.

Outcomes are stored as ``<code> [number]`` (``offers 3``, ``reward-unavailable 7``, ``failed``):
short enough for logs and the database, and ``/jobs`` words them in the owner's language.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from prometheus_client import Counter

from loyalty.coordination import SEEN_FOR, forget_seen
from loyalty.insight import analyze
from loyalty.ledger import customers_with_expired_lots, expire_due
from loyalty.tiers import refresh_tier
from loyalty.voice import Voice
from loyalty.vouchers import expire_vouchers
from models.db import retry_while_unavailable
from scheduler import offers
from scheduler.slots import Run, claim_slot, finish

log = logging.getLogger(__name__)

EXPIRE_POINTS = "expire-points"
EXPIRE_VOUCHERS = "expire-vouchers"
ANALYZE = "analyze"
FORGET_UPDATES = "forget-updates"
BIRTHDAY, WINBACK = offers.BIRTHDAY, offers.WINBACK
POINTS_EXPIRING, TIER_NUDGE = offers.POINTS_EXPIRING, offers.TIER_NUDGE
MEMBERS, VOUCHERS, UPDATES, FAILED = "members", "vouchers", "updates", "failed"
#: Every outcome code a job records (``/jobs`` has words for each).
OUTCOMES = (
    MEMBERS,
    VOUCHERS,
    UPDATES,
    FAILED,
    offers.OFFERS,
    offers.REMINDERS,
    offers.NUDGES,
    offers.NO_REWARD,
    offers.REWARD_UNAVAILABLE,
)
#: How late a missed run may still happen: after a restart (``catch_up``) or a busy event loop.
GRACE = timedelta(hours=12)

JobBody = Callable[[Run], Awaitable[str]]

#: Runs per job and outcome code (``offers``, ``failed``...), for ``/metrics``; a slot that
#: another process had already claimed is not a run.
JOB_RUNS = Counter("quen_job_runs", "Scheduled job runs, by job and outcome", ["job", "outcome"])


async def expire_points(run: Run) -> str:
    """Write off expired lots for everyone and move their tiers accordingly."""
    now = run.now
    customers = await customers_with_expired_lots(now)
    for customer_id in customers:
        await expire_due(customer_id, now)
        await refresh_tier(customer_id, now)
    return f"{MEMBERS} {len(customers)}"


async def analyze_members(run: Run) -> str:
    """Segments, the churn model and habits, before the morning's offers use them."""
    now, zone = run.now, run.zone
    analysis = await analyze(now, zone)
    return f"{MEMBERS} {analysis.members}"


async def mark_expired_vouchers(run: Run) -> str:
    """Mark vouchers that ran out (redeem refuses them at any time; this keeps lists honest)."""
    now = run.now
    return f"{VOUCHERS} {await expire_vouchers(now)}"


async def forget_updates(run: Run) -> str:
    """Forget which chat-app updates were taken a day ago: the table stays small, and Telegram
    has long stopped redelivering them."""
    return f"{UPDATES} {await forget_seen(run.now - SEEN_FOR)}"


@dataclass(frozen=True)
class Job:
    """When a job runs (local time, every day) and what it does."""

    at: time
    body: JobBody

    def trigger(self, zone: ZoneInfo) -> CronTrigger:
        return CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone=zone)


#: Offers go out in the morning, inside the send window, a while apart so that one member
#: rarely collects several on one day (the outbox caps them anyway).
JOBS: dict[str, Job] = {
    EXPIRE_POINTS: Job(time(0, 15), expire_points),
    EXPIRE_VOUCHERS: Job(time(0, 20), mark_expired_vouchers),
    ANALYZE: Job(time(2, 0), analyze_members),
    FORGET_UPDATES: Job(time(3, 0), forget_updates),
    BIRTHDAY: Job(time(9, 0), offers.birthday_offers),
    WINBACK: Job(time(10, 0), offers.winback_offers),
    POINTS_EXPIRING: Job(time(10, 30), offers.expiry_reminders),
    TIER_NUDGE: Job(time(11, 0), offers.tier_nudges),
}


async def run(
    name: str, now: datetime, zone: ZoneInfo, voice: Voice, day: date | None = None
) -> str | None:
    """Run job ``name`` for its slot (``day``, by default the local date of ``now``) unless that
    slot was claimed already (then None). Returns the outcome.

    While the database is unavailable the body is run again (``retry_while_unavailable``: every
    job is safe to re-run, offers are keyed per member and day). Any other failure is logged and
    recorded as ``failed``, and the slot stays used: the owner sees it in ``/jobs`` and the next
    day's run goes ahead as usual, rather than a crashing job retrying in a loop. The finish
    time is ``now`` plus the time the run took, so a fake clock stays exact.
    """
    slot = day or now.astimezone(zone).date()
    claim = await retry_while_unavailable(lambda: claim_slot(name, slot.isoformat()))
    if claim is None:
        return None
    started = monotonic()
    try:
        outcome = await retry_while_unavailable(
            lambda: JOBS[name].body(Run(slot, now, zone, voice))
        )
    except Exception:
        log.exception("job %s for %s failed", name, slot, extra={"job": name})
        outcome = FAILED
    took = timedelta(seconds=monotonic() - started)
    await retry_while_unavailable(lambda: finish(claim, outcome, now + took))
    JOB_RUNS.labels(job=name, outcome=outcome.split()[0]).inc()
    log.info("job %s for %s: %s", name, slot, outcome, extra={"job": name})
    return outcome


def latest_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The trigger's most recent fire time within ``GRACE`` before ``now`` (None if none)."""
    fire = trigger.get_next_fire_time(None, now - GRACE)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return latest


async def catch_up(zone: ZoneInfo, now: datetime, voice: Voice) -> list[str]:
    """Run, once, each job whose last scheduled time passed within ``GRACE`` while no process was
    up: APScheduler's memory store forgets missed runs. Returns the jobs that ran now. Safe from
    every process at start-up: the slot claim lets one of them run each job."""
    ran = []
    for name, job in JOBS.items():
        fired = latest_fire(job.trigger(zone), now)
        if fired is None:
            continue
        try:
            outcome = await run(name, now, zone, voice, fired.astimezone(zone).date())
        except Exception:  # the database stayed away: the other jobs still get their turn
            log.exception("catch-up of %s failed", name, extra={"job": name})
            continue
        if outcome is not None:
            ran.append(name)
    return ran


class JobScheduler(AsyncIOScheduler):
    """APScheduler's asyncio scheduler, plus a shutdown that lets runs in progress finish: its
    own ``shutdown`` cancels them, which would leave a claimed slot with no outcome."""

    def __init__(self, zone: ZoneInfo) -> None:
        super().__init__(timezone=zone)
        self.runs: set[asyncio.Task[object]] = set()

    async def finish(self) -> None:
        """Start no new run, wait for the ones in progress, then shut down."""
        if not self.running:
            return
        self.pause()
        while self.runs:
            await asyncio.wait(self.runs)
        self.shutdown(wait=False)


def build_scheduler(
    zone: ZoneInfo, clock: Callable[[], datetime], voice: Callable[[], Voice]
) -> JobScheduler:
    """Every job in ``JOBS``, on the shop's local clock (call ``catch_up`` at start as well)."""
    scheduler = JobScheduler(zone)

    async def fire(name: str) -> None:
        task = asyncio.current_task()
        assert task is not None  # APScheduler's asyncio executor runs each job as a task
        scheduler.runs.add(task)
        try:
            await run(name, clock(), zone, voice())
        finally:
            scheduler.runs.discard(task)

    for name, job in JOBS.items():
        scheduler.add_job(
            fire,
            job.trigger(zone),
            args=(name,),
            id=name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(GRACE.total_seconds()),
        )
    return scheduler
