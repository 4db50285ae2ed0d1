"""The aiohttp server: health check, Telegram's and Zalo's webhooks, and the POS API
(``bot.api``)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web
from tortoise import connections

from bot.api import PREFIX
from bot.telegram import WEBHOOK_PATH, TelegramChannel
from bot.zalo import WEBHOOK_PATH as ZALO_WEBHOOK_PATH
from bot.zalo import ZaloChannel
from loyalty.coordination import Sight, finish_update, give_back_update, take_update
from models.db import unavailable

log = logging.getLogger(__name__)

TELEGRAM_KEY = web.AppKey("telegram", TelegramChannel)
SECRET_KEY = web.AppKey("webhook_secret", str)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DRAINING_KEY = web.AppKey("draining", asyncio.Event)
#: Still served while the process stops: the last scrape sees the final counts.
SERVED_WHILE_DRAINING = frozenset({"/metrics"})
#: Seconds Telegram is asked to wait before delivering an update again: after the database
#: stayed away through a handler's retries, and while another process is handling the update.
DATABASE_BACK_IN = 5
BUSY_FOR = 2


@web.middleware
async def refuse_while_draining(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Once the process is stopping, new requests get 503 with ``Retry-After``: Telegram and
    Zalo deliver the update again later (to another process, behind a load balancer), the load
    balancer's check of ``/healthz`` fails so it sends traffic elsewhere, and a till retries its
    idempotent request. Requests already inside a handler finish."""
    draining = request.config_dict.get(DRAINING_KEY)
    if draining is None or not draining.is_set() or request.path in SERVED_WHILE_DRAINING:
        return await handler(request)
    headers = {"Retry-After": "5"}
    if request.path.startswith(f"{PREFIX}/"):  # the POS API's own error shape
        message = "This server is stopping; retry in a few seconds."
        body: dict[str, object] = {"error": {"code": "shutting_down", "message": message}}
    else:
        body = {"status": "stopping"}
    return web.json_response(body, status=503, headers=headers)


async def healthz(_: web.Request) -> web.Response:
    """200 when the database answers, 503 (with the reason) when it does not."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception as error:  # any failure means "not healthy", whatever the driver raises
        return web.json_response({"status": "error", "database": str(error)[:200]}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


async def telegram_webhook(request: web.Request) -> web.Response:
    """Telegram's delivery. The secret header proves it is Telegram; a wrong one gets 403 and the
    update is dropped. Malformed bodies get 400 (Telegram would retry them forever otherwise too,
    but a forged request deserves no 200).

    The update is handled before the answer. 200 means handled (here or, for a redelivery,
    before); 503 asks Telegram to deliver it again later: the database could not be reached, or
    another process is still handling it (``loyalty.coordination``)."""
    telegram = request.app.get(TELEGRAM_KEY)
    if telegram is None:
        raise web.HTTPNotFound()
    secret = request.app[SECRET_KEY]
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("webhook call with a wrong secret from %s", request.remote)
        raise web.HTTPForbidden()
    try:
        payload = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise web.HTTPBadRequest() from None
    if not isinstance(payload, dict) or "update_id" not in payload:
        raise web.HTTPBadRequest()
    key = f"telegram:{payload['update_id']}"
    try:
        sight = await take_update(key, datetime.now(UTC))
    except Exception as error:
        if not unavailable(error):
            raise
        log.warning("database unavailable: update %s not taken", key)
        return _come_back(DATABASE_BACK_IN)
    if sight is Sight.HANDLED:
        return web.Response(text="ok")
    if sight is Sight.BUSY:
        return _come_back(BUSY_FOR)
    try:
        handled = await telegram.receive(payload)
    except Exception:  # a bug, or Telegram failing us mid-reply: not worth delivering again
        log.exception("update %s failed; not delivered again", key)
        handled = True
    if not handled:
        try:
            await give_back_update(key)
        except Exception:  # still unreachable: the row is taken again after TAKEN_FOR
            log.warning("update %s not given back; it is taken again later", key)
        return _come_back(DATABASE_BACK_IN)
    await finish_update(key, datetime.now(UTC))
    return web.Response(text="ok")


def _come_back(seconds: int) -> web.Response:
    """503 with ``Retry-After``, which the Bot API server waits before delivering again."""
    return web.json_response(
        {"status": "retry later"}, status=503, headers={"Retry-After": str(seconds)}
    )


def build_web_app(
    telegram: TelegramChannel | None,
    webhook_secret: str | None,
    zalo: ZaloChannel | None = None,
    api: web.Application | None = None,
    draining: asyncio.Event | None = None,
) -> web.Application:
    """``draining``, once set, turns new requests away (``refuse_while_draining``)."""
    app = web.Application(client_max_size=1024 * 1024, middlewares=[refuse_while_draining])
    if draining is not None:
        app[DRAINING_KEY] = draining
    app.router.add_get("/healthz", healthz)
    if api is not None:
        app.add_subapp(PREFIX, api)
    if telegram is not None and webhook_secret:
        app[TELEGRAM_KEY] = telegram
        app[SECRET_KEY] = webhook_secret
        app.router.add_post(WEBHOOK_PATH, telegram_webhook)
    if zalo is not None:  # it checks Zalo's signature itself
        app.router.add_post(ZALO_WEBHOOK_PATH, zalo.webhook)
    return app
