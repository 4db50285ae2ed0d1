"""The outbox: every message the bot starts, queued in the transaction that caused it.

Why an outbox: a points notice written after the purchase commits is lost if the process dies in
between, and one sent before it commits may announce points that never existed. Written in the
same transaction, the message exists exactly when its cause does; a unique ``(account, dedupe
key)`` makes a retried cause queue nothing new.

Two kinds of message:

* transactional (points earned, a voucher used, an alert to owners): at least once. Sent at any
  hour, retried after a failure whose outcome is unknown.
* marketing (offers, reminders, later campaigns): at most once, and only with the member's
  marketing consent, inside the shop's send window, under the daily and weekly caps
  (Decree 91/2020). A send whose outcome is unknown (a read timeout) is recorded as ``unknown``
  and never repeated.

A message's life: ``queued`` -> ``claimed`` (a sender took it, with a lease) -> ``sending`` (the
request is about to leave) -> ``sent``; or ``failed``, ``unknown`` or ``skipped`` with a reason.
A sender that dies leaves ``claimed`` rows (never tried: queued again when the lease ends) and
``sending`` rows (in flight: unknown for marketing, queued again for transactional).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models.analytics import MemberInsight
from models.members import ChannelAccount, Customer
from models.outbox import OutboxMessage

log = logging.getLogger(__name__)

QUEUED, CLAIMED, SENDING, SENT = "queued", "claimed", "sending", "sent"
FAILED, UNKNOWN, SKIPPED = "failed", "unknown", "skipped"
STATUSES = (QUEUED, CLAIMED, SENDING, SENT, FAILED, UNKNOWN, SKIPPED)
#: Rows that count against a member's marketing caps: tried, whatever came of it.
TRIED = (SENDING, SENT, UNKNOWN)
#: A transactional message is tried this many times before it is given up as failed.
MAX_ATTEMPTS = 8

#: A fact in a message: a plain number or text, or money / a tier / a day, formatted for the
#: reader when the message is rendered (``{"$vnd": 85000}``).
Fact = int | str | dict[str, int | str]
Line = tuple[str, dict[str, Fact]]
#: A line whose words were written for this member by the copywriter (``{"text": ...}``, in the
#: member's language) instead of a catalog key. Its ``{name}`` is filled in when it is sent.
COPY_LINE = "copy"


def vnd(amount: int) -> Fact:
    return {"$vnd": int(amount)}


def tier(code: str) -> Fact:
    return {"$tier": code}


def day(when: date) -> Fact:
    return {"$date": when.isoformat()}


def staff(account_id: int) -> Fact:
    """A staff member's chat name, as owners know them."""
    return {"$staff": account_id}


def member(customer_id: int) -> Fact:
    """Another member's name, looked up when sent (so an erased member's name is never shown)."""
    return {"$member": customer_id}


@dataclass(frozen=True)
class Draft:
    """What to say (message keys and facts), why (``kind``) and once per what (``key``)."""

    kind: str
    key: str
    lines: Sequence[Line]
    marketing: bool = False
    voucher_id: int | None = None
    reset_menu: bool = False
    expires_at: datetime | None = None
    #: Not before this moment (a member's usual hour); ignored if it would miss ``expires_at``.
    not_before: datetime | None = None

    def send_from(self, at: datetime) -> datetime:
        """``not_before`` if it leaves time to send before ``expires_at``, else ``at``."""
        if self.not_before is None or (
            self.expires_at is not None and self.not_before >= self.expires_at
        ):
            return at
        return max(self.not_before, at)

    def payload(self) -> dict[str, object]:
        data: dict[str, object] = {"lines": [[key, args] for key, args in self.lines]}
        if self.voucher_id is not None:
            data["voucher"] = self.voucher_id
        if self.reset_menu:
            data["reset_menu"] = True
        return data


def _row(
    draft: Draft, account: ChannelAccount, customer_id: int | None, at: datetime
) -> OutboxMessage:
    skipped = account.unreachable_at is not None
    return OutboxMessage(
        account_id=account.id,
        customer_id=customer_id,
        kind=draft.kind,
        marketing=draft.marketing,
        dedupe_key=draft.key[:128],
        payload=draft.payload(),
        status=SKIPPED if skipped else QUEUED,
        reason="unreachable" if skipped else "",
        created_at=at,
        not_before=draft.send_from(at),
        expires_at=draft.expires_at,
    )


async def _queue(rows: list[OutboxMessage]) -> int:
    """Insert, keeping the first row of each ``(account, key)``: ``ON CONFLICT DO NOTHING``, so a
    duplicate never aborts the surrounding transaction (PostgreSQL would). Returns how many
    reachable accounts the message was addressed to (a duplicate counts, and sends nothing)."""
    if rows:
        await OutboxMessage.bulk_create(rows, ignore_conflicts=True)
    return sum(row.status == QUEUED for row in rows)


async def to_member(customer_id: int, draft: Draft, at: datetime) -> int:
    """Queue ``draft`` for each chat account of the member. Accounts that blocked the bot get a
    ``skipped`` row (so ``/outbox`` can say why) and nothing is sent to them."""
    accounts = await ChannelAccount.filter(customer_id=customer_id)
    return await _queue([_row(draft, account, customer_id, at) for account in accounts])


async def usual_times(
    customer_ids: Iterable[int], after: datetime, zone: ZoneInfo
) -> dict[int, datetime]:
    """For members whose last analysis found a usual hour: the next moment at that hour (local
    time) from ``after``, in UTC. Offers timed like this arrive when the member usually thinks of
    the shop; the send window and caps still apply when they are sent."""
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = await MemberInsight.filter(customer_id__in=ids, usual_hour__isnull=False).values(
        "customer_id", "usual_hour"
    )
    local = after.astimezone(zone)
    found = {}
    for row in rows:
        moment = datetime.combine(local.date(), time(int(row["usual_hour"])), tzinfo=zone)
        if moment < local:
            moment += timedelta(days=1)
        found[int(row["customer_id"])] = moment.astimezone(UTC)
    return found


async def to_accounts(accounts: Iterable[ChannelAccount], draft: Draft, at: datetime) -> int:
    """Queue ``draft`` for chat accounts that are not a member's (staff, owners)."""
    return await _queue([_row(draft, account, None, at) for account in accounts])


# ---------------------------------------------------------------------- the marketing policy


@dataclass(frozen=True)
class Policy:
    """When marketing may go out: the local send window and the caps per member.

    ``problem`` is set when the configuration makes no sense; marketing then waits (and the
    problem is logged and shown in ``/outbox``) while transactional messages flow as usual.
    """

    zone: ZoneInfo
    opens: time = time(8, 0)
    closes: time = time(21, 0)
    daily_cap: int = 1
    weekly_cap: int = 2
    problem: str | None = None

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone).time()
        return self.opens <= local < self.closes

    def next_opening(self, at: datetime) -> datetime:
        """The first moment at or after ``at`` inside the window (in UTC, like every stored
        time: SQLite compares times as text, so offsets must agree)."""
        if self.is_open(at):
            return at
        local = at.astimezone(self.zone)
        opening = datetime.combine(local.date(), self.opens, tzinfo=self.zone)
        if opening <= local:
            opening = datetime.combine(local.date() + timedelta(days=1), self.opens, self.zone)
        return opening.astimezone(UTC)

    def next_day_opening(self, at: datetime) -> datetime:
        tomorrow = at.astimezone(self.zone).date() + timedelta(days=1)
        return datetime.combine(tomorrow, self.opens, tzinfo=self.zone).astimezone(UTC)

    def local_midnight(self, at: datetime) -> datetime:
        local = datetime.combine(at.astimezone(self.zone).date(), time(0), tzinfo=self.zone)
        return local.astimezone(UTC)


#: What members consented to (the wording in the join and /offers texts): settings may narrow
#: these, never widen them.
CONSENTED_OPENS, CONSENTED_CLOSES, CONSENTED_WEEKLY = time(8, 0), time(21, 0), 2
#: Decree 91/2020: at most three advertising messages a day to one person.
LEGAL_DAILY = 3


def _clock_time(text: str) -> time | None:
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        return None
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        return None
    return time(h, m)


def policy_from(window: str, daily_cap: int, weekly_cap: int, zone: ZoneInfo) -> Policy:
    """Read ``QUEN_SEND_WINDOW`` (``HH:MM-HH:MM``) and the caps, never raising: a bad value
    becomes ``problem`` so one typo holds marketing instead of stopping the bot."""
    start, _, end = window.partition("-")
    opens, closes = _clock_time(start), _clock_time(end)
    problem = None
    if opens is None or closes is None or closes <= opens:
        problem = f"QUEN_SEND_WINDOW={window!r} is not HH:MM-HH:MM with the start first"
    elif opens < CONSENTED_OPENS or closes > CONSENTED_CLOSES:
        problem = f"QUEN_SEND_WINDOW={window!r} is wider than members consented to (08:00-21:00)"
    elif not 0 <= daily_cap <= LEGAL_DAILY:
        problem = f"QUEN_MARKETING_DAILY_CAP={daily_cap} is outside 0-{LEGAL_DAILY}"
    elif not 0 <= weekly_cap <= CONSENTED_WEEKLY:
        problem = f"QUEN_MARKETING_WEEKLY_CAP={weekly_cap} is outside 0-{CONSENTED_WEEKLY}"
    if problem is not None:
        log.error("marketing messages are held: %s", problem)
        return Policy(zone=zone, daily_cap=0, weekly_cap=0, problem=problem)
    assert opens is not None and closes is not None
    return Policy(
        zone=zone,
        opens=opens,
        closes=closes,
        daily_cap=daily_cap,
        weekly_cap=weekly_cap,
    )


# -------------------------------------------------------------------------- the sender's side


async def hold_until_opening(policy: Policy, at: datetime) -> None:
    """While the window is shut, move every due marketing message to the next opening in one
    statement, instead of claiming and postponing them one by one."""
    if policy.problem is not None or policy.is_open(at):
        return
    opening = policy.next_opening(at)
    await OutboxMessage.filter(status=QUEUED, marketing=True, not_before__lt=opening).update(
        not_before=opening, reason="outside the send window"
    )


@dataclass
class Claimed:
    """A claimed message with what sending it needs."""

    message: OutboxMessage
    account: ChannelAccount
    customer: Customer | None


async def claim(
    worker: str,
    at: datetime,
    limit: int,
    lease: timedelta,
    channels: Collection[str],
    busy_accounts: Iterable[int] = (),
    chats_free_by: datetime | None = None,
) -> list[OutboxMessage]:
    """Take up to ``limit`` due messages for the given chat apps, at most one per chat account
    and none for the accounts in ``busy_accounts`` (written to less than a second ago) nor, if
    ``chats_free_by`` is given, whose ``next_send_at`` is later (another process wrote to them).
    Transactional ones go first.

    The take is one conditional ``UPDATE ... WHERE status = 'queued'``: two senders on one
    database can look at the same rows, but each row is claimed by exactly one of them.
    """
    busy = set(busy_accounts)
    reachable = Q(account__channel__in=list(channels))
    if chats_free_by is not None:
        reachable &= Q(account__next_send_at__isnull=True) | Q(
            account__next_send_at__lte=chats_free_by.astimezone(UTC)
        )
    candidates = (
        await OutboxMessage.filter(
            Q(account_id__isnull=True) | reachable,
            status=QUEUED,
            not_before__lte=at,
        )
        .order_by("marketing", "not_before", "id")
        .limit(limit * 4)
        .values_list("id", "account_id")
    )
    chosen: list[int] = []
    for message_id, account_id in candidates:
        if account_id in busy:
            continue
        busy.add(account_id)
        chosen.append(message_id)
        if len(chosen) == limit:
            break
    if not chosen:
        return []
    await OutboxMessage.filter(id__in=chosen, status=QUEUED).update(
        status=CLAIMED, claimed_by=worker, lease_until=at + lease
    )
    return await OutboxMessage.filter(id__in=chosen, status=CLAIMED, claimed_by=worker).order_by(
        "id"
    )


async def _settle(message: OutboxMessage, status: str, reason: str, **more: object) -> None:
    """Record the end (or the postponement) of one message, if this sender still holds it."""
    values: dict[str, object] = {"status": status, "reason": reason[:255], **more}
    values.setdefault("lease_until", None)
    if status == QUEUED:  # a finished row keeps ``claimed_by``: which sender sent it
        values.setdefault("claimed_by", None)
    await OutboxMessage.filter(id=message.id, claimed_by=message.claimed_by).update(**values)
    for name, value in values.items():
        setattr(message, name, value)


async def skip(message: OutboxMessage, reason: str) -> None:
    log.info("outbox %s (%s) skipped: %s", message.id, message.kind, reason)
    await _settle(message, SKIPPED, reason)


async def postpone(message: OutboxMessage, until: datetime, reason: str) -> None:
    await _settle(message, QUEUED, reason, not_before=until, sent_at=None)


async def sent(message: OutboxMessage) -> None:
    await _settle(message, SENT, "")


async def failed(message: OutboxMessage, reason: str) -> None:
    log.warning("outbox %s (%s) failed: %s", message.id, message.kind, reason)
    await _settle(message, FAILED, reason)


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at an hour."""
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


async def not_delivered(message: OutboxMessage, reason: str, at: datetime) -> None:
    """The send certainly did not arrive (connection refused, a 5xx): try again later."""
    if message.attempts >= MAX_ATTEMPTS:
        await failed(message, f"gave up after {message.attempts} attempts: {reason}")
        return
    await postpone(message, at + backoff(message.attempts), reason)


async def outcome_unknown(message: OutboxMessage, reason: str, at: datetime) -> None:
    """The send may or may not have arrived: marketing is at most once, transactional at least."""
    if message.marketing:
        log.warning("outbox %s (%s) outcome unknown: %s", message.id, message.kind, reason)
        await _settle(message, UNKNOWN, reason)
    else:
        await not_delivered(message, reason, at)


async def give_back(message: OutboxMessage, reason: str) -> None:
    """Not delivered (a 429, or the sender is stopping): back in the queue, the attempt not
    counted."""
    attempts = message.attempts - 1 if message.status == SENDING else message.attempts
    await _settle(message, QUEUED, reason, attempts=attempts, sent_at=None)


async def release(worker: str) -> int:
    """Everything this sender claimed but did not start: queued again (on a 429 or a stop)."""
    return await OutboxMessage.filter(status=CLAIMED, claimed_by=worker).update(
        status=QUEUED, claimed_by=None, lease_until=None
    )


async def recover(at: datetime) -> dict[str, int]:
    """Rows whose sender's lease ran out (it died): claimed ones were never tried and go back to
    the queue; sending ones were in flight, so marketing becomes ``unknown`` and transactional
    is queued again. Safe to run from every process at any time."""
    expired = Q(lease_until__lt=at)
    requeued = await OutboxMessage.filter(expired, status=CLAIMED).update(
        status=QUEUED, claimed_by=None, lease_until=None
    )
    unknown = await OutboxMessage.filter(expired, status=SENDING, marketing=True).update(
        status=UNKNOWN,
        reason="in flight when its sender stopped",
        claimed_by=None,
        lease_until=None,
    )
    retried = await OutboxMessage.filter(expired, status=SENDING, marketing=False).update(
        status=QUEUED,
        reason="in flight when its sender stopped",
        claimed_by=None,
        lease_until=None,
        sent_at=None,
    )
    if requeued or unknown or retried:
        log.warning(
            "outbox recovery: %d claimed re-queued, %d marketing unknown, %d resent",
            requeued,
            unknown,
            retried,
        )
    return {"requeued": requeued, "unknown": unknown, "resent": retried}


async def _load(message: OutboxMessage) -> tuple[ChannelAccount | None, Customer | None]:
    account = (
        await ChannelAccount.get_or_none(id=message.account_id) if message.account_id else None
    )
    customer = await Customer.get_or_none(id=message.customer_id) if message.customer_id else None
    return account, customer


async def check(message: OutboxMessage, policy: Policy, at: datetime) -> Claimed | None:
    """Whether a claimed message may go now (None: it has been skipped or postponed).

    Skipped: the account is gone or blocked us, the member left or was erased, marketing without
    consent, a message past its use-by time. Postponed: marketing while the window is shut or
    the policy is misconfigured. The caps are checked by ``start``, under a lock.
    """
    account, customer = await _load(message)
    if account is None:
        await skip(message, "the chat account no longer exists")
        return None
    if account.unreachable_at is not None:
        await skip(message, "unreachable")
        return None
    if message.customer_id is not None and (
        customer is None or customer.deleted_at is not None or account.customer_id != customer.id
    ):
        await skip(message, "member deleted")
        return None
    if message.expires_at is not None and message.expires_at <= at:
        await skip(message, "too late to be useful")
        return None
    if message.marketing:
        if customer is None or not customer.marketing_consent:
            await skip(message, "no marketing consent")
            return None
        if policy.problem is not None:
            await postpone(message, at + timedelta(hours=1), f"held: {policy.problem}")
            return None
        if not policy.is_open(at):
            await postpone(message, policy.next_opening(at), "outside the send window")
            return None
    return Claimed(message, account, customer)


async def start(message: OutboxMessage, policy: Policy, at: datetime, lease: timedelta) -> bool:
    """Mark the message ``sending`` just before its request leaves. False if it must not go:
    another sender took it over (a lease ran out), or marketing is over a cap (postponed to the
    next day's opening). The cap count and the mark happen under the member's row lock, so two
    senders cannot both squeeze under a cap."""
    if not message.marketing or message.customer_id is None:
        return await _mark_sending(message, at, lease)
    async with in_transaction():
        await Customer.filter(id=message.customer_id).select_for_update().first()
        over = await _over_cap(message.customer_id, policy, at)
        if over is None:
            return await _mark_sending(message, at, lease)
    await postpone(message, policy.next_day_opening(at), over)
    return False


async def _over_cap(customer_id: int, policy: Policy, at: datetime) -> str | None:
    tried = OutboxMessage.filter(customer_id=customer_id, marketing=True, status__in=TRIED)
    if await tried.filter(sent_at__gte=policy.local_midnight(at)).count() >= policy.daily_cap:
        return "daily cap reached"
    if await tried.filter(sent_at__gt=at - timedelta(days=7)).count() >= policy.weekly_cap:
        return "weekly cap reached"
    return None


async def _mark_sending(message: OutboxMessage, at: datetime, lease: timedelta) -> bool:
    """``claimed`` -> ``sending``, only if this sender still holds it (a lease may have run out)."""
    changed = await OutboxMessage.filter(
        id=message.id, status=CLAIMED, claimed_by=message.claimed_by
    ).update(status=SENDING, sent_at=at, lease_until=at + lease, attempts=message.attempts + 1)
    if changed:
        message.status, message.sent_at, message.attempts = SENDING, at, message.attempts + 1
    return bool(changed)


# ------------------------------------------------------------------------------- reporting


@dataclass(frozen=True)
class Report:
    """What ``quen outbox`` and ``/outbox`` show."""

    counts: Mapping[str, int]
    by_kind: Mapping[str, Mapping[str, int]]
    problems: list[OutboxMessage] = field(default_factory=list)
    next_due: datetime | None = None


async def report(problems: int = 10) -> Report:
    """Counts by status and kind, the latest failures and unknowns with their reasons."""
    rows = (
        await OutboxMessage.annotate(n=Count("id"))
        .group_by("status", "kind")
        .values_list("status", "kind", "n")
    )
    counts = dict.fromkeys(STATUSES, 0)
    by_kind: dict[str, dict[str, int]] = {}
    for status, kind, n in rows:
        counts[status] = counts.get(status, 0) + int(n)
        by_kind.setdefault(kind, dict.fromkeys(STATUSES, 0))[status] = int(n)
    recent = (
        await OutboxMessage.filter(status__in=(FAILED, UNKNOWN, SKIPPED))
        .order_by("-id")
        .limit(problems)
    )
    waiting = await OutboxMessage.filter(status=QUEUED).order_by("not_before").first()
    return Report(counts, by_kind, recent, waiting.not_before if waiting else None)
