"""Per-message state shared by the conversation scripts: who is talking, in which language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers.types import Incoming, Reply, Shop
from locales import LANGUAGES, t
from models.members import ChannelAccount, Conversation, Customer
from models.staff import StaffMember

MENU = (("menu-card", "menu-points"), ("menu-language", "menu-help"))
#: The persistent keyboard's labels, in every language, and the command each one stands for.
MENU_COMMANDS = {
    "menu-card": "card",
    "menu-points": "points",
    "menu-language": "language",
    "menu-help": "help",
}


@dataclass
class Session:
    incoming: Incoming
    shop: Shop
    account: ChannelAccount
    conversation: Conversation
    member: Customer | None
    language: str
    now: datetime
    staff: StaffMember | None = None

    def say(self, key: str, **args: object) -> str:
        return t(self.language, key, shop=self.shop.name, **args)

    def reply(self, key: str, **args: object) -> Reply:
        return Reply(self.say(key, **args))

    def menu(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(self.say(key) for key in row) for row in MENU)

    def with_menu(self, key: str, **args: object) -> Reply:
        return Reply(self.say(key, **args), keyboard=self.menu())


def shown_name(customer: Customer) -> str:
    """A member's name as staff and cards show it (erased or nameless members get a dash)."""
    return customer.display_name or "—"


def staff_name(account: ChannelAccount) -> str:
    """How a staff member is named to owners: their chat name, else their chat id."""
    return account.display_name or account.external_id


def command_for_label(text: str) -> str | None:
    """Map a menu label typed or tapped in any language to its command."""
    label = text.strip()
    for language in LANGUAGES:
        for key, command in MENU_COMMANDS.items():
            if label == t(language, key):
                return command
    return None


def is_skip(text: str) -> bool:
    """``/skip`` or the Skip button's label, in any language."""
    word = text.strip()
    return word.lower() == "/skip" or any(word == t(lang, "button-skip") for lang in LANGUAGES)
