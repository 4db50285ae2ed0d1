"""What the daily marketing jobs give and say: birthday and win-back vouchers, reminders of points
about to expire, nudges towards the next tier.

Every body here takes the slot's local date, the moment it runs and the shop's zone, and returns
its outcome for ``JobRun`` (``<code> [number]``, read back by ``/jobs``). Each is idempotent on
its own: vouchers are issued once per key and messages are queued once per ``(account, key)``,
so a repeated run (another process, a catch-up after a restart) gives nothing twice.

Everything here is marketing: only for members who consented and were not erased, and the outbox
applies the send window and the daily and weekly caps when it sends (Decree 91/2020).
"""

from __future__ import annotations

import calendar
import logging
import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Q, Subquery
from tortoise.functions import Min, Sum
from tortoise.transactions import in_transaction

from loyalty import churn, outbox, rules, tiers, voice, vouchers
from loyalty.copywriter import Copy, Offer
from models.analytics import MemberInsight, ModelFit
from models.ledger import LedgerEntry, PointsLot
from models.members import Customer
from models.outbox import OutboxMessage
from models.purchases import Purchase
from models.rewards import Reward, Voucher
from scheduler.slots import Run

log = logging.getLogger(__name__)

BIRTHDAY, WINBACK, POINTS_EXPIRING, TIER_NUDGE = (
    "birthday",
    "winback",
    "points-expiring",
    "tier-nudge",
)
#: Outcome codes (``offers 3``, ``reward-unavailable 7``...).
OFFERS, REMINDERS, NUDGES = "offers", "reminders", "nudges"
NO_REWARD, REWARD_UNAVAILABLE = "no-reward", "reward-unavailable"

#: A birthday voucher is good until the end of this many days after the birthday.
BIRTHDAY_DAYS_AFTER = 3
#: A member gets at most one win-back voucher in this period.
WINBACK_GAP = timedelta(days=30)
#: Points expiring within this horizon are worth a reminder.
EXPIRY_HORIZON = timedelta(days=7)
#: Nudge members who have this share (in per cent) of the next tier's threshold.
NUDGE_FROM_PCT = 90
#: A nudge's "N points to go" goes stale as the member buys: not sent after this long.
NUDGE_SHELF_LIFE = timedelta(days=3)


def _consenting() -> Q:
    return Q(deleted_at__isnull=True, marketing_consent=True)


async def _offer_reward(reward_id: int | None, purpose: str) -> Reward | str:
    """The active reward an offer copies, or the outcome saying why there is no offer today."""
    if reward_id is None:
        return NO_REWARD
    reward = await Reward.get_or_none(id=reward_id, active=True)
    if reward is None:
        log.error(
            "the %s reward #%d no longer exists or is paused: no %s offers until an owner "
            "sets another with /settings %s",
            purpose,
            reward_id,
            purpose,
            purpose,
        )
        return f"{REWARD_UNAVAILABLE} {reward_id}"
    return reward


async def _give(
    customer_id: int,
    reward: Reward,
    copy: Copy,
    *,
    reason: str,
    key: str,
    until: datetime,
    at: datetime,
    not_before: datetime | None = None,
) -> bool:
    """Issue a free voucher copied from ``reward`` and queue its message in one transaction, so
    the message exists exactly when the voucher does. False if ``key`` was given already.

    The voucher costs no points and takes no stock: the reward is only its template (an owner
    sets stock for what points buy, not for the shop's own gifts). The key is checked before
    issuing because ``vouchers.issue`` replayed would give the existing voucher a new token and
    so stop the member's card from scanning. ``issue`` counts whole days from ``at``: the exact
    end (``until``) is written over it in the same transaction.
    """
    if await Voucher.filter(idempotency_key=key).exists():
        return False
    async with in_transaction():
        issued = await vouchers.issue(
            customer_id,
            reason=reason,
            title=reward.title,
            kind=reward.kind,
            value=int(reward.value),
            valid_days=max(1, math.ceil((until - at) / timedelta(days=1))),
            at=at,
            key=key,
            item_name=reward.item_name,
            min_spend=reward.min_spend_vnd,
        )
        voucher = issued.voucher
        await Voucher.filter(id=voucher.id).update(expires_at=until)
        draft = outbox.Draft(
            kind=reason,
            key=key,
            lines=[(outbox.COPY_LINE, {"text": copy.text})],
            marketing=True,
            voucher_id=voucher.id,
            expires_at=until,
            not_before=not_before,
        )
        await outbox.to_member(customer_id, draft, at)
    return True


async def _give_all(
    run: Run, reward: Reward, reason: str, grants: dict[int, str], until: datetime
) -> int:
    """``_give`` to each member in ``grants`` (member -> key) not given yet, with copy from the
    copywriter (drafted only for those, so a repeated run costs no model calls)."""
    given_keys = set(
        await Voucher.filter(idempotency_key__in=list(grants.values())).values_list(
            "idempotency_key", flat=True
        )
    )
    due = {member: key for member, key in grants.items() if key not in given_keys}
    if not due:
        return 0
    offer = Offer(
        kind=reason,
        title=reward.title,
        reward_kind=reward.kind,
        value=int(reward.value),
        item_name=reward.item_name,
        expires_on=until.astimezone(run.zone).date(),
    )
    customers = await Customer.filter(id__in=list(due)).order_by("id")
    writer = run.voice.writer()
    try:
        copies = await voice.write_for(writer, offer, await voice.traits_of(customers, run.now))
    finally:
        await writer.close()
    usage = writer.usage
    log.info(
        "%s copy: %d model calls, %d tokens, %d templates used instead",
        reason,
        usage.calls,
        usage.prompt_tokens + usage.completion_tokens,
        usage.fallbacks,
    )
    times = await outbox.usual_times(due, run.now, run.zone)
    given = 0
    for member, key in due.items():
        given += await _give(
            member,
            reward,
            copies[member],
            reason=reason,
            key=key,
            until=until,
            at=run.now,
            not_before=times.get(member),
        )
    return given


# ---------------------------------------------------------------------------------- birthdays


def celebrated_on(day: date) -> list[tuple[int, int]]:
    """The ``(month, day)`` birthdays celebrated on ``day``: 29 February is celebrated on
    28 February in common years."""
    found = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        found.append((2, 29))
    return found


def birthday_week_end(birthday: date, zone: ZoneInfo) -> datetime:
    """The last moment a birthday voucher works: the end of the local day three days after the
    birthday (one second before midnight, so its card shows that day as the last one)."""
    last_day = birthday + timedelta(days=BIRTHDAY_DAYS_AFTER)
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=zone).astimezone(UTC)


async def birthday_offers(run: Run) -> str:
    """Members whose birthday falls within ``birthday_days_ahead`` days of ``day`` (today
    included) get the birthday reward, good from now through the birthday week.

    Normally that is the birthday exactly N days ahead; looking at the whole range means a day
    the job could not run (the process down too long, the reward paused) or a member who joined
    two days before their birthday still gets one. The key carries the year of the birthday
    being celebrated (a 1 January birthday offered on 29 December counts for the new year), so
    each member gets one per year whatever the settings do meanwhile."""
    day, zone = run.day, run.zone
    program = await rules.current()
    reward = await _offer_reward(program.birthday_reward_id, BIRTHDAY)
    if isinstance(reward, str):
        return reward
    given = 0
    for ahead in range(program.birthday_days_ahead, -1, -1):
        birthday = day + timedelta(days=ahead)
        dates = Q(
            *(Q(birthday_month=month, birthday_day=dom) for month, dom in celebrated_on(birthday)),
            join_type=Q.OR,
        )
        members = await Customer.filter(_consenting(), dates).order_by("id").values("id")
        grants = {int(row["id"]): f"{BIRTHDAY}:{birthday.year}:{row['id']}" for row in members}
        given += await _give_all(run, reward, BIRTHDAY, grants, birthday_week_end(birthday, zone))
    return f"{OFFERS} {given}"


# ----------------------------------------------------------------------------------- win-back


async def winback_candidates(now: datetime, quiet_days: int) -> list[int]:
    """Consenting members at risk of not coming back, who had no win-back voucher in the last
    30 days.

    "At risk" follows the latest analysis: P(alive) under ``churn.P_ALIVE_RISK`` when the churn
    model is fitted, else the gap rule (away far longer than their own rhythm). Before any
    analysis has run, it is the owner's plain rule: no purchase (or no joining) for
    ``quiet_days`` days.
    """
    offered = Voucher.filter(reason=WINBACK, issued_at__gt=now - WINBACK_GAP).values("customer_id")
    members = Customer.filter(_consenting()).exclude(id__in=Subquery(offered))
    fit = await ModelFit.all().order_by("-id").first()
    if fit is None:
        cutoff = now - timedelta(days=quiet_days)
        recent_buyers = Purchase.filter(voided_at__isnull=True, created_at__gt=cutoff).values(
            "customer_id"
        )
        ever_bought = Purchase.filter(voided_at__isnull=True).values("customer_id")
        members = members.filter(Q(id__in=Subquery(ever_bought)) | Q(joined_at__lte=cutoff))
        members = members.exclude(id__in=Subquery(recent_buyers))
    else:
        members = members.filter(id__in=await _at_risk(fit.fitted))
    return [int(row["id"]) for row in await members.order_by("id").values("id")]


async def _at_risk(fitted: bool) -> list[int]:
    if fitted:
        low = MemberInsight.filter(visits__gte=1, p_alive__lt=churn.P_ALIVE_RISK)
        return [int(row["customer_id"]) for row in await low.values("customer_id")]
    rows = await MemberInsight.filter(visits__gte=1).values_list(
        "customer_id", "visits", "first_visit_at", "last_visit_at", "recency_days"
    )
    if not rows:
        return []
    ids, visits, firsts, lasts, since = zip(*rows, strict=True)
    gaps = [
        (last - first).days / (count - 1) if count > 1 else 0.0
        for first, last, count in zip(firsts, lasts, visits, strict=True)
    ]
    risky = churn.gap_rule_risk(since, gaps, visits)
    return [int(i) for i, flag in zip(ids, risky, strict=True) if flag]


async def winback_offers(run: Run) -> str:
    """A "we miss you" voucher from the win-back reward, at most once in 30 days per member."""
    day, now = run.day, run.now
    program = await rules.current()
    reward = await _offer_reward(program.winback_reward_id, WINBACK)
    if isinstance(reward, str):
        return reward
    candidates = await winback_candidates(now, program.winback_days)
    grants = {member: f"{WINBACK}:{member}:{day.isoformat()}" for member in candidates}
    until = now + timedelta(days=reward.valid_days)
    return f"{OFFERS} {await _give_all(run, reward, WINBACK, grants, until)}"


# -------------------------------------------------------------------------- reminders, nudges


async def _already_queued(keys: Iterable[str]) -> set[str]:
    rows = await OutboxMessage.filter(dedupe_key__in=list(keys)).values("dedupe_key")
    return {str(row["dedupe_key"]) for row in rows}


def _as_datetime(value: datetime | str) -> datetime:
    """An aggregate over a datetime column: SQLite hands back its stored text."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def expiry_reminders(run: Run) -> str:
    """Members with points expiring within 7 days are told how many and from when. The key names
    the local date of the earliest of those lots, so one batch is reminded once however many
    days it stays in the window."""
    now, zone = run.now, run.zone
    rows = (
        await PointsLot.filter(
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lte=now + EXPIRY_HORIZON,
            customer__deleted_at__isnull=True,
            customer__marketing_consent=True,
        )
        .annotate(points=Sum("remaining"), first=Min("expires_at"))
        .group_by("customer_id")
        .values("customer_id", "points", "first")
    )
    due = []
    for row in rows:
        first = _as_datetime(row["first"])
        key = f"{POINTS_EXPIRING}:{row['customer_id']}:{first.astimezone(zone).date().isoformat()}"
        due.append((int(row["customer_id"]), int(row["points"]), first, key))
    done = await _already_queued(key for *_, key in due)
    times = await outbox.usual_times((customer_id for customer_id, *_ in due), now, zone)
    reminded = 0
    for customer_id, points, first, key in due:
        if key in done:
            continue
        draft = outbox.Draft(
            kind=POINTS_EXPIRING,
            key=key,
            lines=[
                (
                    "offer-points-expiring",
                    {"points": points, "date": outbox.day(first.astimezone(zone).date())},
                )
            ],
            marketing=True,
            expires_at=first,
            not_before=times.get(customer_id),
        )
        reminded += await outbox.to_member(customer_id, draft, now) > 0
    return f"{REMINDERS} {reminded}"


async def qualifying_totals(now: datetime, at_least: int) -> dict[int, int]:
    """Every consenting member's tier-qualifying points (as ``tiers.qualifying_points`` counts
    them) that reach ``at_least``: one grouped query."""
    rows = (
        await LedgerEntry.filter(
            kind__in=tiers.QUALIFYING_KINDS,
            created_at__gt=now - tiers.TIER_WINDOW,
            created_at__lte=now,
            customer__deleted_at__isnull=True,
            customer__marketing_consent=True,
        )
        .annotate(total=Sum("points"))
        .group_by("customer_id")
        .filter(total__gte=at_least)
        .values("customer_id", "total")
    )
    return {int(row["customer_id"]): int(row["total"]) for row in rows}


def _nudge_floor(threshold: int) -> int:
    """The fewest points that are at least ``NUDGE_FROM_PCT`` per cent of ``threshold``."""
    return -(-threshold * NUDGE_FROM_PCT // 100)


async def tier_nudges(run: Run) -> str:
    """Members at 90 % or more of the next tier's threshold are told how far it is, once per tier
    per calendar month (local)."""
    day, now, zone = run.day, run.now, run.zone
    ladder = await tiers.current_rules()
    thresholds = [rule.threshold for rule in ladder if rule.threshold > 0]
    if not thresholds:
        return f"{NUDGES} 0"
    totals = await qualifying_totals(now, _nudge_floor(min(thresholds)))
    due = []
    for customer_id, earned in totals.items():
        progress = tiers.progress_for(earned, ladder)
        upcoming = progress.next
        if upcoming is None or earned < _nudge_floor(upcoming.threshold):
            continue
        key = f"{TIER_NUDGE}:{customer_id}:{upcoming.code}:{day:%Y-%m}"
        due.append((customer_id, progress.to_next, upcoming.code, key))
    done = await _already_queued(key for *_, key in due)
    times = await outbox.usual_times((customer_id for customer_id, *_ in due), now, zone)
    nudged = 0
    for customer_id, to_go, code, key in sorted(due):
        if key in done:
            continue
        draft = outbox.Draft(
            kind=TIER_NUDGE,
            key=key,
            lines=[("offer-tier-nudge", {"points": to_go, "tier": outbox.tier(code)})],
            marketing=True,
            expires_at=now + NUDGE_SHELF_LIFE,
            not_before=times.get(customer_id),
        )
        nudged += await outbox.to_member(customer_id, draft, now) > 0
    return f"{NUDGES} {nudged}"
