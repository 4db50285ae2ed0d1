"""Owners and managers run their team in chat: invite by one-time link, list, remove; stores.

Every action re-reads the caller's role (``Session.staff`` is loaded per message), so a button
pressed by someone who lost their role does nothing.
"""

from __future__ import annotations

from handlers.session import Session, staff_name
from handlers.types import Button, CommandMenu, Reply
from locales import format_date
from loyalty import conversations, staff
from loyalty.staff import CASHIER, MANAGER, OWNER, StaffError
from models.staff import Store

FLOW = "staff"
ACTION_PREFIX = "s"
#: Commands only owners have (checked per message), in the order of the owner's menu.
OWNER_ONLY = (
    "stores",
    "menu",
    "settings",
    "jobs",
    "outbox",
    "stats",
    "segments",
    "customer",
    "export",
    "campaign",
    "campaigns",
    "adjust",
    "voucher",
    "apikeys",
)
TILL = ("find", "redeem", "undo", "weblogin")
#: Commands customers never see.
STAFF_ONLY = (*TILL, "staff", *OWNER_ONLY)
EVERYONE = ("card", "points", "language", "help")
ROLE_COMMANDS = {
    CASHIER: (*TILL, *EVERYONE),
    MANAGER: (*TILL, "staff", *EVERYONE),
    # ``rewards`` is everyone's command; for owners it opens the catalog.
    OWNER: (*TILL, "staff", "rewards", *OWNER_ONLY, *EVERYONE),
}


def menu_for(role: str | None, language: str) -> CommandMenu:
    return CommandMenu(ROLE_COMMANDS[role] if role else (), language)


def refused(session: Session, error: StaffError) -> list[Reply]:
    return [session.reply(f"staff-error-{error.reason}")]


async def show_team(session: Session) -> list[Reply]:
    me = session.staff
    if me is None or me.role == CASHIER:
        return [session.reply("unknown-command")]
    nonce = await conversations.start_flow(session.conversation, FLOW, "list")
    lines = [session.say("staff-title")]
    removable: list[tuple[Button, ...]] = []
    for member in await staff.team():
        account = member.account
        name = staff_name(account)
        where = member.store.name if member.store else session.say("staff-all-stores")
        lines.append(
            session.say(
                "staff-line", name=name, role=session.say(f"role-{member.role}"), store=where
            )
        )
        if member.role in staff.MANAGES[me.role]:
            removable.append(
                (
                    Button(
                        session.say("staff-remove-button", name=name[:30]),
                        f"{ACTION_PREFIX}:{nonce}:rm:{member.id}",
                    ),
                )
            )
    invites: list[tuple[Button, ...]] = []
    stores: list[Store | None] = [*await staff.stores()] or [None]
    for role in staff.MANAGES[me.role]:
        for store in stores:
            label = session.say(
                "staff-invite-button",
                role=session.say(f"role-{role}"),
                store=store.name if store else session.say("staff-all-stores"),
            )
            suffix = f":{store.id}" if store else ""
            invites.append((Button(label[:60], f"{ACTION_PREFIX}:{nonce}:inv:{role}{suffix}"),))
    return [Reply("\n".join(lines), buttons=(*invites, *removable))]


async def on_action(session: Session, parts: list[str]) -> list[Reply]:
    """``inv:<role>[:<store>]`` or ``rm:<staff id>`` (nonce already checked)."""
    me = session.staff
    if me is None:
        return [session.reply("button-expired")]
    try:
        if parts[0] == "inv" and len(parts) in (2, 3):
            store_id = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else None
            token = await staff.create_invite(me, parts[1], store_id, session.now)
            link = f"https://t.me/{session.shop.bot_username}?start={staff.INVITE_PREFIX}{token}"
            expires = session.now + staff.INVITE_LIFETIME
            return [
                session.reply(
                    "staff-invite-link",
                    role=session.say(f"role-{parts[1]}"),
                    link=link,
                    date=format_date(expires.astimezone(session.shop.zone).date()),
                )
            ]
        if parts[0] == "rm" and len(parts) == 2 and parts[1].isdigit():
            removed = await staff.remove(me, int(parts[1]), session.now)
            await conversations.end_flow(session.conversation)
            return [
                Reply(session.say("staff-removed", name=staff_name(removed.account)), edit=True)
            ]
    except StaffError as error:
        return refused(session, error)
    return [session.reply("button-expired")]


async def accept_invite(session: Session, token: str) -> list[Reply]:
    try:
        member = await staff.accept_invite(token, session.account, session.now)
    except StaffError as error:
        return refused(session, error)
    session.staff = member
    return [
        Reply(
            session.say("staff-welcome", role=session.say(f"role-{member.role}")),
            menu=menu_for(member.role, session.language),
        )
    ]


async def stores_command(session: Session) -> list[Reply]:
    me = session.staff
    if me is None or me.role != OWNER:
        return [session.reply("unknown-command")]
    args = session.incoming.args
    if args.lower().startswith("add"):
        try:
            store = await staff.add_store(me, args[3:])
        except StaffError as error:
            return refused(session, error)
        return [session.reply("stores-added", name=store.name)]
    stores = await staff.stores()
    if not stores:
        return [session.reply("stores-none")]
    lines = [session.say("stores-title")]
    lines += [session.say("stores-line", id=str(store.id), name=store.name) for store in stores]
    return [Reply("\n".join(lines))]
