"""The outbox sender in the real application, through python-telegram-bot's HTTP stack, against a
fake Bot API that enforces Telegram's flood limits (30 messages/s overall, 1/s per chat)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

from bot.app import QuenApp
from bot.settings import TelegramMode
from loyalty import outbox
from loyalty.outbox import Draft
from models.db import is_postgres
from models.members import ChannelAccount, Customer
from models.outbox import OutboxMessage
from tests.conftest import FakeClock
from tests.fakes.telegram import FakeTelegram, TgUser
from tests.test_e2e_telegram import settings_for

FIRST_CHAT = 6_000_000_000


@pytest_asyncio.fixture
async def limited() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(bot_username="QuenTestBot", flood_limits=True)
    await server.start()
    yield server
    await server.stop()


async def running(fake: FakeTelegram, db: str, clock: FakeClock, **settings: object) -> QuenApp:
    base = settings_for(fake, db, TelegramMode.POLLING)
    app = QuenApp(base.model_copy(update=settings), clock)
    await app.start()
    return app


async def members(count: int, *, first_chat: int = FIRST_CHAT) -> list[Customer]:
    """``count`` members with consent, each with a Telegram chat, in two round trips."""
    await Customer.bulk_create(
        [Customer(display_name=f"K{i}", marketing_consent=True) for i in range(count)]
    )
    customers = await Customer.all().order_by("id")
    customers = customers[-count:]
    await ChannelAccount.bulk_create(
        [
            ChannelAccount(
                channel="telegram",
                external_id=str(first_chat + i),
                chat_id=str(first_chat + i),
                customer_id=c.id,
                language="vi",
            )
            for i, c in enumerate(customers)
        ]
    )
    return customers


def draft(key: str, *, marketing: bool = False) -> Draft:
    return Draft("test", key, [("notice-tier-up", {"tier": outbox.tier("gold")})], marketing)


async def until(condition: Callable[[], Awaitable[object]], seconds: float) -> None:
    """Poll the database (another task writes it) until ``condition`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


async def settled(count: int) -> bool:
    return (
        await OutboxMessage.filter(status__in=("sent", "failed", "unknown", "skipped")).count()
        >= count
    )


async def test_two_thousand_messages_at_the_default_pace_meet_telegrams_limits(
    db: str, limited: FakeTelegram, clock: FakeClock
) -> None:
    if is_postgres():
        pytest.skip("pacing does not depend on the backend; the SQLite run covers it (80 s)")
    singles = await members(1800)
    busy = await members(50, first_chat=FIRST_CHAT + 10_000)
    for customer in singles:  # marketing, with consent, inside the window
        await outbox.to_member(customer.id, draft("offer", marketing=True), clock.now)
    for customer in busy:  # four receipts each: the per-chat limit matters here
        for n in range(4):
            await outbox.to_member(customer.id, draft(f"receipt-{n}"), clock.now)
    app = await running(limited, db, clock)
    try:
        await until(lambda: settled(2000), seconds=240)
    finally:
        await app.stop()
    assert limited.flood_rejections == 0
    delivered = limited.delivered_counts()
    assert sum(delivered.values()) == 2000
    assert {delivered[FIRST_CHAT + i] for i in range(1800)} == {1}
    assert {delivered[FIRST_CHAT + 10_000 + i] for i in range(50)} == {4}
    assert await OutboxMessage.filter(status="sent").count() == 2000
    offer = next(c.text for c in limited.calls if c.chat_id == FIRST_CHAT and not c.failed)
    receipt = next(c.text for c in limited.calls if c.chat_id == FIRST_CHAT + 10_000)
    assert offer is not None and offer.startswith("[QC] Cà Phê Quen") and offer.endswith("/stop.")
    assert receipt == "🎉 Chúc mừng! Bạn đã lên hạng Vàng."  # transactional: no label


async def test_a_member_who_blocked_the_bot_is_marked_and_comes_back(
    db: str, fake: FakeTelegram, clock: FakeClock
) -> None:
    (lan,) = await members(1)
    user = TgUser(FIRST_CHAT, "Lan", language_code="vi")
    fake.block(user)
    app = await running(fake, db, clock)
    try:
        await outbox.to_member(lan.id, draft("one"), clock.now)
        app.sender.nudge()
        await until(lambda: settled(1), seconds=10)
        first = await OutboxMessage.get(dedupe_key="one")
        assert first.status == "failed" and first.reason.startswith("unreachable: Forbidden")
        account = await ChannelAccount.get(customer_id=lan.id)
        assert account.unreachable_at is not None
        await outbox.to_member(lan.id, draft("two"), clock.now)  # nothing more is queued
        assert (await OutboxMessage.get(dedupe_key="two")).status == "skipped"

        fake.push_text(user, "/points")  # any message from them clears it
        await until(
            lambda: ChannelAccount.filter(id=account.id, unreachable_at__isnull=True).exists(), 10
        )
        await outbox.to_member(lan.id, draft("three"), clock.now)
        app.sender.nudge()
        await until(lambda: OutboxMessage.filter(dedupe_key="three", status="sent").exists(), 10)
    finally:
        await app.stop()
    assert fake.delivered_counts()[FIRST_CHAT] == 2  # the /points answer and "three"


async def test_a_timeout_is_never_resent_for_marketing_and_is_for_a_receipt(
    db: str, fake: FakeTelegram, clock: FakeClock
) -> None:
    lan, binh = await members(2)
    fake.stall_next("sendMessage", 1.5, chat_id=FIRST_CHAT)
    fake.stall_next("sendMessage", 1.5, chat_id=FIRST_CHAT + 1)
    app = await running(fake, db, clock, telegram_timeout=0.5)
    try:
        await outbox.to_member(lan.id, draft("offer", marketing=True), clock.now)
        await outbox.to_member(binh.id, draft("receipt"), clock.now)
        app.sender.nudge()
        await until(lambda: OutboxMessage.filter(status="unknown").exists(), 10)
        # The receipt's timeout is settled on its own: back in the queue after one attempt.
        timed_out = OutboxMessage.filter(dedupe_key="receipt", reason__contains="Timed out")
        await until(timed_out.exists, 10)
        receipt = await OutboxMessage.get(dedupe_key="receipt")
        assert receipt.status == "queued" and receipt.attempts == 1
        clock.advance(seconds=6)  # the receipt's backoff is over
        app.sender.nudge()
        await until(lambda: settled(2), seconds=10)
        await asyncio.sleep(2)  # time for a wrong resend of the offer to show up
    finally:
        await app.stop()
    offer = await OutboxMessage.get(dedupe_key="offer")
    receipt = await OutboxMessage.get(dedupe_key="receipt")
    assert (offer.status, offer.attempts) == ("unknown", 1)
    assert (receipt.status, receipt.attempts) == ("sent", 2)
    delivered = fake.delivered_counts()
    # Both stalled sends did arrive: marketing once (at most once), the receipt twice (at least).
    assert delivered[FIRST_CHAT] == 1 and delivered[FIRST_CHAT + 1] == 2


async def test_a_429_pauses_everything_and_loses_nothing(
    db: str, fake: FakeTelegram, clock: FakeClock
) -> None:
    people = await members(5)
    fake.fail_next("sendMessage", error_code=429, retry_after=1)
    app = await running(fake, db, clock)
    try:
        for customer in people:
            await outbox.to_member(customer.id, draft("n"), clock.now)
        app.sender.nudge()
        await until(lambda: settled(5), seconds=15)
    finally:
        await app.stop()
    assert sorted(fake.delivered_counts().values()) == [1] * 5
    rows = await OutboxMessage.all()
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
    failed = [c for c in fake.calls if c.failed and c.error_code == 429]
    sent = [c for c in fake.calls if c.method == "sendMessage" and not c.failed]
    assert len(failed) == 1
    # Nothing new went out during the second Telegram asked for (a request already on its way
    # when the 429 came back cannot be recalled: allow 0.3 s for the answer to arrive).
    pause = (failed[0].at + 0.3, failed[0].at + 1.0)
    assert not [c for c in sent if pause[0] < c.at < pause[1]]
    assert max(c.at for c in sent) >= failed[0].at + 1.0


async def test_a_purchase_notice_reaches_the_member_through_the_outbox(
    db: str, fake: FakeTelegram, clock: FakeClock
) -> None:
    from loyalty.purchases import award_purchase
    from models.staff import StaffMember

    (lan,) = await members(1)
    cashier_account = await ChannelAccount.create(channel="telegram", external_id="9", chat_id="9")
    cashier = await StaffMember.create(account_id=cashier_account.id, role="cashier")
    app = await running(fake, db, clock)
    try:
        recorded = await award_purchase(
            lan, 85_000, cashier=cashier, key="k", at=clock.now, zone=app.settings.zone
        )
        app.sender.nudge()
        await until(lambda: settled(1), seconds=10)
    finally:
        await app.stop()
    (call,) = [c for c in fake.calls if c.chat_id == FIRST_CHAT]
    assert call.text is not None and "+85 điểm cho hóa đơn 85.000 ₫ tại Cà Phê Quen" in call.text
    assert not call.text.startswith("[QC]")  # a receipt is not advertising
    row = await OutboxMessage.get()
    assert (row.kind, row.dedupe_key, row.marketing, row.status) == (
        "earned",
        f"earned:{recorded.purchase.id}",
        False,
        "sent",
    )


async def test_a_message_that_cannot_be_written_fails_alone(
    db: str, fake: FakeTelegram, clock: FakeClock
) -> None:
    lan, binh = await members(2)
    broken = Draft("test", "broken", [("no-such-message-key", {})])
    await outbox.to_member(lan.id, broken, clock.now)
    await outbox.to_member(binh.id, draft("fine"), clock.now)
    app = await running(fake, db, clock)
    try:
        await until(lambda: settled(2), seconds=10)
    finally:
        await app.stop()
    bad = await OutboxMessage.get(dedupe_key="broken")
    assert bad.status == "failed" and "no-such-message-key" in bad.reason
    assert (await OutboxMessage.get(dedupe_key="fine")).status == "sent"
