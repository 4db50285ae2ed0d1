"""A chain: several real ``quen run`` processes on one PostgreSQL database, in webhook mode
behind a load balancer (``tests/fakes/balancer.py``).

Together they keep Telegram's limits (the fake answers 429 past 30 messages a second or one a
second to a chat), handle an update delivered to two of them once, continue a conversation
whichever process gets each step, and run each scheduled job once per slot.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio

from loyalty import outbox
from models.audit import JobRun
from models.coordination import SeenUpdate
from models.db import is_postgres
from models.members import Customer
from models.outbox import OutboxMessage
from scheduler.jobs import JOBS, latest_fire
from tests.fakes.balancer import Balancer
from tests.fakes.telegram import Call, FakeTelegram
from tests.test_e2e_outbox import FIRST_CHAT, members, until
from tests.test_e2e_telegram import JOHN, LAN, SECRET, buttons, free_port
from tests.test_outbox_processes import draft, finished, quen_env, start, stop

RATE = 25


@pytest.fixture(autouse=True)
def postgres_only(db: str) -> None:
    if not is_postgres():
        pytest.skip("SQLite is one process by design; a chain needs PostgreSQL")


@pytest_asyncio.fixture
async def balancer() -> AsyncIterator[Balancer]:
    server = Balancer()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def limited() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(bot_username="QuenTestBot", flood_limits=True)
    await server.start()
    yield server
    await server.stop()


async def start_chain(
    count: int,
    db: str,
    fake: FakeTelegram,
    balancer: Balancer,
    logs: Path,
    started: list[asyncio.subprocess.Process],
) -> None:
    """``count`` processes behind ``balancer``, each answering its health check."""
    ports = [free_port() for _ in range(count)]
    balancer.targets = [f"http://127.0.0.1:{port}" for port in ports]
    for n, port in enumerate(ports):
        env = quen_env(
            db,
            fake,
            QUEN_TELEGRAM_MODE="webhook",
            QUEN_WEBHOOK_SECRET=SECRET,
            QUEN_HTTP_PORT=str(port),
            QUEN_PUBLIC_URL=balancer.url,
            QUEN_SEND_RATE=str(RATE),
            QUEN_OUTBOX_LEASE_SECONDS="30",
        )
        started.append(await start(env, logs / f"quen-{n}.log"))
    async with aiohttp.ClientSession() as session:
        for target in balancer.targets:
            await until(lambda target=target: healthy(session, target), seconds=30)  # type: ignore[misc]


async def healthy(session: aiohttp.ClientSession, target: str) -> bool:
    try:
        async with session.get(f"{target}/healthz") as answer:
            return answer.status == 200
    except aiohttp.ClientError:
        return False


def sends(fake: FakeTelegram) -> list[Call]:
    return [c for c in fake.calls if c.method in ("sendMessage", "sendPhoto") and not c.failed]


async def test_three_processes_keep_telegrams_limits_together(
    db: str,
    limited: FakeTelegram,
    balancer: Balancer,
    tmp_path: Path,
    processes: list[asyncio.subprocess.Process],
) -> None:
    people = await members(450)
    now = datetime.now(UTC)
    for i, person in enumerate(people):  # the first 50 chats get four messages each
        for k in range(4 if i < 50 else 1):
            await outbox.to_member(person.id, draft(f"r{i}-{k}", marketing=False), now)
    await start_chain(3, db, limited, balancer, tmp_path, processes)
    await until(lambda: finished(600), seconds=120)
    for process in processes:
        await stop(process)
    assert [p.returncode for p in processes] == [0, 0, 0]

    assert limited.flood_rejections == 0
    delivered = limited.delivered_counts()
    assert {FIRST_CHAT + i: 4 for i in range(50)} | {
        FIRST_CHAT + i: 1 for i in range(50, 450)
    } == delivered
    assert set(await OutboxMessage.all().values_list("status", flat=True)) == {"sent"}
    assert len(set(await OutboxMessage.all().values_list("claimed_by", flat=True))) == 3
    times = sorted(c.at for c in sends(limited))
    busiest = max(
        sum(1 for t in times[i : i + RATE + 5] if t < start + 1.0) for i, start in enumerate(times)
    )
    assert busiest <= RATE + 2  # a slot every 40 ms, give or take a request's jitter
    assert (len(times) - 1) / (times[-1] - times[0]) <= RATE * 1.02


async def test_an_update_delivered_to_two_processes_is_handled_once(
    db: str,
    fake: FakeTelegram,
    balancer: Balancer,
    tmp_path: Path,
    processes: list[asyncio.subprocess.Process],
) -> None:
    # Lan's updates reach both processes at once; John's reach one: the baseline.
    balancer.spread = lambda update: [0, 1] if _sender(update) == LAN.id else [0]
    await start_chain(2, db, fake, balancer, tmp_path, processes)
    lan_update = fake.push_text(LAN, "/start")
    fake.push_text(JOHN, "/start")
    await fake.wait_for(lambda c: c.chat_id == LAN.id and c.method == "sendMessage", timeout=15)
    await fake.wait_for(lambda c: c.chat_id == JOHN.id and c.method == "sendMessage", timeout=15)
    await asyncio.sleep(1.5)  # time enough for a second handling to answer
    to_lan = [c for c in sends(fake) if c.chat_id == LAN.id]
    to_john = [c for c in sends(fake) if c.chat_id == JOHN.id]
    assert len(to_lan) == len(to_john) == 1
    # The process that lost the race answered 503 (busy). When that was the one whose answer
    # the balancer passes back, Telegram delivered Lan's update again, and both said "done".
    lan_deliveries = [d for d in fake.deliveries if d.update_id == lan_update]
    assert lan_deliveries[-1].ok
    assert balancer.forwarded == {0: 1 + len(lan_deliveries), 1: len(lan_deliveries)}
    assert await SeenUpdate.filter(done_at__isnull=False).count() == 2


async def test_a_conversation_continues_on_whichever_process_gets_the_next_step(
    db: str,
    fake: FakeTelegram,
    balancer: Balancer,
    tmp_path: Path,
    processes: list[asyncio.subprocess.Process],
) -> None:
    turns = itertools.count()
    balancer.spread = lambda update: [next(turns) % 2]  # each step on the other process
    await start_chain(2, db, fake, balancer, tmp_path, processes)
    fake.push_text(JOHN, "/start")
    welcome = await _said(fake, "sendMessage", "Welcome")
    fake.push_callback(JOHN, buttons(welcome)["English"])
    consent = await _said(fake, "sendMessage", "at most 2 a week")
    fake.push_callback(JOHN, buttons(consent)["Just join"])
    await _said(fake, "sendMessage", "Sharing your phone number")
    fake.push_text(JOHN, "Skip")
    # Not just "birthday": the consent text mentions it too, and matching that would send the
    # next step before this one was answered.
    await _said(fake, "sendMessage", "When is your birthday?")
    fake.push_text(JOHN, "Skip")
    await _said(fake, "sendPhoto", "Member card")
    assert await Customer.filter(accounts__external_id=str(JOHN.id)).count() == 1
    assert balancer.forwarded == {0: 3, 1: 2}


async def test_each_job_runs_once_per_slot_when_processes_start_together(
    db: str,
    fake: FakeTelegram,
    balancer: Balancer,
    tmp_path: Path,
    processes: list[asyncio.subprocess.Process],
) -> None:
    await start_chain(3, db, fake, balancer, tmp_path, processes)
    zone = ZoneInfo(quen_env(db, fake)["QUEN_TIMEZONE"])
    now = datetime.now(UTC)
    due = {name for name, job in JOBS.items() if latest_fire(job.trigger(zone), now) is not None}
    await until(lambda: _finished_runs(len(due)), seconds=30)
    runs = await JobRun.all().values_list("job", "finished_at")
    assert sorted(job for job, _ in runs) == sorted(due) and due
    for process in processes:
        await stop(process)
    logs = "".join((tmp_path / f"quen-{n}.log").read_text() for n in range(3))
    assert "Traceback" not in logs


async def _finished_runs(count: int) -> bool:
    return await JobRun.filter(finished_at__isnull=False).count() >= count


async def _said(fake: FakeTelegram, method: str, containing: str) -> Call:
    def matches(call: Call) -> bool:
        return (
            call.method == method
            and not call.failed
            and call.chat_id == JOHN.id
            and containing in (call.text or "")
        )

    return await fake.wait_for(matches, timeout=15)


def _sender(update: dict[str, Any]) -> int | None:
    for kind in ("message", "callback_query"):
        if kind in update:
            return int(update[kind]["from"]["id"])
    return None
