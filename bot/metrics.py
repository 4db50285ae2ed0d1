"""``GET /metrics``: this process's numbers in Prometheus's text exposition format (0.0.4).

Counters live in prometheus_client's default registry, each defined next to what it counts
(the chat and API ones here, job runs in ``scheduler.jobs``, campaign members in
``scheduler.campaigns``), so they count from the process's start, as Prometheus expects; the
registry's process collector adds ``process_start_time_seconds``. The outbox queue is the one
number read from the database, at scrape time: rows waiting or in flight only, which the
``(status, not_before)`` index counts cheaply however many sent rows pile up. Every process
reports the same queue, so aggregate it with ``max``, not ``sum``.

The route is open unless ``QUEN_METRICS_TOKEN`` is set (then ``Authorization: Bearer <token>``):
the HTTP server listens on 127.0.0.1 by default, and a proxy in front should not forward it.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, REGISTRY, Counter, Gauge, generate_latest
from tortoise.functions import Count

from loyalty.outbox import CLAIMED, QUEUED, SENDING
from models.outbox import OutboxMessage

log = logging.getLogger(__name__)

PATH = "/metrics"
TOKEN_KEY = web.AppKey("metrics_token", str)
#: Statuses counted at scrape time: the work not done yet.
PENDING = (QUEUED, CLAIMED, SENDING)

UPDATES = Counter(
    "quen_updates_handled",
    "Chat messages and button presses handled, by channel and outcome (ok or error)",
    ["channel", "outcome"],
)
MESSAGES = Counter(
    "quen_messages_sent",
    "Outbox delivery attempts, by channel and outcome (sent, throttled, unreachable, refused, "
    "not_sent, unknown, skipped)",
    ["channel", "outcome"],
)
API_REQUESTS = Counter(
    "quen_api_requests", "POS API requests answered, by route and HTTP status", ["route", "status"]
)
OUTBOX_DEPTH = Gauge(
    "quen_outbox_messages", "Outbox messages waiting or in flight, by status", ["status"]
)


async def read_outbox_depth() -> None:
    """Set the queue gauge from one grouped count."""
    counted = (
        await OutboxMessage.filter(status__in=PENDING)
        .group_by("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    found = {str(status): int(count) for status, count in counted}
    for status in PENDING:
        OUTBOX_DEPTH.labels(status=status).set(found.get(status, 0))


def _authorized(request: web.Request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    given_bytes, token_bytes = given.strip().encode(), token.encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given_bytes, token_bytes)


async def metrics(request: web.Request) -> web.Response:
    """The exposition. A database that does not answer leaves the queue out (and says so in the
    log) rather than failing the scrape: the counters matter most when the database is down."""
    token = request.app.get(TOKEN_KEY)
    if token and not _authorized(request, token):
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Bearer realm="quen-metrics"'})
    try:
        await read_outbox_depth()
    except Exception as error:  # whatever the driver raises, the counters are still worth serving
        log.warning("metrics: outbox queue not read: %s", error)
        OUTBOX_DEPTH.clear()
    return web.Response(
        body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4}
    )


def install_metrics(app: web.Application, token: str | None) -> None:
    """Add ``GET /metrics`` to Quen's HTTP server, behind ``token`` when one is set."""
    if token:
        app[TOKEN_KEY] = token
    app.router.add_get(PATH, metrics)
