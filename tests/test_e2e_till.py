"""The till through the real application and the fake Bot API: invite, scan, record, notice,
undo, removal, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest_asyncio
import zxingcpp
from PIL import Image

from bot.app import QuenApp
from bot.settings import TelegramMode
from models.members import Customer
from models.purchases import Purchase
from tests.fakes.telegram import Call, FakeTelegram, TgUser
from tests.test_e2e_telegram import LAN, buttons, sent, settings_for

OWNER = TgUser(7_000_000_001, "Hùng", "Chủ", language_code="vi")
CASHIER = TgUser(7_000_000_002, "Minh", language_code="vi")


@pytest_asyncio.fixture
async def quen(db: str, fake: FakeTelegram) -> AsyncIterator[QuenApp]:
    settings = settings_for(fake, db, TelegramMode.POLLING).model_copy(
        update={"owner_telegram_ids": [OWNER.id]}
    )
    app = QuenApp(settings)
    await app.start()
    yield app
    await app.stop()


async def join_lan(fake: FakeTelegram) -> str:
    """Lan joins (join only, no phone, no birthday); returns her card's start payload."""
    fake.push_text(LAN, "/start")
    fake.push_callback(
        LAN, buttons(await sent(fake, LAN, "sendMessage", "Chào mừng"))["Tiếng Việt"]
    )
    consent = await sent(fake, LAN, "sendMessage", "tối đa 2 tin mỗi tuần")
    fake.push_callback(LAN, buttons(consent)["Chỉ tham gia"])
    await sent(fake, LAN, "sendMessage", "Chia sẻ số điện thoại")
    fake.push_text(LAN, "Bỏ qua")
    fake.push_text(LAN, "Bỏ qua")
    card = await sent(fake, LAN, "sendPhoto", "Thẻ thành viên")
    link = zxingcpp.read_barcodes(Image.open(io.BytesIO(card.files["photo"])))[0].text
    return link.split("?start=", 1)[1]


def chat_menu(fake: FakeTelegram, user: TgUser) -> list[str]:
    return [c["command"] for c in fake.commands(scope={"type": "chat", "chat_id": user.id})]


async def test_till_day(quen: QuenApp, fake: FakeTelegram) -> None:
    card = await join_lan(fake)

    await hire_cashier(fake)
    assert "staff" in chat_menu(fake, OWNER)
    assert chat_menu(fake, CASHIER)[:3] == ["find", "redeem", "undo"]

    fake.push_text(CASHIER, f"/start {card}")  # the camera opened Lan's card link
    await sent(fake, CASHIER, "sendMessage", "👤 Lan Nguyễn")
    fake.push_text(CASHIER, "85.000")
    confirm = await sent(fake, CASHIER, "sendMessage", "Xác nhận?")
    fake.push_callback(CASHIER, buttons(confirm)["✅ Xác nhận"])
    fake.push_callback(CASHIER, buttons(confirm)["✅ Xác nhận"])  # double tap
    await sent(fake, CASHIER, "editMessageText", "Đã ghi 85.000 ₫")
    notice = await sent(fake, LAN, "sendMessage", "+85 điểm cho hóa đơn 85.000 ₫")
    assert "Số dư: 85 điểm" in (notice.text or "")
    await sent(fake, CASHIER, "sendMessage", "đã được ghi rồi")
    assert await Purchase.all().count() == 1

    fake.push_text(CASHIER, "/undo")
    await sent(fake, CASHIER, "sendMessage", "trừ lại 85 điểm")
    await sent(fake, LAN, "sendMessage", "vừa được nhân viên hủy")
    assert (await Customer.get()).points_balance == 0

    fake.push_text(OWNER, "/staff")

    def newest_team(call: Call) -> bool:
        return call.method == "sendMessage" and "• Minh" in (call.text or "")

    team_now = await fake.wait_for(newest_team)
    fake.push_callback(OWNER, buttons(team_now)["✖ Xóa Minh"])
    await sent(fake, CASHIER, "sendMessage", "Quyền nhân viên của bạn")
    assert chat_menu(fake, CASHIER) == []
    fake.push_text(CASHIER, "/undo")
    await sent(fake, CASHIER, "sendMessage", "không biết lệnh")


async def test_mydata_and_delete_through_telegram(quen: QuenApp, fake: FakeTelegram) -> None:
    import json

    from models.members import ChannelAccount

    await join_lan(fake)
    fake.push_text(LAN, "/mydata")
    document = await fake.wait_for(
        lambda c: c.method == "sendDocument" and str(c.chat_id) == str(LAN.id), timeout=15
    )
    exported = json.loads(document.files["document"].decode("utf-8"))
    assert exported["profile"]["name"] == "Lan Nguyễn"
    assert "token_hash" not in json.dumps(exported)

    fake.push_text(LAN, "/delete")
    ask = await sent(fake, LAN, "sendMessage", "xóa dữ liệu cá nhân")
    fake.push_callback(LAN, buttons(ask)["Xóa dữ liệu của tôi"])
    await sent(fake, LAN, "sendMessage", "Đã xóa dữ liệu cá nhân của bạn")
    customer = await Customer.get()
    assert (customer.display_name, customer.phone, customer.deleted_at is not None) == (
        "",
        None,
        True,
    )
    assert not await ChannelAccount.filter(external_id=str(LAN.id)).exists()


async def hire_cashier(fake: FakeTelegram) -> None:
    fake.push_text(OWNER, "/staff")
    team = await sent(fake, OWNER, "sendMessage", "Nhân viên đang hoạt động")
    fake.push_callback(OWNER, buttons(team)["➕ Mời thu ngân (mọi cửa hàng)"])
    invite = await sent(fake, OWNER, "sendMessage", "chỉ dùng được một lần")
    fake.push_text(CASHIER, f"/start {(invite.text or '').split('?start=', 1)[1].split()[0]}")
    await sent(fake, CASHIER, "sendMessage", "Chào mừng bạn vào đội ngũ")


async def test_referral_is_credited_exactly_once(quen: QuenApp, fake: FakeTelegram) -> None:
    await join_lan(fake)
    fake.push_text(LAN, "/invite")
    invite = await sent(fake, LAN, "sendMessage", "Gửi đường link này cho bạn bè")
    payload = (invite.text or "").split("?start=", 1)[1].split()[0]

    friend = TgUser(5_000_000_009, "Bình", language_code="vi")
    fake.push_text(friend, f"/start {payload}")
    welcome = await sent(fake, friend, "sendMessage", "Chào mừng")
    fake.push_callback(friend, buttons(welcome)["Tiếng Việt"])
    consent = await sent(fake, friend, "sendMessage", "tối đa 2 tin mỗi tuần")
    fake.push_callback(friend, buttons(consent)["Chỉ tham gia"])
    fake.push_text(friend, "Bỏ qua")
    fake.push_text(friend, "Bỏ qua")
    card = await sent(fake, friend, "sendPhoto", "Thẻ thành viên")
    token = zxingcpp.read_barcodes(Image.open(io.BytesIO(card.files["photo"])))[0].text
    await hire_cashier(fake)

    for amount in ("40000", "60000"):
        fake.clear_calls()
        fake.push_text(CASHIER, f"/start {token.split('?start=', 1)[1]}")
        await sent(fake, CASHIER, "sendMessage", "👤 Bình")
        fake.push_text(CASHIER, amount)
        confirm = await sent(fake, CASHIER, "sendMessage", "Xác nhận?")
        fake.push_callback(CASHIER, buttons(confirm)["✅ Xác nhận"])
        await sent(fake, friend, "sendMessage", "Bạn vừa nhận")
        if amount == "40000":
            await sent(fake, LAN, "sendMessage", "người bạn bạn giới thiệu")
    assert not [c for c in fake.sent_to(LAN.id) if "giới thiệu" in (c.text or "")]
    lan = await Customer.get(accounts__external_id=str(LAN.id))
    binh = await Customer.get(accounts__external_id=str(friend.id))
    assert (lan.points_balance, binh.points_balance) == (200, 40 + 60 + 200)


async def test_points_to_voucher_to_redemption(quen: QuenApp, fake: FakeTelegram) -> None:
    from loyalty import ledger

    await join_lan(fake)
    lan = await Customer.get()
    await ledger.earn(lan.id, 800, at=quen.clock())
    fake.push_text(OWNER, "/rewards add item 0 500 14 Bạc xỉu")
    await sent(fake, OWNER, "sendMessage", "Đã lưu «Bạc xỉu»")

    fake.push_text(LAN, "/rewards")
    offers = await sent(fake, LAN, "sendMessage", "Bạn có 800 điểm")
    fake.push_callback(LAN, buttons(offers)["Bạc xỉu — 500 điểm"])
    confirm = await sent(fake, LAN, "editMessageText", "Đổi 500 điểm")
    fake.push_callback(LAN, buttons(confirm)["✅ Đổi quà"])
    card = await sent(fake, LAN, "sendPhoto", "Tặng 1 Bạc xỉu")
    link = zxingcpp.read_barcodes(Image.open(io.BytesIO(card.files["photo"])))[0].text
    assert link.startswith("https://t.me/QuenTestBot?start=v_")

    await hire_cashier(fake)
    fake.push_text(CASHIER, f"/start {link.split('?start=', 1)[1]}")
    view = await sent(fake, CASHIER, "sendMessage", "Của: Lan Nguyễn")
    fake.push_callback(CASHIER, buttons(view)["✅ Dùng voucher"])
    await sent(fake, CASHIER, "editMessageText", "Đã dùng voucher «Bạc xỉu»")
    await sent(fake, LAN, "sendMessage", "vừa được dùng tại")
    fake.push_text(CASHIER, f"/start {link.split('?start=', 1)[1]}")
    await sent(fake, CASHIER, "sendMessage", "đã được dùng lúc")
    assert (await Customer.get()).points_balance == 300
