"""``quen chat``: talk to the bot in a terminal as a customer, no Telegram account needed.

Buttons are numbered (type the number to press one), a menu keyboard is shown as labels you can
type, and ``/contact <phone>`` shares your own number as the contact button would. Card images are
saved as PNG files next to the database.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.delivery import About, Outcome, Result
from bot.sender import OutboxSender
from handlers.router import handle
from handlers.types import Contact, Incoming, Reply, Shop
from locales import t
from loyalty import staff
from loyalty.conversations import Caller, account_for
from loyalty.outbox import Policy

CHANNEL = "console"


class ConsoleChat:
    """One terminal user. It is also the console's outbox channel: messages the bot starts for
    console accounts (a points notice after ``--as cashier`` records a purchase) print here."""

    name = CHANNEL

    def __init__(self, shop: Shop, user: str, card_dir: Path, language: str) -> None:
        self.shop = shop
        self.user = user
        self.card_dir = card_dir
        self.language = language
        self.actions: list[str] = []
        self.cards = 0
        self._pushed: list[str] = []
        self.sender = OutboxSender(
            {CHANNEL: self},
            lambda: self.shop,
            Policy(zone=shop.zone),
            lambda: datetime.now(UTC),
            rate=25,
            lease=timedelta(seconds=60),
        )

    async def deliver(self, chat_id: str, reply: Reply, about: About | None = None) -> Outcome:
        self._pushed.append(f"  (→ {chat_id}) {reply.text}")
        if reply.image is not None:
            self._pushed.append(self._save_card(reply.image))
        return Outcome(Result.SENT)

    def _save_card(self, image: bytes) -> str:
        self.cards += 1
        self.card_dir.mkdir(parents=True, exist_ok=True)
        path = self.card_dir / f"{self.user}-card-{self.cards}.png"
        path.write_bytes(image)
        return t(self.language, "console-card-saved", path=str(path))

    def incoming(self, line: str) -> Incoming:
        text = line.strip()
        action, contact = None, None
        if text.isdigit() and 0 < int(text) <= len(self.actions):
            action, text = self.actions[int(text) - 1], ""
        elif text.startswith("/contact"):
            contact, text = Contact(text.removeprefix("/contact").strip(), self.user), ""
        return Incoming(
            channel=CHANNEL,
            user_id=self.user,
            chat_id=self.user,
            text=text,
            action=action,
            contact=contact,
            language_hint=self.language,
            display_name=self.user,
        )

    def render(self, replies: list[Reply]) -> str:
        self.actions = []
        lines: list[str] = []
        for reply in replies:
            lines.append(reply.text)
            if reply.image is not None:
                lines.append(self._save_card(reply.image))
            for row in reply.buttons:
                for button in row:
                    self.actions.append(button.action)
                    lines.append(f"  [{len(self.actions)}] {button.label}")
            if reply.ask_phone is not None:
                lines.append(f"  « {reply.ask_phone.share_label}: /contact 09… »")
                lines.append(f"  « {reply.ask_phone.skip_label} »")
            if reply.keyboard is not None:
                lines.append(
                    "  " + "  ".join(f"« {label} »" for row in reply.keyboard for label in row)
                )
        return "\n".join(lines)

    async def turn(self, line: str) -> str:
        text = self.render(await handle(self.incoming(line), self.shop))
        await self.sender.flush()
        pushed, self._pushed = self._pushed, []
        return "\n".join([text, *pushed])


async def appoint_console_cashier(user: str) -> None:
    """``quen chat --as cashier``: the terminal's account becomes a cashier (audited), so an owner
    can rehearse the till on the machine that runs the bot."""
    now = datetime.now(UTC)
    account = await account_for(Caller(CHANNEL, user, user, display_name=user), now)
    if await staff.role_of(account) is None:
        await staff.appoint(account, staff.CASHIER, reason="console")


async def run_console(shop: Shop, user: str, card_dir: Path, language: str, role: str) -> None:
    """Read lines from stdin until ``/quit`` or end of input."""
    chat = ConsoleChat(shop, user, card_dir, language)
    print(t(language, "console-intro", role=t(language, f"role-{role}")), flush=True)
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line or line.strip() == "/quit":
            return
        if line.strip():
            print(await chat.turn(line), flush=True)
