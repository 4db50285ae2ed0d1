"""A real ``quen run`` stopped with SIGTERM in the middle of its work: it handles the update it
was answering, settles the messages whose requests had left, puts the rest back in the queue at
once, and exits 0; started again, it sends the rest and nothing twice. And its JSON log lines."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bot.app import QuenApp
from bot.settings import TelegramMode
from bot.telegram import WEBHOOK_PATH
from bot.web import SECRET_HEADER
from loyalty import outbox
from models.outbox import OutboxMessage
from tests.conftest import FakeClock
from tests.fakes.telegram import FakeTelegram, TgUser
from tests.test_e2e_outbox import FIRST_CHAT, members, until
from tests.test_e2e_telegram import SECRET, settings_for
from tests.test_outbox_processes import draft, finished, quen_env, start

MESSAGES = 40
#: Seconds Telegram takes to answer each message: the SIGTERM comes while 32 (the sender's limit)
#: are in flight and the other 8 wait, claimed, for a free slot.
STALL = 3.0
VISITOR = TgUser(5_100_000_001, "Hoa", language_code="vi")


async def delivered(fake: FakeTelegram, count: int) -> bool:
    return sum(fake.delivered_counts().values()) >= count


async def test_sigterm_mid_send_finishes_in_flight_work_and_gives_the_rest_back(
    db: str, fake: FakeTelegram, tmp_path: Path
) -> None:
    people = await members(MESSAGES)
    now = datetime.now(UTC)
    for i, person in enumerate(people):  # even: marketing, odd: receipts
        await outbox.to_member(person.id, draft(f"m{i}", marketing=i % 2 == 0), now)
    for _ in range(MESSAGES):
        fake.stall_next("sendMessage", STALL)
    # A lease far longer than the test: only the shutdown itself can give rows back.
    env = quen_env(db, fake, QUEN_OUTBOX_LEASE_SECONDS="600", QUEN_LOG_LEVEL="INFO")
    log = tmp_path / "quen.log"
    process = await start(env, log)
    try:
        await until(lambda: delivered(fake, 10), seconds=30)
        fake.stall_next("sendMessage", STALL, chat_id=VISITOR.id)
        fake.push_text(VISITOR, "/start")  # its answer is slow: a handler in flight
        await until(lambda: _answered(fake), seconds=10)
        in_flight = await OutboxMessage.filter(status="sending").count()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, log.read_text()
    assert in_flight > 0, "the SIGTERM came too late to test anything"
    assert "shutdown: finished" in log.read_text()

    rows = await OutboxMessage.all()
    statuses = {row.status for row in rows}
    assert statuses <= {"sent", "queued"}, statuses  # nothing claimed or in flight is left
    counts = fake.delivered_counts()
    sent = {row.dedupe_key for row in rows if row.status == "sent"}
    # Each message whose request had left was answered and recorded; no other reached Telegram.
    assert {f"m{chat - FIRST_CHAT}" for chat in counts if chat != VISITOR.id} == sent
    queued = [row for row in rows if row.status == "queued"]
    assert queued, "everything was sent before the SIGTERM: nothing was given back"
    assert all(row.claimed_by is None and row.attempts == 0 for row in queued)

    again = await start(env, log)
    try:
        await until(lambda: finished(MESSAGES), seconds=60)
        again.send_signal(signal.SIGTERM)
        await asyncio.wait_for(again.wait(), timeout=15)
    finally:
        if again.returncode is None:
            again.kill()
            await again.wait()
    assert again.returncode == 0, log.read_text()
    counts = fake.delivered_counts()
    assert {counts.get(FIRST_CHAT + i, 0) for i in range(MESSAGES)} == {1}  # nothing twice
    assert set(await OutboxMessage.all().values_list("status", flat=True)) == {"sent"}
    # The update being answered at the SIGTERM was confirmed to Telegram, not handled again.
    assert counts[VISITOR.id] == 1


async def _answered(fake: FakeTelegram) -> bool:
    return VISITOR.id in fake.delivered_counts()


async def test_json_logs_are_one_object_a_line_without_secrets(
    db: str, fake: FakeTelegram, tmp_path: Path
) -> None:
    (person,) = await members(1)
    await outbox.to_member(person.id, draft("hello", marketing=False), datetime.now(UTC))
    env = quen_env(db, fake, QUEN_LOG_FORMAT="json", QUEN_LOG_LEVEL="DEBUG")
    log = tmp_path / "quen.jsonl"
    process = await start(env, log)
    try:
        fake.push_text(VISITOR, "/start")
        await until(lambda: _answered(fake), seconds=20)
        await until(lambda: finished(1), seconds=20)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, log.read_text()
    text = log.read_text()
    assert fake.token not in text
    lines = [json.loads(line) for line in text.splitlines()]  # every line parses
    assert len(lines) > 5
    for line in lines:
        assert {"ts", "level", "logger", "message"} <= line.keys(), line
        assert datetime.fromisoformat(line["ts"]).utcoffset() == UTC.utcoffset(None)
    messages = [line["message"] for line in lines]
    assert "shutdown: finished" in messages
    assert any(line.get("update", "").startswith("telegram:") for line in lines)
    assert any("outbox_id" in line for line in lines)


async def test_a_stopping_process_turns_new_requests_away_but_serves_metrics(
    db: str, fake: FakeTelegram, clock: FakeClock
) -> None:
    app = QuenApp(settings_for(fake, db, TelegramMode.WEBHOOK), clock)
    await app.start()
    try:
        base = f"http://127.0.0.1:{app.http_port}"
        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1}}}
        headers = {SECRET_HEADER: SECRET}
        app.draining.set()  # what ``stop`` does first
        async with aiohttp.ClientSession(base_url=base) as http:
            async with http.post(WEBHOOK_PATH, json=update, headers=headers) as response:
                assert response.status == 503 and response.headers["Retry-After"] == "5"
            async with http.get("/healthz") as response:
                assert (response.status, await response.json()) == (503, {"status": "stopping"})
            async with http.get("/api/v1/openapi.json") as response:
                assert response.status == 503
                assert (await response.json())["error"]["code"] == "shutting_down"
            async with http.get("/metrics") as response:
                assert response.status == 200
    finally:
        await app.stop()


async def test_past_the_timeout_the_rest_is_left_to_recovery(
    db: str, fake: FakeTelegram, clock: FakeClock
) -> None:
    (lan,) = await members(1)
    fake.stall_next("sendMessage", 5.0)  # far longer than the shutdown may take
    settings = settings_for(fake, db, TelegramMode.POLLING)
    app = QuenApp(settings.model_copy(update={"shutdown_timeout": 0.5}), clock)
    await app.start()
    await outbox.to_member(lan.id, draft("slow", marketing=True), clock.now)
    app.sender.nudge()
    await until(lambda: delivered(fake, 1), seconds=10)
    started = asyncio.get_running_loop().time()
    await app.stop()
    assert asyncio.get_running_loop().time() - started < 2
    row = await OutboxMessage.get(dedupe_key="slow")
    # In flight when time ran out: left under its lease, for recovery to call it unknown.
    assert row.status == "sending" and row.lease_until is not None
