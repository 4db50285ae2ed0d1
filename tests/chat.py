"""A customer typing to the handlers directly (no chat app): the conversation-level test driver."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.outgoing import render
from handlers.router import handle
from handlers.types import Contact, Incoming, Reply, Shop
from models.members import ChannelAccount, Customer
from models.outbox import OutboxMessage


@dataclass
class Chat:
    shop: Shop
    user_id: str = "1001"
    name: str = "Lan Nguyễn"
    language_hint: str | None = "vi"
    channel: str = "telegram"
    username: str | None = None
    last: list[Reply] = field(default_factory=list)

    async def _send(self, **kwargs: object) -> list[Reply]:
        incoming = Incoming(
            channel=self.channel,
            user_id=self.user_id,
            chat_id=self.user_id,
            language_hint=self.language_hint,
            display_name=self.name,
            username=self.username,
            **kwargs,  # type: ignore[arg-type]
        )
        self.last = await handle(incoming, self.shop)
        return self.last

    async def say(self, text: str) -> list[Reply]:
        return await self._send(text=text)

    async def press(self, action: str) -> list[Reply]:
        return await self._send(action=action)

    async def share_phone(self, phone: str, owner: str | None = None) -> list[Reply]:
        return await self._send(contact=Contact(phone=phone, user_id=owner or self.user_id))

    def action(self, label_part: str) -> str:
        """The action of the button whose label contains ``label_part`` in the last replies."""
        for reply in self.last:
            for row in reply.buttons:
                for button in row:
                    if label_part in button.label:
                        return button.action
        raise AssertionError(f"no button {label_part!r} in {self.last}")

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.last)


async def inbox(shop: Shop, user_id: str) -> list[Reply]:
    """The messages the bot queued for this person since the last look, rendered as the sender
    would (the handler-level tests have no sender): they are marked sent once read."""
    account = await ChannelAccount.get(external_id=user_id)
    rows = await OutboxMessage.filter(account_id=account.id, status="queued").order_by("id")
    replies = []
    for row in rows:
        customer = await Customer.get_or_none(id=row.customer_id) if row.customer_id else None
        replies.append(await render(row, account, customer, shop))
        await OutboxMessage.filter(id=row.id).update(status="sent")
    return replies


async def consent(chat: Chat, *, language: str = "Tiếng Việt", offers: bool = False) -> Chat:
    """Walk the join flow up to the phone question (the member exists from here)."""
    await chat.say("/start")
    await chat.press(chat.action(language))
    vietnamese = language == "Tiếng Việt"
    if offers:
        choice = "nhận ưu đãi" if vietnamese else "offers"
    else:
        choice = "Chỉ tham gia" if vietnamese else "Just join"
    await chat.press(chat.action(choice))
    return chat


async def join(chat: Chat, *, language: str = "Tiếng Việt", offers: bool = True) -> Chat:
    """Walk the whole join flow with a phone and a birthday."""
    await consent(chat, language=language, offers=offers)
    await chat.share_phone("+84912" + chat.user_id.zfill(6)[-6:])
    await chat.say("22/11/1995")
    return chat
