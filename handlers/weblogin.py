"""``/weblogin [store number]``: a staff member asks for a one-time code to open the cashier web
page (``/cashier``) on a till tablet or a computer. The page then acts as them, at their store;
someone who works in all stores (owners) names the store the tablet stands in."""

from __future__ import annotations

from handlers.session import Session
from handlers.types import Reply
from locales import format_date
from loyalty import web_sessions
from loyalty.web_sessions import WebLoginError


async def issue(session: Session) -> list[Reply]:
    me = session.staff
    assert me is not None
    args = session.incoming.args
    if args and not args.isdigit():
        return [session.reply("weblogin-help")]
    try:
        code = await web_sessions.issue_login_code(me, int(args) if args else None, session.now)
    except WebLoginError as error:
        return [session.reply(f"weblogin-error-{error.reason}")]
    expires = (session.now + web_sessions.LOGIN_CODE_LIFETIME).astimezone(session.shop.zone)
    return [
        session.reply(
            "weblogin-code",
            code=web_sessions.grouped(code),
            time=expires.strftime("%H:%M"),
            date=format_date(expires.date()),
        )
    ]
