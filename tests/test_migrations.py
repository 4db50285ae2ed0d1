"""Upgrading a database that already holds data: every migration from the first one on.

Runs in a subprocess on a database of its own (tortoise keeps global state per process): a SQLite
file, or a fresh PostgreSQL database next to ``QUEN_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from tests.conftest import TEST_DATABASE_ENV

SCRIPT = """
import asyncio, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from models.db import tortoise_config, migrate as migrate_all

async def main(url):
    config = tortoise_config(url)
    await migrate(config=config, target="models.0002_staff_invites_rules_purchases")
    db = connections.get("default")
    await db.execute_script(
        "INSERT INTO customer (display_name, language, tier_code, points_balance,"
        " marketing_consent, joined_at) VALUES ('Lan', 'vi', 'member', 42, true, '2026-01-01');"
        "INSERT INTO program_rules (id, earn_vnd_per_point, points_lifetime_days,"
        " max_purchase_vnd, daily_purchases_alert, undo_minutes, updated_at)"
        " VALUES (1, 2000, 365, 5000000, 3, 15, '2026-01-01');"
    )
    await Tortoise.close_connections()
    await migrate_all(url)
    await Tortoise.init(config=config)
    rows = await connections.get("default").execute_query_dict(
        "SELECT display_name, points_balance, referral_code FROM customer"
    )
    rules = await connections.get("default").execute_query_dict(
        "SELECT earn_vnd_per_point, referral_points_friend FROM program_rules"
    )
    print(rows, rules)
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


async def _fresh_postgres(base: str) -> str:
    name = "quen_upgrade_test"
    admin = await asyncpg.connect(base)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name}")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return base.rsplit("/", 1)[0] + "/" + name


async def test_upgrade_keeps_existing_rows(tmp_path: Path) -> None:
    base = os.environ.get(TEST_DATABASE_ENV)
    url = await _fresh_postgres(base) if base else f"sqlite://{tmp_path / 'old.sqlite3'}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SCRIPT, url, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().strip() == (
        "[{'display_name': 'Lan', 'points_balance': 42, 'referral_code': None}] "
        "[{'earn_vnd_per_point': 2000, 'referral_points_friend': 200}]"
    )
