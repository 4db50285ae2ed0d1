"""The Zalo Official Account adapter: webhook events in, OA messages out.

The conversations are the same as on Telegram (``handlers.router.handle``); every difference is
here:

* **Webhook.** ``POST /zalo/webhook`` checks ``X-ZEvent-Signature: mac=<hex>``, the plain SHA-256
  of ``app_id + raw body + timestamp + OA secret key`` (a bad or missing one gets 401 and nothing
  is stored), records the event's key in ``zalo_event`` (unique: a redelivery, even after a
  restart, is answered 200 and ignored), answers 200 at once and handles the event in a background
  task: Zalo wants an answer within 2 s. Events of one person are handled in arrival order. An
  event is recorded before it is handled, so one that crashes its handler is not retried (at most
  once, like a chat message should be).
* **Buttons** become OA buttons of type ``oa.query.hide``: pressing one sends its payload back as
  the person's text, unseen in the chat. Payloads start with ``#`` and come back as
  ``Incoming.action``. A reply's menu keyboard becomes buttons whose payload is the label (the
  router knows labels). Zalo cannot edit a sent message: an edit is sent as a new one.
* **Commands without a slash**: Zalo users type words. ``COMMAND_WORDS`` maps Vietnamese and
  English words (with or without diacritics) to the commands.
* **Phone**: the ``request_user_info`` template asks for it; ``user_submit_info`` comes back as
  ``Incoming.contact`` (Zalo fills in the person's own number) and its name as the display name.
  ``follow`` is a ``/start``; ``unfollow`` marks the account unreachable. Delivery receipts
  (``user_received_message``, ``user_seen_message``) are accepted and only logged.
* **Files**: the OA API takes only PDF and Word files, so a document (``/mydata``'s JSON) is sent
  as text, in 2,000-character messages.
* **Who may be written to when** (``deliver``, for the outbox): free within 48 h of the member's
  last message; from 48 h to 7 days only if ``QUEN_ZALO_PAID_MESSAGES`` allows billed messages;
  otherwise only through the approved template mapped to the message's kind
  (``QUEN_ZALO_TEMPLATE_<KIND>``, by user id or ``phone:<id>`` by phone number). With none, the
  message is skipped and the reason is recorded on its outbox row.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import io
import json
import logging
import unicodedata
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image
from tortoise.exceptions import IntegrityError

from bot.delivery import About, Outcome, Result
from bot.settings import Settings
from bot.zalo_api import (
    Credentials,
    NotAuthorised,
    NotFollower,
    OutsideWindow,
    RateLimited,
    RateLimiter,
    RefreshFailed,
    TokenError,
    TokenStore,
    ZaloApi,
    ZaloError,
)
from handlers.types import Contact, Incoming, Reply
from locales import t
from loyalty import outbox
from loyalty.conversations import mark_unreachable
from loyalty.staff import owner_accounts
from models.db import retry_while_unavailable
from models.members import ChannelAccount
from models.zalo import ZaloEvent, ZaloUpload

log = logging.getLogger(__name__)

CHANNEL = "zalo"
WEBHOOK_PATH = "/zalo/webhook"
SIGNATURE_HEADER = "X-ZEvent-Signature"
MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100
MAX_IMAGE_BYTES = 1024 * 1024
ACTION_MARK = "#"
FREE_WINDOW = timedelta(hours=48)
PAID_WINDOW = timedelta(days=7)
#: Zalo keeps an uploaded image 7 days; reuse it for a little less than that.
UPLOAD_REUSE = timedelta(days=7) - timedelta(hours=1)
#: How long the sender waits after a ``-32`` (over 4,000 requests a minute).
RATE_LIMIT_PAUSE = 10.0
RECEIPTS = frozenset({"user_received_message", "user_seen_message"})
SERVED = frozenset({"follow", "user_send_text", "user_send_image", "user_submit_info"})

#: Words Zalo users type instead of slash commands (lower case, NFC). Vietnamese first, then
#: the same without diacritics, then English.
COMMAND_WORDS: dict[str, str] = {
    "bắt đầu": "start",
    "tham gia": "start",
    "bat dau": "start",
    "tham gia ngay": "start",
    "start": "start",
    "join": "start",
    "thẻ": "card",
    "thẻ thành viên": "card",
    "the": "card",
    "card": "card",
    "điểm": "points",
    "diem": "points",
    "points": "points",
    "quà": "rewards",
    "đổi quà": "rewards",
    "qua": "rewards",
    "doi qua": "rewards",
    "rewards": "rewards",
    "voucher": "vouchers",
    "vouchers": "vouchers",
    "lịch sử": "history",
    "lich su": "history",
    "history": "history",
    "mời bạn": "invite",
    "giới thiệu": "invite",
    "moi ban": "invite",
    "gioi thieu": "invite",
    "invite": "invite",
    "ngôn ngữ": "language",
    "ngon ngu": "language",
    "language": "language",
    "trợ giúp": "help",
    "giúp": "help",
    "tro giup": "help",
    "help": "help",
    "dữ liệu": "mydata",
    "dữ liệu của tôi": "mydata",
    "du lieu": "mydata",
    "mydata": "mydata",
    "my data": "mydata",
    "dừng": "stop",
    "ngừng nhận tin": "stop",
    "dung": "stop",
    "stop": "stop",
    "nhận ưu đãi": "offers",
    "nhan uu dai": "offers",
    "offers": "offers",
    "xóa": "delete",
    "xóa dữ liệu": "delete",
    "xoa": "delete",
    "xoa du lieu": "delete",
    "delete": "delete",
    "bỏ qua": "skip",
    "skip": "skip",
}

Handle = Callable[[Incoming], Awaitable[list[Reply]]]
Clock = Callable[[], datetime]


# ------------------------------------------------------------------------- webhook, inbound


def signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """Zalo's ``mac``: plain SHA-256 (not an HMAC) of app id, raw body, timestamp, secret."""
    return hashlib.sha256(
        app_id.encode() + body + str(timestamp).encode() + oa_secret_key.encode()
    ).hexdigest()


def verified_event(
    body: bytes, header: str | None, app_id: str, oa_secret_key: str
) -> dict[str, Any] | None:
    """The event if the signature is Zalo's (for our app), else None."""
    if not header:
        return None
    try:
        event = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(event, dict) or "timestamp" not in event:
        return None
    given = header.strip().removeprefix("mac=")
    expected = signature(app_id, body, str(event["timestamp"]), oa_secret_key)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return None
    if str(event.get("app_id", app_id)) != app_id:
        return None
    return event


def sender_of(event: dict[str, Any]) -> str:
    """The Zalo user behind an event (``follower`` for follow and unfollow)."""
    who = event.get("follower") or event.get("sender") or {}
    return str(who.get("id", "")) if isinstance(who, dict) else ""


def event_key(event: dict[str, Any]) -> str:
    """``message.msg_id`` when the event has one; else event, user and timestamp."""
    message = event.get("message")
    if isinstance(message, dict) and message.get("msg_id"):
        return f"msg:{message['msg_id']}"[:128]
    return f"{event.get('event_name')}:{sender_of(event)}:{event.get('timestamp')}"[:128]


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def as_command(text: str) -> str:
    """``điểm`` -> ``/points``; ``start ref_ab12`` -> ``/start ref_ab12``; anything else as is.
    The whole text is tried first (``lịch sử``), then the first word with the rest as arguments.
    """
    stripped = text.strip()
    if not stripped or stripped.startswith("/"):
        return text
    whole = COMMAND_WORDS.get(_normal(stripped))
    if whole is not None:
        return f"/{whole}"
    first, _, rest = stripped.partition(" ")
    command = COMMAND_WORDS.get(_normal(first))
    if command is not None and rest.strip() and " " not in _normal(first):
        return f"/{command} {rest.strip()}"
    return text


def to_incoming(event: dict[str, Any], display_name: str = "") -> Incoming | None:
    """The channel-neutral view of a served event, or None."""
    name = event.get("event_name")
    user_id = sender_of(event)
    if name not in SERVED or not user_id:
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "user_id": user_id,
        "chat_id": user_id,
        "display_name": display_name,
        "event_id": f"{CHANNEL}:{event_key(event)}",
    }
    if name == "follow":
        return Incoming(text="/start", **common)
    if name == "user_submit_info":
        info = event.get("info") or {}
        phone = str(info.get("phone") or "")
        named = {**common, "display_name": str(info.get("name") or display_name)[:128]}
        # Zalo's form carries the person's own number: it is theirs, like a Telegram contact
        # whose user_id is the sender's.
        return Incoming(contact=Contact(phone, user_id) if phone else None, **named)
    message = event.get("message") or {}
    text = unicodedata.normalize("NFC", str(message.get("text") or ""))
    if text.startswith(ACTION_MARK) and len(text) > 1:
        return Incoming(action=text[1:], **common)
    return Incoming(text=as_command(text), **common)


# -------------------------------------------------------------------------- replies, outbound


def text_chunks(text: str, limit: int = MAX_TEXT) -> list[str]:
    """NFC text in pieces of at most ``limit`` characters, cut at line ends where possible."""
    text = unicodedata.normalize("NFC", text)
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text or not chunks:
        chunks.append(text)
    return chunks


def _button(title: str, payload: str) -> dict[str, Any]:
    return {"title": title[:MAX_BUTTON_TITLE], "type": "oa.query.hide", "payload": payload}


def reply_buttons(reply: Reply) -> list[dict[str, Any]]:
    """Inline buttons (payload ``#<action>``), or else the menu keyboard (payload = label)."""
    if reply.buttons:
        return [_button(b.label, ACTION_MARK + b.action) for row in reply.buttons for b in row]
    if reply.ask_phone is not None:
        return [_button(reply.ask_phone.skip_label, reply.ask_phone.skip_label)]
    if reply.keyboard is not None:
        return [_button(label, label) for row in reply.keyboard for label in row]
    return []


def text_messages(text: str, buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Text messages; buttons go under the last piece, five per message (Zalo's limit)."""
    chunks = text_chunks(text or "…")
    messages: list[dict[str, Any]] = [{"text": chunk} for chunk in chunks]
    groups = [buttons[i : i + MAX_BUTTONS] for i in range(0, len(buttons), MAX_BUTTONS)]
    for number, group in enumerate(groups):
        if number:
            messages.append({"text": "…"})
        messages[-1]["attachment"] = {"type": "template", "payload": {"buttons": group}}
    return messages


def request_info_message(title: str, subtitle: str) -> dict[str, Any]:
    """Zalo's form asking the person to share their phone number and name."""
    element = {"title": title[:100], "subtitle": subtitle[:500]}
    return {
        "attachment": {
            "type": "template",
            "payload": {"template_type": "request_user_info", "elements": [element]},
        }
    }


def media_message(attachment_id: str, caption: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "media",
                "elements": [{"media_type": "image", "attachment_id": attachment_id}],
            },
        }
    }
    if caption:
        message["text"] = caption
    return message


def fit_image(image: bytes) -> tuple[bytes, str]:
    """The image as Zalo takes it: PNG up to 1 MB, else re-encoded as JPEG."""
    if len(image) <= MAX_IMAGE_BYTES:
        return image, "image.png"
    picture = Image.open(io.BytesIO(image)).convert("RGB")
    for quality in (85, 70, 50):
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=quality)
        if out.tell() <= MAX_IMAGE_BYTES:
            return out.getvalue(), "image.jpg"
    picture.thumbnail((1280, 1280))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=70)
    return out.getvalue(), "image.jpg"


class Window(StrEnum):
    """Zalo's rule for consultation messages, by the time since the person's last message."""

    FREE = "free"
    PAID = "paid"
    CLOSED = "closed"


def window_at(last_seen: datetime | None, now: datetime) -> Window:
    if last_seen is None:
        return Window.CLOSED
    age = now - last_seen
    if age <= FREE_WINDOW:
        return Window.FREE
    return Window.PAID if age <= PAID_WINDOW else Window.CLOSED


def zalo_phone(e164: str) -> str:
    """``+84912345678`` -> ``84912345678``, as the by-phone template API wants it."""
    return e164.removeprefix("+")


# ------------------------------------------------------------------------------ the channel


async def alert_owners(reason: str, at: datetime) -> None:
    """A token refresh failed: tell the owners how to re-authorise (on Telegram or the console,
    not on Zalo, which is what is broken), at most once a day."""
    accounts = [a for a in await owner_accounts() if a.channel != CHANNEL]
    draft = outbox.Draft(
        "zalo_auth",
        f"zalo-auth:{at.date().isoformat()}",
        [("zalo-reauth-alert", {"reason": reason[:200]})],
    )
    await outbox.to_accounts(accounts, draft, at)


class ZaloChannel:
    """One Official Account: the webhook route, replies, and deliveries for the outbox."""

    name = CHANNEL

    def __init__(self, settings: Settings, handle: Handle, clock: Clock) -> None:
        if not settings.zalo_enabled:
            raise ValueError("QUEN_ZALO_APP_ID, _APP_SECRET and _OA_SECRET_KEY are required")
        assert settings.zalo_app_id and settings.zalo_app_secret and settings.zalo_oa_secret_key
        self.settings = settings
        self.app_id = settings.zalo_app_id
        self._oa_secret = settings.zalo_oa_secret_key.get_secret_value()
        self.credentials = Credentials(
            settings.zalo_app_id,
            settings.zalo_app_secret.get_secret_value(),
            settings.zalo_oauth_url,
        )
        self._handle = handle
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._api: ZaloApi | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._user_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.limiter = RateLimiter()

    @property
    def api(self) -> ZaloApi:
        if self._api is None:
            raise RuntimeError("the Zalo channel is not started")
        return self._api

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        initial = self.settings.zalo_refresh_token
        tokens = TokenStore(
            self._session,
            self.credentials,
            self._clock,
            initial_refresh_token=initial.get_secret_value() if initial else None,
            on_refresh_failure=lambda reason: alert_owners(reason, self._clock()),
        )
        self._api = ZaloApi(
            self._session,
            self.settings.zalo_api_url,
            self.settings.zalo_business_api_url,
            tokens,
            self.limiter,
        )
        log.info("zalo: OA app %s ready at %s", self.app_id, WEBHOOK_PATH)

    async def stop(self) -> None:
        """Let the events being handled finish, then close the HTTP session."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=30)
        if self._session is not None:
            await self._session.close()

    async def idle(self) -> None:
        """Wait until every accepted event has been handled (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(self._tasks)

    # ---------------------------------------------------------------------------- inbound

    async def webhook(self, request: web.Request) -> web.Response:
        """The route: verify, record once, answer, handle in the background."""
        body = await request.read()
        event = verified_event(
            body, request.headers.get(SIGNATURE_HEADER), self.app_id, self._oa_secret
        )
        if event is None:
            log.warning("zalo webhook: bad or missing signature from %s", request.remote)
            raise web.HTTPUnauthorized()
        key = event_key(event)
        try:
            await ZaloEvent.create(
                event_key=key,
                event_name=str(event.get("event_name", ""))[:40],
                received_at=self._clock(),
            )
        except IntegrityError:
            log.info("zalo webhook: %s already handled", key)
            return web.Response(text="ok")
        task = asyncio.create_task(self._process(event), name=f"zalo:{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(text="ok")

    async def _process(self, event: dict[str, Any]) -> None:
        name = str(event.get("event_name", ""))
        user_id = sender_of(event)
        async with self._user_locks[user_id]:
            try:
                await self._on_event(name, user_id, event)
            except Exception:
                log.exception("zalo: event %s failed", event_key(event))

    async def _on_event(self, name: str, user_id: str, event: dict[str, Any]) -> None:
        if name == "unfollow":
            await mark_unreachable(CHANNEL, user_id, self._clock())
            return
        if name in RECEIPTS:
            log.debug("zalo: %s from %s", name, user_id)
            return
        if name not in SERVED:
            log.info("zalo: event %s ignored", name)
            return
        incoming = to_incoming(event, await self._name_of(user_id))
        if incoming is None:
            return
        try:
            # Zalo had its 200 at once and will not deliver the event again: ride out a short
            # database outage here (``models.db.RETRY_PAUSES``).
            replies = await retry_while_unavailable(lambda: self._handle(incoming))
        except Exception:
            log.exception("zalo: handler failed on %s", event_key(event))
            replies = [Reply(t(self.settings.default_language, "error-generic"))]
        for reply in replies:
            outcome = await self._attempt(user_id, reply)
            if outcome.result is Result.UNREACHABLE:
                await mark_unreachable(CHANNEL, user_id, self._clock())
            if outcome.result is not Result.SENT:
                log.warning("zalo: reply to %s not sent: %s", user_id, outcome.detail)
                break

    async def _name_of(self, user_id: str) -> str:
        """The name we know, else Zalo's (one profile call for a new follower)."""
        account = await ChannelAccount.get_or_none(channel=CHANNEL, external_id=user_id)
        if account is not None and account.display_name:
            return account.display_name
        try:
            return await self.api.user_name(user_id)
        except (ZaloError, RefreshFailed, NotAuthorised, aiohttp.ClientError, TimeoutError):
            log.warning("zalo: no profile for %s", user_id, exc_info=True)
            return ""

    # --------------------------------------------------------------------------- outbound

    async def deliver(self, chat_id: str, reply: Reply, about: About | None = None) -> Outcome:
        """One attempt for the outbox sender, under Zalo's windows (see the module)."""
        if about is None:
            return await self._attempt(chat_id, reply)
        window = window_at(about.last_seen_at, self._clock())
        if window is Window.FREE or (window is Window.PAID and self.settings.zalo_paid_messages):
            return await self._attempt(chat_id, reply)
        why = (
            "last message over 48 h ago and paid messages are off"
            if window is Window.PAID
            else "no message from the member in 7 days"
        )
        template = self.settings.zalo_templates.get(about.kind.lower())
        if template is None:
            return Outcome(
                Result.SKIPPED,
                f"zalo: {why}, and no QUEN_ZALO_TEMPLATE_{about.kind.upper()}",
            )
        return await self._send_template(chat_id, template, about, why)

    async def _send_template(self, user_id: str, template: str, about: About, why: str) -> Outcome:
        data = {name: value[:100] for name, value in about.facts.items()}
        if template.startswith("phone:"):
            if about.phone is None:
                return Outcome(Result.SKIPPED, f"zalo: {why}, and the member has no phone")
            call = self.api.send_template_by_phone(
                zalo_phone(about.phone), template.removeprefix("phone:"), data, about.key
            )
        else:
            call = self.api.send_template(user_id, template, data)
        return await self._outcome_of(call)

    async def _attempt(self, user_id: str, reply: Reply) -> Outcome:
        """Send one reply (it may take several OA messages) and say what came of it."""
        try:
            messages = await self._messages(reply)
        except Exception as error:
            return _failure(error)
        for number, message in enumerate(messages):
            outcome = await self._outcome_of(self.api.send_cs(user_id, message))
            if outcome.result is not Result.SENT:
                if number and outcome.result is Result.NOT_SENT:
                    # Part of the reply arrived: sending it again would repeat that part.
                    return Outcome(Result.UNKNOWN, f"partly sent: {outcome.detail}")
                return outcome
        return Outcome(Result.SENT)

    async def _outcome_of(self, call: Awaitable[dict[str, Any]]) -> Outcome:
        try:
            await call
        except Exception as error:
            return _failure(error)
        return Outcome(Result.SENT)

    async def _messages(self, reply: Reply) -> list[dict[str, Any]]:
        buttons = reply_buttons(reply)
        if reply.image is not None:
            attachment = await self._attachment_for(reply.image)
            caption, *rest = text_chunks(reply.text) if reply.text else [""]
            first = media_message(attachment, caption)
            return [first, *text_messages("\n".join(rest), buttons)] if rest or buttons else [first]
        messages = text_messages(reply.text, buttons)
        if reply.document is not None:
            content = reply.document.data.decode("utf-8", errors="replace")
            messages += [{"text": chunk} for chunk in text_chunks(content)]
        if reply.ask_phone is not None:
            messages.append(request_info_message(reply.ask_phone.share_label, reply.text))
        return messages

    async def _attachment_for(self, image: bytes) -> str:
        """An ``attachment_id`` for the image: a recent upload of the same bytes, or a new one."""
        data, filename = fit_image(image)
        digest = hashlib.sha256(data).hexdigest()
        now = self._clock()
        known = await ZaloUpload.get_or_none(sha256=digest)
        if known is not None and now - known.uploaded_at < UPLOAD_REUSE:
            return known.attachment_id
        attachment = await self.api.upload_image(data, filename)
        if known is None:
            # The same image uploaded twice at once: either id works.
            with contextlib.suppress(IntegrityError):
                await ZaloUpload.create(sha256=digest, attachment_id=attachment, uploaded_at=now)
        else:
            await ZaloUpload.filter(id=known.id).update(attachment_id=attachment, uploaded_at=now)
        return attachment


def _failure(error: Exception) -> Outcome:
    """What an exception from a Zalo call means for the message."""
    if isinstance(error, RateLimited):
        return Outcome(Result.THROTTLED, str(error), RATE_LIMIT_PAUSE)
    if isinstance(error, NotFollower):
        return Outcome(Result.UNREACHABLE, str(error))
    if isinstance(error, OutsideWindow):
        return Outcome(Result.SKIPPED, f"zalo: {error}")
    if isinstance(error, TokenError | RefreshFailed | NotAuthorised):
        return Outcome(Result.NOT_SENT, str(error))
    if isinstance(error, ZaloError):
        log.error("zalo refused a message: %s", error)
        return Outcome(Result.REFUSED, str(error))
    if isinstance(error, aiohttp.ClientConnectorError | aiohttp.ClientResponseError):
        return Outcome(Result.NOT_SENT, str(error) or type(error).__name__)
    if isinstance(error, aiohttp.ClientError | TimeoutError):
        log.warning("zalo: outcome unknown (%r)", error)
        return Outcome(Result.UNKNOWN, str(error) or type(error).__name__)
    raise error
