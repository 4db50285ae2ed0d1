"""Database set-up: the Tortoise config for a URL, start-up migrations, and shutdown.

SQLite is the default (one file, one writer process). PostgreSQL is the path for chains: the same
migrations serve both. ``TORTOISE_ORM`` below is what ``tortoise makemigrations`` reads.

Model docstrings become SQL table comments in the migrations, and tortoise's SQLite schema editor
splits statements on ``;``: keep semicolons out of model docstrings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as run_migrations

MODEL_MODULES = [
    "models.members",
    "models.ledger",
    "models.staff",
    "models.audit",
    "models.purchases",
    "models.rewards",
    "models.outbox",
    "models.analytics",
    "models.campaigns",
    "models.zalo",
    "models.web",
    "models.api",
    "models.coordination",
]


def _asyncpg_url(database_url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "asyncpg://" + database_url.removeprefix(prefix)
    return database_url


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config for one database URL (``postgres://`` is spelled ``asyncpg://``)."""
    return {
        "connections": {"default": _asyncpg_url(database_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


TORTOISE_ORM = tortoise_config(os.environ.get("QUEN_DATABASE_URL", "sqlite://data/quen.sqlite3"))


def _create_sqlite_folder(database_url: str) -> None:
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://").split("?", 1)[0]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


async def migrate(database_url: str) -> None:
    """Bring the database schema up to the latest migration (safe to run on every start)."""
    _create_sqlite_folder(database_url)
    try:
        await run_migrations(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


async def open_database(database_url: str) -> None:
    """Migrate, then connect for the life of the process."""
    await migrate(database_url)
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_database() -> None:
    await connections.close_all()


def is_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"
