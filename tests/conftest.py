"""Shared fixtures: a real database (SQLite file, or PostgreSQL via ``QUEN_TEST_DATABASE_URL``).

The schema is built once per pytest process with the project's own migrations, and every test
starts from empty tables plus the default tiers. Each backend runs in its own pytest process
(``scripts/test`` does both): tortoise cannot switch backends inside one process.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from tortoise import Tortoise, connections

from handlers.types import Shop
from loyalty.tiers import ensure_default_tiers
from models.db import close_database, is_postgres, open_database
from tests.fakes.telegram import FakeTelegram

TEST_DATABASE_ENV = "QUEN_TEST_DATABASE_URL"
# A developer's real model key must never turn the tests' copy into paid calls to OpenAI: the
# tests that want a model start the fake one and say so.
for _name in ("OPENAI_API_KEY", "QUEN_OPENAI_API_KEY", "QUEN_LLM_BASE_URL"):
    os.environ.pop(_name, None)


def _database_url(tmp: Path) -> str:
    return os.environ.get(TEST_DATABASE_ENV) or f"sqlite://{tmp / 'quen-test.sqlite3'}"


async def _reset_postgres_schema(url: str) -> None:
    """Start the PostgreSQL run from an empty schema (the test database is the suite's own)."""
    import asyncpg

    connection = await asyncpg.connect(url.replace("asyncpg://", "postgres://", 1))
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest_asyncio.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    url = _database_url(tmp_path_factory.mktemp("db"))
    if not url.startswith("sqlite://"):
        await _reset_postgres_schema(url)
    await open_database(url)
    yield url
    await close_database()


def _tables() -> list[str]:
    return [model._meta.db_table for model in Tortoise.apps["models"].values()]


@pytest_asyncio.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """Empty tables (the migration history stays) and the default tiers."""
    connection = connections.get("default")
    tables = _tables()
    if is_postgres():
        await connection.execute_script(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    else:
        # Ids restart too, as RESTART IDENTITY does on PostgreSQL: tests may show row numbers.
        _, sequences = await connection.execute_query(
            "SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'"
        )
        await connection.execute_script(
            "PRAGMA foreign_keys=OFF;"
            + "".join(f'DELETE FROM "{t}";' for t in tables)
            + ("DELETE FROM sqlite_sequence;" if sequences else "")
            + "PRAGMA foreign_keys=ON;"
        )
    await ensure_default_tiers()
    yield database_url


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram Bot API server on 127.0.0.1 (see ``tests/fakes/telegram.py``)."""
    server = FakeTelegram(bot_username="QuenTestBot")
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def processes() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Real ``quen run`` processes a test starts: whatever is still running at the end is
    killed, so a failed test leaves no process behind."""
    started: list[asyncio.subprocess.Process] = []
    yield started
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 22, 3, 0, tzinfo=UTC))


@pytest.fixture
def shop(clock: FakeClock) -> Shop:
    return Shop(name="Cà Phê Quen", bot_username="QuenTestBot", clock=clock)
