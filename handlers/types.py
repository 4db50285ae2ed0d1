"""The seam between chat apps and conversations: what came in, what goes out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PIL import Image

from loyalty.copywriter import LLMConfig
from loyalty.voice import Voice

#: Telegram allows 64 bytes of callback data, Zalo a little more: stay under the smaller one.
MAX_ACTION_BYTES = 64


@dataclass(frozen=True)
class Contact:
    """A phone number shared with the app's contact button. ``user_id`` is whose number it is."""

    phone: str
    user_id: str | None


@dataclass(frozen=True)
class Incoming:
    """One thing a person did in a chat: typed text, pressed a button, or shared a contact."""

    channel: str
    user_id: str
    chat_id: str
    text: str = ""
    action: str | None = None
    contact: Contact | None = None
    language_hint: str | None = None
    display_name: str = ""
    username: str | None = None
    #: The chat app's id for this event (``telegram:<update_id>``): an idempotency key for writes
    #: that a redelivered update must not repeat.
    event_id: str | None = None

    @property
    def command(self) -> str | None:
        """``/points@QuenBot 12`` -> ``points``: the command, lower-cased, without the bot name."""
        if not self.text.startswith("/"):
            return None
        word = self.text.split(maxsplit=1)[0][1:]
        return word.split("@", 1)[0].lower() or None

    @property
    def args(self) -> str:
        parts = self.text.split(maxsplit=1)
        return parts[1].strip() if self.command and len(parts) > 1 else ""


@dataclass(frozen=True)
class Button:
    """An inline button: ``action`` comes back as ``Incoming.action`` when pressed."""

    label: str
    action: str

    def __post_init__(self) -> None:
        if len(self.action.encode()) > MAX_ACTION_BYTES:
            raise ValueError(f"button action over {MAX_ACTION_BYTES} bytes: {self.action!r}")


@dataclass(frozen=True)
class PhoneRequest:
    """Ask for the person's own phone number with the app's share button (and a way to skip)."""

    share_label: str
    skip_label: str


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply (a data export, a report)."""

    filename: str
    data: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class CommandMenu:
    """The command menu the recipient's chat should show from now on (staff get their own).
    No commands means "back to the default menu"."""

    commands: tuple[str, ...]
    language: str


@dataclass(frozen=True)
class Reply:
    """One message to send back. ``keyboard`` is a persistent menu of labels (typing one is the
    same as sending it), ``buttons`` are inline buttons under the message. ``edit`` replaces the
    message whose button was pressed instead of sending a new one. Messages for anyone else
    (the member a cashier served, the owners) go through the outbox (``loyalty.outbox``)."""

    text: str
    image: bytes | None = None
    document: Attachment | None = None
    menu: CommandMenu | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    keyboard: tuple[tuple[str, ...], ...] | None = None
    ask_phone: PhoneRequest | None = None
    remove_keyboard: bool = False
    edit: bool = False


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Shop:
    """What handlers need to know about the shop they speak for."""

    name: str
    bot_username: str
    default_language: str = "vi"
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    clock: Callable[[], datetime] = _utc_now
    #: ``(channel, user id)`` of the owners named in the settings.
    owners: frozenset[tuple[str, str]] = frozenset()
    #: The shop's logo for the middle of voucher QR codes (a PIL image), if configured.
    logo: Image.Image | None = None
    #: Why marketing messages are being held (a misconfigured send window or cap), if they are.
    marketing_hold: str | None = None
    #: The shop's tone for drafted copy, and the model that drafts it (none: templates).
    tone: str = ""
    llm: LLMConfig = field(default_factory=lambda: LLMConfig(api_key=None, base_url=None))

    def voice(self) -> Voice:
        return Voice(self.name, self.tone, self.llm)
