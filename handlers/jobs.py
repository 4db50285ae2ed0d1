"""``/jobs`` (owners): what runs on the clock, how its last run went and when it runs next.

It reads the same ``JOBS`` table the scheduler runs, the ``job_run`` claims for the last runs, and
each job's cron trigger for the next one, so what it shows cannot drift from what happens.
"""

from __future__ import annotations

from datetime import date

from handlers.session import Session
from handlers.types import Reply
from locales import format_date
from models.audit import JobRun
from scheduler.jobs import JOBS, OUTCOMES


def outcome_text(session: Session, outcome: str) -> str:
    """``offers 3`` in the owner's words; anything else (an older format) as it was stored."""
    code, _, number = outcome.partition(" ")
    if code not in OUTCOMES or not (number == "" or number.isdigit()):
        return outcome
    return session.say(f"jobs-outcome-{code}", count=int(number or 0), id=number)


async def _last_run(session: Session, name: str) -> str:
    last = await JobRun.filter(job=name).order_by("-slot", "-id").first()
    if last is None:
        return session.say("jobs-never")
    slot = format_date(date.fromisoformat(last.slot))
    if last.finished_at is None:
        return session.say("jobs-running", date=slot)
    return session.say(
        "jobs-last",
        date=slot,
        time=last.finished_at.astimezone(session.shop.zone).strftime("%H:%M"),
        outcome=outcome_text(session, last.outcome),
    )


async def show_jobs(session: Session) -> list[Reply]:
    zone = session.shop.zone
    lines = [session.say("jobs-title")]
    for name, job in JOBS.items():
        lines.append(
            session.say(
                "jobs-line", job=session.say(f"jobs-name-{name}"), time=job.at.strftime("%H:%M")
            )
        )
        lines.append(await _last_run(session, name))
        upcoming = job.trigger(zone).get_next_fire_time(None, session.now)
        if upcoming is not None:
            local = upcoming.astimezone(zone)
            lines.append(
                session.say("jobs-next", date=format_date(local.date()), time=f"{local:%H:%M}")
            )
    return [Reply("\n".join(lines))]
