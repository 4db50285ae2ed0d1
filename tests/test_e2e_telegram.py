"""The real Quen application against a fake Telegram Bot API server, in polling and webhook mode.

python-telegram-bot's own HTTP stack talks to ``tests.fakes.telegram.FakeTelegram`` on 127.0.0.1;
the member card that comes back is decoded with zxing-cpp.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import zxingcpp
from PIL import Image

from bot.app import QuenApp
from bot.settings import Settings, TelegramMode
from models.members import ChannelAccount, ConsentRecord, Customer
from tests.fakes.telegram import Call, FakeTelegram, TgUser

SECRET = "test_webhook_secret-1"
LAN = TgUser(5_000_000_001, "Lan", "Nguyễn", username="lan_ng", language_code="vi")
JOHN = TgUser(5_000_000_002, "John", "Smith", language_code="en")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings_for(fake: FakeTelegram, database_url: str, mode: TelegramMode) -> Settings:
    port = free_port()
    return Settings(
        database_url=database_url,
        telegram_token=fake.token,
        telegram_api_url=fake.root,
        telegram_mode=mode,
        webhook_secret=SECRET,
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
        shop_name="Cà Phê Quen",
    )


@pytest_asyncio.fixture(
    params=[TelegramMode.POLLING, TelegramMode.WEBHOOK], ids=["polling", "webhook"]
)
async def quen(
    request: pytest.FixtureRequest, db: str, fake: FakeTelegram
) -> AsyncIterator[QuenApp]:
    app = QuenApp(settings_for(fake, db, request.param))
    await app.start()
    yield app
    await app.stop()


def buttons(call: Call) -> dict[str, str]:
    markup = call.params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


def sent(fake: FakeTelegram, user: TgUser, method: str, containing: str):
    def matches(call: Call) -> bool:
        return (
            call.method == method
            and not call.failed
            and str(call.chat_id) == str(user.id)
            and containing in (call.text or "")
        )

    return fake.wait_for(matches, timeout=15)


async def test_join_journey(quen: QuenApp, fake: FakeTelegram) -> None:
    fake.push_text(LAN, "/start")
    welcome = await sent(fake, LAN, "sendMessage", "Chào mừng")
    fake.push_callback(LAN, buttons(welcome)["Tiếng Việt"])
    await sent(fake, LAN, "editMessageText", "Tiếng Việt")
    consent = await sent(fake, LAN, "sendMessage", "tối đa 2 tin mỗi tuần")
    fake.push_callback(LAN, buttons(consent)["Tham gia và nhận ưu đãi"])
    ask_phone = await sent(fake, LAN, "sendMessage", "Chia sẻ số điện thoại")
    keyboard = ask_phone.params["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True

    fake.push_contact(LAN, "84912345678", contact_user_id=JOHN.id)  # not hers: refused
    await sent(fake, LAN, "sendMessage", "không phải số điện thoại của bạn")
    fake.push_contact(LAN, "84912345678")
    await sent(fake, LAN, "sendMessage", "Sinh nhật")
    fake.push_text(LAN, "31/02")
    await sent(fake, LAN, "sendMessage", "không có thật")
    fake.push_text(LAN, "22/11/1995")
    photo = await sent(fake, LAN, "sendPhoto", "Thẻ thành viên")

    image = Image.open(io.BytesIO(photo.files["photo"]))
    links = [result.text for result in zxingcpp.read_barcodes(image)]
    assert len(links) == 1 and links[0].startswith("https://t.me/QuenTestBot?start=m_")
    welcome_done = await sent(fake, LAN, "sendMessage", "Chào mừng bạn trở thành khách quen")
    assert welcome_done.params["reply_markup"]["is_persistent"] is True

    customer = await Customer.get(accounts__external_id=str(LAN.id))
    assert customer.phone == "+84912345678"
    assert (customer.birthday_day, customer.birthday_month, customer.birthday_year) == (
        22,
        11,
        1995,
    )
    assert customer.display_name == "Lan Nguyễn"
    assert await ConsentRecord.filter(customer=customer, granted=True).count() == 2

    fake.push_text(LAN, "⭐ Điểm của tôi")  # the menu button, as the keyboard sends it
    points = await sent(fake, LAN, "sendMessage", "Điểm hiện có: 0 điểm")
    assert "Còn 3.000 điểm nữa để lên hạng Bạc" in (points.text or "")

    fake.push_text(LAN, "/start")
    await sent(fake, LAN, "sendMessage", "Bạn cần gì hôm nay")
    assert await Customer.all().count() == 1
    answered = [c for c in fake.calls if c.method == "answerCallbackQuery" and not c.failed]
    assert len(answered) == 2


async def test_english_speaker_gets_english_and_menus_are_per_language(
    quen: QuenApp, fake: FakeTelegram
) -> None:
    fake.push_text(JOHN, "/start")
    welcome = await sent(fake, JOHN, "sendMessage", "Welcome")
    fake.push_callback(JOHN, buttons(welcome)["English"])
    consent = await sent(fake, JOHN, "sendMessage", "at most 2 a week")
    fake.push_callback(JOHN, buttons(consent)["Just join"])
    await sent(fake, JOHN, "sendMessage", "Sharing your phone number")
    fake.push_text(JOHN, "Skip")
    fake.push_text(JOHN, "Skip")
    await sent(fake, JOHN, "sendPhoto", "Member card")

    assert [c["command"] for c in fake.commands(language_code="en")] == [
        "start",
        "card",
        "points",
        "rewards",
        "vouchers",
        "history",
        "invite",
        "language",
        "help",
        "mydata",
        "stop",
        "delete",
    ]
    assert fake.commands(language_code="en")[2]["description"] == "Points and tier"
    assert fake.commands(language_code="vi")[2]["description"] == "Điểm và hạng"
    assert fake.commands()[2]["description"] == "Điểm và hạng"  # default: Vietnamese


async def test_stale_button_gets_a_polite_answer(quen: QuenApp, fake: FakeTelegram) -> None:
    fake.push_text(LAN, "/start")
    welcome = await sent(fake, LAN, "sendMessage", "Chào mừng")
    fake.push_callback(LAN, "j:ffffff:lang:vi")  # forged
    await sent(fake, LAN, "sendMessage", "hết hiệu lực")
    fake.push_callback(LAN, buttons(welcome)["Tiếng Việt"])
    await sent(fake, LAN, "sendMessage", "tối đa 2 tin mỗi tuần")
    assert await Customer.all().count() == 0


async def test_429_is_waited_out_and_sent_once(quen: QuenApp, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=LAN.id)
    started = asyncio.get_running_loop().time()
    fake.push_text(LAN, "/help")
    await sent(fake, LAN, "sendMessage", "/start")
    assert asyncio.get_running_loop().time() - started >= 1.0
    attempts = [
        c for c in fake.calls if c.method == "sendMessage" and str(c.chat_id) == str(LAN.id)
    ]
    assert [c.failed for c in attempts] == [True, False]


async def test_blocked_user_is_marked_unreachable(quen: QuenApp, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", error_code=403, chat_id=LAN.id)
    fake.push_text(LAN, "/help")
    await fake.wait_for(lambda c: c.method == "sendMessage" and c.failed, timeout=15)
    for _ in range(100):
        account = await ChannelAccount.get_or_none(external_id=str(LAN.id))
        if account is not None and account.unreachable_at is not None:
            break
        await asyncio.sleep(0.05)
    assert account is not None and account.unreachable_at is not None
    fake.push_text(LAN, "/help")  # they came back: reachable again
    await sent(fake, LAN, "sendMessage", "/start")
    assert (await ChannelAccount.get(external_id=str(LAN.id))).unreachable_at is None


async def test_http_server_health_and_webhook_secret(quen: QuenApp, fake: FakeTelegram) -> None:
    base = f"http://127.0.0.1:{quen.http_port}"
    update: dict[str, Any] = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": 0,
            "text": "/start",
            "chat": LAN.private_chat(),
            "from": LAN.to_api(),
        },
    }
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok", "database": "ok"}
        async with http.post(f"{base}/telegram/webhook", json=update) as response:
            expected = 404 if quen.settings.telegram_mode is TelegramMode.POLLING else 403
            assert response.status in (403, 404) and response.status == expected
        headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        async with http.post(f"{base}/telegram/webhook", json=update, headers=headers) as response:
            assert response.status == expected
    await asyncio.sleep(0.2)
    assert fake.sent_to(LAN.id) == []


async def test_start_without_token_explains_botfather(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = QuenApp(Settings(database_url=db, http_port=0))
    await app.start()
    try:
        url = f"http://127.0.0.1:{app.http_port}/healthz"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
        assert app.scheduler.running
    finally:
        await app.stop()
    out = capsys.readouterr().out
    assert "QUEN_TELEGRAM_TOKEN" in out and "@BotFather" in out


async def test_quen_run_process_answers_and_stops_cleanly(
    db: str, fake: FakeTelegram, tmp_path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEN_")}
    env |= {
        "QUEN_DATABASE_URL": db,
        "QUEN_TELEGRAM_TOKEN": fake.token,
        "QUEN_TELEGRAM_API_URL": fake.root,
        "QUEN_HTTP_PORT": "0",
        "QUEN_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        fake.push_text(JOHN, "/start")
        await sent(fake, JOHN, "sendMessage", "Welcome")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    assert fake.token not in stderr.decode()


async def test_a_restart_mid_join_loses_nothing(db: str, fake: FakeTelegram) -> None:
    settings = settings_for(fake, db, TelegramMode.POLLING)
    first = QuenApp(settings)
    await first.start()
    fake.push_text(LAN, "/start")
    welcome = await sent(fake, LAN, "sendMessage", "Chào mừng")
    fake.push_callback(LAN, buttons(welcome)["Tiếng Việt"])
    consent = await sent(fake, LAN, "sendMessage", "tối đa 2 tin mỗi tuần")
    await first.stop()

    second = QuenApp(settings)
    await second.start()
    try:
        fake.push_callback(LAN, buttons(consent)["Chỉ tham gia"])  # pressed after the restart
        await sent(fake, LAN, "sendMessage", "Chia sẻ số điện thoại")
        fake.push_text(LAN, "Bỏ qua")
        fake.push_text(LAN, "Bỏ qua")
        await sent(fake, LAN, "sendPhoto", "Thẻ thành viên")
    finally:
        await second.stop()
    customer = await Customer.get()
    assert (customer.language, customer.marketing_consent) == ("vi", False)
