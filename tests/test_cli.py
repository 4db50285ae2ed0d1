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


def test_import_analyze_and_demo_from_the_command_line(tmp_path: Path) -> None:
    import json

    export = tmp_path / "till.csv"
    export.write_text(
        "ma_kh,ngay,tien,mon\n"
        "K1,2026-11-01 08:15,45,Bạc xỉu\n"
        "K1,2026-11-08 08:20,50,Bạc xỉu;Bánh mì que\n"
        "K2,2026-11-02 12:30,abc,Trà đào\n",
        encoding="utf-8",
    )
    args = ("import", "purchases", str(export), "--customer", "ma_kh", "--date", "ngay")
    options = ("--amount", "tien", "--items", "mon", "--amount-scale", "1000")
    done = quen(*args, *options, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 rows: 2 purchases imported, 0 already there, 1 rejected" in done.stdout
    rejects = (tmp_path / "till.csv.rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rejects[0].startswith("line,reason") and rejects[1].startswith("4,")
    again = quen(*args, *options, cwd=tmp_path)
    assert "0 purchases imported, 2 already there" in again.stdout
    missing = quen(*args, "--amount", "gia", cwd=tmp_path)
    assert missing.returncode == 2 and "gia" in missing.stderr

    report = quen("analyze", "--as-of", "2026-11-20", "--json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout[report.stdout.index("{") :])
    assert data["members"] == 1 and sum(data["segments"].values()) == 1
    assert data["churn_model"]["fitted"] is False and "reason" in data["churn_model"]
    (segment,) = data["active_last_30_days_by_segment"].values()
    assert segment == {"members": 1, "active": 1}  # visits 12 and 19 days before 20/11

    refused = quen("demo", "--members", "50", cwd=tmp_path)  # the database has a member
    assert refused.returncode == 2 and "already has" in refused.stderr
    fresh = tmp_path / "demo"
    fresh.mkdir()
    filled = quen("demo", "--members", "50", cwd=fresh)
    assert filled.returncode == 0, filled.stderr
    assert "50 members" in filled.stdout
