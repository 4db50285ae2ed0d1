"""RFM segments, the nightly analysis and the owner's insight commands, on a real database."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.types import Shop
from loyalty import churn
from loyalty.insight import analyze
from loyalty.segments import (
    AT_RISK,
    CANT_LOSE,
    CHAMPIONS,
    LOST,
    NEW,
    SEGMENT_RULES,
    SEGMENTS,
    frequency_score,
    recency_score,
    score_members,
    segment_of,
)
from models.analytics import MemberInsight, ModelFit
from models.members import Customer
from models.purchases import Purchase
from models.staff import Store
from scheduler.offers import winback_candidates
from tests.chat import Chat

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
OWNER_ID = "9001"


async def customer(name: str, *, phone: str | None = None, consent: bool = True) -> Customer:
    return await Customer.create(
        display_name=name, phone=phone, marketing_consent=consent, joined_at=NOW
    )


async def visits(
    who: Customer, days_ago: list[float], amount: int = 50_000, **extra: object
) -> None:
    await Purchase.bulk_create(
        [
            Purchase(
                customer_id=who.id,
                amount_vnd=amount,
                points=0,
                idempotency_key=f"t:{who.id}:{i}:{d}",
                created_at=NOW - timedelta(days=d),
                **extra,
            )
            for i, d in enumerate(days_ago)
        ]
    )


def test_the_rule_table_gives_every_r_f_cell_exactly_one_segment() -> None:
    cells = [(r, f) for rule in SEGMENT_RULES for r in rule.recency for f in rule.frequency]
    assert sorted(cells) == [(r, f) for r in range(1, 6) for f in range(1, 6)]
    assert len(SEGMENTS) == 11


@given(st.integers(0, 2000), st.integers(0, 500))
def test_scores_are_1_to_5_and_monotonic(days: int, count: int) -> None:
    assert 1 <= recency_score(days) <= 5 and 1 <= frequency_score(count) <= 5
    assert recency_score(days) >= recency_score(days + 1)
    assert frequency_score(count) <= frequency_score(count + 1)
    assert segment_of(recency_score(days), frequency_score(count)) in SEGMENTS


def test_one_visit_customers_all_score_the_same() -> None:
    """Thresholds, not quantiles: a crowd of one-visit customers is not split at random."""
    assert {frequency_score(1)} == {1} and frequency_score(0) == 1
    assert [frequency_score(n) for n in (2, 3, 6, 12)] == [2, 3, 4, 5]


async def test_members_land_in_the_expected_segments(db: str) -> None:
    regular = await customer("Lan")
    await visits(regular, [1, 3, 5, 8, 10, 12, 15, 18, 20, 22, 25, 28])
    faded = await customer("Bình")
    await visits(faded, [200, 210, 220, 230, 240, 250, 260, 270, 280, 290, 300, 310])
    once_long_ago = await customer("Chi")
    await visits(once_long_ago, [300])
    lapsing = await customer("Dũng")
    await visits(lapsing, [150, 160, 170, 180])
    newcomer = await customer("Em")  # joined today, never bought
    voided = await customer("Giang")
    await visits(voided, [1, 2, 3], voided_at=NOW)  # all undone: as if never bought
    erased = await customer("Hà")
    await Customer.filter(id=erased.id).update(deleted_at=NOW)

    scored = {s.customer_id: s for s in await score_members(NOW)}
    assert erased.id not in scored
    assert scored[regular.id].segment == CHAMPIONS and scored[regular.id].visits == 12
    assert scored[faded.id].segment == CANT_LOSE
    assert scored[once_long_ago.id].segment == LOST
    assert scored[lapsing.id].segment == AT_RISK
    assert scored[newcomer.id].segment == NEW and scored[newcomer.id].visits == 0
    assert scored[voided.id].visits == 0
    assert scored[regular.id].spend_vnd == 12 * 50_000
    assert sorted({s.m for s in scored.values()}) == [1, 2, 3, 4, 5]  # six members, quintiles
    assert scored[regular.id].m == scored[faded.id].m or scored[regular.id].m >= 4


async def test_analysis_stores_habits_and_says_why_there_is_no_model(db: str) -> None:
    lan = await customer("Lan", phone="+84912000001")
    # 07:30 local on three mornings (00:30 UTC), always the same drink.
    await Purchase.bulk_create(
        [
            Purchase(
                customer_id=lan.id,
                amount_vnd=45_000,
                points=0,
                items=["Bạc xỉu", "Bánh mì que"] if i == 0 else ["Bạc xỉu"],
                idempotency_key=f"h{i}",
                created_at=datetime(2026, 11, 16 + i, 0, 30, tzinfo=UTC),
            )
            for i in range(3)
        ]
    )
    analysis = await analyze(NOW, ZONE)
    assert isinstance(analysis.model, churn.TooLittle) and analysis.members == 1
    row = await MemberInsight.get(customer_id=lan.id)
    assert row.favourite_items[0] == "Bạc xỉu" and row.usual_hour == 7
    assert row.usual_weekday == datetime(2026, 11, 16).weekday()
    assert (row.visits, row.spend_vnd, row.average_spend_vnd) == (3, 135_000, 45_000)
    assert row.p_alive is None and row.value_12m_vnd is None
    fit = await ModelFit.get()
    assert not fit.fitted and fit.note == analysis.model.reason
    await analyze(NOW + timedelta(days=1), ZONE)  # replaces, never piles up
    assert await MemberInsight.all().count() == 1 and await ModelFit.all().count() == 2


async def test_a_shop_with_history_gets_a_fitted_model(db: str) -> None:
    rng = random.Random(5)
    people = [await customer(f"K{i}") for i in range(400)]
    for person in people:
        rate = rng.choice([0.02, 0.05, 0.1, 0.3])
        stop = rng.uniform(0, 365)
        days = [d for d in range(365) if d > 365 - stop and rng.random() < rate]
        await visits(
            person, [float(d) + 0.1 for d in days] or [300.0], rng.randrange(30, 90) * 1000
        )
    analysis = await analyze(NOW, ZONE)
    assert isinstance(analysis.model, churn.Fit), analysis.model
    fit = await ModelFit.get()
    assert fit.fitted and set(fit.params["bgnbd"]) >= {"r", "alpha", "a", "b"}
    assert fit.params["time_unit"] == "days"
    rows = await MemberInsight.all()
    assert all(r.p_alive is not None and 0 <= r.p_alive <= 1 for r in rows)
    assert all(r.value_12m_vnd is not None and r.value_12m_vnd >= 0 for r in rows)
    assert sum(analysis.segments.values()) == 400


async def test_winback_follows_the_gap_rule_when_the_model_is_not_fitted(db: str) -> None:
    weekly = await customer("Lan")  # every 7 days, now 20 days away: > max(2 x 7, 14)
    await visits(weekly, [20, 27, 34, 41])
    monthly = await customer("Bình")  # every 30 days, 20 days away: fine
    await visits(monthly, [20, 50, 80])
    fresh = await customer("Chi")  # one visit 10 days ago: fine for 30 days
    await visits(fresh, [10])
    await customer("Dũng")  # never bought: not flagged by the rule
    quiet = await customer("Em", consent=False)  # at risk, but no consent
    await visits(quiet, [20, 27, 34, 41])
    before = await winback_candidates(NOW, 21)  # no analysis yet: the owner's 21-day rule
    assert weekly.id not in before and monthly.id not in before
    await analyze(NOW, ZONE)
    assert await winback_candidates(NOW, 21) == [weekly.id]


@pytest.fixture
def owner_shop(shop: Shop) -> Shop:
    return replace(shop, owners=frozenset({("telegram", OWNER_ID)}))


async def test_owner_segments_customer_and_export(db: str, owner_shop: Shop) -> None:
    owner = Chat(owner_shop, user_id=OWNER_ID)
    assert "Chưa có phân tích nào" in (await owner.say("/segments"))[0].text
    lan = await customer("Lan", phone="+84912000001")
    await visits(lan, [1, 3, 5, 8, 10, 12, 15, 18, 20, 22, 25, 28])
    await analyze(NOW, ZONE)

    replies = await owner.say("/segments")
    assert "Khách ruột: 1" in replies[0].text and "Đã rời đi: 0" in replies[0].text
    replies = await owner.press(owner.action("Khách ruột"))
    assert "Lan (+84912000001): 12 lần" in replies[0].text

    replies = await owner.say("/customer 0912 000 001")
    assert "👤 Lan — hạng Thành viên" in replies[0].text and "Nhóm: Khách ruột" in replies[0].text
    assert "Không tìm thấy" in (await owner.say("/customer 0999999999"))[0].text

    (reply,) = await owner.say("/export")
    assert reply.document is not None and reply.document.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(reply.document.data.decode("utf-8-sig"))))
    assert rows[0]["name"] == "Lan" and rows[0]["segment"] == CHAMPIONS
    assert rows[0]["visits"] == "12"

    customer_chat = Chat(owner_shop, user_id="1001")
    assert "không biết lệnh" in (await customer_chat.say("/export"))[0].text


async def test_owner_stats_text_and_chart(db: str, owner_shop: Shop, clock) -> None:
    from PIL import Image

    lan = await customer("Lan", phone="+84912000001")
    clock.now = NOW
    await visits(lan, [1, 3, 40], amount=85_000)
    await analyze(NOW, ZONE)
    owner = Chat(owner_shop, user_id=OWNER_ID)
    (reply,) = await owner.say("/stats")
    assert "📊 30 ngày gần nhất · mọi cửa hàng" in reply.text and "Hóa đơn: 2" in reply.text
    assert "Doanh thu: 170.000 ₫" in reply.text
    assert reply.image is not None and Image.open(io.BytesIO(reply.image)).size == (1080, 1600)
    for wrong in ("/stats 12", "/stats tuần", "/stats 30 9"):  # no such period or store
        assert "Dùng /stats [7|30|90|365]" in (await owner.say(wrong))[0].text
    (reply,) = await owner.say("/stats 90")
    assert "Hóa đơn: 3" in reply.text
    quan1 = await Store.create(name="Quận 1")
    await Purchase.filter(created_at__gte=NOW - timedelta(days=2)).update(store_id=quan1.id)
    (reply,) = await owner.say(f"/stats 90 {quan1.id}")
    assert "· Quận 1" in reply.text and "Hóa đơn: 1" in reply.text
