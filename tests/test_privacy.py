"""A member's data rights: /history, /stop, /offers, /mydata and /delete, rules and conversation."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import Tortoise
from tortoise.exceptions import DoesNotExist
from tortoise.functions import Sum

from handlers import privacy
from handlers.types import Reply, Shop
from loyalty import conversations, ledger, members, purchases
from loyalty import privacy as rules
from models.ledger import LedgerEntry, PointsLot
from models.members import ChannelAccount, ConsentRecord, Conversation, Customer, MemberCard
from models.purchases import Purchase
from models.staff import StaffMember
from tests.chat import Chat, join
from tests.conftest import FakeClock

PHONE = "+84912001001"  # what tests.chat.join shares for user 1001
NAME = "Lan Nguyễn"
USERNAME = "lan_cafe"


async def member_chat(shop: Shop, **kwargs: Any) -> tuple[Chat, Customer]:
    """A member who joined with a phone, a birthday and marketing consent."""
    chat = await join(Chat(shop, **{"username": USERNAME, **kwargs}))
    return chat, await Customer.get(accounts__external_id=chat.user_id)


async def snapshot(*skip: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (but ``skip``), to prove that nothing changed."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for model in Tortoise.apps["models"].values():
        if model._meta.db_table not in skip:
            tables[model._meta.db_table] = sorted(await model.all().values(), key=repr)
    return tables


def strings_in(value: Any) -> list[str]:
    """All text inside a column value (JSON columns included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_in(k), *strings_in(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


async def ledger_total() -> int:
    row = await LedgerEntry.all().annotate(total=Sum("points")).first().values("total")
    return int(row["total"] or 0) if row else 0


async def lots_total(customer_id: int) -> int:
    return sum(lot.remaining for lot in await PointsLot.filter(customer_id=customer_id))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# /history


async def test_history_shows_the_last_ten_movements_newest_first(db: str, shop: Shop) -> None:
    chat, member = await member_chat(shop)
    cid = member.id
    await ledger.earn(cid, 700, at=at("2025-06-01T02:00"))
    await ledger.earn(cid, 1000, at=at("2026-01-05T02:00"))
    await ledger.earn(cid, 2000, at=at("2026-02-01T02:00"))
    await ledger.spend(cid, 500, at=at("2026-03-01T02:00"))
    await ledger.earn(cid, 100, at=at("2026-04-01T02:00"), kind="gift")
    await ledger.earn(cid, 200, at=at("2026-05-01T02:00"), kind="referral")
    await ledger.earn(cid, 50, at=at("2026-06-01T02:00"), kind="adjust")
    await ledger.expire_due(cid, at("2026-06-15T02:00"))  # what the spend left of the first lot
    await ledger.spend(cid, 30, at=at("2026-06-20T02:00"), kind="adjust")
    bill = await ledger.earn(cid, 1500, at=at("2026-07-01T02:00"))
    await ledger.take_back(bill, at=at("2026-07-01T03:00"), key="undo-1")
    await ledger.earn(cid, 300, at=at("2026-08-01T02:00"), kind="birthday_bonus")
    await ledger.earn(cid, 12345, at=at("2026-11-21T18:30"))  # 01:30 on the 22nd in Vietnam

    replies = await chat.say("/history")

    assert len(replies) == 1
    assert replies[0].text.splitlines() == [
        "🧾 Lịch sử điểm gần đây:",
        "22/11/2026  +12.345 điểm · Tích điểm",
        "01/08/2026  +300 điểm · Giao dịch khác",
        "01/07/2026  −1.500 điểm · Hóa đơn bị hủy",
        "01/07/2026  +1.500 điểm · Tích điểm",
        "20/06/2026  −30 điểm · Cửa hàng điều chỉnh",
        "15/06/2026  −200 điểm · Điểm hết hạn",
        "01/06/2026  +50 điểm · Cửa hàng điều chỉnh",
        "01/05/2026  +200 điểm · Thưởng giới thiệu bạn bè",
        "01/04/2026  +100 điểm · Điểm tặng",
        "01/03/2026  −500 điểm · Đổi điểm",
        "⭐ Điểm hiện có: 15.965 điểm",
    ]
    assert replies[0].keyboard == (
        ("🎫 Thẻ thành viên", "⭐ Điểm của tôi"),
        ("🌐 Ngôn ngữ", "❓ Trợ giúp"),
    )
    assert [m.kind for m in await rules.history(cid, 3)] == [
        "earn",
        "birthday_bonus",
        "earn_reversal",
    ]


async def test_history_in_english_and_when_empty(db: str, shop: Shop, clock: FakeClock) -> None:
    chat = await join(Chat(shop, language_hint="en"), language="English")
    replies = await chat.say("/history")
    assert replies[0].text.splitlines() == [
        "You have no points movements yet.",
        "⭐ Points: 0 points",
    ]
    member = await Customer.get()
    await ledger.earn(member.id, 1, at=clock.now)
    await ledger.spend(member.id, 1, at=clock.now, kind="gift")
    replies = await chat.say("/history")
    assert replies[0].text.splitlines() == [
        "🧾 Your recent points:",
        "22/11/2026  −1 point · Gift",
        "22/11/2026  +1 point · Purchase",
        "⭐ Points: 0 points",
    ]


async def test_guests_are_invited_to_join_for_every_privacy_command(db: str, shop: Shop) -> None:
    chat = Chat(shop)
    for command in privacy.PRIVACY_COMMANDS:
        replies = await chat.say(f"/{command}")
        assert [r.text for r in replies] == ["Bạn chưa là thành viên. Gửi /start để tham gia nhé!"]
    assert await Customer.all().count() == 0
    assert await ConsentRecord.all().count() == 0


# /stop and /offers


async def marketing_records(customer_id: int) -> list[tuple[bool, str]]:
    return [
        (record.granted, record.wording_version)
        for record in await ConsentRecord.filter(
            customer_id=customer_id, purpose=members.MARKETING
        ).order_by("id")
    ]


async def test_stop_twice_records_one_withdrawal(db: str, shop: Shop) -> None:
    chat, member = await member_chat(shop)
    assert member.marketing_consent

    replies = await chat.say("/stop")
    assert "Đã dừng gửi tin ưu đãi" in replies[0].text
    assert "tin báo điểm" in replies[0].text and "/offers" in replies[0].text
    replies = await chat.say("/stop")
    assert replies[0].text == "Bạn đã tắt tin ưu đãi rồi. Khi muốn nhận lại, bạn gửi /offers nhé."

    assert not (await Customer.get(id=member.id)).marketing_consent
    assert await marketing_records(member.id) == [
        (True, members.CONSENT_WORDING_VERSION),
        (False, members.CONSENT_WORDING_VERSION),
    ]
    withdrawal = await ConsentRecord.filter(customer_id=member.id, granted=False).get()
    assert (withdrawal.language, withdrawal.channel) == ("vi", "telegram")


async def test_concurrent_withdrawals_write_once(db: str, shop: Shop) -> None:
    _, member = await member_chat(shop)
    twins = [await Customer.get(id=member.id) for _ in range(3)]
    results = await asyncio.gather(
        *(rules.withdraw_marketing(twin, "telegram", "vi") for twin in twins)
    )
    assert sorted(results) == [False, False, True]
    assert await ConsentRecord.filter(customer_id=member.id, granted=False).count() == 1


async def test_offers_asks_then_records_a_new_consent(db: str, shop: Shop) -> None:
    chat, member = await member_chat(shop)
    await chat.say("/stop")

    replies = await chat.say("/offers")
    assert "Tối đa 2 tin mỗi tuần" in replies[0].text
    assert not (await Customer.get(id=member.id)).marketing_consent  # nothing before the press
    yes = chat.action("Có, gửi ưu đãi")
    replies = await chat.press(yes)
    assert replies[0].edit and replies[0].text == "✅ Có, gửi ưu đãi cho tôi"
    assert replies[1].text == "🎉 Đã bật nhận tin ưu đãi. Khi muốn dừng, bạn gửi /stop nhé."

    assert (await Customer.get(id=member.id)).marketing_consent
    assert await marketing_records(member.id) == [
        (True, members.CONSENT_WORDING_VERSION),
        (False, members.CONSENT_WORDING_VERSION),
        (True, rules.OFFERS_WORDING_VERSION),
    ]
    replies = await chat.press(yes)  # pressed again: the flow is over
    assert "Nút này đã hết hiệu lực" in replies[0].text
    replies = await chat.say("/offers")
    assert replies[0].text.startswith("Bạn đang nhận tin ưu đãi rồi") and not replies[0].buttons
    assert len(await marketing_records(member.id)) == 3


async def test_offers_declined_changes_nothing(db: str, shop: Shop) -> None:
    chat, _ = await member_chat(shop)
    await chat.say("/stop")
    await chat.say("/offers")
    before = await snapshot("conversation", "channel_account")
    replies = await chat.press(chat.action("Không, cảm ơn"))
    assert replies == [Reply("Vâng, mình sẽ không gửi tin ưu đãi cho bạn.", edit=True)]
    assert await snapshot("conversation", "channel_account") == before


async def test_grant_marketing_is_a_no_op_when_already_given(db: str, shop: Shop) -> None:
    _, member = await member_chat(shop)
    assert not await rules.grant_marketing(member, "telegram", "vi")
    assert await rules.withdraw_marketing(member, "telegram", "vi")
    assert not member.marketing_consent
    assert await rules.grant_marketing(member, "zalo", "en")
    assert member.marketing_consent
    last = await ConsentRecord.filter(customer_id=member.id).order_by("-id").first()
    assert last is not None and (last.granted, last.channel, last.language) == (True, "zalo", "en")


# /mydata


async def test_mydata_sends_everything_as_json_without_card_secrets(
    db: str, shop: Shop, clock: FakeClock
) -> None:
    chat, member = await member_chat(shop)
    await ledger.earn(member.id, 1234, at=clock.now, kind="gift")
    cashier_account = await ChannelAccount.create(channel="telegram", external_id="9", chat_id="9")
    cashier = await StaffMember.create(account=cashier_account, role="cashier")
    await purchases.award_purchase(
        member,
        85_000,
        cashier=cashier,
        key="bill-1",
        at=clock.now,
        zone=shop.zone,
        items=["Cà phê sữa đá"],
    )

    replies = await chat.say("/mydata")

    assert len(replies) == 1
    reply = replies[0]
    assert reply.text == "📄 Đây là toàn bộ dữ liệu Cà Phê Quen đang lưu về bạn (tệp JSON)."
    assert reply.document is not None
    assert reply.document.filename == "quen-mydata-2026-11-22.json"
    assert reply.document.mime_type == "application/json"
    raw = reply.document.data.decode("utf-8")
    assert NAME in raw and "Cà phê sữa đá" in raw  # not \u-escaped
    assert raw.startswith('{\n  "shop": "Cà Phê Quen"')
    data = json.loads(raw)
    profile = data["profile"]
    assert profile["name"] == NAME and profile["phone"] == PHONE
    assert profile["birthday"] == {"day": 22, "month": 11, "year": 1995}
    assert profile["points_balance"] == 1234 + 85 and profile["marketing_consent"] is True
    assert (profile["language"], profile["tier"]) == ("vi", "member")
    assert [
        (a["channel"], a["external_id"], a["username"], a["display_name"])
        for a in data["channel_accounts"]
    ] == [("telegram", "1001", USERNAME, NAME)]
    assert [(c["purpose"], c["granted"]) for c in data["consent_records"]] == [
        ("membership", True),
        ("marketing", True),
    ]
    assert all(
        c["wording_version"] == members.CONSENT_WORDING_VERSION for c in data["consent_records"]
    )
    assert [(e["kind"], e["points"]) for e in data["ledger_entries"]] == [
        ("gift", 1234),
        ("earn", 85),
    ]
    assert [lot["remaining"] for lot in data["points_lots"]] == [1234, 85]
    assert data["purchases"][0]["amount_vnd"] == 85_000
    assert data["purchases"][0]["items"] == ["Cà phê sữa đá"]
    cards = await MemberCard.filter(customer_id=member.id)
    assert len(data["member_cards"]) == len(cards) == 1
    assert set(data["member_cards"][0]) == {"issued_at", "revoked_at"}
    for card in cards:
        assert card.token_hash not in raw
    assert "token" not in raw and "hash" not in raw
    moments = [
        data["exported_at"],
        profile["joined_at"],
        data["member_cards"][0]["issued_at"],
        data["ledger_entries"][0]["created_at"],
        data["points_lots"][0]["expires_at"],
    ]
    for moment in moments:
        assert datetime.fromisoformat(moment).utcoffset() == timedelta(0)
    assert datetime.fromisoformat(data["exported_at"]) == clock.now


async def test_the_export_of_an_erased_member_does_not_exist(db: str, shop: Shop) -> None:
    _, member = await member_chat(shop)
    assert await rules.erase_member(member.id, shop.clock(), channel="telegram")
    with pytest.raises(DoesNotExist):
        await rules.export_member(member.id, shop.clock())


# /delete


async def test_delete_erases_personal_data_and_keeps_the_books(
    db: str, shop: Shop, clock: FakeClock
) -> None:
    chat, member = await member_chat(shop)
    other_chat, other = await member_chat(shop, user_id="2002", name="Minh Trần", username="minh")
    await ledger.earn(member.id, 5000, at=clock.now - timedelta(days=30))
    await ledger.spend(member.id, 1200, at=clock.now - timedelta(days=3))
    await ledger.earn(other.id, 800, at=clock.now)
    token = await members.issue_card(member, clock.now)
    other_token = await members.issue_card(other, clock.now)
    total_before = await ledger_total()
    entries_before = await LedgerEntry.filter(customer_id=member.id).count()
    consents_before = await ConsentRecord.filter(customer_id=member.id).count()

    replies = await chat.say("/delete")
    assert "3.800 điểm hiện có sẽ mất" in replies[0].text and "/mydata" in replies[0].text
    assert (await Customer.get(id=member.id)).phone == PHONE  # asking erases nothing
    clock.advance(minutes=1)
    yes = chat.action("Xóa dữ liệu của tôi")
    replies = await chat.press(yes)

    assert [r.text for r in replies] == [
        "✅ Xóa dữ liệu của tôi",
        "Đã xóa dữ liệu cá nhân của bạn. Cảm ơn bạn đã là khách quen của Cà Phê Quen! "
        "Khi muốn quay lại, bạn gửi /start nhé.",
    ]
    assert replies[0].edit and replies[1].remove_keyboard and not replies[1].buttons

    erased = await Customer.get(id=member.id)
    assert erased.display_name == "" and erased.phone is None
    assert (erased.birthday_day, erased.birthday_month, erased.birthday_year) == (None, None, None)
    assert not erased.marketing_consent and erased.deleted_at == clock.now
    assert not await ChannelAccount.filter(external_id=chat.user_id).exists()
    assert not await ChannelAccount.filter(customer_id=member.id).exists()
    assert await Conversation.all().count() == 1  # the other member's only
    assert await members.member_by_card(token) is None
    assert not await MemberCard.filter(customer_id=member.id, revoked_at__isnull=True).exists()
    assert await members.member_by_card(other_token) is not None

    for table, rows in (await snapshot()).items():
        for row in rows:
            for column, value in row.items():
                for text in strings_in(value):
                    where = (table, column, text)
                    assert PHONE not in text and PHONE[3:] not in text, where
                    assert NAME not in text and USERNAME not in text, where
                    assert text != chat.user_id, where

    assert await ledger_total() == total_before
    assert await LedgerEntry.filter(customer_id=member.id).count() == entries_before
    assert erased.points_balance == await ledger.ledger_sum(member.id) == 3800
    assert await lots_total(member.id) == 3800
    withdrawals = await ConsentRecord.filter(customer_id=member.id).order_by("-id").limit(2)
    assert await ConsentRecord.filter(customer_id=member.id).count() == consents_before + 2
    assert {(c.purpose, c.granted) for c in withdrawals} == {
        ("membership", False),
        ("marketing", False),
    }
    assert (await Customer.get(id=other.id)).phone == "+84912002002"

    # The person is a stranger now, and joining again makes a brand-new member.
    replies = await chat.press(yes)
    assert "Nút này đã hết hiệu lực" in replies[0].text
    replies = await chat.say("/points")
    assert replies[0].text == "Bạn chưa là thành viên. Gửi /start để tham gia nhé!"
    await join(chat)
    again = await Customer.get(accounts__external_id=chat.user_id)
    assert again.id not in (member.id, other.id)
    assert again.points_balance == 0 and again.phone == PHONE
    replies = await other_chat.say("/history")
    assert "+800 điểm" in replies[0].text


async def test_delete_cancelled_changes_nothing(db: str, shop: Shop, clock: FakeClock) -> None:
    chat, member = await member_chat(shop)
    await ledger.earn(member.id, 500, at=clock.now)
    await chat.say("/delete")
    before = await snapshot("conversation", "channel_account")
    replies = await chat.press(chat.action("Không xóa"))
    assert replies == [Reply("Đã hủy. Dữ liệu của bạn vẫn được giữ nguyên.", edit=True)]
    assert await snapshot("conversation", "channel_account") == before
    replies = await chat.say("/points")
    assert replies[0].text.startswith("⭐ Điểm hiện có: 500 điểm")


async def test_stale_or_forged_delete_buttons_change_nothing(db: str, shop: Shop) -> None:
    chat, member = await member_chat(shop)
    stranger = Chat(shop, user_id="3003", name="Kẻ lạ")
    await chat.say("/delete")
    old = chat.action("Xóa dữ liệu của tôi")
    await chat.say("/delete")
    current = chat.action("Xóa dữ liệu của tôi")
    nonce = current.split(":")[1]
    await stranger.say("/start")
    before = await snapshot("conversation", "channel_account")
    attempts = [
        (chat, old),  # an older /delete
        (chat, "d:000000:yes"),  # a typed nonce
        (chat, "d::yes"),
        (chat, f"d:{nonce}:yes:now"),
        (chat, f"d:{nonce}:maybe"),
        (chat, f"o:{nonce}:yes"),  # the right nonce on the wrong flow
        (stranger, current),  # someone else's button
    ]
    for who, action in attempts:
        replies = await who.press(action)
        assert [r.text for r in replies] == [
            "Nút này đã hết hiệu lực. Bạn gửi lại lệnh (ví dụ /start) nhé."
        ], action
    assert await snapshot("conversation", "channel_account") == before
    await chat.say("/stop")
    await chat.say("/offers")  # a new flow replaces the delete question
    replies = await chat.press(current)
    assert "Nút này đã hết hiệu lực" in replies[0].text
    kept = await Customer.get(id=member.id)
    assert kept.deleted_at is None and kept.phone == PHONE and kept.display_name == NAME
    assert await ChannelAccount.filter(customer_id=member.id).exists()


async def test_erasing_twice_changes_nothing_more(db: str, shop: Shop, clock: FakeClock) -> None:
    _, member = await member_chat(shop)
    assert await rules.erase_member(member.id, clock.now, channel="telegram")
    before = await snapshot()
    clock.advance(days=1)
    assert not await rules.erase_member(member.id, clock.now, channel="telegram")
    assert await snapshot() == before


async def test_staff_accounts_are_unlinked_not_deleted(
    db: str, shop: Shop, clock: FakeClock
) -> None:
    chat, member = await member_chat(shop)
    account = await ChannelAccount.get(external_id=chat.user_id)
    role = await StaffMember.create(account=account, role="cashier")
    zalo = await ChannelAccount.create(
        channel="zalo", external_id="z-1", chat_id="z-1", customer=member, display_name=NAME
    )
    assert await rules.erase_member(member.id, clock.now, channel="telegram")
    kept = await ChannelAccount.get(id=account.id)
    assert kept.customer_id is None
    assert await StaffMember.filter(id=role.id, removed_at__isnull=True).exists()
    assert not await ChannelAccount.filter(id=zalo.id).exists()
    replies = await chat.say("/points")
    assert replies[0].text == "Bạn chưa là thành viên. Gửi /start để tham gia nhé!"


async def test_purchases_stay_with_the_anonymous_member(
    db: str, shop: Shop, clock: FakeClock
) -> None:
    _, member = await member_chat(shop)
    cashier_account = await ChannelAccount.create(channel="telegram", external_id="9", chat_id="9")
    cashier = await StaffMember.create(account=cashier_account, role="cashier")
    await purchases.award_purchase(
        member, 120_000, cashier=cashier, key="bill-2", at=clock.now, zone=shop.zone
    )
    assert await rules.erase_member(member.id, clock.now, channel="telegram")
    bill = await Purchase.get(idempotency_key="bill-2")
    assert (bill.customer_id, bill.cashier_id, bill.amount_vnd) == (member.id, cashier.id, 120_000)


# The ledger never notices an erasure.

_people = itertools.count(1)
histories = st.lists(
    st.lists(
        st.tuples(st.sampled_from(["earn", "spend"]), st.integers(1, 400), st.integers(0, 60)),
        max_size=8,
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(histories=histories, erase=st.lists(st.booleans(), min_size=4, max_size=4))
async def test_erasing_never_moves_points(
    db: str, histories: list[list[tuple[str, int, int]]], erase: list[bool]
) -> None:
    start = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    people: list[int] = []
    for ops in histories:
        number = next(_people)
        account = await conversations.account_for(
            conversations.Caller("telegram", f"p{number}", f"p{number}", f"Người {number}"), start
        )
        customer = await members.join(account, language="vi", marketing=number % 2 == 0)
        await members.set_phone(customer, f"+8490{number:07d}")
        await members.issue_card(customer, start)
        when = start
        for op, points, days in ops:
            when += timedelta(days=days)
            if op == "earn":
                await ledger.earn(customer.id, points, at=when)
            else:
                try:
                    await ledger.spend(customer.id, points, at=when)
                except ledger.NotEnoughPoints:
                    assert (await ledger.balance(customer.id, when, timedelta(0))).points < points
        people.append(customer.id)
    total = await ledger_total()
    balances = {cid: await ledger.ledger_sum(cid) for cid in people}

    moment = start + timedelta(days=500)
    for cid, gone in zip(people, erase, strict=False):
        if gone:
            assert await rules.erase_member(cid, moment, channel="telegram")

    assert await ledger_total() == total
    for cid, gone in zip(people, erase, strict=False):
        customer = await Customer.get(id=cid)
        assert customer.points_balance == balances[cid] == await ledger.ledger_sum(cid)
        assert customer.points_balance == await lots_total(cid)
        assert (customer.deleted_at is not None) == gone
        assert (customer.phone is None) == gone
