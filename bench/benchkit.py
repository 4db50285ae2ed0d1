"""What every benchmark here needs: a fresh database to seed, and a line about the machine.

Imported by the scripts next to it (``python bench/<script>.py`` puts this folder on the path).
"""

from __future__ import annotations

import os
import platform
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from loyalty.tiers import ensure_default_tiers
from models.db import close_database, open_database


async def _reset_postgres(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@asynccontextmanager
async def fresh_database(url: str | None) -> AsyncIterator[str]:
    """A migrated, empty database: a new SQLite file, or the given PostgreSQL database with its
    public schema dropped first (so give each benchmark a database of its own)."""
    with tempfile.TemporaryDirectory() as folder:
        target = url or f"sqlite://{folder}/bench.sqlite3"
        if target.startswith(("postgres://", "postgresql://")):
            await _reset_postgres(target)
        await open_database(target)
        try:
            await ensure_default_tiers()
            yield target
        finally:
            await close_database()


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs ({cpu}), python {platform.python_version()}"
    )


def percentile(ordered: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the (sorted) samples fall."""
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]
