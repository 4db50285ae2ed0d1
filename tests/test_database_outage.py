"""The database goes away while Telegram delivers an update: the update is not lost.

A handler that fails because the database could not be reached is run again a few times in the
process (``models.db.retry_while_unavailable``); if the database stays away, the webhook answers
503 and Telegram (the fake, following the Bot API server) delivers the update again later. The
person gets exactly one answer either way. The first tests break the handler in-process, to
count the tries exactly; the last two break the real database underneath a real ``quen run``:
a PostgreSQL connection cut by the network (``tests/fakes/link.py``), a SQLite file locked by
another writer.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import pytest
import pytest_asyncio
from tortoise.exceptions import IntegrityError, OperationalError

from bot import sender
from bot.app import QuenApp
from bot.settings import TelegramMode
from handlers.types import Incoming, Reply
from loyalty import outbox
from models import db as database
from models.coordination import SeenUpdate
from models.db import is_postgres, log_failure, retry_while_unavailable, unavailable
from models.members import ChannelAccount
from models.outbox import OutboxMessage
from tests.conftest import FakeClock
from tests.fakes.link import Link
from tests.fakes.telegram import FakeTelegram
from tests.test_e2e_outbox import FIRST_CHAT, draft, members, running, settled, until
from tests.test_e2e_telegram import LAN, SECRET, buttons, free_port, sent, settings_for
from tests.test_outbox_processes import quen_env, start, stop
from tests.test_scale_processes import healthy

Handle = Callable[[Incoming], Awaitable[list[Reply]]]
DROPPED = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")


def test_what_counts_as_the_database_being_unavailable() -> None:
    locked = OperationalError(sqlite3.OperationalError("database is locked"))
    locked.__cause__ = sqlite3.OperationalError("database is locked")
    assert unavailable(DROPPED)
    assert unavailable(asyncpg.exceptions.AdminShutdownError("terminating connection"))
    assert unavailable(asyncpg.exceptions.CannotConnectNowError("the database is starting up"))
    assert unavailable(ConnectionRefusedError(111, "Connection refused"))
    assert unavailable(asyncpg.InterfaceError("connection is closed"))
    assert unavailable(locked)
    assert unavailable(OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 1)"))
    assert unavailable(OSError(errno.EHOSTUNREACH, "No route to host"))
    # Wrong work stays wrong however often it is tried.
    assert not unavailable(IntegrityError("duplicate key value"))
    assert not unavailable(OperationalError(sqlite3.OperationalError("no such table: x")))
    assert not unavailable(asyncpg.InterfaceError("cannot perform operation: another operation"))
    assert not unavailable(ValueError("bad amount"))
    assert not unavailable(FileNotFoundError(errno.ENOENT, "No such file: font.ttf"))


def test_loops_log_an_outage_briefly_and_a_bug_in_full(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("quen.test")
    for error in (DROPPED, ValueError("a bug")):
        try:
            raise error
        except Exception:
            log_failure(logger, "round %d failed", 7)
    outage, bug = caplog.records
    assert (outage.levelname, outage.exc_info) == ("WARNING", None)
    assert outage.getMessage().startswith("round 7 failed (database unavailable: connection was")
    assert bug.levelname == "ERROR" and bug.exc_info is not None
    assert bug.getMessage() == "round 7 failed"


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three tries per delivery, a few milliseconds apart."""
    monkeypatch.setattr(database, "RETRY_PAUSES", (0.01, 0.01))


async def test_retrying_stops_at_success_and_at_wrong_work(quick_retries: None) -> None:
    tries = itertools.count(1)

    async def twice_dropped() -> int:
        if (n := next(tries)) <= 2:
            raise DROPPED
        return n

    assert await retry_while_unavailable(twice_dropped) == 3
    wrong = itertools.count(1)

    async def broken() -> None:
        next(wrong)
        raise ValueError("bad amount")

    with pytest.raises(ValueError):
        await retry_while_unavailable(broken)
    assert next(wrong) == 2  # tried once

    async def gone() -> None:
        raise DROPPED

    with pytest.raises(asyncpg.ConnectionDoesNotExistError):
        await retry_while_unavailable(gone)


def failing(handle: Handle, times: int, error: Exception) -> Handle:
    """``handle``, failing with ``error`` on its first ``times`` calls."""
    calls = itertools.count()

    async def flaky(incoming: Incoming) -> list[Reply]:
        if next(calls) < times:
            raise error
        return await handle(incoming)

    return flaky


@pytest_asyncio.fixture
async def webhook_app(db: str, fake: FakeTelegram) -> AsyncIterator[QuenApp]:
    app = QuenApp(settings_for(fake, db, TelegramMode.WEBHOOK))
    await app.start()
    yield app
    await app.stop()


def statuses(fake: FakeTelegram) -> list[int | None]:
    return [delivery.status for delivery in fake.deliveries]


async def test_an_update_the_database_failed_is_given_back_and_answered_once(
    quick_retries: None, webhook_app: QuenApp, fake: FakeTelegram
) -> None:
    """Five failures: three tries in the first delivery, then 503; the redelivery succeeds on
    its third try."""
    assert webhook_app.telegram is not None
    webhook_app.telegram._handle = failing(webhook_app.handle, 5, DROPPED)
    update_id = fake.push_text(LAN, "/start")
    await sent(fake, LAN, "sendMessage", "Chào mừng")
    await settled_delivery(fake, update_id)
    await asyncio.sleep(0.3)  # room for a wrong second answer
    assert statuses(fake) == [503, 200]
    assert len(fake.sent_to(LAN.id)) == 1
    assert await ChannelAccount.filter(external_id=str(LAN.id)).count() == 1


async def test_a_short_outage_is_ridden_out_within_one_delivery(
    quick_retries: None, webhook_app: QuenApp, fake: FakeTelegram
) -> None:
    assert webhook_app.telegram is not None
    webhook_app.telegram._handle = failing(webhook_app.handle, 2, DROPPED)
    update_id = fake.push_text(LAN, "/start")
    await sent(fake, LAN, "sendMessage", "Chào mừng")
    await settled_delivery(fake, update_id)
    assert statuses(fake) == [200]
    assert len(fake.sent_to(LAN.id)) == 1


async def test_a_broken_handler_is_answered_politely_and_not_delivered_again(
    quick_retries: None, webhook_app: QuenApp, fake: FakeTelegram
) -> None:
    """Not the database's fault: trying again would fail again, so the person hears so once."""
    assert webhook_app.telegram is not None
    webhook_app.telegram._handle = failing(webhook_app.handle, 1, ValueError("a bug"))
    update_id = fake.push_text(LAN, "/start")
    await sent(fake, LAN, "sendMessage", "Xin lỗi")
    await settled_delivery(fake, update_id)
    assert statuses(fake) == [200]
    assert len(fake.sent_to(LAN.id)) == 1


async def _done(update_id: int) -> bool:
    row = await SeenUpdate.get_or_none(key=f"telegram:{update_id}")
    return row is not None and row.done_at is not None


async def settled_delivery(fake: FakeTelegram, update_id: int) -> None:
    """Wait until the update is marked done and the fake has recorded the answer (it records a
    delivery after reading the answer, a moment after the row is marked done)."""

    async def recorded() -> bool:
        return any(d.update_id == update_id and d.ok for d in fake.deliveries)

    await until(lambda: _done(update_id), seconds=10)
    await until(recorded, seconds=10)


# ------------------------------------------------------------------ a real process, a real outage


def webhook_env(url: str, fake: FakeTelegram) -> dict[str, str]:
    port = free_port()
    return quen_env(
        url,
        fake,
        QUEN_TELEGRAM_MODE="webhook",
        QUEN_WEBHOOK_SECRET=SECRET,
        QUEN_HTTP_PORT=str(port),
        QUEN_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )


async def until_healthy(env: dict[str, str]) -> None:
    async with aiohttp.ClientSession() as session:
        await until(lambda: healthy(session, env["QUEN_PUBLIC_URL"]), seconds=30)


async def failed_delivery(fake: FakeTelegram) -> bool:
    return any(not delivery.ok for delivery in fake.deliveries)


async def test_postgres_cut_off_under_a_running_process_loses_no_update(
    db: str,
    fake: FakeTelegram,
    tmp_path: Path,
    processes: list[asyncio.subprocess.Process],
) -> None:
    if not is_postgres():
        pytest.skip("a network between the process and its database is PostgreSQL's")
    parts = urlsplit(db)
    link = Link(parts.hostname or "127.0.0.1", parts.port or 5432)
    await link.start()
    try:
        through_link = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{link.port}"))
        env = webhook_env(through_link, fake)
        fake.webhook_retry_delays = (0.5, 1.0, 2.0, 4.0, 8.0)
        processes.append(await start(env, tmp_path / "quen.log"))
        await until_healthy(env)
        link.cut()
        fake.push_text(LAN, "/start")
        await until(lambda: failed_delivery(fake), seconds=30)
        link.mend()
        await sent(fake, LAN, "sendMessage", "Chào mừng")
        await asyncio.sleep(1.0)  # room for a wrong second answer
        assert len(fake.sent_to(LAN.id)) == 1
        assert fake.deliveries[-1].ok and not fake.deliveries[0].ok
        await stop(processes[0])
        assert processes[0].returncode == 0, (tmp_path / "quen.log").read_text()
    finally:
        await link.stop()
    assert await ChannelAccount.filter(external_id=str(LAN.id)).count() == 1


async def test_sqlite_locked_by_another_writer_loses_no_update(
    db: str,
    fake: FakeTelegram,
    tmp_path: Path,
    processes: list[asyncio.subprocess.Process],
) -> None:
    if is_postgres():
        pytest.skip("a file lock is SQLite's")
    env = webhook_env(db, fake)
    fake.webhook_retry_delays = (1.0, 2.0, 4.0, 8.0)
    fake.webhook_timeout = 30.0
    processes.append(await start(env, tmp_path / "quen.log"))
    await until_healthy(env)
    other = sqlite3.connect(db.removeprefix("sqlite://"), isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # e.g. an import or a restore in another process
        fake.push_text(LAN, "/start")
        await until(lambda: failed_delivery(fake), seconds=30)
    finally:
        other.execute("ROLLBACK")
        other.close()
    await sent(fake, LAN, "sendMessage", "Chào mừng")
    await asyncio.sleep(1.0)
    assert len(fake.sent_to(LAN.id)) == 1
    assert fake.deliveries[-1].ok and not fake.deliveries[0].ok
    await stop(processes[0])
    assert processes[0].returncode == 0, (tmp_path / "quen.log").read_text()


@pytest.mark.parametrize("step", ["render", "start"])
async def test_a_message_the_database_failed_before_sending_goes_later_not_never(
    step: str,
    db: str,
    fake: FakeTelegram,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Writing a message reads the database (the member's balance, the voucher), and so does
    taking its send turn and marking it ``sending``: a connection dropped right then says
    nothing about the message, so it goes back to the queue, untried, instead of being marked
    failed for good or left to its lease."""
    (lan,) = await members(1)
    owner, name = (sender, "render") if step == "render" else (outbox, "start")
    real = getattr(owner, name)
    tries = itertools.count()

    async def dropped_once(*args: object) -> object:
        if next(tries) == 0:
            raise DROPPED
        return await real(*args)

    monkeypatch.setattr(owner, name, dropped_once)
    app = await running(fake, db, clock)
    try:
        await outbox.to_member(lan.id, draft("one"), clock.now)
        app.sender.nudge()
        await until(lambda: settled(1), seconds=15)
    finally:
        await app.stop()
    row = await OutboxMessage.get(dedupe_key="one")
    assert (row.status, row.attempts) == ("sent", 1)
    assert next(tries) == 2  # tried twice, sent once
    assert len(fake.sent_to(FIRST_CHAT)) == 1


async def test_a_button_whose_spinner_cannot_be_stopped_is_still_handled_once(
    webhook_app: QuenApp, fake: FakeTelegram
) -> None:
    """Answering the callback query only stops the spinner: Telegram failing it (a 502 here,
    a timeout in the soak) must not turn the press into an error or a redelivery."""
    fake.push_text(LAN, "/start")
    welcome = await sent(fake, LAN, "sendMessage", "Chào mừng")
    fake.fail_next("answerCallbackQuery", error_code=502)
    press = fake.push_callback(LAN, buttons(welcome)["Tiếng Việt"])
    await sent(fake, LAN, "editMessageText", "Tiếng Việt")
    await settled_delivery(fake, press)
    assert [d.status for d in fake.deliveries if d.update_id == press] == [200]
    assert any(c.method == "answerCallbackQuery" and c.failed for c in fake.calls)
