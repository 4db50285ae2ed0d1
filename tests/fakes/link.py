"""A TCP link on 127.0.0.1 to a real server (PostgreSQL here) that a test can cut and mend.

The database itself stays real; what fails is the network between it and ``quen run``, as when a
database host restarts or a connection is dropped by a firewall. ``cut()`` resets every open
connection and refuses new ones until ``mend()``; bytes are passed through untouched otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib


class Link:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.cut_off = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        """Reset every connection now; refuse new ones until ``mend``."""
        self.cut_off = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def mend(self) -> None:
        self.cut_off = False

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction until either side closes (or ``cut`` resets it), then close both."""
        try:
            with contextlib.suppress(OSError):  # a reset is how a cut link ends
                while chunk := await reader.read(65536):
                    writer.write(chunk)
                    await writer.drain()
        finally:
            self._writers.discard(writer)
            writer.transport.abort()
