"""``quen backup FILE`` and ``quen restore FILE``: one file holds the whole shop.

SQLite: the backup uses SQLite's online backup API (``sqlite3.Connection.backup``), which copies
a consistent snapshot page by page while the bot keeps running (it retries pages written
meanwhile). A restore replaces the database file: the bot must be stopped, because a running
process keeps writing to the file it opened (the old one), and whatever it wrote is lost. The
restore copies to a temporary file next to the target and renames it into place (a crash leaves
the old database or the new one, never half of each), and deletes the old file's ``-wal`` and
``-shm`` companions, which SQLite would otherwise replay onto the restored file.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists``, the tools made
for it (consistent snapshots of a live database, restores of any size). Quen only builds the
command line, prints it (without the password) and runs it.

Either way, a restore into a database that already holds a shop needs ``--force``: restoring over
live data is the one mistake a backup tool must not make easy.

Nothing here writes words for people: a refusal is a message key with its facts, and the backup
says how much it wrote, so ``quen`` tells the operator in ``QUEN_DEFAULT_LANGUAGE``. The command
lines given to ``say`` are shell commands, the same in every language.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from locales import Refusal

#: A table every Quen database has: its presence means the target already holds a shop.
SHOP_TABLE = "customer"


class BackupRefused(Refusal):
    """The backup or restore was not started (bad file, missing tool, target in use). ``key`` is
    ``backup-refused-<why>`` in ``locales/*/backup.ftl``."""

    def __init__(self, why: str, **facts: object) -> None:
        super().__init__(f"backup-refused-{why}", **facts)


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "asyncpg://"))


def libpq_url(url: str) -> str:
    """The URL as ``pg_dump`` reads it (``asyncpg://`` is tortoise's spelling)."""
    return "postgresql://" + url.split("://", 1)[1]


def shown(command: list[str]) -> str:
    """The command as printed: the password in a URL is masked."""
    return " ".join(re.sub(r"(://[^:/@]+):[^@]+@", r"\1:***@", part) for part in command)


# ------------------------------------------------------------------------------------ SQLite


def backup_sqlite(database: Path, target: Path) -> None:
    """A consistent copy of ``database`` in ``target``, safe while the bot writes."""
    if not database.exists():
        raise BackupRefused("no-database", path=str(database))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(database)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    os.replace(partial, target)


def _holds_a_shop(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SHOP_TABLE,)
        ).fetchone()
        if found is None:
            return False
        return connection.execute(f"SELECT 1 FROM {SHOP_TABLE} LIMIT 1").fetchone() is not None
    finally:
        connection.close()


def _check_sqlite_backup(path: Path) -> None:
    """Refuse a file that is not a readable Quen database before anything is replaced."""
    if not path.is_file():
        raise BackupRefused("no-file", path=str(path))
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
            tables = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SHOP_TABLE,)
            ).fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupRefused("not-sqlite", path=str(path), error=str(error)) from error
    if verdict != "ok" or tables is None:
        raise BackupRefused("unhealthy", path=str(path), verdict=str(verdict))


def restore_sqlite(backup: Path, database: Path, *, force: bool) -> None:
    """Put ``backup`` in place of ``database`` (the bot stopped). Refuses to overwrite a database
    holding members unless ``force``."""
    _check_sqlite_backup(backup)
    if _holds_a_shop(database) and not force:
        raise BackupRefused("holds-a-shop", database=str(database))
    database.parent.mkdir(parents=True, exist_ok=True)
    incoming = database.with_name(database.name + ".restoring")
    shutil.copyfile(backup, incoming)
    for companion in ("-wal", "-shm", "-journal"):
        database.with_name(database.name + companion).unlink(missing_ok=True)
    os.replace(incoming, database)


# -------------------------------------------------------------------------------- PostgreSQL


def pg_backup_command(url: str, target: Path) -> list[str]:
    return ["pg_dump", "--format=custom", f"--file={target}", f"--dbname={libpq_url(url)}"]


def pg_restore_command(url: str, backup: Path) -> list[str]:
    """``--clean --if-exists`` drops what the dump recreates; ``--no-owner`` lets another role
    (a new server's) own the restored tables."""
    return [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--exit-on-error",
        f"--dbname={libpq_url(url)}",
        str(backup),
    ]


def run_tool(command: list[str], say: Callable[[str], None]) -> None:
    """Print the command (password masked) and run it; a failure raises ``BackupRefused``."""
    if shutil.which(command[0]) is None:
        raise BackupRefused("no-tool", tool=command[0])
    say(shown(command))
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise BackupRefused("tool-failed", tool=command[0], error=finished.stderr.strip())


def pg_holds_a_shop(url: str) -> bool:
    """Whether the target database already has members (``psql`` would be one more tool: the
    driver the bot uses answers this)."""
    import asyncio

    import asyncpg

    async def ask() -> bool:
        connection = await asyncpg.connect(libpq_url(url))
        try:
            table = await connection.fetchval("SELECT to_regclass($1)", f"public.{SHOP_TABLE}")
            if table is None:
                return False
            return bool(await connection.fetchval(f"SELECT EXISTS (SELECT 1 FROM {SHOP_TABLE})"))
        finally:
            await connection.close()

    return asyncio.run(ask())


def backup(url: str, target: Path, say: Callable[[str], None]) -> int:
    """``quen backup``: the configured database into ``target``. Returns the backup's size in
    bytes, for the caller to report in the operator's language."""
    if is_postgres_url(url):
        run_tool(pg_backup_command(url, target), say)
    else:
        backup_sqlite(_sqlite_path(url), target)
    return target.stat().st_size


def restore(url: str, source: Path, *, force: bool, say: Callable[[str], None]) -> None:
    """``quen restore``: ``source`` into the configured database (stop the bot first)."""
    if is_postgres_url(url):
        if not source.is_file():
            raise BackupRefused("no-file", path=str(source))
        if pg_holds_a_shop(url) and not force:
            raise BackupRefused("holds-a-shop", database=shown([libpq_url(url)]))
        run_tool(pg_restore_command(url, source), say)
    else:
        restore_sqlite(source, _sqlite_path(url), force=force)


def _sqlite_path(url: str) -> Path:
    path = url.removeprefix("sqlite://").split("?", 1)[0]
    if path == ":memory:":
        raise BackupRefused("in-memory")
    return Path(path)
