"""The Telegram adapter: python-telegram-bot 22 turned into ``Incoming`` and ``Reply``.

Two ways in, one way through: long polling (PTB's updater and its queue) or webhook (our aiohttp
route hands each update to ``receive``, so one HTTP server serves health checks, the webhook and
the POS API). A webhook update is handled before the route answers: when the database stays
unavailable the route answers an error and Telegram delivers the update again, which a queue
that answered 200 first could not ask for. Telegram sends one update per chat at a time and up
to ``max_connections`` (40) chats at once, so the handling is as concurrent as Telegram makes it.
Because we drive the ``Application`` ourselves, PTB's ``post_init`` never runs: the command menus
are set explicitly in ``start``.

Only private chats are served: a loyalty card is personal, and in a group a member's card or points
would be shown to everyone.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    MenuButtonDefault,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    WebAppInfo,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.cashier_web import web_app_url
from bot.delivery import About, Outcome, Result
from bot.settings import Settings, TelegramMode
from handlers.router import CUSTOMER_COMMANDS
from handlers.types import CommandMenu, Contact, Incoming, Reply
from locales import LANGUAGES, t
from loyalty.conversations import mark_unreachable
from models.db import retry_while_unavailable, unavailable

log = logging.getLogger(__name__)
# PTB 22's documented opt-in: durations such as RetryAfter.retry_after become timedelta now
# (the future default) instead of ints with a deprecation warning on every read.
os.environ.setdefault("PTB_TIMEDELTA", "true")

CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
WEBHOOK_PATH = "/telegram/webhook"
#: How often one reply is retried after a 429 before giving up (each wait is Telegram's own).
MAX_RETRY_AFTER = 3

Handle = Callable[[Incoming], Awaitable[list[Reply]]]
Clock = Callable[[], datetime]
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def to_incoming(update: Update) -> Incoming | None:
    """The channel-neutral view of an update, or None for what we do not serve."""
    query = update.callback_query
    chat = update.effective_chat
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    if chat is None and query is None:
        return None
    if chat is not None and chat.type != "private":
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "user_id": str(user.id),
        # A button on a message too old to be sent along still comes from the private chat,
        # whose id is the user's.
        "chat_id": str(chat.id if chat is not None else user.id),
        "language_hint": user.language_code,
        "display_name": user.full_name,
        "username": user.username,
        "event_id": f"{CHANNEL}:{update.update_id}",
    }
    if query is not None:
        return Incoming(action=query.data or "", **common)
    message = update.message
    if message is None:
        return None
    contact = None
    if message.contact is not None:
        owner = message.contact.user_id
        contact = Contact(message.contact.phone_number, str(owner) if owner else None)
    return Incoming(text=message.text or "", contact=contact, **common)


def inline_markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.action) for b in row]
            for row in reply.buttons
        ]
    )


def to_markup(reply: Reply) -> Markup | None:
    if reply.buttons:
        return inline_markup(reply)
    if reply.ask_phone is not None:
        return ReplyKeyboardMarkup(
            [
                [KeyboardButton(reply.ask_phone.share_label, request_contact=True)],
                [KeyboardButton(reply.ask_phone.skip_label)],
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if reply.keyboard is not None:
        return ReplyKeyboardMarkup(
            [list(row) for row in reply.keyboard], resize_keyboard=True, is_persistent=True
        )
    if reply.remove_keyboard:
        return ReplyKeyboardRemove()
    return None


class TelegramChannel:
    """One bot on Telegram: receives updates, runs the handlers, sends the replies."""

    name = CHANNEL

    def __init__(self, settings: Settings, handle: Handle, clock: Clock) -> None:
        if settings.telegram_token is None:
            raise ValueError("QUEN_TELEGRAM_TOKEN is required for the Telegram channel")
        self.settings = settings
        self._handle = handle
        self._clock = clock
        root = settings.telegram_api_url
        builder = (
            Application.builder()
            .token(settings.telegram_token.get_secret_value())
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
            .read_timeout(settings.telegram_timeout)
            .write_timeout(settings.telegram_timeout)
        )
        if settings.telegram_mode is TelegramMode.WEBHOOK:
            builder = builder.updater(None)
        self.application = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        #: Webhook deliveries being handled, waited for by ``stop_updates``.
        self._receiving: set[asyncio.Task[Any]] = set()

    @property
    def username(self) -> str:
        return self.application.bot.username

    async def start(self) -> None:
        """Connect (``getMe``), set the menus, then poll or register the webhook."""
        await self.application.initialize()
        await self.set_command_menus()
        if self.settings.telegram_mode is TelegramMode.WEBHOOK:
            secret = self.settings.webhook_secret
            await self.application.bot.set_webhook(
                url=f"{self.settings.public_url}{WEBHOOK_PATH}",
                allowed_updates=ALLOWED_UPDATES,
                secret_token=secret.get_secret_value() if secret else None,
            )
        await self.application.start()
        if self.application.updater is not None:
            await self.application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, error_callback=self._on_polling_error
            )
        log.info("telegram: @%s connected (%s)", self.username, self.settings.telegram_mode)

    async def stop_updates(self) -> None:
        """Stop polling, then finish the updates already received (PTB's ``stop`` works through
        its queue first; webhook deliveries in hand are waited for): the first half of a
        graceful stop. Sending still works afterwards."""
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        while self._receiving:
            await asyncio.wait(set(self._receiving))

    async def stop(self) -> None:
        await self.stop_updates()
        await self.application.shutdown()

    async def receive(self, payload: dict[str, Any]) -> bool:
        """A webhook delivery, handled and answered now. False when the database stayed
        unavailable and nothing was answered: the update should be delivered again."""
        task = asyncio.current_task()
        assert task is not None
        self._receiving.add(task)
        try:
            return await self._process(Update.de_json(payload, self.application.bot), True)
        finally:
            self._receiving.discard(task)

    async def set_command_menus(self) -> None:
        """One menu per language, plus the default for every other app language."""
        default = self.settings.default_language
        for language in (*LANGUAGES, None):
            commands = [
                BotCommand(name, t(language or default, f"command-{name}"))
                for name in CUSTOMER_COMMANDS
            ]
            await self.application.bot.set_my_commands(commands, language_code=language)

    async def _on_update(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """A polled update: getUpdates has moved past it, so it cannot be given back."""
        await self._process(update, False)

    async def _process(self, update: Update, can_give_back: bool) -> bool:
        """Handle one update and send the replies. The handlers are run again while the
        database is unavailable (``models.db.RETRY_PAUSES``); if it stays so, a webhook update
        is given back (False) and a polled one gets the polite error."""
        incoming = to_incoming(update)
        if update.callback_query is not None:
            await self._answer_callback(update)
        if incoming is None:
            return True
        try:
            replies = await retry_while_unavailable(lambda: self._handle(incoming))
        except Exception as error:
            if can_give_back and unavailable(error):
                log.warning("database unavailable: update %s given back", update.update_id)
                return False
            log.exception("handler failed on update %s", update.update_id)
            language = incoming.language_hint or self.settings.default_language
            replies = [Reply(t(language, "error-generic"))]
        message = update.callback_query.message if update.callback_query else None
        edit_id = message.message_id if message else None
        for reply in replies:
            if not await self._send(incoming.chat_id, incoming.user_id, reply, edit_id):
                break
        return True

    async def _answer_callback(self, update: Update) -> None:
        """Stop the button's spinner. Only cosmetic: a refusal (too old) or a timeout must not
        keep the press from being handled."""
        try:
            await update.callback_query.answer()  # type: ignore[union-attr]
        except TelegramError as error:
            log.info("callback answer failed: %s", error)

    async def _set_chat_menu(self, chat_id: int, menu: CommandMenu) -> None:
        """Staff see their own command menu in their chat; an empty menu restores the default."""
        scope = BotCommandScopeChat(chat_id)
        if not menu.commands:
            await self.application.bot.delete_my_commands(scope=scope)
            await self._set_menu_button(chat_id, None)
            return
        commands = [BotCommand(name, t(menu.language, f"command-{name}")) for name in menu.commands]
        await self.application.bot.set_my_commands(commands, scope=scope)
        await self._set_menu_button(chat_id, menu.language)

    async def _set_menu_button(self, chat_id: int, language: str | None) -> None:
        """Staff get the cashier page as a Mini App behind their chat's menu button; ``None``
        (no longer staff) restores the default. Telegram opens Mini Apps only over https, so
        without an https ``QUEN_PUBLIC_URL`` the button is left alone."""
        public = self.settings.public_url
        if not public or not public.startswith("https://"):
            return
        button: MenuButtonDefault | MenuButtonWebApp = MenuButtonDefault()
        if language is not None:
            button = MenuButtonWebApp(
                t(language, "cashier-menu-button"), WebAppInfo(web_app_url(public, language))
            )
        await self.application.bot.set_chat_menu_button(chat_id=chat_id, menu_button=button)

    async def _send(self, chat: str, user_id: str, reply: Reply, edit_id: int | None) -> bool:
        """Deliver one reply to the person who wrote, waiting out 429s. False when the chat
        cannot be written to (then nothing more is sent to it for this update)."""
        if reply.menu is not None:
            await self._set_menu_quietly(int(chat), reply.menu)
        for _ in range(MAX_RETRY_AFTER + 1):
            outcome = await self._attempt(int(chat), reply, edit_id)
            if outcome.result is Result.THROTTLED:
                log.warning("telegram 429 for chat %s: waiting %ss", chat, outcome.retry_after)
                await asyncio.sleep(outcome.retry_after)
            elif outcome.result is Result.NOT_SENT:
                await asyncio.sleep(1)
            elif outcome.result is Result.UNREACHABLE:
                await mark_unreachable(CHANNEL, user_id, self._clock())
                return False
            else:
                # SENT, REFUSED (logged), or UNKNOWN: the message may have arrived, and a retry
                # could show it twice, so say nothing more.
                return outcome.result is not Result.UNKNOWN
        return False

    async def deliver(self, chat_id: str, reply: Reply, about: About | None = None) -> Outcome:
        """One attempt, for the outbox sender (which owns pacing and retries). ``about`` is not
        needed: Telegram lets a bot write to anyone who has not blocked it."""
        if reply.menu is not None:
            await self._set_menu_quietly(int(chat_id), reply.menu)
        return await self._attempt(int(chat_id), reply, None)

    async def _set_menu_quietly(self, chat_id: int, menu: CommandMenu) -> None:
        try:
            await self._set_chat_menu(chat_id, menu)
        except TelegramError as error:  # the message matters more than the menu
            log.warning("telegram: menu for %s not set: %s", chat_id, error)

    async def _attempt(self, chat_id: int, reply: Reply, edit_id: int | None) -> Outcome:
        """One API call, and what came of it."""
        bot = self.application.bot
        try:
            if reply.edit and edit_id is not None:
                await bot.edit_message_text(
                    reply.text,
                    chat_id=chat_id,
                    message_id=edit_id,
                    reply_markup=inline_markup(reply),
                )
            elif reply.document is not None:
                document = InputFile(reply.document.data, filename=reply.document.filename)
                await bot.send_document(chat_id, document, caption=reply.text)
            elif reply.image is not None:
                await bot.send_photo(
                    chat_id, reply.image, caption=reply.text, reply_markup=to_markup(reply)
                )
            else:
                await bot.send_message(chat_id, reply.text, reply_markup=to_markup(reply))
        except RetryAfter as error:
            return Outcome(Result.THROTTLED, str(error), _seconds(error.retry_after))
        except Forbidden as error:
            return Outcome(Result.UNREACHABLE, error.message)
        except BadRequest as error:
            if "not modified" in error.message:
                return Outcome(Result.SENT)
            if "chat not found" in error.message.lower():
                return Outcome(Result.UNREACHABLE, error.message)
            log.error("telegram refused a message to %s: %s", chat_id, error.message)
            return Outcome(Result.REFUSED, error.message)
        except NetworkError as error:  # TimedOut is a NetworkError too
            return _network_outcome(error)
        return Outcome(Result.SENT)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update %s failed", update, exc_info=context.error)

    def _on_polling_error(self, error: TelegramError) -> None:
        log.warning("telegram polling: %s", error)


#: httpx failures that happen before a request reaches Telegram: retrying cannot duplicate.
_NEVER_LEFT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _network_outcome(error: NetworkError) -> Outcome:
    """A connection that never opened, or an HTTP error status (Telegram answered, and did not
    deliver), is NOT_SENT; a timeout or a broken connection after the request left is UNKNOWN."""
    cause = error.__cause__
    if cause is None or isinstance(cause, _NEVER_LEFT):
        return Outcome(Result.NOT_SENT, str(error))
    log.warning("telegram: outcome unknown (%s)", error)
    return Outcome(Result.UNKNOWN, str(error))


def _seconds(retry_after: Any) -> float:
    return float(
        retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else retry_after
    )
