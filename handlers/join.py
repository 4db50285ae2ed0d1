"""Joining: language, program summary and consent, phone (own number only), birthday, welcome.

The member is created at the consent step, so someone who stops before giving a phone or birthday
is still a member; those two steps can be skipped and filled in later. A ``/start`` in the middle
repeats the current question rather than starting over.
"""

from __future__ import annotations

from handlers.member import card_reply
from handlers.session import Session, is_skip
from handlers.types import Button, PhoneRequest, Reply
from locales import LANGUAGE_NAMES, LANGUAGES
from loyalty import conversations, members, referrals
from loyalty.birthdays import BadBirthday, parse_birthday
from loyalty.phones import to_e164

FLOW = "join"
ACTION_PREFIX = "j"


async def begin(session: Session, referral: str | None = None) -> list[Reply]:
    """Start joining; ``referral`` is the code from a friend's invite link, if they used one."""
    nonce = await conversations.start_flow(session.conversation, FLOW, "language")
    if referral:
        await conversations.move_to(session.conversation, "language", referral=referral[:16])
    return [_ask_language(session, nonce)]


def _ask_language(session: Session, nonce: str) -> Reply:
    buttons = tuple(
        (Button(LANGUAGE_NAMES[lang], f"{ACTION_PREFIX}:{nonce}:lang:{lang}"),)
        for lang in LANGUAGES
    )
    return Reply(session.say("join-welcome"), buttons=buttons)


def _ask_consent(session: Session) -> Reply:
    nonce = session.conversation.nonce
    return Reply(
        session.say("join-summary"),
        buttons=(
            (Button(session.say("join-consent-offers"), f"{ACTION_PREFIX}:{nonce}:ok:offers"),),
            (Button(session.say("join-consent-basic"), f"{ACTION_PREFIX}:{nonce}:ok:basic"),),
            (Button(session.say("join-decline"), f"{ACTION_PREFIX}:{nonce}:no"),),
        ),
    )


def _ask_phone(session: Session) -> Reply:
    return Reply(
        session.say("join-ask-phone"),
        ask_phone=PhoneRequest(session.say("button-share-phone"), session.say("button-skip")),
    )


def _ask_birthday(session: Session) -> Reply:
    return Reply(session.say("join-ask-birthday"), keyboard=((session.say("button-skip"),),))


def current_question(session: Session) -> Reply:
    """The question the flow is waiting on (for a repeated ``/start``)."""
    step = session.conversation.step
    if step == "language":
        return _ask_language(session, session.conversation.nonce)
    if step == "consent":
        return _ask_consent(session)
    if step == "phone":
        return _ask_phone(session)
    if step == "link":
        return _ask_link(session)
    return _ask_birthday(session)


async def on_action(session: Session, parts: list[str]) -> list[Reply]:
    """A join button: ``lang:<code>``, ``ok:offers|basic`` or ``no`` (nonce already checked)."""
    step = session.conversation.step
    if step == "language" and len(parts) == 2 and parts[0] == "lang" and parts[1] in LANGUAGES:
        session.language = parts[1]
        await conversations.set_account_language(session.account, session.language)
        await conversations.move_to(session.conversation, "consent")
        return [Reply(f"✅ {LANGUAGE_NAMES[session.language]}", edit=True), _ask_consent(session)]
    if step == "link" and len(parts) == 2 and parts[0] == "link":
        return await _on_link(session, parts[1])
    if step == "consent" and parts == ["no"]:
        await conversations.end_flow(session.conversation)
        return [Reply(session.say("join-declined"), edit=True)]
    if (
        step == "consent"
        and len(parts) == 2
        and parts[0] == "ok"
        and parts[1] in ("offers", "basic")
    ):
        marketing = parts[1] == "offers"
        session.member = await members.join(
            session.account, language=session.language, marketing=marketing
        )
        code = session.conversation.data.get("referral")
        if code:
            await referrals.link_new_member(session.member, str(code))
        await conversations.move_to(session.conversation, "phone")
        chosen = "join-consent-offers" if marketing else "join-consent-basic"
        return [Reply(f"✅ {session.say(chosen)}", edit=True), _ask_phone(session)]
    return [session.reply("button-expired")]


async def on_message(session: Session) -> list[Reply]:
    """Text or a shared contact while the join flow waits for an answer."""
    step = session.conversation.step
    if step in ("language", "consent", "link"):
        return [session.reply("join-use-buttons"), current_question(session)]
    if step == "phone":
        return await _on_phone(session)
    return await _on_birthday(session)


async def _on_phone(session: Session) -> list[Reply]:
    incoming, member = session.incoming, session.member
    if member is None:  # the member was deleted mid-flow: start again
        return await begin(session)
    if incoming.contact is None:
        if is_skip(incoming.text):
            await conversations.move_to(session.conversation, "birthday")
            return [_ask_birthday(session)]
        return [session.reply("join-phone-use-button"), _ask_phone(session)]
    if incoming.contact.user_id != incoming.user_id:
        return [session.reply("join-phone-not-yours"), _ask_phone(session)]
    phone = to_e164(incoming.contact.phone)
    if phone is None:
        return [session.reply("join-phone-invalid"), _ask_phone(session)]
    replies: list[Reply] = []
    try:
        session.member = await members.set_phone(member, phone)
        replies.append(session.reply("join-phone-saved"))
    except members.PhoneTaken:
        other = await members.linkable_member(phone, member, session.account.channel)
        if other is not None:  # the same person, who joined on another app first
            await conversations.move_to(session.conversation, "link", link_to=other.id)
            return [_ask_link(session)]
        replies.append(session.reply("join-phone-taken"))
    await conversations.move_to(session.conversation, "birthday")
    return [*replies, _ask_birthday(session)]


def _ask_link(session: Session) -> Reply:
    nonce = session.conversation.nonce
    return Reply(
        session.say("join-link-ask"),
        buttons=(
            (Button(session.say("join-link-yes"), f"{ACTION_PREFIX}:{nonce}:link:yes"),),
            (Button(session.say("join-link-no"), f"{ACTION_PREFIX}:{nonce}:link:no"),),
        ),
    )


async def _on_link(session: Session, answer: str) -> list[Reply]:
    """One member, two apps: on yes, this chat joins the member who has the number (their
    points, tier and vouchers), and their other app is told; on no, joining goes on without
    the number. Either way the birthday question is skipped when linked (it is theirs already)."""
    other_id = session.conversation.data.get("link_to")
    if answer == "yes" and session.member is not None and other_id is not None:
        try:
            linked = await members.link_account(
                session.account, int(other_id), session.member.id, session.now
            )
        except members.PhoneTaken:
            linked = None
        if linked is not None:
            session.member = linked
            await conversations.end_flow(session.conversation)
            return [
                Reply(session.say("join-linked"), edit=True),
                session.with_menu("join-done"),
                await card_reply(session, linked),
            ]
    await conversations.move_to(session.conversation, "birthday")
    return [Reply(session.say("join-phone-taken"), edit=True), _ask_birthday(session)]


async def _on_birthday(session: Session) -> list[Reply]:
    incoming, member = session.incoming, session.member
    if member is None:
        return await begin(session)
    if incoming.contact is not None:
        return [session.reply("join-birthday-bad-format"), _ask_birthday(session)]
    if not is_skip(incoming.text):
        try:
            birthday = parse_birthday(
                incoming.text, session.now.astimezone(session.shop.zone).date()
            )
        except BadBirthday as bad:
            return [session.reply(f"join-birthday-bad-{bad.reason}"), _ask_birthday(session)]
        await members.set_birthday(member, birthday)
    await conversations.end_flow(session.conversation)
    return [session.with_menu("join-done"), await card_reply(session, member)]
