"""A Zalo customer through the real application: the fake Zalo platform signs webhooks and holds
Quen to its wire format and rules, while the cashier works on the fake Telegram Bot API."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio
import zxingcpp
from PIL import Image

from bot.app import QuenApp
from bot.settings import Settings, TelegramMode
from loyalty import ledger, outbox
from models.members import ChannelAccount, Customer
from models.outbox import OutboxMessage
from models.purchases import Purchase
from models.zalo import ZaloEvent
from tests.conftest import FakeClock
from tests.fakes.telegram import FakeTelegram, TgUser
from tests.fakes.zalo import FakeZalo, Sent, ZaloUser
from tests.test_e2e_telegram import LAN, buttons, sent, settings_for
from tests.test_e2e_till import CASHIER, OWNER, hire_cashier


@pytest_asyncio.fixture
async def zclock() -> FakeClock:
    """One clock for Quen and Zalo, at the real time to start with (Telegram's fake uses it)."""
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest_asyncio.fixture
async def zalo(zclock: FakeClock) -> AsyncIterator[FakeZalo]:
    server = FakeZalo(clock=zclock)
    await server.start()
    yield server
    await server.stop()


def zalo_settings(fake: FakeTelegram, zalo: FakeZalo, db: str, **more: object) -> Settings:
    """Telegram (the owner and the till) and Zalo (customers), both fakes."""
    base = settings_for(fake, db, TelegramMode.POLLING)
    return Settings.model_validate(
        {
            **base.model_dump(),
            "owner_telegram_ids": [OWNER.id],
            "zalo_app_id": zalo.app_id,
            "zalo_app_secret": zalo.app_secret,
            "zalo_oa_secret_key": zalo.oa_secret_key,
            "zalo_refresh_token": zalo.initial_refresh_token,
            "zalo_api_url": zalo.root,
            "zalo_business_api_url": zalo.root,
            "zalo_oauth_url": zalo.root,
            **more,
        }
    )


@pytest_asyncio.fixture
async def quen(
    db: str, fake: FakeTelegram, zalo: FakeZalo, zclock: FakeClock
) -> AsyncIterator[QuenApp]:
    app = QuenApp(zalo_settings(fake, zalo, db), zclock)
    await app.start()
    zalo.webhook_url = f"http://127.0.0.1:{app.http_port}/zalo/webhook"
    yield app
    await app.stop()


MAI = ZaloUser("8000000000000000001", "Mai Trần", phone="84912345678")


def qr_link(zalo: FakeZalo, message: Sent) -> str:
    """The link in the QR of an image message (the uploaded bytes, decoded)."""
    element = message.payload["elements"][0]
    data, _ = zalo.uploads[element["attachment_id"]]
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))[0].text


async def join_mai(zalo: FakeZalo, *, offers: bool = True) -> str:
    """Mai follows the OA and joins with her phone and birthday; returns her card's payload."""
    await zalo.follow(MAI)
    welcome = await zalo.said(MAI, "Chào mừng")
    await zalo.press(welcome, "Tiếng Việt")
    consent = await zalo.said(MAI, "tối đa 2 tin mỗi tuần")
    await zalo.press(consent, "Tham gia và nhận ưu đãi" if offers else "Chỉ tham gia")
    await zalo.said(MAI, "Chia sẻ số điện thoại")
    await zalo.wait_for(
        lambda s: s.user_id == MAI.id and s.payload.get("template_type") == "request_user_info"
    )
    await zalo.submit_info(MAI)
    await zalo.said(MAI, "Sinh nhật")
    await zalo.text(MAI, "22/11/1995")
    card = await zalo.wait_for(
        lambda s: s.user_id == MAI.id and s.payload.get("template_type") == "media"
    )
    assert "Thẻ thành viên" in card.text
    await zalo.said(MAI, "Chào mừng bạn trở thành khách quen")
    return qr_link(zalo, card).split("?start=", 1)[1]


async def test_zalo_customer_joins_buys_at_a_telegram_till_and_redeems(
    quen: QuenApp, fake: FakeTelegram, zalo: FakeZalo
) -> None:
    card = await join_mai(zalo)
    mai = await Customer.get(accounts__external_id=MAI.id)
    assert (mai.phone, mai.display_name, mai.birthday_day) == ("+84912345678", "Mai Trần", 22)

    await hire_cashier(fake)
    fake.push_text(CASHIER, f"/start {card}")  # the cashier's camera opened Mai's card
    await sent(fake, CASHIER, "sendMessage", "👤 Mai Trần")
    fake.push_text(CASHIER, "85.000")
    confirm = await sent(fake, CASHIER, "sendMessage", "Xác nhận?")
    fake.push_callback(CASHIER, buttons(confirm)["✅ Xác nhận"])
    notice = await zalo.said(MAI, "+85 điểm cho hóa đơn 85.000 ₫")
    assert not notice.paid and await Purchase.all().count() == 1

    await zalo.text(MAI, "điểm")  # no slash: Zalo users type words
    await zalo.said(MAI, "Điểm hiện có: 85 điểm")
    await ledger.earn(mai.id, 800, at=quen.clock())
    fake.push_text(OWNER, "/rewards add item 0 500 14 Bạc xỉu")
    await sent(fake, OWNER, "sendMessage", "Đã lưu «Bạc xỉu»")
    await zalo.text(MAI, "Đổi quà")
    offers = await zalo.said(MAI, "Bạn có 885 điểm")
    await zalo.press(offers, "Bạc xỉu — 500 điểm")
    ask = await zalo.said(MAI, "Đổi 500 điểm")  # an edit on Telegram, a new message here
    await zalo.press(ask, "✅ Đổi quà")
    voucher = await zalo.wait_for(
        lambda s: s.user_id == MAI.id and "Tặng 1 Bạc xỉu" in s.text and "elements" in s.payload
    )
    link = qr_link(zalo, voucher)
    fake.push_text(CASHIER, f"/start {link.split('?start=', 1)[1]}")
    view = await sent(fake, CASHIER, "sendMessage", "Của: Mai Trần")
    fake.push_callback(CASHIER, buttons(view)["✅ Dùng voucher"])
    await sent(fake, CASHIER, "editMessageText", "Đã dùng voucher «Bạc xỉu»")
    await zalo.said(MAI, "vừa được dùng tại")
    assert (await Customer.get(id=mai.id)).points_balance == 385


async def test_every_customer_command_works_on_zalo(quen: QuenApp, zalo: FakeZalo) -> None:
    await join_mai(zalo)
    zalo.sent.clear()
    await zalo.text(MAI, "thẻ")
    card = await zalo.wait_for(lambda s: s.payload.get("template_type") == "media")
    assert qr_link(zalo, card).startswith("https://t.me/QuenTestBot?start=m_")
    for typed, answer in (
        ("/points", "Điểm hiện có"),
        ("lịch sử", "Bạn chưa có giao dịch điểm nào"),
        ("Mời bạn", "Gửi đường link này cho bạn bè"),
        ("voucher", "voucher"),
        ("ngôn ngữ", "ngôn ngữ nào"),
        ("help", "/card"),
        ("dừng", "Đã dừng gửi tin ưu đãi"),
    ):
        zalo.sent.clear()
        await zalo.text(MAI, typed)
        await zalo.said(MAI, answer)
    assert not (await Customer.get(accounts__external_id=MAI.id)).marketing_consent

    zalo.sent.clear()
    await zalo.text(MAI, "dữ liệu")
    await zalo.said(MAI, "toàn bộ dữ liệu")
    await quen.zalo.idle()  # type: ignore[union-attr]
    exported = "".join(s.text for s in zalo.sent_to(MAI.id)[1:])
    assert json.loads(exported)["profile"]["name"] == "Mai Trần"

    await zalo.text(MAI, "xóa")
    ask = await zalo.said(MAI, "xóa dữ liệu cá nhân")
    await zalo.press(ask, "Xóa dữ liệu của tôi")
    await zalo.said(MAI, "Đã xóa dữ liệu cá nhân của bạn")
    assert not await ChannelAccount.filter(channel="zalo", external_id=MAI.id).exists()


async def test_a_forged_webhook_is_refused_and_nothing_is_stored(
    quen: QuenApp, zalo: FakeZalo
) -> None:
    event = zalo.event(MAI, "user_send_text", message={"msg_id": "forged1", "text": "/start"})
    assert await zalo.post_event(event, signature="mac=" + "0" * 64) == 401
    assert await zalo.post_event(event, signature=None) == 401
    tampered = zalo.event(MAI, "user_send_text", message={"msg_id": "forged2", "text": "hi"})
    good = zalo.sign(json.dumps(tampered, ensure_ascii=False).encode(), tampered["timestamp"])
    tampered["message"]["text"] = "/delete"  # the body changed after signing
    assert await zalo.post_event(tampered, signature=good) == 401
    await quen.zalo.idle()  # type: ignore[union-attr]
    assert await ZaloEvent.all().count() == 0
    assert not await ChannelAccount.filter(channel="zalo").exists()
    assert zalo.sent == []


async def test_a_redelivered_webhook_is_handled_once(quen: QuenApp, zalo: FakeZalo) -> None:
    event = await zalo.text(MAI, "/start")
    assert await zalo.post_event(event) == 200  # Zalo missed our 200 and tried again
    await quen.zalo.idle()  # type: ignore[union-attr]
    await zalo.said(MAI, "Chào mừng")
    assert len(zalo.sent_to(MAI.id)) == 1
    assert await ZaloEvent.all().count() == 1


async def test_unfollow_stops_messages_and_an_image_gets_an_answer(
    quen: QuenApp, zalo: FakeZalo
) -> None:
    await join_mai(zalo)
    await zalo.image(MAI)
    await zalo.said(MAI, "chưa hiểu")
    await zalo.unfollow(MAI)
    await quen.zalo.idle()  # type: ignore[union-attr]
    account = await ChannelAccount.get(channel="zalo", external_id=MAI.id)
    assert account.unreachable_at is not None


# ------------------------------------------------------------- the outbox under Zalo's windows

FINISHED = ("sent", "failed", "unknown", "skipped")


async def settled(key: str) -> OutboxMessage:
    """The outbox row for ``key`` once the sender is done with it."""
    for _ in range(200):
        row = await OutboxMessage.get_or_none(dedupe_key=key)
        if row is not None and row.status in FINISHED:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"outbox {key} not settled: {row and row.status}")


async def notice(customer_id: int, kind: str, key: str, at: datetime) -> None:
    lines = [("notice-tier-up", {"tier": outbox.tier("gold")})]
    await outbox.to_member(customer_id, outbox.Draft(kind, key, lines), at)


@pytest_asyncio.fixture
async def templated(
    db: str, fake: FakeTelegram, zalo: FakeZalo, zclock: FakeClock
) -> AsyncIterator[QuenApp]:
    """Quen with two approved templates: one by user id, one by phone number."""
    zalo.approve_template("tpl-user")
    zalo.approve_template("tpl-phone")
    templates = {"tierup": "tpl-user", "birthday": "phone:tpl-phone"}
    app = QuenApp(zalo_settings(fake, zalo, db, zalo_templates=templates), zclock)
    await app.start()
    zalo.webhook_url = f"http://127.0.0.1:{app.http_port}/zalo/webhook"
    yield app
    await app.stop()


async def test_proactive_messages_follow_the_48h_and_7_day_rules(
    templated: QuenApp, zalo: FakeZalo, zclock: FakeClock
) -> None:
    await join_mai(zalo)
    mai = await Customer.get(accounts__external_id=MAI.id)

    await notice(mai.id, "tierup", "fresh", zclock())  # within 48 h: a free message
    assert (await settled("fresh")).status == "sent"
    fresh = await zalo.said(MAI, "lên hạng Vàng")
    assert fresh.path == "cs" and not fresh.paid

    zclock.advance(days=3)  # past 48 h, paid messages are off
    await notice(mai.id, "tierup", "day3-mapped", zclock())
    await notice(mai.id, "other", "day3-unmapped", zclock())
    assert (await settled("day3-mapped")).status == "sent"
    by_template = await zalo.wait_for(lambda s: s.path == "template")
    assert by_template.body["template_id"] == "tpl-user"
    assert by_template.body["template_data"]["tier"] == "Vàng"
    skipped = await settled("day3-unmapped")
    assert skipped.status == "skipped"
    assert "48 h" in skipped.reason and "QUEN_ZALO_TEMPLATE_OTHER" in skipped.reason

    zclock.advance(days=5)  # past 7 days: templates only
    await notice(mai.id, "birthday", "day8-phone", zclock())
    await notice(mai.id, "other", "day8-unmapped", zclock())
    assert (await settled("day8-phone")).status == "sent"
    by_phone = await zalo.wait_for(lambda s: s.path == "phone")
    assert by_phone.body["phone"] == "84912345678" and by_phone.body["tracking_id"]
    assert "7 days" in (await settled("day8-unmapped")).reason
    assert not [s for s in zalo.sent if s.path == "cs" and s.error]  # never asked Zalo to refuse


async def test_paid_messages_when_the_owner_allows_them(
    db: str, fake: FakeTelegram, zalo: FakeZalo, zclock: FakeClock
) -> None:
    app = QuenApp(zalo_settings(fake, zalo, db, zalo_paid_messages=True), zclock)
    await app.start()
    zalo.webhook_url = f"http://127.0.0.1:{app.http_port}/zalo/webhook"
    try:
        await join_mai(zalo)
        mai = await Customer.get(accounts__external_id=MAI.id)
        zclock.advance(days=3)
        await notice(mai.id, "tierup", "paid", zclock())
        assert (await settled("paid")).status == "sent"
        assert (await zalo.wait_for(lambda s: s.path == "cs" and "lên hạng Vàng" in s.text)).paid
        zclock.advance(days=5)
        await notice(mai.id, "tierup", "closed", zclock())
        assert "7 days" in (await settled("closed")).reason
    finally:
        await app.stop()


async def test_zalo_refusing_outside_its_window_is_recorded(
    quen: QuenApp, zalo: FakeZalo, zclock: FakeClock
) -> None:
    await join_mai(zalo)
    mai = await Customer.get(accounts__external_id=MAI.id)
    zalo.users[MAI.id].last_interaction = zclock() - timedelta(days=9)  # Zalo knows better
    await notice(mai.id, "tierup", "refused", zclock())
    row = await settled("refused")
    assert row.status == "skipped" and "-230" in row.reason


async def test_one_person_on_both_apps_is_one_member_after_confirming(
    quen: QuenApp, fake: FakeTelegram, zalo: FakeZalo
) -> None:
    fake.push_text(LAN, "/start")  # Lan joins on Telegram first, with her own number
    fake.push_callback(
        LAN, buttons(await sent(fake, LAN, "sendMessage", "Chào mừng"))["Tiếng Việt"]
    )
    consent = await sent(fake, LAN, "sendMessage", "tối đa 2 tin mỗi tuần")
    fake.push_callback(LAN, buttons(consent)["Chỉ tham gia"])
    await sent(fake, LAN, "sendMessage", "Chia sẻ số điện thoại")
    fake.push_contact(LAN, "84912345678")
    fake.push_text(LAN, "Bỏ qua")
    await sent(fake, LAN, "sendPhoto", "Thẻ thành viên")
    lan = await Customer.get(accounts__external_id=str(LAN.id))
    await ledger.earn(lan.id, 120, at=quen.clock())

    lan_on_zalo = ZaloUser("8000000000000000077", "Lan N.", phone="84912345678")
    await zalo.follow(lan_on_zalo)
    await zalo.press(await zalo.said(lan_on_zalo, "Chào mừng"), "Tiếng Việt")
    consent_z = await zalo.said(lan_on_zalo, "tối đa 2 tin mỗi tuần")
    await zalo.press(consent_z, "Tham gia và nhận ưu đãi")
    await zalo.said(lan_on_zalo, "Chia sẻ số điện thoại")
    await zalo.submit_info(lan_on_zalo)
    ask = await zalo.said(lan_on_zalo, "Đó có phải là bạn không?")
    assert await Customer.all().count() == 2  # nothing joined before she says yes
    await zalo.press(ask, "Đúng, là tôi: dùng chung thẻ")
    await zalo.said(lan_on_zalo, "Đã nối")
    await sent(fake, LAN, "sendMessage", "vừa được nối với một tài khoản Zalo")

    assert await Customer.all().count() == 1
    accounts = await ChannelAccount.filter(customer_id=lan.id).values_list("channel", flat=True)
    assert sorted(accounts) == ["telegram", "zalo"]
    await zalo.text(lan_on_zalo, "điểm")
    await zalo.said(lan_on_zalo, "Điểm hiện có: 120 điểm")


async def test_saying_no_keeps_the_apps_apart(
    quen: QuenApp, fake: FakeTelegram, zalo: FakeZalo
) -> None:
    await join_mai(zalo)
    stranger = TgUser(5_000_000_077, "Khách", language_code="vi")
    fake.push_text(stranger, "/start")
    welcome = await sent(fake, stranger, "sendMessage", "Chào mừng")
    fake.push_callback(stranger, buttons(welcome)["Tiếng Việt"])
    consent = await sent(fake, stranger, "sendMessage", "tối đa 2 tin mỗi tuần")
    fake.push_callback(stranger, buttons(consent)["Chỉ tham gia"])
    await sent(fake, stranger, "sendMessage", "Chia sẻ số điện thoại")
    fake.push_contact(stranger, "84912345678")  # Mai's number, shared on Telegram
    ask = await sent(fake, stranger, "sendMessage", "Đó có phải là bạn không?")
    fake.push_callback(stranger, buttons(ask)["Không phải tôi"])
    await sent(fake, stranger, "sendMessage", "Sinh nhật")
    assert await Customer.all().count() == 2
    mai = await Customer.get(accounts__external_id=MAI.id)
    assert mai.phone == "+84912345678"
