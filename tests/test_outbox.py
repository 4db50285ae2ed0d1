"""The outbox's rules on a real database: dedupe, the same-transaction guarantee, the marketing
policy (window, caps, consent) on a controllable clock, claims, leases and crash recovery."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise.transactions import in_transaction

from handlers.types import Shop
from loyalty import outbox
from loyalty.outbox import Draft, Policy, policy_from
from models.members import ChannelAccount, Customer
from models.outbox import OutboxMessage

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# 10:00 in Hồ Chí Minh City, inside the default window.
MORNING = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
POLICY = Policy(zone=ZONE)


async def member(name: str = "Lan", *, consent: bool = True, user: str = "1001") -> Customer:
    customer = await Customer.create(display_name=name, marketing_consent=consent)
    await ChannelAccount.create(
        channel="telegram", external_id=user, chat_id=user, customer_id=customer.id
    )
    return customer


def offer(key: str, *, marketing: bool = True) -> Draft:
    return Draft("test", key, [("notice-tier-up", {"tier": outbox.tier("gold")})], marketing)


async def claim_all(at: datetime = MORNING, worker: str = "w1") -> list[OutboxMessage]:
    return await outbox.claim(worker, at, 100, LEASE, ["telegram"])


async def go(message: OutboxMessage, at: datetime = MORNING, policy: Policy = POLICY) -> bool:
    """What the sender does before a request leaves: check, then start."""
    if await outbox.check(message, policy, at) is None:
        return False
    return await outbox.start(message, policy, at, LEASE)


async def test_the_same_key_queues_once(db: str) -> None:
    lan = await member()
    for _ in range(2):
        assert await outbox.to_member(lan.id, offer("birthday:2026:1"), MORNING) == 1
    assert await OutboxMessage.all().count() == 1


async def test_a_rolled_back_cause_leaves_no_message(db: str) -> None:
    lan = await member()
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await outbox.to_member(lan.id, offer("earned:1", marketing=False), MORNING)
            raise RuntimeError("the purchase failed after the notice was queued")
    assert await OutboxMessage.all().count() == 0
    # A duplicate inside a transaction does not abort it (ON CONFLICT DO NOTHING).
    async with in_transaction():
        await outbox.to_member(lan.id, offer("earned:2", marketing=False), MORNING)
        await outbox.to_member(lan.id, offer("earned:2", marketing=False), MORNING)
        await Customer.filter(id=lan.id).update(points_balance=5)
    assert await OutboxMessage.all().count() == 1
    assert (await Customer.get(id=lan.id)).points_balance == 5


async def test_an_unreachable_account_gets_a_skipped_row_only(db: str) -> None:
    lan = await member()
    await ChannelAccount.filter(customer_id=lan.id).update(unreachable_at=MORNING)
    assert await outbox.to_member(lan.id, offer("x", marketing=False), MORNING) == 0
    row = await OutboxMessage.get()
    assert (row.status, row.reason) == ("skipped", "unreachable")
    assert await claim_all() == []


async def test_the_window_opens_and_closes_in_the_shops_zone(db: str) -> None:
    policy = Policy(zone=ZONE)
    evening = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 21:30 local
    assert policy.is_open(MORNING) and not policy.is_open(evening)
    assert policy.next_opening(evening) == datetime(2026, 11, 24, 8, 0, tzinfo=ZONE)
    before_dawn = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 06:30 on the 24th local
    assert policy.next_opening(before_dawn) == datetime(2026, 11, 24, 8, 0, tzinfo=ZONE)
    # 16:59 UTC is 23:59 local; a minute later it is the next local day.
    midnight = policy.local_midnight(datetime(2026, 11, 23, 16, 59, tzinfo=UTC))
    assert midnight == datetime(2026, 11, 23, 0, 0, tzinfo=ZONE) and midnight.tzinfo is UTC
    later = policy.local_midnight(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    assert later == datetime(2026, 11, 24, 0, 0, tzinfo=ZONE)


async def test_marketing_outside_the_window_waits_and_transactional_does_not(db: str) -> None:
    lan = await member()
    night = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 22:00 local
    await outbox.to_member(lan.id, offer("offer"), night)
    await outbox.to_member(lan.id, offer("receipt", marketing=False), night)
    first = await claim_all(night)
    assert [m.marketing for m in first] == [False]  # one per chat, transactional first
    assert await go(first[0], night)
    await outbox.sent(first[0])
    (ad,) = await claim_all(night + timedelta(seconds=2))
    assert not await go(ad, night + timedelta(seconds=2))
    ad = await OutboxMessage.get(id=ad.id)
    assert ad.status == "queued" and ad.reason == "outside the send window"
    assert ad.not_before == datetime(2026, 11, 24, 8, 0, tzinfo=ZONE)
    assert await claim_all(night + timedelta(hours=9)) == []  # 07:00 local: still shut
    (ad,) = await claim_all(night + timedelta(hours=10))
    assert await go(ad, night + timedelta(hours=10))


async def test_daily_and_weekly_caps_push_marketing_to_a_later_day(db: str) -> None:
    lan = await member()
    policy = Policy(zone=ZONE, daily_cap=1, weekly_cap=2)
    day = MORNING
    sent_days = []
    for n in range(4):
        await outbox.to_member(lan.id, offer(f"offer-{n}"), MORNING)
    for _ in range(9):  # nine mornings
        for message in await claim_all(day):
            if await go(message, day, policy):
                await outbox.sent(message)
                sent_days.append(day.date())
        day += timedelta(days=1)
    # One a day, two in any seven days: days 0 and 1, then 7 and 8.
    assert [(d - MORNING.date()).days for d in sent_days] == [0, 1, 7, 8]
    reasons = await OutboxMessage.filter(status="sent").values_list("reason", flat=True)
    assert set(reasons) == {""}


async def test_no_consent_deleted_member_and_stale_messages_are_skipped(db: str) -> None:
    quiet = await member("Bình", consent=False, user="1002")
    gone = await member("Chi", user="1003")
    lan = await member()
    await outbox.to_member(quiet.id, offer("a"), MORNING)
    await outbox.to_member(gone.id, offer("b", marketing=False), MORNING)
    late = Draft("test", "c", [("notice-tier-up", {"tier": "gold"})], True, expires_at=MORNING)
    await outbox.to_member(lan.id, late, MORNING)
    await Customer.filter(id=gone.id).update(deleted_at=MORNING)
    for message in await claim_all():
        assert not await go(message)
    reasons = dict(await OutboxMessage.all().values_list("dedupe_key", "reason"))
    assert reasons == {
        "a": "no marketing consent",
        "b": "member deleted",
        "c": "too late to be useful",
    }
    assert set(await OutboxMessage.all().values_list("status", flat=True)) == {"skipped"}


def test_a_misconfigured_policy_holds_marketing_only() -> None:
    assert policy_from("08:00-21:00", 1, 2, ZONE).problem is None
    narrow = policy_from("09:30-20:00", 0, 1, ZONE)
    assert (narrow.opens, narrow.closes, narrow.problem) == (time(9, 30), time(20, 0), None)
    for window, daily, weekly in (
        ("21:00-08:00", 1, 2),
        ("8h-21h", 1, 2),
        ("07:00-21:00", 1, 2),  # wider than members consented to
        ("08:00-21:00", 4, 2),  # Decree 91/2020: at most 3 a day
        ("08:00-21:00", 1, 3),  # the consent wording says 2 a week
        ("08:00-21:00", -1, 2),
    ):
        policy = policy_from(window, daily, weekly, ZONE)
        assert policy.problem is not None, (window, daily, weekly)


async def test_held_marketing_waits_while_receipts_go(db: str) -> None:
    lan = await member()
    held = policy_from("nonsense", 1, 2, ZONE)
    await outbox.to_member(lan.id, offer("offer"), MORNING)
    (ad,) = await claim_all()
    assert not await go(ad, policy=held)
    ad = await OutboxMessage.get(id=ad.id)
    assert ad.status == "queued" and ad.reason.startswith("held: QUEN_SEND_WINDOW")
    await outbox.to_member(lan.id, offer("receipt", marketing=False), MORNING)
    (receipt,) = await claim_all()
    assert await go(receipt, policy=held)


async def test_two_claimers_never_share_a_row(db: str) -> None:
    customers = [await member(f"K{i}", user=str(2000 + i)) for i in range(30)]
    for customer in customers:
        await outbox.to_member(customer.id, offer("x", marketing=False), MORNING)
    batches = await asyncio.gather(*(claim_all(worker=f"w{i}") for i in range(4)))
    ids = [m.id for batch in batches for m in batch]
    assert len(ids) == len(set(ids)) == 30


async def test_one_message_per_chat_per_claim_and_busy_chats_wait(db: str) -> None:
    lan = await member()
    for n in range(3):
        await outbox.to_member(lan.id, offer(f"n{n}", marketing=False), MORNING)
    first = await claim_all()
    assert len(first) == 1
    account = await ChannelAccount.get(customer_id=lan.id)
    assert await outbox.claim("w2", MORNING, 10, LEASE, ["telegram"], {account.id}) == []
    assert await outbox.claim("w2", MORNING, 10, LEASE, ["zalo"]) == []


async def test_recovery_after_a_crash(db: str) -> None:
    """A dead sender's claimed rows go back to the queue; its in-flight rows are unknown
    (marketing, never resent) or queued again (transactional, at least once)."""
    people = [await member(f"K{i}", user=str(3000 + i)) for i in range(4)]
    await outbox.to_member(people[0].id, offer("ad-in-flight"), MORNING)
    await outbox.to_member(people[1].id, offer("receipt-in-flight", marketing=False), MORNING)
    await outbox.to_member(people[2].id, offer("ad-claimed"), MORNING)
    await outbox.to_member(people[3].id, offer("receipt-done", marketing=False), MORNING)
    claimed = {m.dedupe_key: m for m in await claim_all()}
    for key in ("ad-in-flight", "receipt-in-flight", "receipt-done"):
        assert await go(claimed[key])
    await outbox.sent(claimed["receipt-done"])
    # The sender dies here. Before its lease ends nothing moves:
    assert await outbox.recover(MORNING + timedelta(seconds=30)) == {
        "requeued": 0,
        "unknown": 0,
        "resent": 0,
    }
    assert await outbox.recover(MORNING + timedelta(seconds=61)) == {
        "requeued": 1,
        "unknown": 1,
        "resent": 1,
    }
    states = dict(await OutboxMessage.all().values_list("dedupe_key", "status"))
    assert states == {
        "ad-in-flight": "unknown",
        "receipt-in-flight": "queued",
        "ad-claimed": "queued",
        "receipt-done": "sent",
    }
    # The old sender's late update cannot overwrite what recovery decided.
    await outbox.sent(claimed["ad-in-flight"])
    assert (await OutboxMessage.get(dedupe_key="ad-in-flight")).status == "unknown"


async def test_retries_back_off_and_give_up(db: str) -> None:
    lan = await member()
    await outbox.to_member(lan.id, offer("r", marketing=False), MORNING)
    at = MORNING
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        (message,) = await claim_all(at)
        assert await go(message, at)
        assert message.attempts == attempt
        await outbox.not_delivered(message, "connection refused", at)
        at += outbox.backoff(attempt)
    row = await OutboxMessage.get()
    assert row.status == "failed" and row.reason.startswith("gave up after 8 attempts")
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 12)] == [5, 10, 20, 3600]


async def test_erasure_skips_what_was_queued_and_clears_the_facts(db: str) -> None:
    from loyalty.privacy import erase_member

    lan = await member()
    await outbox.to_member(lan.id, offer("queued"), MORNING)
    assert await erase_member(lan.id, MORNING, channel="telegram")
    row = await OutboxMessage.get()
    assert (row.status, row.reason, row.payload, row.account_id) == (
        "skipped",
        "member deleted",
        {},
        None,
    )


async def test_the_report_counts_and_explains(db: str) -> None:
    lan = await member()
    await outbox.to_member(lan.id, offer("a", marketing=False), MORNING)
    await outbox.to_member(lan.id, offer("b"), MORNING)
    (first,) = await claim_all()
    assert await go(first)
    await outbox.failed(first, "refused: Bad Request: message is too long")
    report = await outbox.report()
    assert report.counts["failed"] == 1 and report.counts["queued"] == 1
    assert report.by_kind["test"]["failed"] == 1
    assert report.problems[0].reason == "refused: Bad Request: message is too long"
    assert report.next_due == MORNING


async def test_owners_see_the_queue_in_chat_and_customers_cannot(db: str, shop: Shop) -> None:
    from dataclasses import replace

    from tests.chat import Chat, join

    owner_shop = replace(
        shop, owners=frozenset({("telegram", "9001")}), marketing_hold="QUEN_SEND_WINDOW='x'"
    )
    owner = Chat(owner_shop, user_id="9001")
    assert "Chưa có tin nào" in (await owner.say("/outbox"))[0].text
    lan = await join(Chat(owner_shop, user_id="1001"))
    customer = await Customer.get(accounts__external_id="1001")
    await outbox.to_member(customer.id, offer("a", marketing=False), MORNING)
    (message,) = await claim_all()
    assert await go(message)
    await outbox.failed(message, "refused: Bad Request: message is too long")
    text = (await owner.say("/outbox"))[0].text
    assert "Lỗi: 1" in text and "message is too long" in text
    assert "Tin ưu đãi đang bị giữ lại: QUEN_SEND_WINDOW='x'" in text
    assert "không biết lệnh" in (await lan.say("/outbox"))[0].text


arrivals = st.lists(
    st.tuples(st.integers(0, 9 * 24), st.booleans(), st.integers(0, 5)),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    messages=arrivals,
    daily=st.integers(0, 3),
    weekly=st.integers(0, 2),
    tick_hours=st.sampled_from([1, 3, 5]),
)
async def test_marketing_never_breaks_the_window_the_caps_or_the_dedupe(
    db: str, messages: list[tuple[int, bool, int]], daily: int, weekly: int, tick_hours: int
) -> None:
    """Whatever arrives when, and however often the sender looks: marketing goes out only inside
    the window, within the daily and weekly caps, each key at most once; receipts all go out."""
    user = str(10_000 + await Customer.all().count())
    lan = await member(user=user)
    policy = Policy(zone=ZONE, daily_cap=daily, weekly_cap=weekly)
    start = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # local midnight
    pending = sorted((start + timedelta(hours=h), m, k) for h, m, k in messages)
    at = start
    while at <= start + timedelta(days=12):
        while pending and pending[0][0] <= at:
            _, marketing, key = pending.pop(0)
            await outbox.to_member(lan.id, offer(f"{marketing}-{key}", marketing=marketing), at)
        while batch := await claim_all(at, worker=user):
            for message in batch:
                if await go(message, at, policy):
                    await outbox.sent(message)
        at += timedelta(hours=tick_hours)
    rows = await OutboxMessage.filter(customer_id=lan.id)
    assert len({r.dedupe_key for r in rows}) == len(rows)
    ads = sorted(r.sent_at.astimezone(ZONE) for r in rows if r.marketing and r.status == "sent")
    assert all(time(8) <= moment.time() < time(21) for moment in ads)
    for moment in ads:
        assert sum(other.date() == moment.date() for other in ads) <= daily
        assert sum(moment - timedelta(days=7) < other <= moment for other in ads) <= weekly
    receipts = [r for r in rows if not r.marketing]
    assert all(r.status == "sent" for r in receipts)
    if daily and weekly:  # with room to send, the first offer is not held forever
        assert ads or not any(r.marketing for r in rows)


async def test_a_shut_window_moves_every_waiting_offer_to_the_opening_at_once(db: str) -> None:
    lan = await member()
    night = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 23:00 local
    await outbox.to_member(lan.id, offer("ad"), night)
    await outbox.to_member(lan.id, offer("receipt", marketing=False), night)
    await outbox.hold_until_opening(POLICY, MORNING)  # open: nothing moves
    assert set(await OutboxMessage.all().values_list("not_before", flat=True)) == {night}
    await outbox.hold_until_opening(POLICY, night)
    moved = dict(await OutboxMessage.all().values_list("dedupe_key", "not_before"))
    assert moved == {"ad": datetime(2026, 11, 24, 8, 0, tzinfo=ZONE), "receipt": night}
