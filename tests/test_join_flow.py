"""The join conversation, straight through the channel-neutral handlers."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from loyalty.members import member_by_card
from models.members import ChannelAccount, ConsentRecord, Customer, MemberCard
from tests.chat import Chat, consent, join


async def test_join_journey_in_vietnamese(db: str, shop) -> None:
    chat = Chat(shop)
    replies = await chat.say("/start")
    assert "Chào mừng" in replies[0].text
    assert [b.label for row in replies[0].buttons for b in row] == ["Tiếng Việt", "English"]

    replies = await chat.press(chat.action("Tiếng Việt"))
    assert replies[0].edit and "Tiếng Việt" in replies[0].text
    assert "tối đa 2 tin mỗi tuần" in replies[1].text

    replies = await chat.press(chat.action("nhận ưu đãi"))
    assert replies[-1].ask_phone is not None
    assert await Customer.all().count() == 1

    replies = await chat.share_phone("84912345678")
    assert "Đã lưu số điện thoại" in replies[0].text

    replies = await chat.say("22/11/1995")
    assert replies[0].keyboard is not None and "Chào mừng" in replies[0].text
    card = replies[1]
    assert card.image is not None
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(card.image)))
    link = decoded[0].text
    assert link.startswith("https://t.me/QuenTestBot?start=m_")

    customer = await Customer.get()
    assert customer.phone == "+84912345678"
    assert (customer.birthday_day, customer.birthday_month, customer.birthday_year) == (
        22,
        11,
        1995,
    )
    assert customer.marketing_consent is True
    assert customer.language == "vi"
    token = link.split("start=m_", 1)[1]
    assert len(token) == 22  # 16 random bytes, url-safe base64
    stored = await MemberCard.get(customer=customer)
    assert stored.token_hash != token and token not in stored.token_hash
    assert (await member_by_card(token)).id == customer.id  # type: ignore[union-attr]
    consents = await ConsentRecord.filter(customer=customer).order_by("purpose")
    assert [(c.purpose, c.granted, c.wording_version) for c in consents] == [
        ("marketing", True, "2026-11-join-v1"),
        ("membership", True, "2026-11-join-v1"),
    ]


async def test_english_join_only_skipping_phone_and_birthday(db: str, shop) -> None:
    chat = Chat(shop, language_hint="en-GB")
    await chat.say("/start")
    await chat.press(chat.action("English"))
    await chat.press(chat.action("Just join"))
    replies = await chat.say("Skip")
    assert "birthday" in replies[0].text
    replies = await chat.say("/skip")
    assert "Welcome" in replies[0].text and replies[1].image is not None
    customer = await Customer.get()
    assert customer.phone is None and customer.birthday_day is None
    assert customer.marketing_consent is False
    assert customer.language == "en"


async def test_second_start_shows_menu_not_a_second_account(db: str, shop) -> None:
    chat = await join(Chat(shop))
    replies = await chat.say("/start")
    assert replies[0].keyboard is not None
    assert await Customer.all().count() == 1
    assert await ChannelAccount.all().count() == 1


async def test_start_mid_flow_repeats_the_question(db: str, shop) -> None:
    chat = Chat(shop)
    await chat.say("/start")
    await chat.press(chat.action("Tiếng Việt"))
    replies = await chat.say("/start")
    assert "đăng ký dở" in replies[0].text
    assert replies[1].buttons  # the consent question again
    assert await Customer.all().count() == 0


async def test_someone_elses_contact_is_refused(db: str, shop) -> None:
    chat = Chat(shop)
    await consent(chat)
    replies = await chat.share_phone("+84987654321", owner="2002")
    assert "không phải số điện thoại của bạn" in replies[0].text
    assert (await Customer.get()).phone is None


async def test_garbage_birthdays_are_refused_politely(db: str, shop) -> None:
    chat = Chat(shop)
    await consent(chat)
    await chat.say("Bỏ qua")
    for garbage, expected in (
        ("31/02", "không có thật"),
        ("hello", "chưa hiểu"),
        ("🎂🎂", "chưa hiểu"),
        ("01/01/2099", "không có thật"),
    ):
        replies = await chat.say(garbage)
        assert expected in replies[0].text, garbage
    customer = await Customer.get()
    assert customer.birthday_day is None


async def test_stale_and_forged_buttons_change_nothing(db: str, shop) -> None:
    chat = Chat(shop)
    await chat.say("/start")
    stale = chat.action("Tiếng Việt")
    await chat.press(stale)
    await chat.say("/start")  # repeats the consent question; the old nonce is still current
    for action in ("j:000000:ok:offers", "j:zz", "hack", "", "lang:fr", stale):
        replies = await chat.press(action)
        assert "hết hiệu lực" in replies[0].text, action
    assert await Customer.all().count() == 0


async def test_phone_taken_by_another_member_is_not_stolen(db: str, shop) -> None:
    await join(Chat(shop, user_id="111111"))
    second = Chat(shop, user_id="222222")
    await consent(second)
    replies = await second.share_phone("+84912111111")
    assert "thẻ thành viên khác" in replies[0].text
    assert "ngày/tháng" in replies[1].text  # joining goes on without the phone
    assert await Customer.filter(phone="+84912111111").count() == 1


async def test_long_messages_and_unknown_commands(db: str, shop) -> None:
    chat = Chat(shop)
    replies = await chat.say("x" * 5000)
    assert len(replies) == 1 and len(replies[0].text) < 500
    replies = await chat.say("/frobnicate now")
    assert "không biết lệnh" in replies[0].text
    assert await Customer.all().count() == 0
