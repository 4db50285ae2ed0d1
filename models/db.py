"""Database set-up: the Tortoise config for a URL, start-up migrations, and shutdown.

SQLite is the default (one file, one writer process). PostgreSQL is the path for chains: the same
migrations serve both. ``TORTOISE_ORM`` below is what ``tortoise makemigrations`` reads.

Model docstrings become SQL table comments in the migrations, and tortoise's SQLite schema editor
splits statements on ``;``: keep semicolons out of model docstrings.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as run_migrations

log = logging.getLogger(__name__)
T = TypeVar("T")

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


#: PostgreSQL errors that say "not now", not "never": the connection broke or the server is
#: starting, stopping, overloaded, or chose this transaction to fail (serialization, deadlock).
_PG_TRANSIENT = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.exceptions.OperatorInterventionError,  # class 57: admin shutdown, starting up
    asyncpg.exceptions.InsufficientResourcesError,  # class 53: too many connections
    asyncpg.exceptions.TransactionRollbackError,  # class 40: serialization failure, deadlock
    ConnectionError,  # refused, reset, aborted, broken pipe: the server is not there
    TimeoutError,
    socket.gaierror,  # its host name does not resolve (DNS down)
)
#: Other ``OSError`` numbers that mean the network, not a missing file or a bad path.
_NETWORK_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN})


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database could not do the work *now* (a dropped connection,
    a server restarting, a busy SQLite file) rather than that the work is wrong. Such work is
    worth doing again a little later: every write a handler makes is keyed or conditional, so
    a second run after a partial first one changes nothing twice. Looks through the chain of
    causes, because Tortoise wraps some driver errors in its own."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 10:
        if isinstance(current, _PG_TRANSIENT):
            return True
        if isinstance(current, OSError) and (
            current.errno in _NETWORK_ERRNOS
            or str(current).startswith("Multiple exceptions: [Errno 111]")  # every address refused
        ):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "closed" in str(current):
            return True
        if isinstance(current, sqlite3.OperationalError) and "locked" in str(current):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


#: Pauses before each new try of work the database could not do: 7.5 s in all, longer than a
#: PostgreSQL restart (2.6 s measured in bench/soak.py) and its pool's reconnect.
RETRY_PAUSES = (0.5, 1.0, 2.0, 4.0)


async def retry_while_unavailable(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work``; while it fails because the database is ``unavailable``, wait
    (``RETRY_PAUSES``) and run it again. The last failure, or any other, is raised."""
    for pause in RETRY_PAUSES:
        try:
            return await work()
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning("database unavailable (%s): trying again in %g s", error, pause)
        await asyncio.sleep(pause)
    return await work()


def log_failure(logger: logging.Logger, message: str, *args: object) -> None:
    """Log the exception being handled by a loop that will try again: a warning without a
    traceback when the database is unavailable (expected while it restarts), an error with the
    traceback otherwise (a bug to look at)."""
    error = sys.exc_info()[1]
    if error is not None and unavailable(error):
        logger.warning(f"{message} (database unavailable: %s)", *args, error)
    else:
        logger.exception(message, *args)
