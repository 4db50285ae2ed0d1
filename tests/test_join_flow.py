"""The join conversation, straight through the channel-neutral handlers."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import zxingcpp
from PIL import Image

from handlers.types import Shop
from loyalty.importer import Columns, import_purchases
from loyalty.members import member_by_card
from models.members import ChannelAccount, ConsentRecord, Customer, MemberCard
from models.purchases import Purchase
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


async def _import_till_customer(folder: Path) -> Customer:
    """A till customer with two purchases and the phone 0912 345 678, as an import makes them."""
    path = folder / "till.csv"
    path.write_text(
        "date,customer,phone,amount\n"
        "2026-03-01 08:00,KH001,0912345678,45000\n"
        "2026-04-01 08:00,KH001,,55000\n",
        encoding="utf-8",
    )
    await import_purchases(
        path,
        Columns(date="date", amount="amount", customer="customer", phone="phone"),
        zone=ZoneInfo("Asia/Ho_Chi_Minh"),
        now=datetime(2026, 5, 1, tzinfo=UTC),
        progress=False,
    )
    return await Customer.get(pos_ref="KH001")


async def test_joining_with_an_imported_phone_claims_the_till_history(
    db: str, shop: Shop, tmp_path: Path
) -> None:
    imported = await _import_till_customer(tmp_path)
    chat = await consent(Chat(shop, user_id="3003"), offers=True)
    joining = await Customer.get(pos_ref=None)

    replies = await chat.share_phone("84912345678")
    assert "Đã lưu số điện thoại" in replies[0].text
    replies = await chat.say("22/11/1995")
    assert "Chào mừng" in replies[0].text and replies[1].image is not None

    member = await Customer.get()  # the record made at the consent step is gone
    assert member.id == imported.id and member.pos_ref == "KH001"
    assert member.phone == "+84912345678" and member.display_name == "Lan Nguyễn"
    assert member.marketing_consent is True and member.language == "vi"
    assert member.joined_at == joining.joined_at
    assert (member.birthday_day, member.birthday_month) == (22, 11)
    assert (await ChannelAccount.get(external_id="3003")).customer_id == member.id
    consents = await ConsentRecord.filter(customer_id=member.id).order_by("purpose")
    assert [(c.purpose, c.granted) for c in consents] == [("marketing", True), ("membership", True)]
    assert await Purchase.filter(customer_id=member.id).count() == 2
    link = zxingcpp.read_barcodes(Image.open(io.BytesIO(replies[1].image)))[0].text
    assert (await member_by_card(link.split("start=m_", 1)[1])).id == member.id  # type: ignore[union-attr]


async def test_a_claimed_till_customer_is_not_claimed_again(
    db: str, shop: Shop, tmp_path: Path
) -> None:
    imported = await _import_till_customer(tmp_path)
    first = await consent(Chat(shop, user_id="3003"))
    await first.share_phone("+84912345678")
    second = await consent(Chat(shop, user_id="4004"))
    replies = await second.share_phone("+84912345678")
    assert "thẻ thành viên khác" in replies[0].text
    assert (await ChannelAccount.get(external_id="3003")).customer_id == imported.id
    other = await ChannelAccount.get(external_id="4004")
    assert other.customer_id != imported.id
    assert (await Customer.get(id=other.customer_id)).phone is None
