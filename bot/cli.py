"""The ``quen`` command: ``run`` the bot, ``migrate`` the database, ``chat`` in the terminal."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.settings import Settings, SettingsError, load_settings


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and Telegram's URLs contain the bot token.
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def _migrate(settings: Settings) -> None:
    from models.db import migrate

    await migrate(settings.database_url)
    print(f"database is up to date: {settings.database_url.split('@')[-1]}")


async def _chat(settings: Settings, user: str | None, role: str) -> None:
    from dataclasses import replace

    from bot.app import shop_for
    from bot.console import CHANNEL, appoint_console_cashier, run_console
    from loyalty.tiers import ensure_default_tiers
    from models.db import close_database, open_database

    who = user or f"console-{role}"
    await open_database(settings.database_url)
    try:
        await ensure_default_tiers()
        shop = shop_for(settings, settings.bot_username)
        if role == "owner":
            shop = replace(shop, owners=shop.owners | {(CHANNEL, who)})
        elif role == "cashier":
            await appoint_console_cashier(who)
        folder = (settings.sqlite_path() or Path("data/x")).parent / "cards"
        await run_console(shop, who, folder, settings.default_language, role)
    finally:
        await close_database()


async def _outbox(settings: Settings) -> None:
    from handlers.outbox import describe
    from loyalty.outbox import report
    from models.db import close_database, open_database

    await open_database(settings.database_url)
    try:
        hold = settings.marketing_policy().problem
        print(describe(await report(), settings.default_language, settings.zone, hold))
    finally:
        await close_database()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quen", description="Quen: a loyalty program inside Telegram (and Zalo)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the bot: migrate, HTTP server, scheduler, Telegram")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("outbox", help="show the messages queued, sent, failed and why")
    chat = commands.add_parser(
        "chat", help="talk to the bot in this terminal, as a customer, a cashier or the owner"
    )
    chat.add_argument(
        "--as",
        dest="role",
        choices=("customer", "cashier", "owner"),
        default="customer",
        help="play this side of the till (default: customer)",
    )
    chat.add_argument("--user", help="who you are (default: console-<role>)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"quen: bad setting: {error}", file=sys.stderr)
        return 2
    _setup_logging(settings.log_level)
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
    elif args.command == "outbox":
        asyncio.run(_outbox(settings))
    elif args.command == "chat":
        asyncio.run(_chat(settings, args.user, args.role))
    else:
        from bot.app import serve

        try:
            asyncio.run(serve(settings))
        except KeyboardInterrupt:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
