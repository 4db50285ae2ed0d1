"""The till conversation through the handlers: owner invites a cashier, cashier records and undoes
a purchase, the customer is told, limits and roles hold."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handlers.types import Reply, Shop
from loyalty import rules
from models.audit import AuditEntry
from models.members import Customer
from models.purchases import Purchase
from models.staff import StaffMember
from tests.chat import Chat, inbox, join
from tests.conftest import FakeClock

OWNER_ID = "9001"


@pytest.fixture
def till_shop(shop: Shop) -> Shop:
    return replace(shop, owners=frozenset({("telegram", OWNER_ID)}))


def link_payload(reply: Reply) -> str:
    """The ``start`` payload of the link in an invite message."""
    return reply.text.split("?start=", 1)[1].split()[0]


async def hire(shop: Shop, user_id: str = "9002", role: str = "thu ngân") -> Chat:
    owner = Chat(shop, user_id=OWNER_ID, name="Chủ quán")
    await owner.say("/staff")
    await owner.press(owner.action(f"Mời {role}"))
    payload = link_payload(owner.last[0])
    cashier = Chat(shop, user_id=user_id, name="Minh Thu Ngân")
    replies = await cashier.say(f"/start {payload}")
    assert "Chào mừng bạn vào đội ngũ" in replies[0].text
    assert replies[0].menu is not None and "undo" in replies[0].menu.commands
    return cashier


async def card_token(chat: Chat) -> str:
    import io

    import zxingcpp
    from PIL import Image

    replies = await chat.say("/card")
    link = zxingcpp.read_barcodes(Image.open(io.BytesIO(replies[0].image or b"")))[0].text
    return link.split("start=", 1)[1]


async def test_owner_hires_cashier_who_records_a_purchase(db: str, till_shop: Shop) -> None:
    customer = await join(Chat(till_shop, user_id="1001", name="Lan"))
    cashier = await hire(till_shop)
    replies = await cashier.say(f"/start {await card_token(customer)}")
    assert "👤 Lan — hạng Thành viên — 0 điểm" in replies[0].text
    replies = await cashier.say("85k")
    assert replies[0].text == "Ghi 85.000 ₫ cho Lan: +85 điểm. Xác nhận?"
    confirm = cashier.action("Xác nhận")
    replies = await cashier.press(confirm)
    assert replies[0].text.startswith("✅ Đã ghi 85.000 ₫ cho Lan: +85 điểm")
    notice = await inbox(till_shop, "1001")
    assert len(notice) == 1 and not await inbox(till_shop, cashier.user_id)
    assert "+85 điểm cho hóa đơn 85.000 ₫" in notice[0].text
    assert "Còn 2.915 điểm nữa để lên hạng Bạc" in notice[0].text

    replies = await cashier.press(confirm)  # a double tap
    assert "đã được ghi rồi" in replies[0].text
    assert await Purchase.all().count() == 1
    member = await Customer.get(accounts__external_id="1001")
    assert member.points_balance == 85
    actions = await AuditEntry.all().order_by("id").values_list("action", flat=True)
    assert actions == ["staff.owner", "staff.invite", "staff.join", "purchase.record"]


async def test_undo_and_customer_notice(db: str, till_shop: Shop, clock: FakeClock) -> None:
    customer = await join(Chat(till_shop, user_id="1001", name="Lan"))
    cashier = await hire(till_shop)
    await cashier.say("/find 0912001001")
    await cashier.say("120.000")
    await cashier.press(cashier.action("Xác nhận"))
    clock.advance(minutes=3)
    replies = await cashier.say("/undo")
    assert "Đã hủy hóa đơn 120.000 ₫ của Lan và trừ lại 120 điểm" in replies[0].text
    told = [r.text for r in await inbox(till_shop, "1001")]
    assert len(told) == 2 and "vừa được nhân viên hủy" in told[1]
    assert (await Customer.get(accounts__external_id=customer.user_id)).points_balance == 0
    replies = await cashier.say("/undo")
    assert "Không có giao dịch nào" in replies[0].text


async def test_bad_amounts_and_own_card_change_nothing(db: str, till_shop: Shop) -> None:
    customer = await join(Chat(till_shop, user_id="1001", name="Lan"))
    cashier = await hire(till_shop)
    await cashier.say(f"/start {await card_token(customer)}")
    for typed, expected in (
        ("-5000", "chưa hiểu số tiền"),
        ("0", "lớn hơn 0"),
        ("abc", "chưa hiểu số tiền"),
        ("999999999", "vượt mức tối đa"),
        ("x" * 5000, "chưa hiểu số tiền"),
    ):
        replies = await cashier.say(typed)
        assert expected in replies[0].text, typed
    await join(cashier)  # the cashier is also a member
    replies = await cashier.say(f"/start {await card_token(cashier)}")
    assert "không thể tự tích điểm" in replies[0].text
    replies = await cashier.say("/start m_forged-token")
    assert "Không nhận ra thẻ này" in replies[0].text
    assert await Purchase.all().count() == 0


async def test_customers_never_reach_staff_commands(db: str, till_shop: Shop) -> None:
    customer = await join(Chat(till_shop, user_id="1001", name="Lan"))
    for command in ("/find 0912001001", "/undo", "/staff", "/stores add Q1"):
        replies = await customer.say(command)
        assert "không biết lệnh" in replies[0].text, command
    replies = await customer.press("t:abcdef:ok")
    assert "hết hiệu lực" in replies[0].text
    replies = await customer.say(f"/start {await card_token(customer)}")  # own card: menu
    assert replies[0].keyboard is not None


async def test_removed_cashier_is_refused_at_once(db: str, till_shop: Shop) -> None:
    customer = await join(Chat(till_shop, user_id="1001", name="Lan"))
    cashier = await hire(till_shop)
    await cashier.say(f"/start {await card_token(customer)}")
    await cashier.say("50000")
    pending = cashier.action("Xác nhận")
    owner = Chat(till_shop, user_id=OWNER_ID)
    await owner.say("/staff")
    replies = await owner.press(owner.action("Xóa Minh"))
    assert "Đã xóa quyền nhân viên" in replies[0].text
    (told,) = await inbox(till_shop, cashier.user_id)
    assert "Quyền nhân viên của bạn tại Cà Phê Quen đã kết thúc" in told.text
    assert told.menu is not None and told.menu.commands == ()
    replies = await cashier.press(pending)
    assert "hết hiệu lực" in replies[0].text
    replies = await cashier.say("/undo")
    assert "không biết lệnh" in replies[0].text
    assert await Purchase.all().count() == 0


async def test_invite_links_work_once(db: str, till_shop: Shop, clock: FakeClock) -> None:
    owner = Chat(till_shop, user_id=OWNER_ID)
    await owner.say("/stores add Chi nhánh Quận 1")
    replies = await owner.say("/stores")
    assert "1. Chi nhánh Quận 1" in replies[0].text
    await owner.say("/staff")
    await owner.press(owner.action("Mời quản lý (Chi nhánh Quận 1)"))
    payload = link_payload(owner.last[0])
    first = await Chat(till_shop, user_id="9100").say(f"/start {payload}")
    assert "quản lý" in first[0].text
    second = await Chat(till_shop, user_id="9101").say(f"/start {payload}")
    assert "đã được dùng rồi" in second[0].text
    await owner.say("/staff")
    await owner.press(owner.action("Mời thu ngân (Chi nhánh Quận 1)"))
    late = link_payload(owner.last[0])
    clock.advance(hours=25)
    replies = await Chat(till_shop, user_id="9102").say(f"/start {late}")
    assert "hết hạn" in replies[0].text
    manager = await StaffMember.get(role="manager")
    assert manager.store_id is not None
    assert await StaffMember.filter(removed_at__isnull=True).count() == 2


async def test_many_purchases_in_a_day_alert_the_owner(db: str, till_shop: Shop) -> None:
    await Chat(till_shop, user_id=OWNER_ID).say("/help")  # the owner has a chat with the bot
    customer = await join(Chat(till_shop, user_id="1001", name="Lan"))
    cashier = await hire(till_shop)
    token = await card_token(customer)
    for _ in range(4):
        await cashier.say(f"/start {token}")
        await cashier.say("30000")
        await cashier.press(cashier.action("Xác nhận"))
    alerts = await inbox(till_shop, OWNER_ID)
    assert len(alerts) == 1 and "Lan đã có 4 hóa đơn hôm nay" in alerts[0].text


async def test_referral_rewards_both_once_on_first_purchase(db: str, till_shop: Shop) -> None:
    lan = await join(Chat(till_shop, user_id="1001", name="Lan"))
    replies = await lan.say("/invite")
    assert "bạn nhận 200 điểm và bạn ấy nhận 200 điểm" in replies[0].text
    payload = link_payload(replies[0])
    assert payload.startswith("ref_")

    replies = await lan.say(f"/start {payload}")  # her own link: she is a member already
    assert "đã là thành viên" in replies[0].text
    friend = Chat(till_shop, user_id="1002", name="Bình")
    await friend.say(f"/start {payload}")
    await friend.press(friend.action("Tiếng Việt"))
    await friend.press(friend.action("Chỉ tham gia"))
    await friend.say("Bỏ qua")
    await friend.say("Bỏ qua")

    cashier = await hire(till_shop)
    token = await card_token(friend)
    for amount in ("50000", "20000"):
        await cashier.say(f"/start {token}")
        await cashier.say(amount)
        replies = await cashier.press(cashier.action("Xác nhận"))
        if amount == "50000":
            to_lan = await inbox(till_shop, "1001")
            assert len(to_lan) == 1 and "+200 điểm" in to_lan[0].text and "Bình" in to_lan[0].text
            to_friend = await inbox(till_shop, "1002")
            assert "Quà chào mừng từ lời giới thiệu: +200 điểm" in to_friend[0].text
        else:
            assert not await inbox(till_shop, "1001")
    lan_row = await Customer.get(accounts__external_id="1001")
    friend_row = await Customer.get(accounts__external_id="1002")
    assert (lan_row.points_balance, friend_row.points_balance) == (200, 50 + 200 + 20)
    assert friend_row.referred_by_id == lan_row.id


async def test_owner_changes_rules_from_now_on(db: str, till_shop: Shop) -> None:
    owner = Chat(till_shop, user_id=OWNER_ID)
    replies = await owner.say("/settings")
    assert "1 điểm cho mỗi 1.000 ₫" in replies[0].text
    assert "Hạng Vàng (gold): từ 10.000 điểm/12 tháng, hệ số 125%" in replies[0].text
    for bad in (
        "/settings earn 0",
        "/settings earn abc",
        "/settings fly 3",
        "/settings tier gold 10000 90",
        "/settings tier member 5 100",
        "/settings tier gold 3000 125",
        "/settings expiry 99",
    ):
        replies = await owner.say(bad)
        assert "✅" not in replies[0].text, bad
    replies = await owner.say("/settings earn 2000")
    assert replies[0].text.startswith("✅") and "1 điểm cho mỗi 2.000 ₫" in replies[1].text
    await owner.say("/settings tier gold 8000 130")
    customer = await join(Chat(till_shop, user_id="1001", name="Lan"))
    cashier = await hire(till_shop)
    await cashier.say(f"/start {await card_token(customer)}")
    replies = await cashier.say("85000")
    assert "+42 điểm" in replies[0].text  # 85.000 ₫ at one point per 2.000 ₫
    actions = set(await AuditEntry.all().values_list("action", flat=True))
    assert {"rules.change", "rules.tier"} <= actions
    replies = await cashier.say("/settings earn 1")  # for non-owners /settings is about offers
    assert "chưa là thành viên" in replies[0].text
    assert (await rules.current()).earn_vnd_per_point == 2000


async def test_owner_adjusts_points_never_below_zero(db: str, till_shop: Shop) -> None:
    await join(Chat(till_shop, user_id="1001", name="Lan"))
    owner = Chat(till_shop, user_id=OWNER_ID)
    replies = await owner.say("/adjust 0912001001 +50 quên tích điểm")
    assert "Đã điều chỉnh +50 điểm cho Lan. Số dư mới: 50 điểm." in replies[0].text
    replies = await owner.say("/adjust 0912001001 -80 nhầm")
    assert "Không thể trừ quá" in replies[0].text
    for bad in (
        "/adjust",
        "/adjust 0912001001 50 no-sign",
        "/adjust 123 +5 x",
        "/adjust 0912001001 +abc x",
        "/adjust 0912001001 +0 x",
    ):
        replies = await owner.say(bad)
        assert "Cú pháp" in replies[0].text, bad
    replies = await owner.say("/adjust 0912001001 -50 trả lại")
    assert "Số dư mới: 0 điểm" in replies[0].text
    assert (await Customer.get(accounts__external_id="1001")).points_balance == 0
    assert await AuditEntry.filter(action="points.adjust").count() == 2


async def test_cashier_ticks_items_from_the_owners_list(db: str, till_shop: Shop) -> None:
    owner = Chat(till_shop, user_id=OWNER_ID)
    replies = await owner.say("/menu")
    assert "Chưa có món nào" in replies[0].text
    for name in ("Cà phê sữa đá", "Bạc xỉu", "Bánh mì"):
        await owner.say(f"/menu add {name}")
    replies = await owner.say("/menu remove 3")
    assert "Đã bỏ «Bánh mì»" in replies[0].text
    for bad in ("/menu add", "/menu remove 99", "/menu fly"):
        replies = await owner.say(bad)
        assert "Đã" not in replies[0].text, bad

    customer = await join(Chat(till_shop, user_id="1001", name="Lan"))
    cashier = await hire(till_shop)
    await cashier.say(f"/start {await card_token(customer)}")
    replies = await cashier.say("59000")
    labels = [b.label for row in replies[0].buttons for b in row]
    assert labels == ["☐ Cà phê sữa đá", "☐ Bạc xỉu", "✅ Xác nhận", "✖ Hủy"]
    replies = await cashier.press(cashier.action("Bạc xỉu"))
    assert replies[0].edit and "☑ Bạc xỉu" in [b.label for row in replies[0].buttons for b in row]
    await cashier.press(cashier.action("Cà phê sữa đá"))
    await cashier.press(cashier.action("Cà phê sữa đá"))  # ticked twice: off again
    await cashier.press(cashier.action("Xác nhận"))
    assert (await Purchase.get()).items == ["Bạc xỉu"]
