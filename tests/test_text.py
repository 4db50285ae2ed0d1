"""Catalogs, formatting and parsing of what people type."""

from __future__ import annotations

import re
from datetime import date

import pytest

from locales import LANGUAGES, format_date, format_vnd, message_keys, supported, t
from loyalty.birthdays import BadBirthday, Birthday, parse_birthday
from loyalty.phones import to_e164

TODAY = date(2026, 11, 22)


def test_every_key_exists_in_both_languages() -> None:
    vi, en = message_keys("vi"), message_keys("en")
    assert vi, "no messages loaded"
    assert vi - en == set(), f"missing in en: {sorted(vi - en)}"
    assert en - vi == set(), f"missing in vi: {sorted(en - vi)}"


def test_every_message_renders_with_its_variables() -> None:
    for language in LANGUAGES:
        for key in message_keys(language):
            text = t(
                language,
                key,
                shop="Quán",
                points=2,
                tier="Vàng",
                date="01/12/2026",
                name="Lan",
                friend_points=3,
                value="20",
                item="Bạc xỉu",
                gives="Giảm 20%",
                missing=5,
                days=30,
                minimum="",
                time="09:00",
                state="đang mở",
                stock="5",
                title="Quà",
                earn="1.000 ₫",
                months=12,
                maxbill="5.000.000 ₫",
                alert=3,
                referrer=200,
                friend=200,
                code="gold",
                threshold=10000,
                multiplier=125,
                link="https://t.me/x",
                role="thu ngân",
                store="Q1",
                id="1",
                amount="85.000 ₫",
                balance=5,
                count=4,
                cashier="Minh",
                minutes=15,
                max="5.000.000 ₫",
                path="/tmp/x.png",
                queued=3,
                sending=1,
                sent=40,
                failed=2,
                unknown=1,
                skipped=5,
                kind="earned",
                status="failed",
                reason="unreachable",
                problem="QUEN_SEND_WINDOW",
                segment="Khách ruột",
                about="mua gần đây",
                todo="cảm ơn",
                members=10,
                active=5,
                new=2,
                purchases=30,
                revenue="1.000.000 ₫",
                aov="50.000 ₫",
                repeat="40%",
                redemption="10%",
                churn="5%",
                liability="100.000 ₫",
                phone="+84912000001",
                visits=12,
                spend="600.000 ₫",
                last="20/11/2026",
                average="50.000 ₫",
                favourites="Bạc xỉu",
                weekday="Thứ Hai",
                hour="7:00",
                alive="80%",
                job="Quà sinh nhật",
                outcome="đã tặng 3 voucher",
                send=90,
                holdout=10,
                pct=10,
                offer="Giảm 20%",
                until="31/12/2026",
                when="Gửi ngay",
                cost="Chi phí: 100.000 ₫",
                text="Chào Lan",
                least=5,
                most=50,
                default=10,
                audience="Khách ruột",
                start="01/12/2026",
                end="14/12/2026",
                delivered=88,
                waiting=0,
                vouchers=90,
                redeemed=12,
                calls=24,
                tokens=9000,
                fallbacks=1,
                diff="+3.0",
                low="-1.0",
                high="+7.0",
                p="0.120",
                rlow="-5.000 ₫",
                rhigh="9.000 ₫",
                arm="Nhóm nhận",
                visited="25.0%",
                app="zalo",
                error="disk I/O error",
                subject="customer",
                ids="1, 2, ...",
                rule="quy tắc",
                verdict="tất cả đều đúng",
                broken=1,
                warnings=2,
                seconds=1.25,
                bytes=131926,
                database="data/quen.sqlite3",
                file="shop.backup",
                tool="pg_dump",
                rows=3,
                imported=2,
                duplicates=0,
                rejected=1,
                linked=1,
                stores=2,
                rewards=4,
                line="3",
                byte="E0",
                encoding="UTF-8",
                scale="0.0",
                column="'Món'",
                columns="Ngày, Mã KH, Tổng",
                first="'SĐT'",
                second="'Món'",
                r="0.2431",
                alpha="4.4142",
                a="0.7930",
                b="2.4260",
                q="3.1000",
                v="28000.00",
                fit="-9021.55",
            )
            assert text.strip() and "{" not in text, (language, key)


def test_handlers_only_use_keys_that_exist() -> None:
    from pathlib import Path

    used: set[str] = set()
    for path in Path("handlers").glob("*.py"):
        used |= set(
            re.findall(
                r'"((?:join|points|menu|card|language|help|button|not|unknown|contact|error)-[a-z-]+)"',
                path.read_text(),
            )
        )
    assert used and used <= message_keys("vi")


def test_vietnamese_money_and_dates() -> None:
    assert format_vnd(85_000) == "85.000 ₫"
    assert format_vnd(1_250_000) == "1.250.000 ₫"
    assert format_vnd(0) == "0 ₫"
    assert format_vnd(85_000, "en") == "85,000 ₫"
    assert format_date(date(2026, 11, 22)) == "22/11/2026"
    assert t("vi", "points-balance", points=12345) == "⭐ Điểm hiện có: 12.345 điểm"
    assert t("en", "points-balance", points=1) == "⭐ Points: 1 point"


def test_language_codes_from_chat_apps() -> None:
    assert supported("en-US") == "en"
    assert supported("vi") == "vi"
    assert supported("fr") == "vi"
    assert supported(None, "en") == "en"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0912345678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("091 234 5678", "+84912345678"),
        ("+14155552671", "+14155552671"),
        ("12345", None),
        ("hello", None),
        ("", None),
        ("9" * 40, None),
    ],
)
def test_phone_numbers(typed: str, expected: str | None) -> None:
    assert to_e164(typed) == expected


def test_birthdays() -> None:
    assert parse_birthday("22/11", TODAY) == Birthday(22, 11)
    assert parse_birthday(" 1-2-1990 ", TODAY) == Birthday(1, 2, 1990)
    assert parse_birthday("29/02", TODAY) == Birthday(29, 2)
    assert parse_birthday("22.11.1995", TODAY).show() == "22/11/1995"
    for typed, reason in (
        ("31/02", "date"),
        ("29/02/2025", "date"),
        ("00/10", "date"),
        ("12/13", "date"),
        ("23/11/2026", "date"),
        ("01/01/1900", "date"),
        ("hello", "format"),
        ("🎂", "format"),
        ("22/11/95", "format"),
        ("", "format"),
    ):
        with pytest.raises(BadBirthday) as caught:
            parse_birthday(typed, TODAY)
        assert caught.value.reason == reason, typed
