"""A campaign end to end through the real application and the fake Bot API: an owner creates,
previews and approves it in chat, the sent arm gets its voucher, the holdout gets nothing, and
the report's numbers match a hand count of the seeded purchases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest_asyncio

from bot.app import QuenApp
from bot.settings import TelegramMode
from models.campaigns import CampaignMember
from models.members import Customer
from models.purchases import Purchase
from tests.conftest import FakeClock
from tests.fakes.telegram import Call, FakeTelegram, TgUser
from tests.test_campaigns import FIRST_CHAT, seed_members
from tests.test_e2e_telegram import sent, settings_for

OWNER = TgUser(7_100_000_001, "Hùng", "Chủ", language_code="vi")


@pytest_asyncio.fixture
async def quen(db: str, fake: FakeTelegram, clock: FakeClock) -> AsyncIterator[QuenApp]:
    settings = settings_for(fake, db, TelegramMode.POLLING).model_copy(
        update={"owner_telegram_ids": [OWNER.id]}
    )
    app = QuenApp(settings, clock)  # 10:00 in Hồ Chí Minh City: inside the send window
    await app.start()
    await app.caught_up()  # the night's analysis must not rewrite the seeded segments
    yield app
    await app.stop()


def bill(
    customer_id: int, key: str, amount: int, at: datetime, *, voided: bool = False
) -> Purchase:
    """A purchase row as history: no points, possibly voided on the same day."""
    return Purchase(
        customer_id=customer_id,
        amount_vnd=amount,
        points=0,
        idempotency_key=key,
        created_at=at,
        voided_at=at if voided else None,
    )


def press(fake: FakeTelegram, call: Call, label_start: str) -> None:
    markup = call.params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if button["text"].startswith(label_start):
                fake.push_callback(OWNER, button["callback_data"])
                return
    raise AssertionError(f"no button {label_start!r} in {markup}")


async def test_a_campaign_from_chat_to_report(
    quen: QuenApp, fake: FakeTelegram, clock: FakeClock
) -> None:
    members = await seed_members(40)
    await seed_members(6, segment="champions", first=100)
    fake.push_text(OWNER, "/campaign")
    press(fake, await sent(fake, OWNER, "sendMessage", "Chiến dịch mới"), "Có nguy cơ mất (40)")
    press(fake, await sent(fake, OWNER, "sendMessage", "Tặng gì?"), "✏️")
    await sent(fake, OWNER, "sendMessage", "Gửi ưu đãi của voucher")
    fake.push_text(OWNER, "20%")
    press(fake, await sent(fake, OWNER, "sendMessage", "dùng được bao lâu"), "14 ngày")
    press(fake, await sent(fake, OWNER, "sendMessage", "Giữ lại bao nhiêu"), "20%")
    press(fake, await sent(fake, OWNER, "sendMessage", "Khi nào gửi"), "Gửi ngay")
    preview = await sent(fake, OWNER, "sendMessage", "Xem trước chiến dịch")
    assert "Có nguy cơ mất — 40 thành viên" in (preview.text or "")
    decide = await sent(fake, OWNER, "sendMessage", "Duyệt để gửi")
    samples = [c for c in fake.sent_to(OWNER.id) if "Mẫu cho Khách" in (c.text or "")]
    assert len(samples) == 3
    assert not fake.sent_to(FIRST_CHAT)  # nothing goes out before approval

    press(fake, decide, "✅ Duyệt")
    await sent(fake, OWNER, "sendMessage", "Đã duyệt chiến dịch #1")
    arms = {arm.customer_id: arm.holdout for arm in await CampaignMember.all()}
    assert len(arms) == 40
    for n, customer in enumerate(members):
        chat = FIRST_CHAT + n
        if arms[customer.id]:
            continue
        (card,) = await fake.wait_for_count("sendPhoto", chat, 1, timeout=30)
        assert (card.text or "").startswith("[QC] Cà Phê Quen") and "Giảm 20%" in (card.text or "")
        assert "Bạc xỉu" in (card.text or "")  # the template used the favourite item
    for n, customer in enumerate(members):
        if arms[customer.id]:
            assert fake.sent_to(FIRST_CHAT + n) == []  # the holdout receives nothing
    for n in range(6):
        assert fake.sent_to(FIRST_CHAT + 100 + n) == []  # another segment receives nothing

    # Every third member of each arm buys 45,000 ₫ two days later; one purchase of a sent-arm
    # member is voided and one comes after the 14-day window: neither counts.
    day_two = clock.now + timedelta(days=2)
    visitors = {False: 0, True: 0}
    revenue = {False: 0, True: 0}
    rows = []
    for n, customer in enumerate(members):
        counted = n % 3 == 0
        rows.append(bill(customer.id, f"e2e:{n}", 45_000, day_two, voided=not counted))
        rows.append(bill(customer.id, f"e2e-late:{n}", 30_000, clock.now + timedelta(days=20)))
        if counted:
            visitors[arms[customer.id]] += 1
            revenue[arms[customer.id]] += 45_000
    await Purchase.bulk_create(rows)
    fake.push_text(OWNER, "/campaigns 1")
    report = await sent(fake, OWNER, "sendMessage", "Chiến dịch #1")
    text = report.text or ""
    held = sum(arms.values())
    sending = 40 - held
    assert f"Đã gửi {sending}, không gửi được 0, đang chờ 0" in text
    for arm_name, holdout, size in (("Nhóm nhận", False, sending), ("Nhóm giữ lại", True, held)):
        share = f"{visitors[holdout] / size * 100:.1f}%"
        per_member = f"{round(revenue[holdout] / size):,}".replace(",", ".")
        assert f"{arm_name}: {size} khách, {share} có ghé, doanh thu {per_member} ₫/khách" in text
    assert "chưa đủ khách để biết" in text  # 40 members cannot show anything
    assert await Customer.filter(marketing_consent=True).count() == 46
