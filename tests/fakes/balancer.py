"""A tiny HTTP load balancer on 127.0.0.1 in front of several ``quen run`` processes.

Telegram posts every update to one webhook URL; behind it a chain runs a load balancer. This one
forwards each POST (path, body and headers as received) to one target, round-robin, unless
``spread`` is set: a function from the update to the indexes of the targets that get it, so a
test can send one step of a conversation to a chosen process, or the same update to two at once
(a redelivery that lands elsewhere while the first delivery is still being handled). The answer
of the first target chosen is passed back. ``forwarded`` counts the copies sent to each target.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
from aiohttp import web

Spread = Callable[[dict[str, Any]], Sequence[int]]
_PASSED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


class Balancer:
    def __init__(self, targets: Sequence[str] = ()) -> None:
        self.targets = list(targets)
        self.spread: Spread | None = None
        self.forwarded: dict[int, int] = {}
        self.failures = 0
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _chosen(self, update: dict[str, Any]) -> Sequence[int]:
        if self.spread is not None:
            return self.spread(update)
        return [next(self._turn) % len(self.targets)]

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            update = await request.json()
        except ValueError:
            update = {}
        headers = {k: request.headers[k] for k in _PASSED_HEADERS if k in request.headers}
        chosen = list(self._chosen(update if isinstance(update, dict) else {}))
        answers = await asyncio.gather(
            *(self._post(i, request.path_qs, body, headers) for i in chosen)
        )
        status, text = answers[0]
        return web.Response(status=status, text=text)

    async def _post(
        self, index: int, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, str]:
        assert self._session is not None
        self.forwarded[index] = self.forwarded.get(index, 0) + 1
        try:
            async with self._session.post(
                self.targets[index] + path, data=body, headers=headers
            ) as answer:
                return answer.status, await answer.text()
        except (aiohttp.ClientError, TimeoutError):  # a process down: Telegram will retry
            self.failures += 1
            return 502, "bad gateway"
