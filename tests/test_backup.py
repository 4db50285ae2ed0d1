"""``quen backup`` / ``quen restore`` round trips a shop with traffic, and ``quen check``'s exit
codes, as an owner runs them (the ``quen`` command in a subprocess, the bot's database open)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from bot.backup import BackupRefused, backup, libpq_url, shown
from locales import format_number
from models.db import is_postgres
from models.members import Customer
from tests.test_checks import real_traffic
from tests.test_cli import quen


async def balances() -> dict[int, int]:
    return dict(await Customer.all().values_list("id", "points_balance"))


def test_a_refusal_is_a_key_and_facts_said_in_either_language() -> None:
    refused = BackupRefused("no-tool", tool="pg_dump")
    assert refused.key == "backup-refused-no-tool" and refused.facts == {"tool": "pg_dump"}
    assert refused.text("vi") == (
        "không tìm thấy pg_dump trong PATH (hãy cài bộ công cụ PostgreSQL client)"
    )
    assert str(refused) == "pg_dump is not on PATH (install the PostgreSQL client tools)"
    with pytest.raises(BackupRefused) as memory:
        backup("sqlite://:memory:", Path("x.backup"), print)
    assert memory.value.text("en") == "an in-memory database cannot be backed up or restored"
    assert memory.value.text("vi") == (
        "không thể sao lưu hay khôi phục một cơ sở dữ liệu chỉ nằm trong bộ nhớ"
    )


def test_the_printed_command_hides_the_password() -> None:
    command = ["pg_dump", "--dbname=postgresql://quen:s3cret@db:5432/shop"]
    assert shown(command) == "pg_dump --dbname=postgresql://quen:***@db:5432/shop"
    assert libpq_url("asyncpg://quen@db/shop") == "postgresql://quen@db/shop"


async def test_sqlite_backup_while_open_restores_a_clean_copy(db: str, tmp_path: Path) -> None:
    if is_postgres():
        pytest.skip("the SQLite round trip (PostgreSQL has its own test)")
    await real_traffic()
    expected = await balances()
    backup = tmp_path / "shop.backup"
    made = quen("backup", str(backup), cwd=tmp_path, QUEN_DATABASE_URL=db)  # the test holds it open
    assert made.returncode == 0, made.stderr
    size = format_number(backup.stat().st_size, "vi")
    assert made.stdout == f"Đã sao lưu vào {backup} ({size} byte)\n"
    target = f"sqlite://{tmp_path / 'restored' / 'quen.sqlite3'}"
    restored = quen("restore", str(backup), cwd=tmp_path, QUEN_DATABASE_URL=target)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout == f"Đã khôi phục từ {backup}. Hãy chạy quen check, rồi khởi động bot.\n"
    checked = quen("check", cwd=tmp_path, QUEN_DATABASE_URL=target)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "quy tắc trong" in checked.stdout and "giây: tất cả đều đúng" in checked.stdout
    english = quen("check", cwd=tmp_path, QUEN_DATABASE_URL=target, QUEN_DEFAULT_LANGUAGE="en")
    assert english.returncode == 0 and "invariants checked in" in english.stdout
    assert english.stdout.rstrip().endswith(" s: all hold")
    copy = sqlite3.connect(tmp_path / "restored" / "quen.sqlite3")
    assert dict(copy.execute("SELECT id, points_balance FROM customer").fetchall()) == expected
    copy.execute("UPDATE customer SET points_balance = points_balance + 1 WHERE id = 1")
    copy.commit()
    copy.close()
    broken = quen("check", cwd=tmp_path, QUEN_DATABASE_URL=target)
    assert broken.returncode == 1
    assert "LỖI       balance_equals_ledger: 1 dòng customer, ví dụ id 1\n" in broken.stdout
    assert "quy tắc: số điểm lưu sẵn points_balance bằng tổng" in broken.stdout
    assert broken.stdout.rstrip().endswith(": 2 lỗi, 0 cảnh báo")
    english = quen("check", cwd=tmp_path, QUEN_DATABASE_URL=target, QUEN_DEFAULT_LANGUAGE="en")
    assert english.returncode == 1
    assert "FAIL  balance_equals_ledger: 1 customer row, e.g. id 1\n" in english.stdout
    assert "rule: the cached points_balance equals the sum" in english.stdout
    assert english.stdout.rstrip().endswith(": 2 broken, 0 warnings")
    again = quen("restore", str(backup), cwd=tmp_path, QUEN_DATABASE_URL=target)
    database = tmp_path / "restored" / "quen.sqlite3"
    assert again.returncode == 2
    assert f"quen restore: {database} đã có dữ liệu của quán: hãy dừng bot rồi thêm --force" in (
        again.stderr
    )
    english = quen(
        "restore", str(backup), cwd=tmp_path, QUEN_DATABASE_URL=target, QUEN_DEFAULT_LANGUAGE="en"
    )
    assert english.returncode == 2
    assert f"quen restore: {database} already holds a shop: stop the bot and add --force" in (
        english.stderr
    )
    forced = quen(
        "restore",
        str(backup),
        "--force",
        cwd=tmp_path,
        QUEN_DATABASE_URL=target,
        QUEN_DEFAULT_LANGUAGE="en",
    )
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout == f"restored from {backup}; run quen check, then start the bot\n"
    assert quen("check", cwd=tmp_path, QUEN_DATABASE_URL=target).returncode == 0


def test_restore_refuses_what_is_not_a_quen_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all" * 100)
    target = f"sqlite://{tmp_path / 'quen.sqlite3'}"
    refused = quen("restore", str(junk), cwd=tmp_path, QUEN_DATABASE_URL=target)
    assert refused.returncode == 2
    assert f"quen restore: {junk} không phải là cơ sở dữ liệu SQLite: " in refused.stderr
    english = quen(
        "restore", str(junk), cwd=tmp_path, QUEN_DATABASE_URL=target, QUEN_DEFAULT_LANGUAGE="en"
    )
    assert english.returncode == 2
    assert f"quen restore: {junk} is not a SQLite database: " in english.stderr
    assert not (tmp_path / "quen.sqlite3").exists()
    nothing = tmp_path / "nothing"
    missing = quen("restore", str(nothing), cwd=tmp_path, QUEN_DATABASE_URL=target)
    assert missing.returncode == 2
    assert f"quen restore: không có tệp sao lưu tại {nothing}" in missing.stderr
    english = quen(
        "restore", str(nothing), cwd=tmp_path, QUEN_DATABASE_URL=target, QUEN_DEFAULT_LANGUAGE="en"
    )
    assert english.returncode == 2
    assert f"quen restore: no backup file at {nothing}" in english.stderr
    usage = quen("restore", cwd=tmp_path, QUEN_DATABASE_URL=target)
    assert usage.returncode == 2


def test_check_tells_an_unreadable_database_from_broken_data(tmp_path: Path) -> None:
    nowhere = "postgres://quen@127.0.0.1:9/none"  # nothing listens on the discard port
    result = quen("check", cwd=tmp_path, QUEN_DATABASE_URL=nowhere)
    assert result.returncode == 2 and "quen check: không đọc được cơ sở dữ liệu" in result.stderr
    english = quen("check", cwd=tmp_path, QUEN_DATABASE_URL=nowhere, QUEN_DEFAULT_LANGUAGE="en")
    assert english.returncode == 2 and "quen check: cannot read the database" in english.stderr


@pytest_asyncio.fixture
async def scratch_database(database_url: str) -> AsyncIterator[str]:
    """An empty PostgreSQL database next to the test one, dropped afterwards."""
    if database_url.startswith("sqlite://"):
        pytest.skip("pg_dump / pg_restore need the PostgreSQL backend")
    # Named after the test database, so suites on other databases of the server never meet.
    base, test_name = libpq_url(database_url).rsplit("/", 1)
    scratch = f"{test_name.split('?')[0]}_restore"
    admin = await asyncpg.connect(libpq_url(database_url))
    await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
    await admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        yield f"{base}/{scratch}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.close()


async def test_postgres_backup_and_restore_with_pg_tools(
    db: str, tmp_path: Path, scratch_database: str
) -> None:
    await real_traffic()
    expected = await balances()
    backup = tmp_path / "shop.dump"
    made = quen("backup", str(backup), cwd=tmp_path, QUEN_DATABASE_URL=libpq_url(db))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("pg_dump --format=custom")
    assert made.stdout.splitlines()[-1].startswith(f"Đã sao lưu vào {backup} (")
    restored = quen("restore", str(backup), cwd=tmp_path, QUEN_DATABASE_URL=scratch_database)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith("pg_restore --clean --if-exists")
    assert restored.stdout.splitlines()[-1] == (
        f"Đã khôi phục từ {backup}. Hãy chạy quen check, rồi khởi động bot."
    )
    checked = quen("check", cwd=tmp_path, QUEN_DATABASE_URL=scratch_database)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    copy = await asyncpg.connect(scratch_database)
    try:
        rows = await copy.fetch("SELECT id, points_balance FROM customer")
    finally:
        await copy.close()
    assert {row["id"]: row["points_balance"] for row in rows} == expected
    again = quen("restore", str(backup), cwd=tmp_path, QUEN_DATABASE_URL=scratch_database)
    assert again.returncode == 2
    assert "đã có dữ liệu của quán: hãy dừng bot rồi thêm --force" in again.stderr
    forced = quen(
        "restore", str(backup), "--force", cwd=tmp_path, QUEN_DATABASE_URL=scratch_database
    )
    assert forced.returncode == 0, forced.stderr
