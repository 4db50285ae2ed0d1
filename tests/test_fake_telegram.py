"""The fake Telegram server, exercised through python-telegram-bot's real HTTP stack.

These tests pin down that the fake answers the way api.telegram.org does, so that end-to-end tests
built on it fail for the reasons production would.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import io
import warnings
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.helpers import escape_markdown

from tests.fakes.telegram import FakeTelegram, TgUser, format_text

LAN = TgUser(id=1001, first_name="Lan", last_name="Nguyễn", username="lan_ng")
MINH = TgUser(id=1002, first_name="Minh", language_code="en")


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def make_bot(fake: FakeTelegram, token: str | None = None) -> Bot:
    return Bot(
        token or fake.token,
        base_url=f"{fake.root}/bot",
        base_file_url=f"{fake.root}/file/bot",
    )


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with make_bot(fake) as client:
        yield client


def png(width: int = 1000, height: int = 600) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def seconds(value: int | dtm.timedelta) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB_TIMEDELTA."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_get_me_is_a_full_bot_user(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "QuenTestBot", True)
    assert me.can_join_groups is True and me.supports_inline_queries is False
    assert bot.username == "QuenTestBot"  # initialize() already called getMe
    assert [c.method for c in fake.calls].count("getMe") == 2


async def test_send_message_records_decoded_reply_markup(fake: FakeTelegram, bot: Bot) -> None:
    markup = ReplyKeyboardMarkup(
        [[KeyboardButton("Chia sẻ số điện thoại", request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    first = await bot.send_message(LAN.id, "Xin chào", reply_markup=markup)
    second = await bot.send_message(LAN.id, "Lần hai", disable_notification=True)

    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == LAN.id and first.chat.type == "private"
    assert first.from_user is not None and first.from_user.id == fake.bot_id
    assert first.reply_markup is None  # Telegram echoes only inline keyboards
    call = fake.sent_to(LAN.id)[0]
    assert call.params["chat_id"] == LAN.id
    assert call.params["reply_markup"] == {
        "keyboard": [[{"text": "Chia sẻ số điện thoại", "request_contact": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }
    assert fake.sent_to(LAN.id)[1].params["disable_notification"] is True
    assert fake.reply_keyboard(LAN.id) == call.params["reply_markup"]

    await bot.send_message(LAN.id, "Cảm ơn", reply_markup=ReplyKeyboardRemove())
    assert fake.reply_keyboard(LAN.id) is None


async def test_inline_keyboard_is_echoed_and_callback_data_is_limited(bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="yes")]])
    message = await bot.send_message(LAN.id, "Đồng ý?", reply_markup=keyboard)
    assert message.reply_markup == keyboard

    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(LAN.id, "x", reply_markup=too_long)


async def test_send_photo_keeps_the_uploaded_bytes(fake: FakeTelegram, bot: Bot) -> None:
    data = png()
    message = await bot.send_photo(LAN.id, data, caption="Thẻ thành viên")

    call = fake.sent_to(LAN.id)[0]
    assert call.method == "sendPhoto" and call.files["photo"] == data
    assert call.params["caption"] == "Thẻ thành viên"
    assert [(size.width, size.height) for size in message.photo] == [
        (90, 54),
        (320, 192),
        (800, 480),
        (1000, 600),
    ]
    largest = message.photo[-1]
    assert largest.file_size == len(data)
    downloaded = await (await bot.get_file(largest.file_id)).download_as_bytearray()
    assert bytes(downloaded) == data
    thumb = await (await bot.get_file(message.photo[0].file_id)).download_as_bytearray()
    assert Image.open(io.BytesIO(bytes(thumb))).size == (90, 54)

    again = await bot.send_photo(LAN.id, largest.file_id)
    assert again.photo[-1].file_unique_id == largest.file_unique_id
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(LAN.id, b"not an image")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(LAN.id, data, caption="x" * 1025)


async def test_send_document_upload(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_document(LAN.id, b"a,b\n1,2\n", filename="report.csv")
    assert message.document is not None
    assert (message.document.file_name, message.document.mime_type) == ("report.csv", "text/csv")
    assert fake.file_bytes(message.document.file_id) == b"a,b\n1,2\n"


async def test_long_poll_returns_a_pushed_update_once(fake: FakeTelegram, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()  # really waiting
    update_id = fake.push_text(LAN, "/start m_abc")
    updates = await asyncio.wait_for(poll, 2)
    assert loop.time() - started < 1.5

    assert [u.update_id for u in updates] == [update_id]
    message = updates[0].message
    assert message is not None and message.text == "/start m_abc"
    assert message.chat.id == LAN.id and message.from_user is not None
    assert message.from_user.language_code == "vi"
    assert message.parse_entities() == {message.entities[0]: "/start"}
    assert message.entities[0].type == "bot_command"

    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    assert fake.pending_updates == []


async def test_get_updates_timeout_and_limit(fake: FakeTelegram, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.3)) == ()
    assert 0.25 <= loop.time() - started < 2
    ids = [fake.push_text(LAN, f"m{n}") for n in range(3)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[2:]


async def test_contact_and_callback_updates_parse(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_contact(LAN, "84912345678")
    fake.push_contact(LAN, "84987654321", contact_user_id=MINH.id)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Tiếng Việt", callback_data="lang:vi")]])
    sent = await bot.send_message(LAN.id, "Ngôn ngữ?", reply_markup=keyboard)
    fake.push_callback(LAN, "lang:vi")
    updates = await bot.get_updates()

    own, other, press = (u for u in updates)
    assert own.message is not None and own.message.contact is not None
    assert (own.message.contact.phone_number, own.message.contact.user_id) == (
        "84912345678",
        LAN.id,
    )
    assert other.message is not None and other.message.contact is not None
    assert other.message.contact.user_id == MINH.id
    query = press.callback_query
    assert query is not None and query.data == "lang:vi" and query.from_user.id == LAN.id
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.chat_instance

    assert await bot.answer_callback_query(query.id, text="OK") is True
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query.id)


async def test_unknown_callback_query_is_rejected(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Query is too old and response timeout expired"):
        await bot.answer_callback_query("4242")
    assert fake.calls[-1].failed and fake.calls[-1].error_code == 400


async def test_injected_flood_wait_surfaces_as_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", error_code=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        await bot.send_message(LAN.id, "hi")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert seconds(caught.value.retry_after) == 7
    failed = fake.calls[-1]
    assert failed.failed and failed.description == "Too Many Requests: retry after 7"
    assert (await bot.send_message(LAN.id, "hi")).text == "hi"  # only the next call fails


# PTB warns that RetryAfter.retry_after will become a timedelta every time it builds one (unless
# PTB_TIMEDELTA is set); ``seconds()`` already accepts both forms.
quiet_retry_after = pytest.mark.filterwarnings(
    "ignore:.*`retry_after` will be of type:DeprecationWarning"
)


@quiet_retry_after
async def test_flood_limits_pace_each_chat() -> None:
    async with FakeTelegram(flood_limits=True, per_chat_interval=0.2) as limited:
        async with make_bot(limited) as client:
            await client.send_message(LAN.id, "một")
            with pytest.raises(RetryAfter) as caught:
                await client.send_message(LAN.id, "hai")
            assert seconds(caught.value.retry_after) >= 1  # whole seconds, never 0
            await client.send_message(MINH.id, "other chats are not held up")
            await asyncio.sleep(0.25)
            assert (await client.send_message(LAN.id, "hai")).text == "hai"

        rejected = limited.calls[-3]
        assert rejected.method == "sendMessage" and rejected.failed
        assert rejected.error_code == 429
        assert rejected.description == "Too Many Requests: retry after 1"
        assert limited.flood_rejections == 1
        # The rejected send left no trace in the chat.
        assert [m["text"] for m in limited.messages(LAN.id)] == ["một", "hai"]


async def test_flood_limit_answer_is_telegrams_envelope() -> None:
    async with FakeTelegram(flood_limits=True, per_chat_interval=2.5) as limited:
        url = f"{limited.root}/bot{limited.token}/sendMessage"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json={"chat_id": LAN.id, "text": "a"}) as response:
                assert response.status == 200
            async with session.post(url, json={"chat_id": LAN.id, "text": "b"}) as response:
                assert response.status == 429
                assert await response.json() == {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 3",
                    "parameters": {"retry_after": 3},
                }


@quiet_retry_after
async def test_flood_limits_cap_the_global_rate() -> None:
    async with FakeTelegram(flood_limits=True, global_rate=30) as limited:
        async with make_bot(limited) as client:
            chats = range(5001, 5041)
            outcomes = await asyncio.gather(
                *(client.send_message(chat_id, "khuyến mãi") for chat_id in chats),
                return_exceptions=True,
            )
        delivered = [o for o in outcomes if not isinstance(o, BaseException)]
        flooded = [o for o in outcomes if isinstance(o, RetryAfter)]
        assert len(delivered) == 30 and len(flooded) == 10, outcomes
        assert all(seconds(error.retry_after) >= 1 for error in flooded)
        assert limited.flood_rejections == len(flooded)
        assert sum(limited.delivered_counts().values()) == 30
        failed = [c for c in limited.calls if c.failed]
        assert len(failed) == 10 and {c.error_code for c in failed} == {429}
        assert all(limited.messages(c.params["chat_id"]) == [] for c in failed)


@quiet_retry_after
async def test_flood_limits_ignore_edits_and_failed_sends() -> None:
    async with FakeTelegram(flood_limits=True, global_rate=2) as limited:
        async with make_bot(limited) as client:
            with pytest.raises(BadRequest, match="Message text is empty"):
                await client.send_message(LAN.id, " ")  # refused sends use no allowance
            sent = await client.send_message(LAN.id, "một")
            for n in range(3):
                await client.edit_message_text(f"sửa {n}", LAN.id, sent.message_id)
                await client.send_chat_action(LAN.id, "typing")
            limited.fail_next("sendMessage", error_code=429, retry_after=5)
            with pytest.raises(RetryAfter):
                await client.send_message(MINH.id, "injected")
            await client.send_message(MINH.id, "hai")
            with pytest.raises(RetryAfter):
                await client.send_message(1003, "ba")  # the third send in a second
        assert limited.flood_rejections == 1  # the injected 429 is not the limiter's


async def test_without_flood_limits_nothing_is_limited(fake: FakeTelegram, bot: Bot) -> None:
    outcomes = await asyncio.gather(
        *(bot.send_message(LAN.id if n % 2 else 6000 + n, f"m{n}") for n in range(60)),
        return_exceptions=True,
    )
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    assert fake.flood_rejections == 0
    assert fake.delivered_counts()[LAN.id] == 30


async def test_delivered_counts_counts_successful_sends(fake: FakeTelegram, bot: Bot) -> None:
    assert fake.delivered_counts() == {}
    await bot.send_message(LAN.id, "một")
    await bot.send_photo(LAN.id, png(20, 20))
    await bot.send_document(MINH.id, b"csv", filename="a.csv")
    sent = await bot.send_message(MINH.id, "hai")
    await bot.edit_message_text("đã sửa", MINH.id, sent.message_id)
    await bot.send_chat_action(MINH.id, "typing")
    fake.fail_next("sendMessage", error_code=403, chat_id=LAN.id)
    with pytest.raises(Forbidden):
        await bot.send_message(LAN.id, "blocked")
    with pytest.raises(BadRequest):
        await bot.send_message(MINH.id, "x" * 4097)
    assert fake.delivered_counts() == {LAN.id: 2, MINH.id: 2}
    fake.clear_calls()
    assert fake.delivered_counts() == {}


async def test_injected_forbidden_and_chat_not_found(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", error_code=403, chat_id=MINH.id, times=2)
    fake.fail_next("sendPhoto", error_code=400, description="Bad Request: chat not found")
    await bot.send_message(LAN.id, "not this chat")
    for _ in range(2):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(MINH.id, "blocked")
    await bot.send_message(MINH.id, "fine again")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_photo(LAN.id, png(20, 20))
    assert [c.failed for c in fake.sent_to(MINH.id, include_failed=True)] == [True, True, False]


async def test_blocking_user_gives_forbidden_and_updates(fake: FakeTelegram, bot: Bot) -> None:
    fake.block(LAN)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(LAN.id, "hello?")
    fake.push_text(LAN, "/start")
    await bot.send_message(LAN.id, "welcome back")
    kinds = [
        (u.my_chat_member.new_chat_member.status if u.my_chat_member else "message")
        for u in await bot.get_updates()
    ]
    assert kinds == ["kicked", "member", "message"]


async def test_wrong_token_is_invalid_token(fake: FakeTelegram) -> None:
    for token in ("999:WRONG-token", "not-a-token"):
        client = make_bot(fake, token)
        try:
            with pytest.raises(InvalidToken):
                await client.initialize()
        finally:
            # A bot whose initialize() failed is not "initialized", so Bot.shutdown() would
            # be a no-op and leave its connection pool open.
            await client.request.shutdown()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake.root}/bot999:WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with session.get(f"{fake.root}/bot{fake.token}/noSuchMethod") as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found"


async def test_text_limits(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(LAN.id, "x" * 4097)
    assert (await bot.send_message(LAN.id, "x" * 4096)).text == "x" * 4096
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(LAN.id, "   ")


async def test_html_and_markdown_v2_are_parsed_like_telegram(bot: Bot) -> None:
    message = await bot.send_message(
        LAN.id, "<b>Lan</b> có 120 điểm 🎉 <a href='https://t.me/x'>xem</a>", ParseMode.HTML
    )
    assert message.text == "Lan có 120 điểm 🎉 xem"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 3),
        ("text_link", 19, 3),  # the emoji counts two UTF-16 units
    ]
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "3" at byte offset 2'):
        await bot.send_message(LAN.id, "a <3 b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't find end tag corresponding to start tag"):
        await bot.send_message(LAN.id, "<b>open", parse_mode=ParseMode.HTML)

    escaped = await bot.send_message(LAN.id, r"*Giảm 10\%* hôm nay\.", ParseMode.MARKDOWN_V2)
    assert escaped.text == "Giảm 10% hôm nay."
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(LAN.id, "Giảm 10%.", parse_mode=ParseMode.MARKDOWN_V2)


async def test_edit_and_delete_messages(fake: FakeTelegram, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    sent = await bot.send_message(LAN.id, "Đang xử lý", reply_markup=keyboard)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Đang xử lý", LAN.id, sent.message_id, reply_markup=keyboard)
    edited = await bot.edit_message_text("Xong", LAN.id, sent.message_id)
    assert isinstance(edited, type(sent)) and edited.text == "Xong"
    assert edited.reply_markup is None and edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("?", LAN.id, 999)
    await bot.edit_message_reply_markup(LAN.id, sent.message_id, reply_markup=keyboard)
    assert fake.messages(LAN.id)[-1]["reply_markup"] == keyboard.to_dict()
    assert [c.method for c in fake.sent_to(LAN.id)] == [
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
    ]
    assert await bot.delete_message(LAN.id, sent.message_id) is True
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(LAN.id, sent.message_id)


async def test_commands_are_stored_per_scope_and_language(fake: FakeTelegram, bot: Bot) -> None:
    vi = [BotCommand("start", "Bắt đầu"), BotCommand("card", "Thẻ thành viên")]
    en = [BotCommand("start", "Start")]
    assert await bot.set_my_commands(vi, language_code="vi") is True
    await bot.set_my_commands(en, scope=BotCommandScopeAllPrivateChats(), language_code="en")

    assert await bot.get_my_commands(language_code="vi") == tuple(vi)
    assert await bot.get_my_commands() == ()
    private = BotCommandScopeAllPrivateChats()
    assert await bot.get_my_commands(scope=private, language_code="en") == tuple(en)
    set_call = next(c for c in fake.calls if c.method == "setMyCommands")
    assert set_call.params["language_code"] == "vi"
    assert set_call.params["commands"][0] == {"command": "start", "description": "Bắt đầu"}
    assert fake.commands(language_code="vi") == [c.to_dict() for c in vi]

    await bot.delete_my_commands(language_code="vi")
    assert await bot.get_my_commands(language_code="vi") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "x")])


async def test_get_chat_parses_as_chat_full_info(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_text(LAN, "hi")
    chat = await bot.get_chat(LAN.id)
    assert (chat.id, chat.first_name, chat.username, chat.type) == (
        LAN.id,
        "Lan",
        "lan_ng",
        "private",
    )
    assert chat.max_reaction_count == 11 and chat.accent_color_id == LAN.id % 7
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(555)


async def test_json_bodies_are_accepted(fake: FakeTelegram) -> None:
    body = {
        "chat_id": LAN.id,
        "text": "json",
        "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    }
    async with aiohttp.ClientSession() as session:
        url = f"{fake.root}/bot{fake.token}/SENDMESSAGE"  # method names are case-insensitive
        async with session.post(url, json=body) as response:
            payload = await response.json()
    assert payload["ok"] is True and payload["result"]["text"] == "json"
    assert fake.calls[-1].method == "sendMessage"
    assert fake.calls[-1].params["reply_markup"] == body["reply_markup"]


async def test_webhook_delivery_with_secret_and_retry(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[dict[str, object], str | None]] = []
    statuses = [500, 200, 200]
    all_received = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        if not statuses[1:]:
            all_received.set()
        return web.Response(status=statuses.pop(0))

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        assert await bot.set_webhook(url, secret_token="s3cr3t-Token_1") is True
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook"):
            await bot.get_updates()
        first = fake.push_text(LAN, "/start")
        second = fake.push_callback(LAN, "menu")
        await asyncio.wait_for(all_received.wait(), 5)
        assert [update["update_id"] for update, _ in received] == [first, first, second]
        assert {secret for _, secret in received} == {"s3cr3t-Token_1"}
        assert Update.de_json(received[0][0], bot).message.text == "/start"  # type: ignore[union-attr]
        assert [d.ok for d in fake.deliveries] == [False, True, True]

        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
    finally:
        await runner.cleanup()

    with pytest.raises(BadRequest, match=r"(?i)an https url must be provided"):
        await bot.set_webhook("http://example.com/hook")
    assert await bot.delete_webhook() is True
    third = fake.push_text(LAN, "polling again")
    assert [u.update_id for u in await bot.get_updates()] == [third]


async def test_application_polls_replies_and_shuts_down_cleanly(fake: FakeTelegram) -> None:
    """The production wiring: ApplicationBuilder with base_url/base_file_url, real polling."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Thẻ", callback_data="card")]])
        await update.effective_message.reply_text("Chào Lan!", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("Đây là thẻ của bạn")

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(f"{fake.root}/bot")
        .base_file_url(f"{fake.root}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    loop = asyncio.get_running_loop()
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=5))
        fake.push_text(LAN, "/start")
        reply = await fake.wait_for(lambda c: c.method == "sendMessage", timeout=5)
        assert reply.params["chat_id"] == LAN.id and reply.text == "Chào Lan!"
        fake.push_callback(LAN, "card")
        await fake.wait_for(lambda c: c.method == "editMessageText", timeout=5)
        answered = await fake.wait_for(lambda c: c.method == "answerCallbackQuery", timeout=5)
        assert not answered.failed
        stopping = loop.time()
        await app.updater.stop()
        await app.stop()
    assert loop.time() - stopping < 2  # the abandoned long poll does not hold shutdown
    assert fake.messages(LAN.id)[-1]["text"] == "Đây là thẻ của bạn"
    assert fake.pending_updates == []  # the final getUpdates confirmed everything
    # PTB abandons its long poll on shutdown and confirms with getUpdates(timeout=0); as on
    # Telegram, that newer request terminates the abandoned one with 409 (recorded last,
    # because calls are recorded when answered).
    *_, final, abandoned = [c for c in fake.calls if c.method == "getUpdates"]
    assert final.params["timeout"] == 0 and not final.failed
    assert abandoned.failed and abandoned.error_code == 409
    assert abandoned.at < final.at


async def test_wait_for_reports_what_happened_on_timeout(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(LAN.id, "something else")
    with pytest.raises(AssertionError, match="sendMessage chat_id=1001 text='something else'"):
        await fake.wait_for(lambda c: c.method == "sendPhoto", timeout=0.2)
    waiting = asyncio.create_task(fake.wait_for_count("sendMessage", MINH.id, 2, timeout=3))
    await bot.send_message(MINH.id, "one")
    await bot.send_message(MINH.id, "two")
    assert [c.text for c in await waiting] == ["one", "two"]


# Any text a customer could type (no lone surrogates: they cannot travel in UTF-8 form fields).
user_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)


@settings(max_examples=200, deadline=None)
@given(user_text)
def test_escaped_user_text_survives_every_parse_mode(text: str) -> None:
    """What production escapes with the stdlib / PTB helpers parses back to the same text."""
    assert format_text(html.escape(text), "HTML") == (text.strip(), [])
    assert format_text(escape_markdown(text, version=2), "MarkdownV2") == (text.strip(), [])
    bold, entities = format_text(f"<b>{html.escape(text)}</b>", "HTML")
    assert bold == text.strip()
    assert all(e["type"] == "bold" and e["length"] > 0 for e in entities)
