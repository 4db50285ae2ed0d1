"""``/apikeys`` for owners: the keys a store's till system (POS) uses to call the API.

A new key is shown once, in this reply, and never again (only its hash is kept): the owner copies
it into the POS and may delete the message. The router lets only owners in.
"""

from __future__ import annotations

from datetime import datetime

from handlers.session import Session
from handlers.types import Reply
from locales import format_date
from loyalty import api_keys
from loyalty.api_keys import ApiKeyError


async def apikeys_command(session: Session) -> list[Reply]:
    """``/apikeys`` lists, ``/apikeys create <store>`` makes one, ``/apikeys revoke <id>``."""
    me = session.staff
    assert me is not None
    verb, _, rest = session.incoming.args.strip().partition(" ")
    try:
        if verb.lower() == "create" and rest.strip():
            store = await api_keys.store_named(rest)
            new = await api_keys.create_key(
                store.id, name="", actor_account_id=me.account_id, at=session.now
            )
            return [
                session.reply(
                    "apikeys-created", id=str(new.key.id), store=store.name, code=new.secret
                )
            ]
        if verb.lower() == "revoke" and rest.strip().isdigit():
            key = await api_keys.revoke(int(rest), actor_account_id=me.account_id, at=session.now)
            return [session.reply("apikeys-revoked", id=str(key.id))]
    except ApiKeyError as error:
        return [session.reply(f"apikeys-error-{error.reason}")]
    if verb:
        return [session.reply("apikeys-help")]
    return [await _list(session)]


async def _list(session: Session) -> Reply:
    keys = await api_keys.keys()
    if not keys:
        return session.reply("apikeys-none")
    lines = [session.say("apikeys-title")]
    for key in keys:
        if key.revoked_at is not None:
            state = session.say("apikeys-state-revoked", date=_day(session, key.revoked_at))
        elif key.last_used_at is not None:
            state = session.say("apikeys-state-used", date=_day(session, key.last_used_at))
        else:
            state = session.say("apikeys-state-unused")
        lines.append(
            session.say(
                "apikeys-line",
                id=str(key.id),
                store=key.store.name,
                code=key.prefix,
                date=_day(session, key.created_at),
                state=state,
            )
        )
    lines.append(session.say("apikeys-help"))
    return Reply("\n".join(lines))


def _day(session: Session, moment: datetime) -> str:
    return format_date(moment.astimezone(session.shop.zone).date())
