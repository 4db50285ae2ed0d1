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
    assert again.returncode == 0
    assert again.stdout == "Cơ sở dữ liệu đã được cập nhật: sqlite://data/quen.sqlite3\n"
    english = quen("migrate", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en")
    assert english.returncode == 0
    assert english.stdout == "database is up to date: sqlite://data/quen.sqlite3\n"


def test_a_bad_setting_is_named_in_vietnamese_when_the_language_is_unknown(tmp_path: Path) -> None:
    """Settings did not load, so QUEN_DEFAULT_LANGUAGE is not known (it may be the bad one)."""
    bad = quen("migrate", cwd=tmp_path, QUEN_HTTP_PORT="abc", QUEN_DEFAULT_LANGUAGE="en")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("quen: cài đặt không hợp lệ: QUEN_HTTP_PORT: ")
    language = quen("migrate", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="fr")
    assert language.returncode == 2
    assert language.stderr.startswith("quen: cài đặt không hợp lệ: QUEN_DEFAULT_LANGUAGE")


def test_zalo_authorize_says_what_is_missing(tmp_path: Path) -> None:
    unset = quen("zalo", "authorize", cwd=tmp_path)
    assert unset.returncode == 2
    assert unset.stderr == (
        "quen zalo: hãy đặt QUEN_ZALO_APP_ID, QUEN_ZALO_APP_SECRET, QUEN_ZALO_OA_SECRET_KEY trước\n"
    )
    english = quen("zalo", "authorize", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en")
    assert english.returncode == 2
    assert english.stderr == (
        "quen zalo: set QUEN_ZALO_APP_ID, QUEN_ZALO_APP_SECRET, QUEN_ZALO_OA_SECRET_KEY first\n"
    )
    app = {
        "QUEN_ZALO_APP_ID": "1",
        "QUEN_ZALO_APP_SECRET": "s",
        "QUEN_ZALO_OA_SECRET_KEY": "k",
    }
    nowhere = quen("zalo", "authorize", cwd=tmp_path, **app)
    assert nowhere.returncode == 2
    assert nowhere.stderr.startswith("quen zalo: hãy thêm --redirect-uri (địa chỉ callback")
    english = quen("zalo", "authorize", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en", **app)
    assert english.returncode == 2
    assert english.stderr.startswith("quen zalo: give --redirect-uri (the callback URL")


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
    from unittest.mock import ANY

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
    assert done.stdout.startswith(
        "3 dòng: đã nhập 2 lần mua, 0 lần mua đã có sẵn, 1 dòng bị loại (1 thành viên mới, 0 khớp"
        " với thành viên đã có) trong "
    )
    rejects_path = tmp_path / "till.csv.rejects.csv"
    assert f"Các dòng bị loại, kèm số dòng và lý do: {rejects_path}\n" in done.stdout
    rejects = rejects_path.read_text(encoding="utf-8-sig").splitlines()
    assert rejects[0].startswith("line,reason") and rejects[1].startswith("4,")
    again = quen(*args, *options, cwd=tmp_path)
    assert "đã nhập 0 lần mua, 2 lần mua đã có sẵn" in again.stdout
    english = quen(*args, *options, cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en")
    assert english.stdout.startswith(
        "3 rows: 0 purchases imported, 2 already there, 1 rejected (0 new members, 0 matched) in "
    )
    assert f"rejected rows, with line numbers and reasons: {rejects_path}\n" in english.stdout
    missing = quen(*args, "--amount", "gia", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.endswith(
        "quen import: Tệp till.csv không có cột 'gia'. Các cột của tệp là: ma_kh, ngay, tien,"
        " mon.\n"
    )
    english = quen(
        *args, "--amount", "gia", "--phone", "sdt", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en"
    )
    assert english.returncode == 2
    assert english.stderr.endswith(
        "quen import: till.csv has no column 'gia' or 'sdt'. Its columns are: ma_kh, ngay, tien,"
        " mon.\n"
    )

    report = quen("analyze", "--as-of", "2026-11-20", "--json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout[report.stdout.index("{") :])
    assert data["members"] == 1 and sum(data["segments"].values()) == 1
    assert data["churn_model"]["fitted"] is False and "reason" in data["churn_model"]
    (segment,) = data["active_last_30_days_by_segment"].values()
    assert segment == {"members": 1, "active": 1}  # visits 12 and 19 days before 20/11
    reason = data["churn_model"]["reason"]
    (name,) = [segment for segment, count in data["segments"].items() if count]
    text = quen("analyze", "--as-of", "2026-11-20", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("Phân tích tính đến 2026-11-20T23:59:00+07:00: 1 thành viên, trong ")
    assert lines[1] == "Phân khúc (RFM):" and f"  {name:<12}       1" in lines
    assert "Có ghé quán trong 30 ngày qua, theo phân khúc:" in lines
    assert f"  {name:<12}       1 trên 1" in lines and "Chỉ số (KPI), 30 ngày qua:" in lines
    assert lines[-1] == (
        f"Chưa ước lượng được mô hình khách rời bỏ: {reason} (tạm dùng quy tắc khoảng cách giữa"
        " các lần ghé)"
    )
    english = quen("analyze", "--as-of", "2026-11-20", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en")
    lines = english.stdout.splitlines()
    assert lines[0].startswith("analysis as of 2026-11-20T23:59:00+07:00: 1 member in ")
    assert lines[1] == "segments (RFM):" and f"  {name:<12}       1" in lines
    assert "active in the last 30 days, by segment:" in lines
    assert f"  {name:<12}       1 of 1" in lines and "KPIs, last 30 days:" in lines
    assert lines[-1] == f"churn model not fitted: {reason} (the gap rule is used instead)"
    again = quen(
        "analyze", "--as-of", "2026-11-20", "--json", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en"
    )
    assert json.loads(again.stdout[again.stdout.index("{") :]) == data | {"seconds": ANY}

    refused = quen("demo", "--members", "50", cwd=tmp_path)  # the database has a member
    assert refused.returncode == 2
    assert "quen demo: Cơ sở dữ liệu đã có 1 thành viên: bản demo chỉ" in refused.stderr
    english = quen("demo", "--members", "50", cwd=tmp_path, QUEN_DEFAULT_LANGUAGE="en")
    assert english.returncode == 2
    assert "quen demo: The database already has 1 member: the demo only" in english.stderr
    fresh = tmp_path / "demo"
    fresh.mkdir()
    filled = quen("demo", "--members", "50", cwd=fresh)
    assert filled.returncode == 0, filled.stderr
    assert filled.stdout.startswith("Quán demo đã sẵn sàng sau ")
    assert " giây: 2 cửa hàng, 50 thành viên, " in filled.stdout
