"""Run-once-per-slot claims, shared by every process that uses the same database, and what one
run of a job is given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError

from loyalty.voice import Voice
from models.audit import JobRun


async def claim_slot(job: str, slot: str) -> JobRun | None:
    """The claim on ``(job, slot)``, or None if another run (here or elsewhere) has it."""
    try:
        return await JobRun.create(job=job, slot=slot)
    except IntegrityError:
        return None


async def finish(run: JobRun, outcome: str, at: datetime) -> None:
    run.finished_at, run.outcome = at, outcome[:255]
    await run.save(update_fields=["finished_at", "outcome"])


@dataclass(frozen=True)
class Run:
    """One run of a job: its slot's local date, the moment it runs, the shop's zone, and how the
    shop words its offers (the copywriter, for jobs that write to members)."""

    day: date
    now: datetime
    zone: ZoneInfo
    voice: Voice
