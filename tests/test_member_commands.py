"""What a member asks for after joining: /points, /card, /language, /help and the menu."""

from __future__ import annotations

from datetime import timedelta

from handlers.types import Shop
from loyalty import ledger
from models.members import ChannelAccount, Customer
from tests.chat import Chat, join
from tests.conftest import FakeClock


async def test_points_show_balance_tier_progress_and_expiry(
    db: str, shop: Shop, clock: FakeClock
) -> None:
    chat = await join(Chat(shop))
    member = await Customer.get()
    await ledger.earn(member.id, 3500, at=clock.now - timedelta(days=340))  # expires in 25 days
    await ledger.earn(member.id, 1000, at=clock.now - timedelta(days=10))
    replies = await chat.say("/points")
    assert replies[0].text.splitlines() == [
        "⭐ Điểm hiện có: 4.500 điểm",
        "🏅 Hạng: Bạc",
        "▓▓░░░░░░░░ 21%",
        "Còn 5.500 điểm nữa để lên hạng Vàng.",
        "⏳ 3.500 điểm sẽ hết hạn vào 17/12/2026.",
    ]
    assert (await Customer.get()).tier_code == "silver"


async def test_points_in_english_at_the_top_tier(db: str, shop: Shop, clock: FakeClock) -> None:
    chat = await join(Chat(shop, language_hint="en"), language="English")
    member = await Customer.get()
    await ledger.earn(member.id, 30_001, at=clock.now)
    replies = await chat.say("⭐ My points")
    assert replies[0].text.splitlines() == [
        "⭐ Points: 30,001 points",
        "🏅 Tier: Platinum",
        "You're at the top tier. Thank you! 💛",
        "No points expire in the next 30 days.",
    ]


async def test_guests_are_invited_to_join(db: str, shop: Shop) -> None:
    chat = Chat(shop)
    for command in ("/card", "/points"):
        replies = await chat.say(command)
        assert "Gửi /start để tham gia" in replies[0].text
    replies = await chat.say("/help")
    assert "/start" in replies[0].text and replies[0].keyboard is None
    assert await Customer.all().count() == 0


async def test_card_gives_a_fresh_image(db: str, shop: Shop) -> None:
    chat = await join(Chat(shop))
    replies = await chat.say("🎫 Thẻ thành viên")
    assert replies[0].image is not None and "Thành viên" in replies[0].text


async def test_language_switch_changes_menu_and_replies(db: str, shop: Shop) -> None:
    chat = await join(Chat(shop))
    replies = await chat.say("/language")
    replies = await chat.press(chat.action("English"))
    assert replies[0].edit
    assert replies[1].text == "Switched to English."
    assert replies[1].keyboard == (("🎫 My card", "⭐ My points"), ("🌐 Language", "❓ Help"))
    assert (await Customer.get()).language == "en"
    assert (await ChannelAccount.get()).language == "en"
    replies = await chat.say("/help")
    assert "/points — points, tier" in replies[0].text
    replies = await chat.say("⭐ Điểm của tôi")  # an old Vietnamese keyboard still works
    assert replies[0].text.startswith("⭐ Points:")


async def test_text_outside_any_flow_gets_a_hint(db: str, shop: Shop) -> None:
    chat = await join(Chat(shop))
    replies = await chat.say("cho mình 1 ly cà phê sữa đá")
    assert "Mình chưa hiểu" in replies[0].text and replies[0].keyboard is None


async def test_accounts_are_rewritten_only_when_something_changed(
    db: str, shop: Shop, clock: FakeClock
) -> None:
    chat = await join(Chat(shop))
    seen = (await ChannelAccount.get()).last_seen_at
    clock.advance(minutes=3)
    await chat.say("/points")
    assert (await ChannelAccount.get()).last_seen_at == seen  # no write for a busy chat
    chat.name = "Lan Trần"
    await chat.say("/points")
    account = await ChannelAccount.get()
    assert (account.display_name, account.last_seen_at) == ("Lan Trần", clock.now)
    clock.advance(minutes=11)
    await chat.say("/points")
    assert (await ChannelAccount.get()).last_seen_at == clock.now
