"""``/outbox`` (owners) and ``quen outbox``: what the bot has queued, sent, failed and why."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers.session import Session
from handlers.types import Reply
from locales import format_date, t
from loyalty import outbox


def describe(report: outbox.Report, language: str, zone: ZoneInfo, hold: str | None) -> str:
    """The report as text, in ``language``; times in the shop's zone."""
    counts = dict(report.counts)
    if not any(counts.values()):
        return t(language, "outbox-empty")
    waiting = counts[outbox.QUEUED] + counts[outbox.CLAIMED]
    lines = [t(language, "outbox-title")]
    if hold:
        lines.append(t(language, "outbox-held", problem=hold))
    lines.append(t(language, "outbox-counts", **{**counts, outbox.QUEUED: waiting}))
    for kind, by_status in sorted(report.by_kind.items()):
        kind_waiting = by_status[outbox.QUEUED] + by_status[outbox.CLAIMED]
        lines.append(
            t(language, "outbox-kind", kind=kind, **{**by_status, outbox.QUEUED: kind_waiting})
        )
    if report.next_due is not None:
        local = report.next_due.astimezone(zone)
        lines.append(
            t(language, "outbox-next", time=local.strftime("%H:%M"), date=format_date(local.date()))
        )
    if report.problems:
        lines.append(t(language, "outbox-problems"))
        for message in report.problems:
            lines.append(
                t(
                    language,
                    "outbox-problem",
                    id=str(message.id),
                    kind=message.kind,
                    status=message.status,
                    reason=message.reason or "—",
                )
            )
    return "\n".join(lines)


async def show(session: Session) -> list[Reply]:
    text = describe(
        await outbox.report(), session.language, session.shop.zone, session.shop.marketing_hold
    )
    return [Reply(text)]
