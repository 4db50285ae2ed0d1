"""What processes sharing one database agree on through it: updates taken once, the nightly job
that forgets them, and (PostgreSQL) the send slots and 429 pauses of every sender together."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from loyalty import coordination
from loyalty.coordination import Sight
from loyalty.voice import Voice
from models.coordination import SeenUpdate
from models.db import is_postgres
from models.members import ChannelAccount
from models.zalo import ZaloEvent
from scheduler.jobs import FORGET_UPDATES, run

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


async def test_an_update_is_taken_once_however_many_deliveries_race(db: str) -> None:
    taken = await asyncio.gather(*(coordination.take_update("telegram:77", NOW) for _ in range(6)))
    assert sorted(sight.value for sight in taken) == ["busy"] * 5 + ["new"]
    assert await coordination.take_update("telegram:78", NOW) is Sight.NEW


async def test_a_finished_update_is_acknowledged_not_handled_again(db: str) -> None:
    await coordination.take_update("telegram:5", NOW)
    await coordination.finish_update("telegram:5", NOW)
    later = NOW + coordination.TAKEN_FOR * 10
    assert await coordination.take_update("telegram:5", later) is Sight.HANDLED


async def test_an_abandoned_update_is_taken_again_after_a_while(db: str) -> None:
    """Its process died or lost the database mid-way: the person still gets an answer."""
    assert await coordination.take_update("telegram:6", NOW) is Sight.NEW
    almost = NOW + coordination.TAKEN_FOR - timedelta(seconds=1)
    assert await coordination.take_update("telegram:6", almost) is Sight.BUSY
    later = NOW + coordination.TAKEN_FOR + timedelta(seconds=1)
    retaken = await asyncio.gather(
        *(coordination.take_update("telegram:6", later) for _ in range(4))
    )
    assert sorted(sight.value for sight in retaken) == ["busy"] * 3 + ["new"]


async def test_an_update_given_back_can_be_taken_at_once(db: str) -> None:
    await coordination.take_update("telegram:7", NOW)
    await coordination.give_back_update("telegram:7")
    assert await coordination.take_update("telegram:7", NOW) is Sight.NEW
    await coordination.finish_update("telegram:7", NOW)
    await coordination.give_back_update("telegram:7")  # a finished update stays finished
    assert await coordination.take_update("telegram:7", NOW) is Sight.HANDLED


async def test_the_nightly_job_forgets_updates_older_than_a_day(db: str) -> None:
    await coordination.take_update("telegram:1", NOW - timedelta(days=1, minutes=1))
    await coordination.take_update("telegram:2", NOW - timedelta(hours=23))
    for key, hours in (("zalo-old", 25), ("zalo-new", 1)):
        await ZaloEvent.create(
            event_key=key, event_name="user_send_text", received_at=NOW - timedelta(hours=hours)
        )
    outcome = await run(FORGET_UPDATES, NOW, ZoneInfo("Asia/Ho_Chi_Minh"), Voice("Quen"))
    assert outcome == "updates 2"
    assert await SeenUpdate.all().values_list("key", flat=True) == ["telegram:2"]
    assert await ZaloEvent.all().values_list("event_key", flat=True) == ["zalo-new"]


@pytest.fixture
def postgres_only(db: str) -> None:
    if not is_postgres():
        pytest.skip("SQLite paces in memory: one process by design")


async def accounts(count: int) -> list[int]:
    first = await ChannelAccount.all().count()
    await ChannelAccount.bulk_create(
        [
            ChannelAccount(channel="telegram", external_id=str(i), chat_id=str(i))
            for i in range(first, first + count)
        ]
    )
    rows = await ChannelAccount.all().order_by("id").offset(first)
    return [row.id for row in rows]


async def test_slots_are_spaced_for_the_bot_and_for_each_chat(postgres_only: None) -> None:
    first, second = await accounts(2)
    waits = [
        await coordination.reserve_send(first if i % 2 else second, 0.1, 1.0) for i in range(2)
    ]
    assert waits[0] == 0.0 and 0.05 < waits[1] <= 0.1  # the bot's spacing
    again = await coordination.reserve_send(first, 0.1, 1.0)
    assert 0.95 < again <= 1.1  # the chat's spacing: a second after its slot (the second one)
    # Many reservations at once (as from several processes) each get their own slot.
    ids = await accounts(40)
    await asyncio.gather(*(coordination.reserve_send(i, 0.01, 1.0) for i in ids))
    reserved = await ChannelAccount.filter(id__in=ids)
    slots = sorted(a.next_send_at for a in reserved if a.next_send_at is not None)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(slots)]
    assert len(slots) == 40 and min(gaps) >= 0.0099


async def test_a_pause_holds_back_every_later_slot(postgres_only: None) -> None:
    (account,) = await accounts(1)
    assert not await coordination.sends_paused()
    await coordination.pause_sends(1.5)
    assert await coordination.sends_paused()
    assert 1.3 < await coordination.reserve_send(account, 0.04, 1.0) <= 1.5
    await asyncio.sleep(1.0)
    assert await coordination.sends_paused()
    await asyncio.sleep(0.6)
    assert not await coordination.sends_paused()
