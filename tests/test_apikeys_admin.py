"""Owners manage POS API keys in chat (``/apikeys``) and on the command line (``quen apikey``)."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from handlers.types import Shop
from loyalty import api_keys, staff
from models.api import ApiKey
from models.audit import AuditEntry
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.test_cli import quen

OWNER_ID = "9001"


async def test_owner_creates_lists_and_revokes_a_key(db: str, shop: Shop, clock: FakeClock) -> None:
    owner = Chat(replace(shop, owners=frozenset({("telegram", OWNER_ID)})), user_id=OWNER_ID)
    await owner.say("/apikeys")
    assert "Chưa có khóa API nào" in owner.text
    await owner.say("/apikeys create Quận 9")
    assert "Không tìm thấy cửa hàng" in owner.text

    await owner.say("/stores add Quận 1")
    await owner.say("/apikeys create Quận 1")
    secret = re.findall(r"quen_live_\S+", owner.text)[0]
    assert "chỉ hiện một lần" in owner.text
    key = await api_keys.authenticate(secret, clock())
    assert key is not None and key.store_id == 1 and key.staff.role == staff.POS

    await owner.say("/staff")  # the key's till identity is not a person on the team
    assert "POS" not in owner.text

    await owner.say("/apikeys")
    assert f"#1 · Quận 1 · {secret[:16]}…" in owner.text
    assert "dùng lần cuối 22/11/2026" in owner.text  # authenticate() above used it
    assert secret not in owner.text

    await owner.say("/apikeys revoke 1")
    assert "Đã thu hồi khóa #1" in owner.text
    assert await api_keys.authenticate(secret, clock()) is None
    await owner.say("/apikeys revoke 1")
    assert "đã được thu hồi trước đó" in owner.text
    await owner.say("/apikeys")
    assert "đã thu hồi 22/11/2026" in owner.text
    actions = await AuditEntry.filter(action__startswith="apikey").values_list("action", flat=True)
    assert sorted(actions) == ["apikey.create", "apikey.revoke"]


async def test_only_owners_have_the_command(db: str, shop: Shop) -> None:
    customer = Chat(shop, user_id="1234")
    await customer.say("/apikeys create 1")
    assert not await ApiKey.exists()


def test_cli_creates_lists_and_revokes(tmp_path: Path) -> None:
    assert quen("migrate", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "data" / "quen.sqlite3") as database:
        database.execute(
            "INSERT INTO store (name, address, created_at) VALUES ('Quận 1', '', '2026-11-01')"
        )
    created = quen("apikey", "create", "--store", "Quận 1", "--name", "quầy 1", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    secret = created.stdout.split()[-1]
    assert secret.startswith("quen_live_")
    assert created.stdout == f"Khóa #1 cho cửa hàng 1 (Quận 1), chỉ hiện một lần:\n{secret}\n"
    listed = quen("apikey", "list", cwd=tmp_path)
    assert f"{secret[:16]}…" in listed.stdout and "quầy 1" in listed.stdout
    assert (
        listed.stdout
        == f"#1\t{secret[:16]}…\tcửa hàng 1 (Quận 1)\tquầy 1\tchưa dùng\tcòn hiệu lực\n"
    )
    assert secret not in listed.stdout
    english = quen("apikey", "list", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en")
    assert english.stdout == f"#1\t{secret[:16]}…\tstore 1 (Quận 1)\tquầy 1\tnever used\tlive\n"
    revoked = quen("apikey", "revoke", "1", cwd=tmp_path)
    assert revoked.returncode == 0 and revoked.stdout == "Đã thu hồi khóa #1\n"
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert quen("apikey", "list", cwd=tmp_path).stdout.endswith(f"\tđã thu hồi {today}\n")
    english = quen("apikey", "list", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en")
    assert english.stdout.endswith(f"\trevoked {today}\n")
    again = quen("apikey", "revoke", "1", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.endswith("quen apikey: khóa này đã được thu hồi trước đó\n")
    english = quen("apikey", "revoke", "1", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en")
    assert english.returncode == 2
    assert english.stderr.endswith("quen apikey: that key was already revoked\n")
    missing = quen("apikey", "create", "--store", "9", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.endswith("quen apikey: không có cửa hàng nào mang số hoặc tên này\n")
    english = quen("apikey", "create", "--store", "9", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en")
    assert english.returncode == 2
    assert english.stderr.endswith("quen apikey: there is no store with that number or name\n")
