"""What a member asks for once they have joined: their card, their points, language and help."""

from __future__ import annotations

from datetime import timedelta

from handlers.session import Session
from handlers.types import Button, Reply
from locales import LANGUAGE_NAMES, LANGUAGES, format_date
from loyalty import conversations, ledger, members, referrals, rules, tiers
from loyalty.cards import render_card
from models.members import Customer

EXPIRY_HORIZON = timedelta(days=30)
LANGUAGE_ACTION = "lang"


async def card_reply(session: Session, member: Customer) -> Reply:
    """A fresh card image (new token, older cards stay valid) with a caption."""
    progress = await tiers.refresh_tier(member.id, session.now)
    tier_name = progress.current.name(session.language)
    token = await members.issue_card(member, session.now)
    image = render_card(
        shop_name=session.shop.name,
        member_name=member.display_name or session.incoming.display_name,
        tier_label=session.say("card-tier", tier=tier_name),
        link=members.card_link(session.shop.bot_username, token),
    )
    return Reply(session.say("card-caption", tier=tier_name), image=image)


async def show_card(session: Session) -> list[Reply]:
    if session.member is None:
        return [session.reply("not-a-member")]
    return [await card_reply(session, session.member)]


async def show_points(session: Session) -> list[Reply]:
    member = session.member
    if member is None:
        return [session.reply("not-a-member")]
    progress = await tiers.refresh_tier(member.id, session.now)
    balance = await ledger.balance(member.id, session.now, EXPIRY_HORIZON)
    lines = [
        session.say("points-balance", points=balance.points),
        session.say("points-tier", tier=progress.current.name(session.language)),
    ]
    if progress.next is None:
        lines.append(session.say("points-top-tier"))
    else:
        lines.append(f"{tiers.progress_bar(progress.percent)} {progress.percent}%")
        lines.append(
            session.say(
                "points-to-next",
                points=progress.to_next,
                tier=progress.next.name(session.language),
            )
        )
    if balance.next_expiry is None:
        lines.append(session.say("points-none-expiring"))
    else:
        when = balance.next_expiry.astimezone(session.shop.zone).date()
        lines.append(
            session.say(
                "points-expiring",
                points=balance.expiring_points,
                date=format_date(when),
            )
        )
    return [Reply("\n".join(lines), keyboard=session.menu())]


async def show_invite(session: Session) -> list[Reply]:
    """``/invite``: the member's personal link; the friend's first purchase rewards both."""
    if session.member is None:
        return [session.reply("not-a-member")]
    code = await referrals.code_of(session.member)
    program = await rules.current()
    link = f"https://t.me/{session.shop.bot_username}?start={referrals.REF_PREFIX}{code}"
    return [
        session.reply(
            "invite-link",
            link=link,
            points=program.referral_points_referrer,
            friend_points=program.referral_points_friend,
        )
    ]


def ask_language(session: Session) -> list[Reply]:
    buttons = tuple(
        (Button(LANGUAGE_NAMES[lang], f"{LANGUAGE_ACTION}:{lang}"),) for lang in LANGUAGES
    )
    return [Reply(session.say("language-ask"), buttons=buttons)]


async def choose_language(session: Session, language: str) -> list[Reply]:
    """Language buttons are safe to press at any time, so they carry no nonce."""
    if language not in LANGUAGES:
        return [session.reply("button-expired")]
    session.language = language
    await conversations.set_account_language(session.account, language)
    if session.member is not None:
        await members.set_language(session.member, language)
    done = Reply(f"✅ {LANGUAGE_NAMES[language]}", edit=True)
    if session.member is None:
        return [done, session.reply("language-set-guest")]
    return [done, session.with_menu("language-set")]


def show_help(session: Session) -> list[Reply]:
    replies = [session.reply("help-staff")] if session.staff is not None else []
    if session.member is None:
        return [*replies, session.reply("help-guest")]
    return [*replies, session.with_menu("help-member")]


def greet_member(session: Session) -> list[Reply]:
    name = session.member.display_name if session.member else ""
    replies = [session.with_menu("menu-greeting", name=name or "👋")]
    if session.member is not None and not session.member.marketing_consent:
        replies.append(session.reply("offers-hint"))
    return replies
