"""The marketing jobs on a controlled clock: birthdays (year end, 29 February, the local date),
win-back, expiring points and tier nudges, each given once, and a missing reward skipped."""

from __future__ import annotations

import asyncio
import calendar
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.outgoing import render
from handlers.types import Shop
from loyalty import ledger, rules, vouchers
from loyalty.voice import Voice
from models.audit import JobRun
from models.members import ChannelAccount, Customer
from models.outbox import OutboxMessage
from models.purchases import Purchase
from models.rewards import Reward, Voucher
from models.staff import ProgramRules
from scheduler.jobs import BIRTHDAY, POINTS_EXPIRING, TIER_NUDGE, WINBACK, run
from scheduler.offers import birthday_week_end, celebrated_on

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
VOICE = Voice("Cà Phê Quen")
#: 09:00 on 29 December 2026 in Hồ Chí Minh City.
DEC_29 = datetime(2026, 12, 29, 2, 0, tzinfo=UTC)
#: 10:00 on 22 November 2026 there.
NOV_22 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


async def member(
    name: str,
    user: str,
    *,
    consent: bool = True,
    birthday: tuple[int, int] | None = None,
    joined: datetime | None = None,
) -> Customer:
    """A member with a Telegram account (the outbox writes nothing for a member without one)."""
    day, month = birthday or (None, None)
    customer = await Customer.create(
        display_name=name, marketing_consent=consent, birthday_day=day, birthday_month=month
    )
    if joined is not None:
        await Customer.filter(id=customer.id).update(joined_at=joined)
    await ChannelAccount.create(
        channel="telegram", external_id=user, chat_id=user, customer_id=customer.id
    )
    return customer


async def gift(title: str = "Bánh kem sinh nhật", *, stock: int | None = 5) -> Reward:
    return await Reward.create(
        title=title, kind="item", item_name="Bánh kem", cost_points=300, valid_days=14, stock=stock
    )


async def offer_rules(**values: object) -> None:
    await rules.current()
    await ProgramRules.filter(id=rules.RULES_ID).update(**values)


async def rows(kind: str) -> list[OutboxMessage]:
    return await OutboxMessage.filter(kind=kind).order_by("customer_id", "id")


# ---------------------------------------------------------------------------------- birthdays


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)))
def test_every_birthday_is_celebrated_once_a_year(day: date) -> None:
    """Across a whole year every (month, day), 29 February included, comes up exactly once."""
    seen: list[tuple[int, int]] = []
    start = date(day.year, 1, 1)
    for offset in range(366 if calendar.isleap(day.year) else 365):
        seen += celebrated_on(start + timedelta(days=offset))
    assert len(seen) == len(set(seen)) == 366
    assert celebrated_on(day)[0] == (day.month, day.day)


def test_the_birthday_week_ends_at_local_midnight() -> None:
    end = birthday_week_end(date(2027, 1, 1), ZONE)
    assert end.astimezone(ZONE).date() == date(2027, 1, 4)
    assert (end + timedelta(seconds=1)).astimezone(ZONE).isoformat() == "2027-01-05T00:00:00+07:00"


async def test_a_new_years_birthday_is_offered_in_december_for_the_new_year(db: str) -> None:
    reward = await gift()
    await offer_rules(birthday_reward_id=reward.id)
    lan = await member("Lan", "1001", birthday=(1, 1))
    await member("Bình", "1002", birthday=(2, 1))
    await member("Chi", "1003", birthday=(1, 1), consent=False)
    erased = await member("Dũng", "1004", birthday=(1, 1))
    await Customer.filter(id=erased.id).update(deleted_at=DEC_29)

    assert await run(BIRTHDAY, DEC_29, ZONE, VOICE) == "offers 1"
    voucher = await Voucher.get()
    assert voucher.customer_id == lan.id
    assert voucher.idempotency_key == f"birthday:2027:{lan.id}"
    assert (voucher.reason, voucher.title, voucher.kind, voucher.item_name) == (
        "birthday",
        "Bánh kem sinh nhật",
        "item",
        "Bánh kem",
    )
    assert voucher.spend_entry_id is None and voucher.issued_at == DEC_29
    assert voucher.expires_at == datetime(2027, 1, 4, 23, 59, 59, tzinfo=ZONE)
    assert (await Reward.get(id=reward.id)).stock == 5  # the shop's gift takes no stock
    (row,) = await rows("birthday")
    assert (row.customer_id, row.marketing, row.dedupe_key) == (
        lan.id,
        True,
        voucher.idempotency_key,
    )
    assert row.expires_at == voucher.expires_at
    # Worded by the copywriter (its template without a model): the offer and its last day.
    ((key, facts),) = row.payload["lines"]
    assert key == "copy" and row.payload["voucher"] == voucher.id
    assert "Bánh kem sinh nhật" in facts["text"] and "04/01/2027" in facts["text"]
    assert "{name}" in facts["text"]
    assert (await JobRun.get(job=BIRTHDAY)).slot == "2026-12-29"


async def test_the_slot_is_the_local_date(db: str) -> None:
    """23:30 UTC on 28 December is already 06:30 on the 29th in Hồ Chí Minh City."""
    await offer_rules(birthday_reward_id=(await gift()).id)
    new_year = await member("Lan", "1001", birthday=(1, 1))
    new_years_eve = await member("Bình", "1002", birthday=(31, 12))

    assert (
        await run(BIRTHDAY, datetime(2026, 12, 28, 16, 30, tzinfo=UTC), ZONE, VOICE) == "offers 1"
    )
    assert (
        await run(BIRTHDAY, datetime(2026, 12, 28, 23, 30, tzinfo=UTC), ZONE, VOICE) == "offers 1"
    )
    keys = [v.idempotency_key for v in await Voucher.all().order_by("id")]
    assert keys == [f"birthday:2026:{new_years_eve.id}", f"birthday:2027:{new_year.id}"]
    assert sorted(await JobRun.filter(job=BIRTHDAY).values_list("slot", flat=True)) == [
        "2026-12-28",
        "2026-12-29",
    ]


@pytest.mark.parametrize(
    ("run_on", "offered"),
    [
        # common year: 29/02 is celebrated on 28/02, three days ahead
        (date(2027, 2, 25), {"feb28": date(2027, 2, 28), "feb29": date(2027, 2, 28)}),
        # the window runs from today to three days ahead: 28/02 not yet offered comes too
        (
            date(2027, 2, 26),
            {"feb28": date(2027, 2, 28), "feb29": date(2027, 2, 28), "mar1": date(2027, 3, 1)},
        ),
        (date(2028, 2, 25), {"feb28": date(2028, 2, 28)}),  # leap year: each on its own day
        (date(2028, 2, 26), {"feb28": date(2028, 2, 28), "feb29": date(2028, 2, 29)}),
    ],
)
async def test_29_february(db: str, run_on: date, offered: dict[str, date]) -> None:
    await offer_rules(birthday_reward_id=(await gift()).id)
    people = {
        "feb28": await member("Lan", "1001", birthday=(28, 2)),
        "feb29": await member("Bình", "1002", birthday=(29, 2)),
        "mar1": await member("Chi", "1003", birthday=(1, 3)),
    }
    now = datetime.combine(run_on, time(9), tzinfo=ZONE).astimezone(UTC)
    assert await run(BIRTHDAY, now, ZONE, VOICE) == f"offers {len(offered)}"
    celebrated = {people[name].id: day for name, day in offered.items()}
    vouchers = await Voucher.all()
    assert {v.customer_id for v in vouchers} == set(celebrated)
    for voucher in vouchers:
        assert voucher.idempotency_key == f"birthday:{run_on.year}:{voucher.customer_id}"
        last_day = celebrated[voucher.customer_id] + timedelta(days=3)
        assert voucher.expires_at.astimezone(ZONE).date() == last_day


async def test_a_missed_birthday_run_is_made_up_the_next_day(db: str) -> None:
    """The 09:00 run on the 25th never happened; the 26th still offers the birthday on the 28th,
    and the run after that does not offer it again."""
    await offer_rules(birthday_reward_id=(await gift()).id)
    lan = await member("Lan", "1001", birthday=(28, 11))
    on_26th = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert await run(BIRTHDAY, on_26th, ZONE, VOICE) == "offers 1"
    assert await run(BIRTHDAY, on_26th + timedelta(days=1), ZONE, VOICE) == "offers 0"
    (voucher,) = await Voucher.all()
    assert voucher.customer_id == lan.id


async def test_one_birthday_voucher_per_member_per_year(db: str) -> None:
    reward = await gift()
    await offer_rules(birthday_reward_id=reward.id)
    lan = await member("Lan", "1001", birthday=(1, 1))
    await ChannelAccount.create(channel="zalo", external_id="z1", chat_id="z1", customer_id=lan.id)

    # Two processes, the same slot: one runs it.
    results = await asyncio.gather(
        run(BIRTHDAY, DEC_29, ZONE, VOICE), run(BIRTHDAY, DEC_29, ZONE, VOICE)
    )
    assert sorted(results, key=str) == [None, "offers 1"]
    token = (await Voucher.get()).token_hash
    # The owner moves the offer a day closer: the next day matches Lan again, for the same year.
    await offer_rules(birthday_days_ahead=2)
    assert await run(BIRTHDAY, DEC_29 + timedelta(days=1), ZONE, VOICE) == "offers 0"
    assert await Voucher.all().count() == 1
    assert (await Voucher.get()).token_hash == token  # her card still scans
    assert await OutboxMessage.filter(customer_id=lan.id).count() == 2  # one per chat account
    assert {r.account_id for r in await rows("birthday")} == {
        a.id for a in await ChannelAccount.filter(customer_id=lan.id)
    }
    # Next year is another birthday.
    await offer_rules(birthday_days_ahead=3)
    assert await run(BIRTHDAY, DEC_29 + timedelta(days=365), ZONE, VOICE) == "offers 1"
    assert await Voucher.filter(customer_id=lan.id).count() == 2


async def test_without_a_usable_reward_nothing_is_given(
    db: str, caplog: pytest.LogCaptureFixture
) -> None:
    await member("Lan", "1001", birthday=(1, 1), joined=DEC_29 - timedelta(days=100))
    assert await run(BIRTHDAY, DEC_29, ZONE, VOICE) == "no-reward"

    reward = await gift()
    await offer_rules(birthday_reward_id=reward.id, winback_reward_id=4242)
    await vouchers.set_active(1, reward.id, active=False)
    with caplog.at_level(logging.ERROR, logger="scheduler.offers"):
        assert await run(BIRTHDAY, DEC_29 + timedelta(days=1), ZONE, VOICE) == (
            f"reward-unavailable {reward.id}"
        )
        assert await run(WINBACK, DEC_29, ZONE, VOICE) == "reward-unavailable 4242"
    assert f"#{reward.id}" in caplog.text and "#4242" in caplog.text
    assert await Voucher.all().count() == 0 and await OutboxMessage.all().count() == 0
    outcomes = dict(await JobRun.all().values_list("job", "outcome"))
    assert outcomes[WINBACK] == "reward-unavailable 4242"
    # The other jobs do not depend on it.
    await ledger.earn((await Customer.get()).id, 2_800, at=DEC_29 - timedelta(days=5))
    assert await run(TIER_NUDGE, DEC_29, ZONE, VOICE) == "nudges 1"


async def test_the_message_fits_under_its_voucher_card(db: str, shop: Shop) -> None:
    reward = await gift("Một ly cà phê sữa đá cỡ lớn kèm bánh croissant bơ tỏi nướng giòn")
    await offer_rules(birthday_reward_id=reward.id)
    lan = await member("Nguyễn Thị Thanh Hương Lan Anh " * 3, "1001", birthday=(1, 1))
    await run(BIRTHDAY, DEC_29, ZONE, VOICE)
    shop = replace(shop, name="Cà Phê Quen — Chi nhánh Nguyễn Huệ", clock=lambda: DEC_29)
    (row,) = await rows("birthday")
    account = await ChannelAccount.get(id=row.account_id)
    for language in ("vi", "en"):
        await Customer.filter(id=lan.id).update(language=language)
        reply = await render(row, account, await Customer.get(id=lan.id), shop)
        assert reply.image is not None
        assert reply.text.startswith("[QC]" if language == "vi" else "[AD]")
        assert "04/01/2027" in reply.text and "/stop" in reply.text
        assert len(reply.text) <= 900, len(reply.text)


# ----------------------------------------------------------------------------------- win-back


async def bought(customer: Customer, at: datetime, *, voided: datetime | None = None) -> None:
    await Purchase.create(
        customer_id=customer.id,
        amount_vnd=50_000,
        points=50,
        idempotency_key=f"p-{customer.id}-{at.isoformat()}",
        created_at=at,
        voided_at=voided,
    )


async def test_winback_once_in_30_days_for_members_who_stayed_away(db: str) -> None:
    reward = await gift("Giảm 20%", stock=None)
    await offer_rules(winback_reward_id=reward.id, winback_days=21)
    long_ago = NOV_22 - timedelta(days=200)
    away = await member("Away", "1", joined=long_ago)
    await bought(away, NOV_22 - timedelta(days=30))
    recent = await member("Recent", "2", joined=long_ago)
    await bought(recent, NOV_22 - timedelta(days=30))
    await bought(recent, NOV_22 - timedelta(days=10))
    undone = await member("Undone", "3", joined=long_ago)  # the recent bill was voided
    await bought(undone, NOV_22 - timedelta(days=25))
    await bought(undone, NOV_22 - timedelta(days=3), voided=NOV_22 - timedelta(days=3))
    never = await member("Never", "4", joined=NOV_22 - timedelta(days=21))
    await member("New", "5", joined=NOV_22 - timedelta(days=20))
    await bought(await member("No consent", "6", consent=False, joined=long_ago), long_ago)
    erased = await member("Erased", "7", joined=long_ago)
    await Customer.filter(id=erased.id).update(deleted_at=NOV_22)

    assert await run(WINBACK, NOV_22, ZONE, VOICE) == "offers 3"
    offered = {away.id, undone.id, never.id}
    assert {v.customer_id for v in await Voucher.filter(reason="winback")} == offered
    row = (await rows("winback"))[0]
    assert (row.kind, row.marketing, row.dedupe_key) == (
        "winback",
        True,
        f"winback:{away.id}:2026-11-22",
    )
    assert "06/12/2026" in row.payload["lines"][0][1]["text"]  # valid 14 days

    # Day 1: "New" has been a member 21 days. Day 11: "Recent" has been away 21 days. Day 30:
    # the first three may have another, day 31 "New".
    for days, expected in ((1, 1), (10, 0), (11, 1), (29, 0), (30, 3), (31, 1)):
        assert (
            await run(WINBACK, NOV_22 + timedelta(days=days), ZONE, VOICE) == f"offers {expected}"
        )
    assert await Voucher.filter(customer_id=away.id).count() == 2
    # Coming back stops the offers.
    await bought(never, NOV_22 + timedelta(days=45))
    assert await run(WINBACK, NOV_22 + timedelta(days=61), ZONE, VOICE) == "offers 4"
    assert await Voucher.filter(customer_id=never.id).count() == 2


# ---------------------------------------------------------------------- reminders and nudges


async def test_expiring_points_are_reminded_once_per_batch(db: str) -> None:
    lan = await member("Lan", "1")
    binh = await member("Bình", "2")
    await member("Chi", "3", consent=False)
    year = ledger.POINTS_LIFETIME
    # Lan: two lots expiring in 5 and 6 days; Bình: one in 9 days; Chi has no consent.
    await ledger.earn(lan.id, 120, at=NOV_22 + timedelta(days=5) - year)
    await ledger.earn(lan.id, 30, at=NOV_22 + timedelta(days=6) - year)
    await ledger.earn(binh.id, 80, at=NOV_22 + timedelta(days=9) - year)
    await ledger.earn(
        (await Customer.get(display_name="Chi")).id, 50, at=NOV_22 - year + timedelta(1)
    )
    await ledger.earn(lan.id, 10, at=NOV_22)  # far from expiring

    assert await run(POINTS_EXPIRING, NOV_22, ZONE, VOICE) == "reminders 1"
    (row,) = await rows("points-expiring")
    first = NOV_22 + timedelta(days=5)
    assert row.dedupe_key == f"points-expiring:{lan.id}:2026-11-27"
    assert row.payload["lines"] == [
        ["offer-points-expiring", {"points": 150, "date": {"$date": "2026-11-27"}}]
    ]
    assert row.marketing and row.expires_at == first
    assert await run(POINTS_EXPIRING, NOV_22 + timedelta(days=1), ZONE, VOICE) == "reminders 0"
    assert (
        await run(POINTS_EXPIRING, NOV_22 + timedelta(days=2), ZONE, VOICE) == "reminders 1"
    )  # Bình
    # Lan's first lot expires; the next one is a new batch.
    await ledger.expire_due(lan.id, NOV_22 + timedelta(days=5, hours=1))
    assert (
        await run(POINTS_EXPIRING, NOV_22 + timedelta(days=5, hours=1), ZONE, VOICE)
        == "reminders 1"
    )
    keys = [r.dedupe_key for r in await rows("points-expiring") if r.customer_id == lan.id]
    assert keys[-1] == f"points-expiring:{lan.id}:2026-11-28"


async def test_tier_nudge_once_per_tier_per_month(db: str) -> None:
    earned = NOV_22 - timedelta(days=30)
    near_silver = await member("Lan", "1")
    await ledger.earn(near_silver.id, 2_750, at=earned)
    at_90 = await member("Bình", "2")  # 9.000 of Gold's 10.000
    await ledger.earn(at_90.id, 9_000, at=earned)
    far = await member("Chi", "3")
    await ledger.earn(far.id, 2_600, at=earned)
    gifted = await member("Dũng", "4")  # adjustments do not count towards tiers
    await ledger.earn(gifted.id, 2_000, at=earned)
    await ledger.adjust(gifted.id, 900, at=earned, reason="quà", key=None)
    silent = await member("Em", "5", consent=False)
    await ledger.earn(silent.id, 2_900, at=earned)
    stale = await member("Phúc", "6")  # earned over a year ago
    await ledger.earn(stale.id, 2_900, at=NOV_22 - timedelta(days=400))

    assert await run(TIER_NUDGE, NOV_22, ZONE, VOICE) == "nudges 2"
    sent = {r.customer_id: r for r in await rows("tier-nudge")}
    assert set(sent) == {near_silver.id, at_90.id}
    assert sent[near_silver.id].dedupe_key == f"tier-nudge:{near_silver.id}:silver:2026-11"
    assert sent[near_silver.id].payload["lines"] == [
        ["offer-tier-nudge", {"points": 250, "tier": {"$tier": "silver"}}]
    ]
    assert sent[at_90.id].payload["lines"][0][1] == {"points": 1_000, "tier": {"$tier": "gold"}}
    assert all(r.marketing for r in sent.values())
    assert await run(TIER_NUDGE, NOV_22 + timedelta(days=1), ZONE, VOICE) == "nudges 0"
    # 1 December (local) is a new month.
    assert (
        await run(TIER_NUDGE, datetime(2026, 11, 30, 17, 30, tzinfo=UTC), ZONE, VOICE) == "nudges 2"
    )
    assert {r.dedupe_key for r in await rows("tier-nudge")} >= {
        f"tier-nudge:{near_silver.id}:silver:2026-12"
    }


async def test_offers_wait_for_the_members_usual_hour(db: str) -> None:
    """The analysis says Lan usually comes at 15:00 and Bình at 07:00: the 09:00 birthday run
    queues Lan's offer for 15:00 today and Bình's for 07:00 tomorrow (the send window then holds
    it to 08:00); Chi has no usual hour and gets hers at once."""
    from models.analytics import MemberInsight

    await offer_rules(birthday_reward_id=(await gift()).id)
    people = [
        await member(name, str(1001 + n), birthday=(1, 1))
        for n, name in enumerate(("Lan", "Bình", "Chi"))
    ]
    for person, hour in zip(people[:2], (15, 7), strict=True):
        await MemberInsight.create(customer_id=person.id, as_of=DEC_29, usual_hour=hour)
    assert await run(BIRTHDAY, DEC_29, ZONE, VOICE) == "offers 3"  # 09:00 local on 29/12
    due = {row.customer_id: row.not_before for row in await rows("birthday")}
    assert due[people[0].id] == datetime(2026, 12, 29, 15, 0, tzinfo=ZONE)
    assert due[people[1].id] == datetime(2026, 12, 30, 7, 0, tzinfo=ZONE)
    assert due[people[2].id] == DEC_29
