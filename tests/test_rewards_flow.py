"""Rewards and vouchers through the handlers: owner builds the catalog, a member claims a
voucher, a cashier redeems it by QR or by code, exactly once."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
import zxingcpp
from PIL import Image

from handlers.types import Reply, Shop
from loyalty import ledger
from models.members import Customer
from models.rewards import Voucher
from tests.chat import Chat, inbox, join
from tests.conftest import FakeClock
from tests.test_till_flow import OWNER_ID, hire


@pytest.fixture
def reward_shop(shop: Shop) -> Shop:
    return replace(shop, owners=frozenset({("telegram", OWNER_ID)}))


def voucher_payload(reply: Reply) -> str:
    image = Image.open(io.BytesIO(reply.image or b""))
    return zxingcpp.read_barcodes(image)[0].text.split("?start=", 1)[1]


async def member_with_points(shop: Shop, points: int, user_id: str = "1001") -> Chat:
    chat = await join(Chat(shop, user_id=user_id, name="Lan"))
    customer = await Customer.get(accounts__external_id=user_id)
    await ledger.earn(customer.id, points, at=shop.clock())
    return chat


async def test_owner_catalog_member_claims_cashier_redeems(
    db: str, reward_shop: Shop, clock: FakeClock
) -> None:
    owner = Chat(reward_shop, user_id=OWNER_ID)
    replies = await owner.say("/rewards add percent 20 500 30 Giảm 20% hóa đơn")
    assert "Đã lưu «Giảm 20% hóa đơn»" in replies[0].text
    await owner.say("/rewards add item 0 4000 14 Bạc xỉu")
    for bad in (
        "/rewards add percent 20 -5 30 X",
        "/rewards add percent 20 500 0 X",
        "/rewards add hug 1 1 1 X",
        "/rewards set 99 cost 5",
    ):
        replies = await owner.say(bad)
        assert "Đã lưu" not in replies[0].text, bad

    lan = await member_with_points(reward_shop, 800)
    replies = await lan.say("/rewards")
    assert "Bạn có 800 điểm" in replies[0].text
    assert "Bạc xỉu — 4.000 điểm (còn thiếu 3.200 điểm)" in replies[0].text
    await lan.press(lan.action("Giảm 20% hóa đơn"))
    assert "Đổi 500 điểm lấy «Giảm 20% hóa đơn»" in lan.text
    replies = await lan.press(lan.action("Đổi quà"))
    assert "Số điểm còn lại: 300 điểm" in replies[0].text
    card = replies[1]
    assert card.image is not None and "Giảm 20% hóa đơn" in card.text
    payload = voucher_payload(card)
    assert payload.startswith("v_")

    stranger = await join(Chat(reward_shop, user_id="1002", name="Bình"))
    replies = await stranger.say(f"/start {payload}")
    assert replies[0].text == "Không tìm thấy voucher này."
    replies = await lan.say(f"/start {payload}")
    assert "Đây là voucher của bạn" in replies[0].text

    cashier = await hire(reward_shop)
    replies = await cashier.say(f"/start {payload}")
    assert "Của: Lan" in replies[0].text
    redeem = cashier.action("Dùng voucher")
    replies = await cashier.press(redeem)
    assert "Đã dùng voucher «Giảm 20% hóa đơn» của Lan" in replies[0].text
    (used,) = await inbox(reward_shop, "1001")
    assert "Voucher «Giảm 20% hóa đơn» của bạn vừa được dùng" in used.text
    replies = await cashier.say(f"/start {payload}")
    assert "đã được dùng lúc" in replies[0].text
    assert (await Voucher.get()).status == "redeemed"


async def test_redeem_by_code_and_guessing_lock(db: str, reward_shop: Shop) -> None:
    owner = Chat(reward_shop, user_id=OWNER_ID)
    await owner.say("/rewards add amount 30000 300 30 Giảm 30k")
    lan = await member_with_points(reward_shop, 400)
    await lan.say("/rewards")
    await lan.press(lan.action("Giảm 30k"))
    await lan.press(lan.action("Đổi quà"))
    voucher = await Voucher.get()
    cashier = await hire(reward_shop)
    replies = await lan.say("/redeem " + voucher.short_code)  # a customer cannot redeem
    assert "không biết lệnh" in replies[0].text
    code = voucher.short_code.lower()
    replies = await cashier.say(f"/redeem {code[:4]}-{code[4:8]} {code[8:]}")
    assert "Giảm 30.000 ₫" in replies[0].text
    for _ in range(10):
        replies = await cashier.say("/redeem 0000000000")
    (alert,) = await inbox(reward_shop, OWNER_ID)
    assert "Minh" in alert.text
    replies = await cashier.say(f"/redeem {voucher.short_code}")
    assert "sai mã quá nhiều lần" in replies[0].text


async def test_vouchers_list_resends_and_owner_voids(db: str, reward_shop: Shop) -> None:
    owner = Chat(reward_shop, user_id=OWNER_ID)
    await owner.say("/rewards add percent 10 100 7 Giảm 10%")
    lan = await member_with_points(reward_shop, 150)
    await lan.say("/rewards")
    await lan.press(lan.action("Giảm 10%"))
    first = voucher_payload((await lan.press(lan.action("Đổi quà")))[1])
    replies = await lan.say("/vouchers")
    assert "Giảm 10% — hạn dùng" in replies[0].text
    resent = voucher_payload((await lan.press(lan.action("Xem thẻ")))[0])
    assert resent != first
    cashier = await hire(reward_shop)
    replies = await cashier.say(f"/start {first}")
    assert replies[0].text == "Không tìm thấy voucher này."  # the old picture stopped working
    voucher = await Voucher.get()
    replies = await owner.say(f"/voucher void {voucher.short_code}")
    assert "hoàn 100 điểm" in replies[0].text
    assert (await Customer.get(accounts__external_id="1001")).points_balance == 150
    replies = await cashier.say(f"/start {resent}")
    assert "đã bị hủy" in replies[0].text
    replies = await cashier.say("/voucher void " + voucher.short_code)  # owners only
    assert "không biết lệnh" in replies[0].text


async def test_voucher_card_with_the_shop_logo_still_scans(
    db: str, reward_shop: Shop, tmp_path
) -> None:
    from bot.app import shop_for
    from bot.settings import Settings

    logo = tmp_path / "logo.png"
    Image.new("RGB", (200, 200), (200, 40, 40)).save(logo)
    settings = Settings(shop_name="Cà Phê Quen", logo_path=logo)
    shop = replace(shop_for(settings, "QuenTestBot", reward_shop.clock), owners=reward_shop.owners)
    assert shop.logo is not None
    await Chat(shop, user_id=OWNER_ID).say("/rewards add percent 15 100 30 Giảm 15%")
    lan = await member_with_points(shop, 200)
    await lan.say("/rewards")
    await lan.press(lan.action("Giảm 15%"))
    card = (await lan.press(lan.action("Đổi quà")))[1]
    assert voucher_payload(card).startswith("v_")
