"""The ``quen`` command as an owner runs it: migrate, and chat in the terminal."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def quen(*args: str, cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QUEN_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=clean | env,
    )


def test_migrate_creates_and_then_upgrades_nothing(tmp_path: Path) -> None:
    first = quen("migrate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    database = tmp_path / "data" / "quen.sqlite3"  # the default location
    tables = {
        row[0]
        for row in sqlite3.connect(database).execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert {
        "customer",
        "channel_account",
        "ledger_entry",
        "points_lot",
        "tier",
        "staff_member",
        "store",
        "consent_record",
        "conversation",
        "audit_entry",
        "member_card",
    } <= tables
    again = quen("migrate", cwd=tmp_path)
    assert again.returncode == 0 and "up to date" in again.stdout


def test_chat_in_the_terminal_joins_and_saves_the_card(tmp_path: Path) -> None:
    script = "/start\n1\n2\n/contact 0912345678\n22/11\n/points\n/quit\n"
    result = quen("chat", cwd=tmp_path, stdin=script, QUEN_SHOP_NAME="Quán Test")
    assert "vai trò khách hàng" in result.stdout
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[1] Tiếng Việt" in out and "[2] Chỉ tham gia" in out
    assert "Đã lưu số điện thoại" in out
    assert "Chào mừng bạn trở thành khách quen của Quán Test" in out
    assert "⭐ Điểm hiện có: 0 điểm" in out
    cards = list((tmp_path / "data" / "cards").glob("*.png"))
    assert len(cards) == 1 and cards[0].stat().st_size > 1000

    till = quen("chat", "--as", "cashier", cwd=tmp_path, stdin="/find 0912345678\n85k\n1\n")
    assert till.returncode == 0, till.stderr
    assert "vai trò thu ngân" in till.stdout
    assert "✅ Đã ghi 85.000 ₫ cho console-customer: +85 điểm" in till.stdout
    assert "(→ console-customer) ⭐ Bạn vừa nhận +85 điểm" in till.stdout
    owner = quen("chat", "--as", "owner", cwd=tmp_path, stdin="/staff\n")
    assert "• console-cashier — thu ngân" in owner.stdout
