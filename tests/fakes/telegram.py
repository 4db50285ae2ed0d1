"""A fake Telegram Bot API server for end-to-end tests.

Why a wire-level fake rather than a mocked ``telegram.Bot``: the production code talks to Telegram
through python-telegram-bot's real HTTP stack, and most of the bugs worth catching live exactly
there — a ``reply_markup`` serialised wrongly, a caption over the limit, HTML that Telegram refuses
to parse, a 429 nobody handles, a shutdown that loses updates. So this fake speaks the real Bot API
(``/bot<token>/<method>`` and ``/file/bot<token>/<path>``, form, multipart and JSON bodies,
``{"ok": ..., "result": ...}`` envelopes, real error codes and descriptions) and the production
code runs against it unchanged, exactly as it would against ``https://api.telegram.org``.

Deliberate simplifications, each documented where it happens: every chat is a private chat unless
its id is negative; webhooks may use plain ``http://`` on a loopback host (Telegram requires
HTTPS); a webhook update is given up after a few failed attempts instead of being retried for
hours (``webhook_retry_delays`` sets how many and how far apart); flood limits are off unless
asked for. A test can inject a single 429 with :meth:`FakeTelegram.fail_next`, or construct the
fake with ``flood_limits=True`` to get Telegram's documented limits on ``sendMessage`` /
``sendPhoto`` / ``sendDocument`` (about 30 messages a second overall, one a second per chat),
answered with real 429 "retry after N" errors, so that a sender's pacing and retry logic can be
proven against them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import io
import json
import math
import mimetypes
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from PIL import Image, UnidentifiedImageError

__all__ = ["Call", "Delivery", "FakeTelegram", "TgUser", "format_text"]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_COMMANDS = 100

# The methods Telegram's flood limits count: the ones that deliver a new message to a chat.
# Edits and chat actions have their own, much looser limits that the fake does not model.
FLOOD_LIMITED_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
FLOOD_WINDOW_SECONDS = 1.0

# What Telegram sends when no allowed_updates was ever given (or an empty list was given).
ALL_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND_SHAPE = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND_AT_START = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# How form values are decoded. PTB sends every non-string parameter JSON-encoded inside a form
# field ("true", "42", '{"inline_keyboard": ...}'), so the fake has to know which fields are text
# (never decoded, "123" stays a string) and which are numbers, flags or nested objects.
_TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "description",
        "short_description",
        "name",
        "secret_token",
        "url",
        "callback_query_id",
        "language_code",
        "photo",
        "document",
        "file_id",
        "inline_message_id",
        "ip_address",
        "action",
        "business_connection_id",
        "message_effect_id",
    }
)
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "from_chat_id",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
        "duration",
        "width",
        "height",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "show_alert",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_caption_above_media",
        "disable_content_type_detection",
        "for_channels",
        "allow_paid_broadcast",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "scope",
        "allowed_updates",
        "commands",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "media",
        "menu_button",
        "results",
        "permissions",
    }
)


# --------------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TgUser:
    """A simulated Telegram user; their private chat with the bot has the same id."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "vi"

    def to_api(self) -> dict[str, Any]:
        """The user as a Bot API ``User`` object (absent optional fields are omitted)."""
        return _drop_none(
            {
                "id": self.id,
                "is_bot": False,
                "first_name": self.first_name,
                "last_name": self.last_name,
                "username": self.username,
                "language_code": self.language_code,
            }
        )

    def private_chat(self) -> dict[str, Any]:
        """The user's private chat with the bot as a Bot API ``Chat`` object."""
        return _drop_none(
            {
                "id": self.id,
                "first_name": self.first_name,
                "last_name": self.last_name,
                "username": self.username,
                "type": "private",
            }
        )


@dataclass
class Call:
    """One Bot API request the fake received, successful or not.

    ``params`` holds the decoded parameters: JSON-encoded form fields (``reply_markup``,
    ``scope``, ``commands``...) are objects again, numeric fields are ints and flags are bools, so
    assertions read like the Bot API documentation. ``files`` holds uploaded multipart parts by
    part name. A call is recorded when its answer is ready, so a test that sees it also sees its
    effect on the fake's state.
    """

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float
    failed: bool = False
    error_code: int | None = None
    description: str | None = None
    result: Any = None

    @property
    def chat_id(self) -> int | str | None:
        """The ``chat_id`` parameter, if the call had one."""
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """The ``text`` or ``caption`` parameter as sent (markup not parsed)."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    def summary(self) -> str:
        """One line for assertion messages."""
        bits = [self.method]
        if self.chat_id is not None:
            bits.append(f"chat_id={self.chat_id}")
        if self.text is not None:
            shown = self.text if len(self.text) <= 60 else self.text[:57] + "..."
            bits.append(f"text={shown!r}")
        if "callback_query_id" in self.params:
            bits.append(f"callback_query_id={self.params['callback_query_id']}")
        outcome = f"FAILED {self.error_code} {self.description}" if self.failed else "ok"
        return " ".join(bits) + f" -> {outcome}"


@dataclass
class Delivery:
    """One attempt to POST an update to the webhook."""

    update_id: int
    url: str
    attempt: int
    status: int | None
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API error answer; raised anywhere in a handler, turned into the JSON envelope."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class _Answer:
    """A successful result that also carries Telegram's optional ``description`` text."""

    result: Any
    description: str


@dataclass
class _Upload:
    data: bytes
    filename: str | None
    content_type: str | None


@dataclass
class _Failure:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    chat_id: int | str | None
    remaining: int


@dataclass
class _FloodSlot:
    """A send let through by the flood limiter, kept so it can be given back if the send fails."""

    at: float
    chat_id: int | None
    previous: float | None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    def photo_size(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "width": self.width,
            "height": self.height,
        }

    def document(self) -> dict[str, Any]:
        return _drop_none(
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_name": self.file_name,
                "mime_type": self.mime_type,
                "file_size": len(self.data),
            }
        )


@dataclass
class _Chat:
    id: int
    next_message_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    reply_keyboard: dict[str, Any] | None = None

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


class _Pulse:
    """A broadcast wake-up: every waiter that started waiting before ``notify()`` is released.

    Everything runs on one event loop, so checking state and then waiting cannot miss a
    notification: nothing else runs between the check and grabbing the current event.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None) -> None:
        """Return on the next ``notify()`` or after ``seconds`` (never, if ``None``)."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _u16(text: str) -> int:
    """Length in UTF-16 code units: the unit of Bot API entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of ``text[index]``: the unit of Telegram's markup error positions."""
    return len(text[:index].encode("utf-8"))


def _now() -> int:
    return int(time.time())


def _decode_param(name: str, value: Any) -> Any:
    """Give one request parameter the type the Bot API documents for it (see the sets above)."""
    if not isinstance(value, str) or name in _TEXT_PARAMS:
        return value
    if name in _BOOL_PARAMS:
        return value.strip().lower() in ("true", "1")
    if name in _INT_PARAMS:
        for kind in (int, float):
            with contextlib.suppress(ValueError):
                return kind(value)
        return value
    if name in _JSON_PARAMS or value[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


# --------------------------------------------------------------------------------------------
# Formatting: the HTML, MarkdownV2 and legacy Markdown parse modes
#
# Telegram parses markup server side and rejects malformed markup with 400 "can't parse
# entities"; an unescaped "<" in a customer's name is a classic production bug, so the fake
# parses too, producing the plain text and UTF-16 based entities Telegram would store.
# --------------------------------------------------------------------------------------------

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_HTML_SIMPLE_ENTITIES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
_HTML_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}


class _MarkupError(Exception):
    """Malformed markup; the message becomes the text after "can't parse entities: "."""


def _entity(kind: str, offset: int, length: int, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "offset": offset, "length": length, **_drop_none(extra)}


def _link_url(url: str) -> str | None:
    """Telegram silently drops links it cannot make sense of; mirror that coarsely."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    if "://" in url or url.startswith(("tg:", "mailto:")):
        return url
    return f"http://{url}" if "." in url else None


def _decode_html_entity(src: str, index: int) -> tuple[str | None, int]:
    match = _HTML_ENTITY.match(src, index)
    if match is None:
        return None, index
    decimal, hexadecimal, named = match.groups()
    if named is not None:
        char = _HTML_NAMED_ENTITIES.get(named)
        return (char, match.end()) if char is not None else (None, index)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
        return chr(code), match.end()
    return None, index


@dataclass
class _OpenTag:
    name: str
    argument: str | None
    offset: int
    start: int
    first_char: int


def _parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML style: https://core.telegram.org/bots/api#html-style."""
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[_OpenTag] = []
    offset = 0
    i, n = 0, len(src)
    while i < n:
        char = src[i]
        if char == "&":
            decoded, end = _decode_html_entity(src, i)
            if decoded is not None:
                out.append(decoded)
                offset += _u16(decoded)
                i = end
                continue
        if char != "<":
            out.append(char)
            offset += _u16(char)
            i += 1
            continue
        start = i
        i += 1
        if i < n and src[i] == "/":
            i += 1
            name_start = i
            while i < n and not src[i].isspace() and src[i] != ">":
                i += 1
            end_name = src[name_start:i].lower()
            while i < n and src[i].isspace():
                i += 1
            if i >= n or src[i] != ">":
                raise _MarkupError(f"Unclosed end tag at byte offset {_byte_offset(src, start)}")
            i += 1
            if not stack:
                raise _MarkupError(f"Unexpected end tag at byte offset {_byte_offset(src, start)}")
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise _MarkupError(
                    f"Unmatched end tag at byte offset {_byte_offset(src, start)}, "
                    f'expected "</{tag.name}>", found "</{end_name}>"'
                )
            if offset > tag.offset:
                _close_html_tag(tag, offset, "".join(out[tag.first_char :]), entities)
            continue
        name_start = i
        while i < n and not src[i].isspace() and src[i] != ">":
            i += 1
        if i >= n:
            raise _MarkupError(f"Unclosed start tag at byte offset {_byte_offset(src, start)}")
        name = src[name_start:i].lower()
        if name not in _HTML_TAGS:
            raise _MarkupError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, start)}'
            )
        attributes, i = _parse_html_attributes(src, i, name, start)
        argument = _html_tag_argument(name, attributes)
        if name == "span" and argument != "spoiler":
            raise _MarkupError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(src, start)}'
            )
        stack.append(_OpenTag(name, argument, offset, start, len(out)))
    if stack:
        raise _MarkupError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return "".join(out), entities


def _parse_html_attributes(src: str, i: int, tag: str, start: int) -> tuple[dict[str, str], int]:
    """Parse ``name="value"`` pairs up to and including the closing ``>``."""
    attributes: dict[str, str] = {}
    n = len(src)

    def unclosed() -> _MarkupError:
        return _MarkupError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(src, start)}')

    while True:
        while i < n and src[i].isspace():
            i += 1
        if i >= n:
            raise unclosed()
        if src[i] == ">":
            return attributes, i + 1
        name_start = i
        while i < n and not src[i].isspace() and src[i] not in "=>/\"'":
            i += 1
        attribute = src[name_start:i].lower()
        if not attribute:
            raise _MarkupError(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(src, start)}'
            )
        while i < n and src[i].isspace():
            i += 1
        if i >= n:
            raise unclosed()
        if src[i] != "=":
            attributes[attribute] = ""
            continue
        i += 1
        while i < n and src[i].isspace():
            i += 1
        if i >= n:
            raise unclosed()
        if src[i] in "\"'":
            quote = src[i]
            i += 1
            value: list[str] = []
            while i < n and src[i] != quote:
                decoded, end = _decode_html_entity(src, i) if src[i] == "&" else (None, i)
                if decoded is not None:
                    value.append(decoded)
                    i = end
                else:
                    value.append(src[i])
                    i += 1
            if i >= n:
                raise unclosed()
            i += 1
            attributes[attribute] = "".join(value)
        else:
            value_start = i
            while i < n and ((src[i].isascii() and src[i].isalnum()) or src[i] in ".-_"):
                i += 1
            if i >= n:
                raise unclosed()
            if not src[i].isspace() and src[i] != ">":
                raise _MarkupError(
                    f"Unexpected end of name token at byte offset {_byte_offset(src, i)}"
                )
            attributes[attribute] = src[value_start:i].lower()


def _html_tag_argument(tag: str, attributes: dict[str, str]) -> str | None:
    if tag == "a":
        return attributes.get("href")
    if tag == "code":
        css = attributes.get("class", "")
        return css.removeprefix("language-") if css.startswith("language-") else None
    if tag == "span":
        css = attributes.get("class", "")
        return css.removeprefix("tg-") if css.startswith("tg-") else None
    if tag == "tg-emoji":
        return attributes.get("emoji-id")
    if tag == "blockquote":
        return "expandable" if "expandable" in attributes else None
    return None


def _close_html_tag(
    tag: _OpenTag, end: int, inner_text: str, entities: list[dict[str, Any]]
) -> None:
    length = end - tag.offset
    same_range = bool(entities) and (
        entities[-1]["offset"] == tag.offset and entities[-1]["length"] == length
    )
    if tag.name in _HTML_SIMPLE_ENTITIES:
        entities.append(_entity(_HTML_SIMPLE_ENTITIES[tag.name], tag.offset, length))
    elif tag.name == "a":
        url = _link_url(tag.argument if tag.argument is not None else inner_text)
        if url is not None:
            entities.append(_entity("text_link", tag.offset, length, url=url))
    elif tag.name == "tg-emoji":
        if not (tag.argument or "").isdigit():
            raise _MarkupError("Invalid custom emoji identifier specified")
        entities.append(_entity("custom_emoji", tag.offset, length, custom_emoji_id=tag.argument))
    elif tag.name == "code":
        entities.append(_entity("code", tag.offset, length))
        if tag.argument:
            entities[-1]["language"] = tag.argument
    elif tag.name == "pre":
        if same_range and entities[-1]["type"] == "code":
            language = entities[-1].get("language")
            entities[-1] = _entity("pre", tag.offset, length, language=language)
        else:
            entities.append(_entity("pre", tag.offset, length))
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.argument else "blockquote"
        entities.append(_entity(kind, tag.offset, length))


@dataclass
class _OpenMark:
    kind: str
    offset: int
    byte: int
    first_char: int
    language: str | None = None


def _parse_markdown_v2(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's MarkdownV2 style: https://core.telegram.org/bots/api#markdownv2-style."""
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[_OpenMark] = []
    offset = 0
    i, n = 0, len(src)

    def emit(text: str) -> None:
        nonlocal offset
        out.append(text)
        offset += _u16(text)

    def open_mark(kind: str, start: int, language: str | None = None) -> None:
        stack.append(_OpenMark(kind, offset, _byte_offset(src, start), len(out), language))

    def close_mark(**extra: Any) -> None:
        mark = stack.pop()
        if offset > mark.offset:
            entities.append(
                _entity(mark.kind, mark.offset, offset - mark.offset, language=mark.language)
                | _drop_none(extra)
            )

    while i < n:
        char = src[i]
        top = stack[-1].kind if stack else None
        if char == "\\" and i + 1 < n and 0 < ord(src[i + 1]) <= 126:
            emit(src[i + 1])
            i += 2
            continue
        if top in ("code", "pre"):
            if top == "pre" and src.startswith("```", i):
                close_mark()
                i += 3
            elif top == "code" and char == "`":
                close_mark()
                i += 1
            else:
                emit(char)
                i += 1
            continue
        if char == "\n" and top == "blockquote" and not src.startswith(">", i + 1):
            close_mark()
            emit(char)
            i += 1
            continue
        if char not in _MDV2_RESERVED:
            emit(char)
            i += 1
            continue
        # Closing marks first: only the innermost open entity can be closed.
        if char == "*" and top == "bold":
            close_mark()
            i += 1
        elif char == "_" and src.startswith("__", i) and top == "underline":
            close_mark()
            i += 2
        elif (char, top) in (("_", "italic"), ("~", "strikethrough")):
            close_mark()
            i += 1
        elif src.startswith("||", i) and top == "spoiler":
            close_mark()
            i += 2
        elif char == "]" and top in ("text_link", "custom_emoji"):
            i += 1
            url: str | None = None
            if i < n and src[i] == "(":
                url_start = i
                i += 1
                chars: list[str] = []
                while i < n and src[i] != ")":
                    if src[i] == "\\" and i + 1 < n and 0 < ord(src[i + 1]) <= 126:
                        i += 1
                    chars.append(src[i])
                    i += 1
                if i >= n:
                    raise _MarkupError(
                        f"Can't find end of a url at byte offset {_byte_offset(src, url_start)}"
                    )
                i += 1
                url = "".join(chars)
            mark = stack[-1]
            if mark.kind == "custom_emoji":
                emoji_id = (url or "").removeprefix("tg://emoji?id=")
                if not emoji_id.isdigit():
                    raise _MarkupError("Custom emoji URL must have an emoji identifier")
                close_mark(custom_emoji_id=emoji_id)
            else:
                link = _link_url(url if url is not None else "".join(out[mark.first_char :]))
                if link is None:
                    stack.pop()
                else:
                    close_mark(url=link)
        # Opening marks.
        elif char == "*":
            open_mark("bold", i)
            i += 1
        elif char == "_" and src.startswith("__", i):
            open_mark("underline", i)
            i += 2
        elif char == "_":
            open_mark("italic", i)
            i += 1
        elif char == "~":
            open_mark("strikethrough", i)
            i += 1
        elif src.startswith("||", i):
            open_mark("spoiler", i)
            i += 2
        elif char == "[":
            open_mark("text_link", i)
            i += 1
        elif src.startswith("![", i):
            open_mark("custom_emoji", i)
            i += 2
        elif src.startswith("```", i):
            start = i
            i += 3
            language = None
            line_end = src.find("\n", i)
            if line_end >= 0 and not any(ch.isspace() or ch == "`" for ch in src[i:line_end]):
                language = src[i:line_end] or None
                i = line_end + 1
            open_mark("pre", start, language)
        elif char == "`":
            open_mark("code", i)
            i += 1
        elif char == ">" and (i == 0 or src[i - 1] == "\n"):
            if top != "blockquote":
                open_mark("blockquote", i)
            i += 1
        else:
            raise _MarkupError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
    if stack and stack[-1].kind == "blockquote":
        close_mark()
    if stack:
        mark = stack[-1]
        raise _MarkupError(
            f"Can't find end of {_MDV2_NAMES[mark.kind]} entity at byte offset {mark.byte}"
        )
    return "".join(out), entities


def _parse_markdown(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's legacy Markdown style: https://core.telegram.org/bots/api#markdown-style."""
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    offset = 0
    i, n = 0, len(src)
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        char = src[i]
        if char == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            out.append(src[i + 1])
            offset += 1
            i += 2
            continue
        if char not in "_*`[":
            out.append(char)
            offset += _u16(char)
            i += 1
            continue
        unclosed = _MarkupError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(src, i)}"
        )
        url: str | None = None
        language: str | None = None
        if char == "[":
            end = src.find("]", i + 1)
            if end < 0:
                raise unclosed
            inner, i = src[i + 1 : end], end + 1
            kind = "text_link"
            if i < n and src[i] == "(":
                url_end = src.find(")", i + 1)
                if url_end < 0:
                    raise unclosed
                url, i = src[i + 1 : url_end], url_end + 1
            url = _link_url(url if url is not None else inner)
        elif src.startswith("```", i):
            end = src.find("```", i + 3)
            if end < 0:
                raise unclosed
            inner, i = src[i + 3 : end], end + 3
            kind = "pre"
            first_line, newline, rest = inner.partition("\n")
            if newline and not any(ch.isspace() for ch in first_line):
                language, inner = first_line or None, rest
        else:
            end = src.find(char, i + 1)
            if end < 0:
                raise unclosed
            inner, i = src[i + 1 : end], end + 1
            kind = kinds[char]
        out.append(inner)
        length = _u16(inner)
        if length and (kind != "text_link" or url is not None):
            entities.append(_entity(kind, offset, length, url=url, language=language))
        offset += length
    return "".join(out), entities


def _strip_formatted(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading and trailing whitespace and clips entities to what is left."""
    stripped = text.strip()
    lead = _u16(text[: len(text) - len(text.lstrip())])
    total = _u16(stripped)
    kept = []
    for item in entities:
        start = max(item["offset"] - lead, 0)
        end = min(item["offset"] + item["length"] - lead, total)
        if end > start:
            kept.append({**item, "offset": start, "length": end - start})
    kept.sort(key=lambda item: (item["offset"], -item["length"]))
    return stripped, kept


def format_text(
    text: str, parse_mode: str | None = None, entities: list[dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """What Telegram stores for ``text``: the plain text and its entities (UTF-16 offsets).

    Applies ``parse_mode`` ("HTML", "MarkdownV2", "Markdown", case-insensitive) or, without one,
    takes ``entities`` as given; then trims surrounding whitespace like Telegram. Malformed
    markup raises ``ApiError`` 400 "Bad Request: can't parse entities: ...".
    """
    mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
    try:
        if mode == "html":
            plain, found = _parse_html(text)
        elif mode == "markdownv2":
            plain, found = _parse_markdown_v2(text)
        elif mode == "markdown":
            plain, found = _parse_markdown(text)
        elif mode == "":
            plain = text
            found = [dict(item) for item in entities] if isinstance(entities, list) else []
        else:
            raise _bad("unsupported parse_mode")
    except _MarkupError as exc:
        raise _bad(f"can't parse entities: {exc}") from exc
    return _strip_formatted(plain, found)


# --------------------------------------------------------------------------------------------
# Reply markup validation
# --------------------------------------------------------------------------------------------

_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Reject markup Telegram would reject; return it as a dict (``None`` when absent)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad(
                'Field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for button in (button for row in rows for button in row):
            _check_inline_button(button)
        return markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad('Field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
        for button in (button for row in rows for button in row):
            if isinstance(button, str):
                continue
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _bad('can\'t parse keyboard button: Field "text" must be of type String')
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise _bad("can't parse reply keyboard markup JSON object")


def _check_inline_button(button: Any) -> None:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise _bad(prefix + "InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise _bad(prefix + 'Field "text" must be of type String')
    if not any(key in button for key in _INLINE_BUTTON_ACTIONS):
        raise _bad(prefix + "Text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise _bad("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise _bad("BUTTON_URL_INVALID")


def _inline_callback_data(message: dict[str, Any]) -> set[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {button["callback_data"] for row in rows for button in row if "callback_data" in button}


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

Handler = Callable[[dict[str, Any], dict[str, _Upload]], Awaitable[Any]]


class FakeTelegram:
    """An in-process Telegram Bot API server on 127.0.0.1 (see the module docstring for why).

    Point the bot at it with ``base_url=f"{fake.root}/bot"`` and
    ``base_file_url=f"{fake.root}/file/bot"``. Tests drive users with ``push_*`` (which create
    real ``Update`` objects, served by ``getUpdates`` or POSTed to the webhook), inspect what the
    bot did through ``calls`` / ``sent_to`` / ``wait_for``, and make Telegram misbehave with
    ``fail_next``.

    ``strict_chats=True`` answers 400 "chat not found" when the bot writes to a private chat no
    simulated user ever opened, as Telegram does for ids it does not know; it is off by default
    so tests can message users they never pushed anything for.

    ``flood_limits=True`` enforces Telegram's flood limits on the sending methods (see
    ``FLOOD_LIMITED_METHODS``): more than ``global_rate`` sends in any sliding second, or a send
    to a chat less than ``per_chat_interval`` seconds after the previous one to that chat, is
    answered 429 "Too Many Requests: retry after N" and has no effect. ``flood_rejections``
    counts those answers (injected ``fail_next`` 429s are not included), so a benchmark can report
    how often a sender ran into the limits. Off by default: most tests send far faster than
    Telegram allows and are not about pacing.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        bot_username: str = "QuenTestBot",
        bot_id: int = 123456,
        *,
        bot_name: str = "Quen",
        strict_chats: bool = False,
        flood_limits: bool = False,
        global_rate: int = 30,
        per_chat_interval: float = 1.0,
    ) -> None:
        if global_rate < 1:
            raise ValueError("global_rate must be at least 1")
        if per_chat_interval < 0:
            raise ValueError("per_chat_interval must not be negative")
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.strict_chats = strict_chats
        self.flood_limits = flood_limits
        self.global_rate = global_rate
        self.per_chat_interval = per_chat_interval
        self.flood_rejections = 0
        self.calls: list[Call] = []
        self.deliveries: list[Delivery] = []
        # Pauses between webhook attempts; one more attempt than pauses, then the update is
        # given up (Telegram keeps retrying for hours, which no test wants to wait for). An
        # answer's Retry-After replaces the pause, as on the Bot API server.
        self.webhook_retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5)
        # The Bot API server's webhook connections time out after 60 s.
        self.webhook_timeout = 60.0

        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None
        self._port: int | None = None
        self._closing = False

        self._pending: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._explicit_allowed_updates: list[str] | None = None
        self._poll_ticket = 0
        self._updates_pulse = _Pulse()
        self._calls_pulse = _Pulse()

        self._webhook: dict[str, Any] | None = None
        self._webhook_last_error: tuple[int, str] | None = None

        self._users: dict[int, TgUser] = {}
        self._chats: dict[int, _Chat] = {}
        self._blocked: set[int] = set()
        self._callbacks: dict[str, int] = {}
        self._next_callback = 1
        self._failures: list[_Failure] = []
        self._stalls: list[tuple[str, str | None, float]] = []
        # Flood limiter state, on time.monotonic(): accepted sends in the last second (oldest
        # first) and, per chat, when the last accepted send to it happened.
        self._recent_sends: deque[float] = deque()
        self._last_send_to: dict[int, float] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._photo_groups: dict[str, list[dict[str, Any]]] = {}
        self._next_file = 1
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}

        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._set_my_description,
            "getMyDescription": self._get_my_description,
            "setMyShortDescription": self._set_my_short_description,
            "getMyShortDescription": self._get_my_short_description,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getChat": self._get_chat,
            "getFile": self._get_file,
        }
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind a free port on 127.0.0.1 and start serving."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._closing = False
        self._session = aiohttp.ClientSession()
        self._worker = asyncio.create_task(self._webhook_worker(), name="fake-telegram-webhook")

    async def stop(self) -> None:
        """Release pending long polls, stop webhook delivery and close the server."""
        self._closing = True
        self._updates_pulse.notify()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._port = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def root(self) -> str:
        """``http://127.0.0.1:<port>``: what goes into ``QUEN_TELEGRAM_API_URL``."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not running; call start() first")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url`` (the token is appended by PTB)."""
        return f"{self.root}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url`` (the token is appended by PTB)."""
        return f"{self.root}/file/bot"

    # ---------------------------------------------------------------- recording

    def sent_to(self, chat_id: int, *, include_failed: bool = False) -> list[Call]:
        """The ``send*`` / ``edit*`` calls addressed to ``chat_id`` (chat actions excluded)."""
        return [
            call
            for call in self.calls
            if call.method.startswith(("send", "edit"))
            and call.method != "sendChatAction"
            and str(call.chat_id) == str(chat_id)
            and (include_failed or not call.failed)
        ]

    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline is the point of this helper
    ) -> Call:
        """The first recorded call (already recorded or still to come) matching ``predicate``.

        Raises AssertionError listing what the bot did call when none matches in time.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for call in self.calls:
                if predicate(call):
                    return call
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(
                    f"no matching Bot API call within {timeout}s; calls so far:\n"
                    + self.calls_summary()
                )
            await self._calls_pulse.wait(remaining)

    async def wait_for_count(
        self,
        method: str,
        chat_id: int,
        n: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline is the point of this helper
    ) -> list[Call]:
        """Wait until ``n`` successful ``method`` calls to ``chat_id`` were made; return them."""
        wanted = method.lower()

        def matching() -> list[Call]:
            return [
                call
                for call in self.calls
                if call.method.lower() == wanted
                and not call.failed
                and str(call.chat_id) == str(chat_id)
            ]

        deadline = asyncio.get_running_loop().time() + timeout
        while len(found := matching()) < n:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(
                    f"expected {n} successful {method} calls to chat {chat_id} within "
                    f"{timeout}s, saw {len(found)}; calls so far:\n" + self.calls_summary()
                )
            await self._calls_pulse.wait(remaining)
        return found

    def calls_summary(self, limit: int = 40) -> str:
        """The most recent calls, long-polling ``getUpdates`` left out, one per line."""
        shown = [call for call in self.calls if call.method != "getUpdates"][-limit:]
        return "\n".join(f"  {call.summary()}" for call in shown) or "  (none)"

    def clear_calls(self) -> None:
        """Forget recorded calls and webhook deliveries (state such as messages is kept)."""
        self.calls.clear()
        self.deliveries.clear()

    def delivered_counts(self) -> dict[int, int]:
        """Successful sends per chat id, to check a sender for lost or duplicated messages.

        Counted from ``calls``, so ``clear_calls()`` starts the count over; failed attempts
        (429s included) do not count, only what actually reached the chat.
        """
        counts: dict[int, int] = {}
        for call in self.calls:
            if call.method not in FLOOD_LIMITED_METHODS or call.failed:
                continue
            chat_id = call.chat_id
            if isinstance(chat_id, int) and not isinstance(chat_id, bool):
                counts[chat_id] = counts.get(chat_id, 0) + 1
        return counts

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._calls_pulse.notify()

    # ---------------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id`` if given) with an error.

        Without a description, Telegram's usual one for the code is used: 429 "Too Many
        Requests: retry after N" (with ``parameters.retry_after``, default 1 s), 403 "Forbidden:
        bot was blocked by the user", 400 "Bad Request: chat not found".
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            defaults = {
                429: f"Too Many Requests: retry after {retry_after}",
                403: "Forbidden: bot was blocked by the user",
                400: "Bad Request: chat not found",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }
            description = defaults.get(error_code, f"Error {error_code}")
        self._failures.append(
            _Failure(method.lower(), error_code, description, retry_after, chat_id, times)
        )

    def stall_next(self, method: str, seconds: float, *, chat_id: int | str | None = None) -> None:
        """Handle the next call of ``method`` (to ``chat_id`` if given) normally, then wait
        ``seconds`` before answering: the message is delivered but the client times out first,
        the case where a sender cannot know whether it arrived."""
        self._stalls.append((method.lower(), None if chat_id is None else str(chat_id), seconds))

    def _take_stall(self, method: str, params: dict[str, Any]) -> float:
        for stall in self._stalls:
            name, chat, seconds = stall
            if name == method.lower() and chat in (None, str(params.get("chat_id"))):
                self._stalls.remove(stall)
                return seconds
        return 0.0

    def _injected_failure(self, method: str, params: dict[str, Any]) -> None:
        for failure in self._failures:
            if failure.method != method.lower():
                continue
            if failure.chat_id is not None and str(failure.chat_id) != str(params.get("chat_id")):
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            parameters = (
                {"retry_after": failure.retry_after} if failure.retry_after is not None else None
            )
            raise ApiError(failure.error_code, failure.description, parameters)

    # ---------------------------------------------------------------- flood limits

    def _take_flood_slot(self, method: str, params: dict[str, Any]) -> _FloodSlot | None:
        """Let a send through the flood limits (reserving its place) or raise Telegram's 429.

        The place is taken before the handler runs, not after it succeeds: a handler may await
        (sendPhoto fetching a URL) and concurrent sends must not all squeeze through meanwhile.
        """
        if not self.flood_limits or method not in FLOOD_LIMITED_METHODS:
            return None
        now = time.monotonic()
        recent = self._recent_sends
        while recent and recent[0] <= now - FLOOD_WINDOW_SECONDS:
            recent.popleft()
        wait = 0.0
        if len(recent) >= self.global_rate:
            # The window frees up when the oldest send in it is a full second old.
            wait = recent[0] + FLOOD_WINDOW_SECONDS - now
        raw_chat_id = params.get("chat_id")
        chat_id = (
            raw_chat_id
            if isinstance(raw_chat_id, int) and not isinstance(raw_chat_id, bool)
            else None  # the handler rejects it; there is no chat to limit
        )
        previous = self._last_send_to.get(chat_id) if chat_id is not None else None
        if previous is not None:
            wait = max(wait, previous + self.per_chat_interval - now)
        if wait > 0:
            self.flood_rejections += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        recent.append(now)
        if chat_id is not None:
            self._last_send_to[chat_id] = now
        return _FloodSlot(now, chat_id, previous)

    def _return_flood_slot(self, slot: _FloodSlot | None) -> None:
        """Undo ``_take_flood_slot`` for a send that failed: only delivered sends count."""
        if slot is None:
            return
        with contextlib.suppress(ValueError):  # already slid out of the window
            self._recent_sends.remove(slot.at)
        if slot.chat_id is not None and self._last_send_to.get(slot.chat_id) == slot.at:
            if slot.previous is None:
                del self._last_send_to[slot.chat_id]
            else:
                self._last_send_to[slot.chat_id] = slot.previous

    # ---------------------------------------------------------------- simulated users

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue a raw ``Update`` (its ``update_id`` is assigned here); return the update_id.

        Like Telegram, an update of a type excluded by the current ``allowed_updates`` is
        discarded at creation time.
        """
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, **{k: v for k, v in update.items() if k != "update_id"}}
        kind = next((key for key in update if key != "update_id"), None)
        if kind in self._allowed_updates:
            self._pending.append(update)
            self._updates_pulse.notify()
        return update_id

    def push_text(self, user: TgUser, text: str) -> int:
        """The user sends ``text``; a leading ``/command`` gets its ``bot_command`` entity."""
        content: dict[str, Any] = {"text": text}
        match = _BOT_COMMAND_AT_START.match(text)
        if match:
            content["entities"] = [_entity("bot_command", 0, _u16(match.group()))]
        return self._push_user_message(user, content)

    def push_contact(
        self, user: TgUser, phone_number: str, contact_user_id: int | None = None
    ) -> int:
        """The user shares a contact; by default their own, as the request_contact button does."""
        owner = user if contact_user_id is None else self._users.get(contact_user_id, user)
        contact = _drop_none(
            {
                "phone_number": phone_number,
                "first_name": owner.first_name,
                "last_name": owner.last_name,
                "user_id": user.id if contact_user_id is None else contact_user_id,
            }
        )
        return self._push_user_message(user, {"contact": contact})

    def push_photo(self, user: TgUser, data: bytes, caption: str | None = None) -> int:
        """The user sends a photo; the bot can getFile and download every size of it."""
        content: dict[str, Any] = {"photo": self._register_photo(data)}
        if caption is not None:
            content["caption"] = caption
        return self._push_user_message(user, content)

    def push_callback(self, user: TgUser, data: str, message_id: int | None = None) -> int:
        """The user presses an inline button carrying ``data``.

        The query's ``message`` is the given message, or else the newest bot message in the
        user's chat with a button carrying ``data``; a ``message_id`` that no longer exists is
        sent as an inaccessible message (``date`` 0), as Telegram does.
        """
        self._register_user(user)
        chat = self._chat(user.id)
        message: dict[str, Any] | None = None
        if message_id is not None:
            message = chat.messages.get(message_id) or {
                "message_id": message_id,
                "chat": self._chat_object(user.id),
                "date": 0,
            }
        else:
            message = next(
                (
                    item
                    for item in sorted(chat.messages.values(), key=lambda m: -m["message_id"])
                    if item.get("from", {}).get("id") == self.bot_id
                    and data in _inline_callback_data(item)
                ),
                None,
            )
        query_id = str(self.bot_id * 1_000_000_000 + self._next_callback)
        self._next_callback += 1
        self._callbacks[query_id] = user.id
        query: dict[str, Any] = {
            "id": query_id,
            "from": user.to_api(),
            "chat_instance": str(abs(user.id) * 7919 + self.bot_id),
            "data": data,
        }
        if message is not None:
            query["message"] = copy.deepcopy(message)
        return self.push_update({"callback_query": query})

    def block(self, user: TgUser) -> int:
        """The user blocks the bot: sends now fail with 403 and a my_chat_member update is queued.

        The user's next pushed message unblocks the bot again, as "Restart" does in the apps.
        """
        self._register_user(user)
        self._blocked.add(user.id)
        return self.push_update({"my_chat_member": self._member_change(user, "member", "kicked")})

    def _member_change(self, user: TgUser, old: str, new: str) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"status": status, "user": self._bot_user()}
            if status == "kicked":
                data["until_date"] = 0
            return data

        return {
            "chat": user.private_chat(),
            "from": user.to_api(),
            "date": _now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }

    def _push_user_message(self, user: TgUser, content: dict[str, Any]) -> int:
        self._register_user(user)
        if user.id in self._blocked:
            self._blocked.discard(user.id)
            self.push_update({"my_chat_member": self._member_change(user, "kicked", "member")})
        chat = self._chat(user.id)
        message = {
            "message_id": chat.take_message_id(),
            "from": user.to_api(),
            "chat": user.private_chat(),
            "date": _now(),
            **content,
        }
        chat.messages[message["message_id"]] = message
        return self.push_update({"message": copy.deepcopy(message)})

    def _register_user(self, user: TgUser) -> None:
        self._users[user.id] = user
        self._chat(user.id)

    # ---------------------------------------------------------------- state for assertions

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat as it stands: both sides' messages, edits applied, deletions removed."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [copy.deepcopy(chat.messages[key]) for key in sorted(chat.messages)]

    def reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The custom reply keyboard the user currently sees (``None`` once removed)."""
        chat = self._chats.get(chat_id)
        return copy.deepcopy(chat.reply_keyboard) if chat and chat.reply_keyboard else None

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """The command list stored for ``scope`` (default scope if omitted) and language."""
        return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def menu_button(self, chat_id: int | None) -> dict[str, Any]:
        """The menu button a chat shows: its own, else the bot's default (``None``)."""
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
        return copy.deepcopy(button or {"type": "default"})

    def file_bytes(self, file_id: str) -> bytes:
        """The stored content of a file the fake knows (uploaded by the bot or by a user)."""
        return self._files[file_id].data

    @property
    def webhook_url(self) -> str | None:
        """The webhook currently set, if any."""
        return self._webhook["url"] if self._webhook else None

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by getUpdates nor delivered to the webhook."""
        return copy.deepcopy(self._pending)

    # ---------------------------------------------------------------- HTTP plumbing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return self._serve_file(path.removeprefix("/file/bot"))
        match = re.fullmatch(r"/bot([^/]*)/([^/]*)/?", path)
        if match is None:
            return self._error_response(ApiError(404, "Not Found"))
        token, method_name = match.groups()
        call = Call(method=method_name, params={}, files={}, at=time.time())
        try:
            call.params, uploads = await self._read_params(request)
            call.files = {name: upload.data for name, upload in uploads.items()}
            if token != self.token:
                if _TOKEN_SHAPE.fullmatch(token):
                    raise ApiError(401, "Unauthorized")
                raise ApiError(404, "Not Found")
            known = self._methods.get(method_name.lower())
            if known is None:
                raise ApiError(404, "Not Found")
            call.method, handler = known
            self._injected_failure(call.method, call.params)
            flood_slot = self._take_flood_slot(call.method, call.params)
            try:
                result = await handler(call.params, uploads)
            except BaseException:
                self._return_flood_slot(flood_slot)
                raise
        except ApiError as exc:
            call.failed = True
            call.error_code = exc.error_code
            call.description = exc.description
            self._record(call)
            return self._error_response(exc)
        payload: dict[str, Any] = {"ok": True}
        if isinstance(result, _Answer):
            payload["result"] = result.result
            payload["description"] = result.description
        else:
            payload["result"] = result
        call.result = copy.deepcopy(payload["result"])
        self._record(call)
        stall = self._take_stall(call.method, call.params)
        if stall:
            await asyncio.sleep(stall)
        return web.json_response(payload, dumps=_dumps)

    @staticmethod
    def _error_response(exc: ApiError) -> web.Response:
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": exc.error_code,
            "description": exc.description,
        }
        if exc.parameters:
            payload["parameters"] = exc.parameters
        return web.json_response(payload, status=exc.error_code, dumps=_dumps)

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, _Upload]]:
        """Query string plus body: form, multipart (with files) or JSON, as Telegram accepts."""
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = json.loads(await request.text())
                except ValueError as exc:
                    raise _bad("can't parse JSON object") from exc
                if not isinstance(body, dict):
                    raise _bad("can't parse JSON object")
                raw.update(body)
            elif request.content_type in (
                "multipart/form-data",
                "application/x-www-form-urlencoded",
            ):
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[name] = _Upload(
                            value.file.read(), value.filename, value.content_type
                        )
                    else:
                        raw[name] = value
        return {name: _decode_param(name, value) for name, value in raw.items()}, uploads

    def _serve_file(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        stored = self._files_by_path.get(file_path) if token == self.token else None
        if stored is None:
            return self._error_response(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ---------------------------------------------------------------- parameter helpers

    def _chat_id(self, params: dict[str, Any]) -> int:
        value = params.get("chat_id")
        if value is None or value == "":
            raise _bad("chat_id is empty")
        if isinstance(value, bool) or not isinstance(value, int):
            # "@username" targets channels and groups, which this fake does not simulate.
            raise _bad("chat not found")
        return value

    def _message_id(self, params: dict[str, Any]) -> int:
        value = params.get("message_id")
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad("message identifier is not specified")
        return value

    def _sendable_chat(self, params: dict[str, Any]) -> _Chat:
        chat_id = self._chat_id(params)
        if chat_id == self.bot_id:
            raise ApiError(403, "Forbidden: bots can't send messages to bots")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if self.strict_chats and chat_id not in self._chats:
            raise _bad("chat not found")
        return self._chat(chat_id)

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(chat_id)
        return chat

    def _chat_object(self, chat_id: int) -> dict[str, Any]:
        user = self._users.get(chat_id)
        if user is not None:
            return user.private_chat()
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "title": f"Chat {chat_id}", "type": kind}
        return {"id": chat_id, "first_name": f"User {chat_id}", "type": "private"}

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def _owned_message(self, params: dict[str, Any], *, action: str) -> dict[str, Any]:
        if params.get("inline_message_id"):
            # Inline-mode messages are not simulated; Telegram answers this for unknown ids.
            raise _bad("MESSAGE_ID_INVALID")
        chat_id = self._chat_id(params)
        message_id = self._message_id(params)
        chat = self._chats.get(chat_id)
        message = chat.messages.get(message_id) if chat else None
        if message is None:
            raise _bad(f"message to {action} not found")
        if message.get("from", {}).get("id") != self.bot_id and action == "edit":
            raise _bad("message can't be edited")
        return message

    def _reply_target(self, chat: _Chat, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            target_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply"))
        else:
            target_id = params.get("reply_to_message_id")
            allow = bool(params.get("allow_sending_without_reply"))
        if target_id is None:
            return None
        target = chat.messages.get(target_id) if isinstance(target_id, int) else None
        if target is None:
            if allow:
                return None
            raise _bad("message to be replied not found")
        return {key: value for key, value in target.items() if key != "reply_to_message"}

    def _store_bot_message(
        self,
        chat: _Chat,
        params: dict[str, Any],
        content: dict[str, Any],
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        reply_to = self._reply_target(chat, params)
        message: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": self._bot_user(),
            "chat": self._chat_object(chat.id),
            "date": _now(),
            **content,
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        elif markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        chat.messages[message["message_id"]] = message
        return copy.deepcopy(message)

    @staticmethod
    def _text_content(text: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return content

    def _caption_content(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        if caption is None:
            return {}
        text, entities = format_text(
            str(caption), params.get("parse_mode"), params.get("caption_entities")
        )
        if len(text) > MAX_CAPTION_LENGTH:
            raise _bad("message caption is too long")
        content: dict[str, Any] = {}
        if text:
            content["caption"] = text
        if entities:
            content["caption_entities"] = entities
        return content

    # ---------------------------------------------------------------- files

    def _store_file(
        self,
        kind: str,
        data: bytes,
        extension: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> _StoredFile:
        number = self._next_file
        self._next_file += 1
        prefix = {"photo": "AgAC", "document": "BQAC"}.get(kind, "CAAC")
        opaque = base64.urlsafe_b64encode(f"{self.bot_id}:{kind}:{number}".encode()).decode()
        stored = _StoredFile(
            file_id=prefix + opaque.rstrip("="),
            file_unique_id="AQAD" + base64.urlsafe_b64encode(str(number).encode()).decode(),
            kind=kind,
            data=data,
            file_path=f"{kind}s/file_{number}.{extension}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _register_photo(self, data: bytes) -> list[dict[str, Any]]:
        """Store a photo the way Telegram does: thumbnails (90/320/800 px) plus the original.

        The largest size keeps the exact uploaded bytes, so a test can decode what the bot sent.
        """
        if not data:
            raise _bad("file must be non-empty")
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                width, height = image.size
                image_format = (image.format or "JPEG").lower()
                if width + height > 10000 or max(width, height) > 20 * max(1, min(width, height)):
                    raise _bad("PHOTO_INVALID_DIMENSIONS")
                sizes = []
                for side in (90, 320, 800):
                    if max(width, height) <= side:
                        break
                    thumb = image.convert("RGB")
                    thumb.thumbnail((side, side))
                    buffer = io.BytesIO()
                    thumb.save(buffer, format="JPEG", quality=80)
                    sizes.append(
                        self._store_file(
                            "photo",
                            buffer.getvalue(),
                            "jpg",
                            mime_type="image/jpeg",
                            width=thumb.width,
                            height=thumb.height,
                        )
                    )
        except (UnidentifiedImageError, OSError) as exc:
            raise _bad("IMAGE_PROCESS_FAILED") from exc
        extension = "jpg" if image_format == "jpeg" else image_format
        sizes.append(
            self._store_file(
                "photo",
                data,
                extension,
                mime_type=mimetypes.types_map.get(f".{extension}", "application/octet-stream"),
                width=width,
                height=height,
            )
        )
        group = [stored.photo_size() for stored in sizes]
        for stored in sizes:
            self._photo_groups[stored.file_id] = group
        return copy.deepcopy(group)

    def _upload_for(self, name: str, value: Any, uploads: dict[str, _Upload]) -> _Upload | None:
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad(f"there is no {name} in the request")
            return upload
        return uploads.get(name)

    async def _fetch_url(self, url: str) -> bytes:
        """Telegram downloads URL inputs itself; so does the fake (it has no internet, though)."""
        if self._session is None:
            raise _bad("failed to get HTTP URL content")
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                if resp.status != 200:
                    raise _bad("failed to get HTTP URL content")
                return await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _bad("failed to get HTTP URL content") from exc

    def _known_file(self, file_id: str, kind: str) -> _StoredFile:
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise _bad("type of file mismatch")
        return stored

    # ---------------------------------------------------------------- Bot API methods

    async def _get_me(self, _params: dict[str, Any], _uploads: dict[str, _Upload]) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: dict[str, Any], _uploads: dict[str, _Upload]) -> Any:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = params.get("limit")
        timeout = params.get("timeout")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) and limit else 100
        timeout = float(timeout) if isinstance(timeout, int | float) and timeout > 0 else 0.0
        self._set_allowed_updates(params.get("allowed_updates"))
        if isinstance(offset, int) and offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._pending = self._pending[offset:]
        # A newer getUpdates terminates an older one still waiting, as on the real server
        # (PTB abandons its long poll on shutdown and sends a final getUpdates(timeout=0)).
        self._poll_ticket += 1
        ticket = self._poll_ticket
        self._updates_pulse.notify()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self._closing:
                return []
            if ticket != self._poll_ticket:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if self._webhook is not None:
                raise ApiError(409, "Conflict: terminated by setWebhook request")
            if self._pending:
                return copy.deepcopy(self._pending[:limit])
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return []
            await self._updates_pulse.wait(remaining)

    def _set_allowed_updates(self, allowed: Any) -> None:
        if not isinstance(allowed, list):
            return
        self._explicit_allowed_updates = [str(kind) for kind in allowed]
        known = frozenset(self._explicit_allowed_updates) & ALL_UPDATE_TYPES
        self._allowed_updates = known or DEFAULT_UPDATE_TYPES

    async def _set_webhook(self, params: dict[str, Any], _uploads: dict[str, _Upload]) -> Any:
        url = params.get("url") or ""
        if not url:
            return await self._delete_webhook(params, _uploads)
        parts = urlsplit(str(url))
        loopback = parts.hostname in _LOOPBACK_HOSTS
        if not parts.hostname:
            raise _bad("bad webhook: Failed to resolve host: Name or service not known")
        # Telegram insists on HTTPS on ports 80/88/443/8443; a loopback receiver in a test
        # may use plain HTTP on any port.
        if parts.scheme != "https" and not (loopback and parts.scheme == "http"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if not loopback and parts.port is not None and parts.port not in _WEBHOOK_PORTS:
            raise _bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_SHAPE.fullmatch(str(secret)):
            raise _bad("secret token contains unallowed characters")
        max_connections = params.get("max_connections", 40)
        if not isinstance(max_connections, int) or not 1 <= max_connections <= 100:
            max_connections = 40
        self._set_allowed_updates(params.get("allowed_updates"))
        if params.get("drop_pending_updates"):
            self._pending.clear()
        same = self._webhook is not None and self._webhook["url"] == url
        self._webhook = {"url": url, "secret_token": secret, "max_connections": max_connections}
        self._webhook_last_error = None
        self._updates_pulse.notify()
        return _Answer(True, "Webhook is already set" if same else "Webhook was set")

    async def _delete_webhook(self, params: dict[str, Any], _uploads: dict[str, _Upload]) -> Any:
        existed = self._webhook is not None
        self._webhook = None
        self._webhook_last_error = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._updates_pulse.notify()
        return _Answer(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    async def _get_webhook_info(self, _params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        info: dict[str, Any] = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self._webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        if self._explicit_allowed_updates is not None:
            info["allowed_updates"] = list(self._explicit_allowed_updates)
        return info

    async def _send_message(self, params: dict[str, Any], _uploads: dict[str, _Upload]) -> Any:
        chat = self._sendable_chat(params)
        markup = _check_reply_markup(params.get("reply_markup"))
        raw = params.get("text")
        text, entities = format_text(
            "" if raw is None else str(raw), params.get("parse_mode"), params.get("entities")
        )
        if not text:
            raise _bad("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        return self._store_bot_message(chat, params, self._text_content(text, entities), markup)

    async def _send_photo(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        chat = self._sendable_chat(params)
        markup = _check_reply_markup(params.get("reply_markup"))
        caption = self._caption_content(params)
        value = params.get("photo")
        upload = self._upload_for("photo", value, uploads)
        if upload is not None:
            sizes = self._register_photo(upload.data)
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            sizes = self._register_photo(await self._fetch_url(value))
        elif isinstance(value, str) and value:
            sizes = copy.deepcopy(self._photo_groups[self._known_file(value, "photo").file_id])
        else:
            raise _bad("there is no photo in the request")
        return self._store_bot_message(chat, params, {"photo": sizes, **caption}, markup)

    async def _send_document(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        chat = self._sendable_chat(params)
        markup = _check_reply_markup(params.get("reply_markup"))
        caption = self._caption_content(params)
        value = params.get("document")
        upload = self._upload_for("document", value, uploads)
        if upload is None and isinstance(value, str) and value.startswith(("http://", "https://")):
            name = urlsplit(value).path.rsplit("/", 1)[-1] or "file"
            upload = _Upload(await self._fetch_url(value), name, None)
        if upload is not None:
            if not upload.data:
                raise _bad("file must be non-empty")
            name = upload.filename or "file"
            mime = (
                mimetypes.guess_type(name)[0] or upload.content_type or "application/octet-stream"
            )
            extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
            stored = self._store_file(
                "document", upload.data, extension, file_name=name, mime_type=mime
            )
        elif isinstance(value, str) and value:
            stored = self._known_file(value, "document")
        else:
            raise _bad("there is no document in the request")
        return self._store_bot_message(
            chat, params, {"document": stored.document(), **caption}, markup
        )

    async def _send_chat_action(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        self._sendable_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _edit_message_text(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        message = self._owned_message(params, action="edit")
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        markup = _check_reply_markup(params.get("reply_markup"))
        raw = params.get("text")
        text, entities = format_text(
            "" if raw is None else str(raw), params.get("parse_mode"), params.get("entities")
        )
        if not text:
            raise _bad("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        # Without reply_markup the inline keyboard goes away, as on Telegram.
        changes = {**self._text_content(text, entities), "reply_markup": markup}
        return self._apply_edit(message, changes, ("text", "entities", "reply_markup"))

    async def _edit_message_caption(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        message = self._owned_message(params, action="edit")
        if "photo" not in message and "document" not in message:
            raise _bad("there is no caption in the message to edit")
        markup = _check_reply_markup(params.get("reply_markup"))
        changes = {**self._caption_content(params), "reply_markup": markup}
        return self._apply_edit(message, changes, ("caption", "caption_entities", "reply_markup"))

    async def _edit_message_reply_markup(
        self, params: dict[str, Any], _u: dict[str, _Upload]
    ) -> Any:
        message = self._owned_message(params, action="edit")
        markup = _check_reply_markup(params.get("reply_markup"))
        return self._apply_edit(message, {"reply_markup": markup}, ("reply_markup",))

    def _apply_edit(
        self, message: dict[str, Any], changes: dict[str, Any], fields: tuple[str, ...]
    ) -> Any:
        markup = changes.get("reply_markup")
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        if all(message.get(name) == changes.get(name) for name in fields):
            raise _bad(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for name in fields:
            if changes.get(name) is None:
                message.pop(name, None)
            else:
                message[name] = changes[name]
        message["edit_date"] = _now()
        return copy.deepcopy(message)

    async def _delete_message(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        message = self._owned_message(params, action="delete")
        del self._chats[message["chat"]["id"]].messages[message["message_id"]]
        return True

    async def _answer_callback_query(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        # Each query can be answered once; afterwards Telegram treats the id as unknown.
        if self._callbacks.pop(query_id, None) is None:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        return True

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) and scope else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    async def _set_my_commands(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict) or not _COMMAND_SHAPE.fullmatch(
                str(item.get("command", ""))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            description = item.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": item["command"], "description": description})
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    async def _delete_my_commands(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    async def _set_my_description(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        key = ("description", str(params.get("language_code") or ""))
        self._descriptions[key] = str(params.get("description") or "")
        return True

    async def _get_my_description(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        key = ("description", str(params.get("language_code") or ""))
        return {"description": self._descriptions.get(key, "")}

    async def _set_my_short_description(
        self, params: dict[str, Any], _u: dict[str, _Upload]
    ) -> Any:
        key = ("short_description", str(params.get("language_code") or ""))
        self._descriptions[key] = str(params.get("short_description") or "")
        return True

    async def _get_my_short_description(
        self, params: dict[str, Any], _u: dict[str, _Upload]
    ) -> Any:
        key = ("short_description", str(params.get("language_code") or ""))
        return {"short_description": self._descriptions.get(key, "")}

    async def _set_chat_menu_button(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise _bad("can't parse menu button JSON object")
        if button["type"] == "web_app":
            web_app = button.get("web_app")
            if not button.get("text") or not isinstance(web_app, dict):
                raise _bad("can't parse menu button JSON object")
            if not str(web_app.get("url", "")).startswith("https://"):
                raise _bad("BUTTON_URL_INVALID")  # Mini Apps are https only
        chat_id = params.get("chat_id")
        self._menu_buttons[chat_id if isinstance(chat_id, int) else None] = button
        return True

    async def _get_chat_menu_button(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        chat_id = params.get("chat_id")
        return self.menu_button(chat_id if isinstance(chat_id, int) else None)

    async def _get_chat(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        user = self._users.get(chat_id)
        if user is None:
            raise _bad("chat not found")
        info: dict[str, Any] = {
            **user.private_chat(),
            # Users without a custom colour get id % 7, per the Bot API docs.
            "accent_color_id": chat_id % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
        if user.username:
            info["active_usernames"] = [user.username]
        return info

    async def _get_file(self, params: dict[str, Any], _u: dict[str, _Upload]) -> Any:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # ---------------------------------------------------------------- webhook delivery

    async def _webhook_worker(self) -> None:
        """Deliver queued updates while a webhook is set, as the Bot API server does
        (telegram-bot-api's WebhookActor keeps one queue per chat): one update per chat at a
        time and in order within the chat, up to the webhook's ``max_connections`` chats at
        once, so a chat whose update keeps failing holds back only itself."""
        in_flight: dict[int, asyncio.Task[None]] = {}
        try:
            while not self._closing:
                hook = self._webhook
                if hook is not None:
                    self._start_deliveries(hook, in_flight)
                await self._updates_pulse.wait(None)
        finally:
            for task in in_flight.values():
                task.cancel()
            await asyncio.gather(*in_flight.values(), return_exceptions=True)

    def _start_deliveries(
        self, hook: dict[str, Any], in_flight: dict[int, asyncio.Task[None]]
    ) -> None:
        """Start the first pending update of every chat with nothing in flight."""
        considered: set[int] = set()
        for update in self._pending:
            queue = _queue_of(update)
            if queue in considered:
                continue  # a later update of a chat waits for the earlier one
            considered.add(queue)
            if queue in in_flight:
                continue
            if len(in_flight) >= hook["max_connections"]:
                break
            task = asyncio.create_task(self._deliver_and_settle(hook, update))
            in_flight[queue] = task
            task.add_done_callback(lambda _, queue=queue: self._settled(in_flight, queue))

    def _settled(self, in_flight: dict[int, asyncio.Task[None]], queue: int) -> None:
        in_flight.pop(queue, None)
        self._updates_pulse.notify()

    async def _deliver_and_settle(self, hook: dict[str, Any], update: dict[str, Any]) -> None:
        delivered = await self._deliver(hook, update)
        if delivered or self._webhook is hook:
            # Delivered, or given up on; a webhook removed meanwhile leaves it for polling.
            self._pending = [u for u in self._pending if u["update_id"] != update["update_id"]]

    async def _deliver(self, hook: dict[str, Any], update: dict[str, Any]) -> bool:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        body = _dumps(update)
        delays = (*self.webhook_retry_delays, None)
        for attempt, delay in enumerate(delays, start=1):
            status: int | None = None
            error: str | None = None
            retry_after = ""
            try:
                async with self._session.post(
                    hook["url"],
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                ) as response:
                    status = response.status
                    if not 200 <= status < 300:
                        error = f"Wrong response from the webhook: {status} {response.reason}"
                        retry_after = response.headers.get("Retry-After", "")
            except aiohttp.ClientConnectorError:
                error = "Connection refused"
            except TimeoutError:
                error = "Read timeout expired"
            except aiohttp.ClientError as exc:
                error = f"Connection error: {exc}"
            self.deliveries.append(
                Delivery(update["update_id"], hook["url"], attempt, status, error, time.time())
            )
            if error is None:
                return True
            if self._webhook is hook:
                self._webhook_last_error = (_now(), error)
            if delay is None or self._webhook is not hook or self._closing:
                return False
            await asyncio.sleep(int(retry_after) if retry_after.isdigit() else delay)
        return False


def _queue_of(update: dict[str, Any]) -> int:
    """The chat an update belongs to (its sender for a button press), which orders delivery."""
    for key, content in update.items():
        if key == "update_id" or not isinstance(content, dict):
            continue
        chat = content.get("chat") or (content.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        sender = content.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return int(sender["id"])
    return -int(update["update_id"])  # nothing to order by: a queue of its own


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
