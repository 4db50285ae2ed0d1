"""Run-once-per-slot claims, shared by every process that uses the same database."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError

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
