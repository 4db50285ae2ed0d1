"""What owners learn about their customers in chat: ``/stats``, ``/segments``, ``/customer``,
``/export``. The numbers come from ``loyalty.kpis`` (live) and ``member_insight`` (last night's
analysis, or the last ``quen analyze``)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

from tortoise.functions import Count

from handlers import campaigns
from handlers.session import Session, shown_name
from handlers.types import Attachment, Button, Reply
from locales import format_date, format_vnd
from loyalty import conversations, kpis, tiers
from loyalty.charts import ChartText, stats_chart
from loyalty.phones import to_e164
from loyalty.segments import SEGMENTS
from models.analytics import MemberInsight, ModelFit
from models.members import Customer
from models.staff import Store

FLOW, ACTION_PREFIX = "segments", "g"
CAMPAIGN = "campaign"
PERIODS = (7, 30, 90, 365)
#: Members listed when an owner taps a segment.
SAMPLE = 5


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


async def stats(session: Session) -> list[Reply]:
    """``/stats [7|30|90|365] [store number]``: the KPIs over the last N days (for one store if
    given: its bills, its active and new buyers) and a chart of the whole shop."""
    words = session.incoming.args.split()
    if len(words) > 2 or not all(word.isdigit() for word in words):
        return [session.reply("stats-help")]
    days = int(words[0]) if words else 30
    store = await Store.get_or_none(id=int(words[1])) if len(words) == 2 else None
    if days not in PERIODS or (len(words) == 2 and store is None):
        return [session.reply("stats-help")]
    end = session.now
    start = end - timedelta(days=days)
    figures = await kpis.shop_kpis(start, end, store_id=store.id if store else None)
    language = session.language
    liability = (
        format_vnd(figures.points_liability_vnd, language)
        if figures.points_liability_vnd is not None
        else "—"
    )
    text = session.say(
        "stats-summary",
        days=days,
        store=store.name if store else session.say("stats-all-stores"),
        members=figures.members,
        active=figures.active_members,
        new=figures.new_members,
        purchases=figures.purchases,
        revenue=format_vnd(figures.revenue_vnd, language),
        aov=format_vnd(figures.average_order_vnd, language),
        repeat=_percent(figures.repeat_rate),
        redemption=_percent(figures.redemption_rate),
        churn=_percent(figures.churn_rate),
        points=figures.points_outstanding,
        liability=liability,
    )
    zone = session.shop.zone
    # Whole local days on the chart, so the first bar is not a sliver of a day.
    first_day = (end.astimezone(zone) - timedelta(days=days - 1)).date()
    chart_start = datetime.combine(first_day, time(0), tzinfo=zone)
    bucket = 1 if days <= 31 else 7
    series = await kpis.visits_and_revenue(chart_start, end, zone, days_per_bucket=bucket)
    segments = await _segment_counts()
    cohorts = await kpis.cohort_retention(end, zone)
    chart = stats_chart(
        series,
        {session.say(f"segment-{name}"): count for name, count in segments.items() if count},
        cohorts,
        ChartText(
            title=session.say("chart-title", days=days),
            visits=session.say("chart-visits"),
            revenue=session.say("chart-revenue"),
            segments=session.say("chart-segments"),
            cohorts=session.say("chart-cohorts"),
            months_since=session.say("chart-months-since"),
            no_data=session.say("chart-no-data"),
            million=session.say("chart-million"),
            decimal_mark="," if session.language == "vi" else ".",
        ),
    )
    return [Reply(text, image=chart)]


async def _segment_counts() -> dict[str, int]:
    counts = dict.fromkeys(SEGMENTS, 0)
    rows = await MemberInsight.annotate(n=Count("id")).group_by("segment").values("segment", "n")
    for row in rows:
        counts[str(row["segment"])] = int(row["n"])
    return counts


async def segments(session: Session) -> list[Reply]:
    """``/segments``: sizes, what each means and what to do; a button per non-empty segment."""
    fit = await ModelFit.all().order_by("-id").first()
    if fit is None:
        return [session.reply("segments-none-yet")]
    counts = await _segment_counts()
    nonce = await conversations.start_flow(session.conversation, FLOW, "list")
    lines = [
        session.say(
            "segments-title", date=format_date(fit.as_of.astimezone(session.shop.zone).date())
        )
    ]
    buttons = []
    for name in SEGMENTS:
        lines.append(
            session.say(
                "segments-line",
                segment=session.say(f"segment-{name}"),
                count=counts[name],
                about=session.say(f"segment-{name}-about"),
                todo=session.say(f"segment-{name}-todo"),
            )
        )
        if counts[name]:
            label = f"{session.say(f'segment-{name}')} ({counts[name]})"
            buttons.append((Button(label, f"{ACTION_PREFIX}:{nonce}:{name}"),))
    return [Reply("\n".join(lines), buttons=tuple(buttons))]


async def on_action(session: Session, parts: list[str]) -> list[Reply]:
    """A segment button: a few of its members, the most valuable first, and a button that
    starts a campaign for the segment."""
    if len(parts) == 2 and parts[0] in SEGMENTS and parts[1] == CAMPAIGN:
        return await campaigns.start_for_segment(session, parts[0])
    if len(parts) != 1 or parts[0] not in SEGMENTS:
        return [session.reply("button-expired")]
    name = parts[0]
    rows = (
        await MemberInsight.filter(segment=name, customer__deleted_at__isnull=True)
        .order_by("-spend_vnd", "customer_id")
        .limit(SAMPLE)
        .prefetch_related("customer")
    )
    lines = [session.say("segments-members", segment=session.say(f"segment-{name}"))]
    for row in rows:
        lines.append(_member_line(session, row.customer, row))
    action = f"{ACTION_PREFIX}:{session.conversation.nonce}:{name}:{CAMPAIGN}"
    button = Button(session.say("segments-campaign-button"), action)
    return [Reply("\n".join(lines), buttons=((button,),))]


def _member_line(session: Session, customer: Customer, row: MemberInsight) -> str:
    last = row.last_visit_at
    return session.say(
        "segments-member",
        name=shown_name(customer),
        phone=customer.phone or "—",
        visits=row.visits,
        spend=format_vnd(int(row.spend_vnd), session.language),
        last=format_date(last.astimezone(session.shop.zone).date()) if last else "—",
    )


async def customer(session: Session) -> list[Reply]:
    """``/customer <phone>``: one member's profile."""
    phone = to_e164(session.incoming.args)
    member = await Customer.get_or_none(phone=phone, deleted_at__isnull=True) if phone else None
    if member is None:
        return [session.reply("customer-not-found")]
    row = await MemberInsight.get_or_none(customer_id=member.id)
    if row is None:
        return [session.reply("customer-not-analysed", name=shown_name(member))]
    language = session.language
    weekday = session.say(f"weekday-{row.usual_weekday}") if row.usual_weekday is not None else "—"
    return [
        session.reply(
            "customer-profile",
            name=shown_name(member),
            tier=await tiers.name_of(member.tier_code, language),
            points=int(member.points_balance),
            visits=row.visits,
            spend=format_vnd(int(row.spend_vnd), language),
            average=format_vnd(int(row.average_spend_vnd), language),
            favourites=", ".join(row.favourite_items) or "—",
            weekday=weekday,
            hour="—" if row.usual_hour is None else f"{row.usual_hour}:00",
            segment=session.say(f"segment-{row.segment}"),
            alive=_percent(row.p_alive),
            value="—"
            if row.value_12m_vnd is None
            else format_vnd(int(row.value_12m_vnd), language),
        )
    ]


EXPORT_COLUMNS = (
    "member_id",
    "name",
    "phone",
    "tier",
    "points",
    "visits",
    "spend_vnd",
    "average_spend_vnd",
    "last_visit",
    "recency_days",
    "r",
    "f",
    "m",
    "segment",
    "p_alive",
    "expected_visits_30",
    "value_12m_vnd",
    "favourite_items",
    "usual_weekday",
    "usual_hour",
)


async def export(session: Session) -> list[Reply]:
    """``/export``: every member with their scores, as a CSV an owner opens in a spreadsheet
    (UTF-8 with a byte order mark, so Excel shows Vietnamese names right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    rows = (
        await MemberInsight.filter(customer__deleted_at__isnull=True)
        .order_by("customer_id")
        .prefetch_related("customer")
    )
    for row in rows:
        member = row.customer
        writer.writerow(
            (
                member.id,
                member.display_name,
                member.phone or "",
                member.tier_code,
                int(member.points_balance),
                row.visits,
                int(row.spend_vnd),
                int(row.average_spend_vnd),
                row.last_visit_at.isoformat() if row.last_visit_at else "",
                row.recency_days if row.recency_days is not None else "",
                row.r_score,
                row.f_score,
                row.m_score,
                row.segment,
                "" if row.p_alive is None else f"{row.p_alive:.3f}",
                "" if row.expected_visits_30 is None else f"{row.expected_visits_30:.2f}",
                "" if row.value_12m_vnd is None else int(row.value_12m_vnd),
                "; ".join(row.favourite_items),
                "" if row.usual_weekday is None else row.usual_weekday,
                "" if row.usual_hour is None else row.usual_hour,
            )
        )
    data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    name = f"members-{session.now.astimezone(session.shop.zone).date().isoformat()}.csv"
    return [
        Reply(
            session.say("export-done", count=len(rows)),
            document=Attachment(name, data, "text/csv"),
        )
    ]
