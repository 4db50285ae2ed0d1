"""The ``quen`` command: ``run`` the bot, ``migrate`` the database, ``chat`` in the terminal.

What it prints for the shop owner or the operator is in ``QUEN_DEFAULT_LANGUAGE``, through
``locales`` like everything else people read (``--help`` texts stay English: they document the
program for whoever installs it, as argparse's own messages do).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from bot.settings import Settings, SettingsError, load_settings
from locales import DEFAULT_LANGUAGE, t


def _say(language: str, key: str, **facts: object) -> None:
    """Print one message in the operator's language (stdout: what was done)."""
    print(t(language, key, **facts))


def _refuse(who: str, text: str) -> int:
    """Print why ``who`` (``quen check``, say) did nothing on stderr; return the usage code 2."""
    print(f"{who}: {text}", file=sys.stderr)
    return 2


def _setup_logging(settings: Settings) -> None:
    from bot.logs import setup_logging

    secrets = [
        secret.get_secret_value()
        for secret in (
            settings.telegram_token,
            settings.webhook_secret,
            settings.openai_api_key,
            settings.zalo_app_secret,
            settings.zalo_oa_secret_key,
            settings.zalo_refresh_token,
            settings.metrics_token,
        )
        if secret is not None
    ]
    # tortoise logs its connection URL at DEBUG: a PostgreSQL password must not go with it.
    password = urlsplit(settings.database_url).password
    if password:
        secrets.append(password)
    setup_logging(settings.log_level, settings.log_format, secrets)


async def _migrate(settings: Settings) -> None:
    from models.db import migrate

    await migrate(settings.database_url)
    _say(settings.default_language, "cli-migrated", database=settings.database_url.split("@")[-1])


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


async def _with_database(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    from loyalty.tiers import ensure_default_tiers
    from models.db import close_database, open_database

    await open_database(settings.database_url)
    try:
        await ensure_default_tiers()
        return await work()
    finally:
        await close_database()


async def _analyze(settings: Settings, as_of: str | None, as_json: bool) -> int:
    from datetime import UTC, datetime, time, timedelta

    from bot.reports import analysis_report
    from loyalty.insight import analyze
    from loyalty.kpis import retention_by_segment, shop_kpis

    now = datetime.now(UTC)
    if as_of:
        now = datetime.combine(date_from(as_of), time(23, 59), tzinfo=settings.zone)
    analysis = await analyze(now, settings.zone)
    figures = await shop_kpis(now - timedelta(days=30), now)
    retention = await retention_by_segment(now)
    print(analysis_report(analysis, figures, retention, as_json, settings.default_language))
    return 0


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from loyalty.importer import Columns, ImportRefused, import_purchases

    try:
        columns = Columns(
            date=args.date,
            amount=args.amount,
            customer=args.customer,
            phone=args.phone,
            items=args.items,
            date_format=args.date_format,
            amount_scale=args.amount_scale,
            encoding=args.encoding,
            delimiter=args.delimiter,
        )
        report = await import_purchases(
            Path(args.file), columns, zone=settings.zone, now=datetime.now(UTC)
        )
    except ImportRefused as refused:
        return _refuse("quen import", refused.text(settings.default_language))
    _say(
        settings.default_language,
        "cli-import-done",
        rows=report.rows,
        imported=report.imported,
        duplicates=report.duplicates,
        rejected=report.rejected,
        new=report.new_members,
        linked=report.linked_members,
        seconds=report.seconds,
    )
    if report.rejected:
        _say(settings.default_language, "cli-import-rejects", path=str(report.rejects_path))
    return 0


async def _demo(settings: Settings, members: int) -> int:
    from datetime import UTC, datetime

    from loyalty.demo import DemoRefused, fill_demo

    try:
        report = await fill_demo(datetime.now(UTC), settings.zone, members=members)
    except DemoRefused as refused:
        return _refuse("quen demo", refused.text(settings.default_language))
    _say(
        settings.default_language,
        "cli-demo-done",
        seconds=report.seconds,
        stores=report.stores,
        members=report.members,
        purchases=report.purchases,
        rewards=report.rewards,
        vouchers=report.vouchers,
    )
    return 0


async def _zalo_authorize(settings: Settings, redirect_uri: str | None) -> int:
    """Print the OA consent URL, read the code Zalo redirects with, store the token pair."""
    from bot.zalo_api import authorize

    if not settings.zalo_enabled:
        return _refuse("quen zalo", t(settings.default_language, "cli-zalo-needs-app"))
    uri = redirect_uri or (f"{settings.public_url}/" if settings.public_url else None)
    if uri is None:
        return _refuse("quen zalo", t(settings.default_language, "cli-zalo-needs-redirect"))
    return await _with_database(settings, lambda: authorize(settings, uri, input, print))


async def _apikey(settings: Settings, args: argparse.Namespace) -> int:
    """``quen apikey create|list|revoke``: the same rules as ``/apikeys`` in chat. The list is
    tab-separated, one key a line, so it lines up and can be cut; the secret is the last line
    ``create`` prints, alone, to be copied."""
    from datetime import UTC, datetime

    from loyalty import api_keys

    language = settings.default_language
    now = datetime.now(UTC)
    try:
        if args.action == "create":
            store = await api_keys.store_named(args.store)
            new = await api_keys.create_key(store.id, name=args.name, actor_account_id=None, at=now)
            _say(
                language,
                "cli-apikey-created",
                id=str(new.key.id),
                store=str(store.id),
                name=store.name,
            )
            print(new.secret)
        elif args.action == "revoke":
            await api_keys.revoke(args.id, actor_account_id=None, at=now)
            _say(language, "cli-apikey-revoked", id=str(args.id))
        else:
            for key in await api_keys.keys():
                state = (
                    t(language, "cli-apikey-revoked-on", date=f"{key.revoked_at:%Y-%m-%d}")
                    if key.revoked_at
                    else t(language, "cli-apikey-live")
                )
                used = (
                    t(language, "cli-apikey-used", time=f"{key.last_used_at:%Y-%m-%d %H:%M}")
                    if key.last_used_at
                    else t(language, "cli-apikey-unused")
                )
                where = t(
                    language, "cli-apikey-store", store=str(key.store_id), name=key.store.name
                )
                cells = (f"#{key.id}", f"{key.prefix}…", where, key.name or "-", used, state)
                print("\t".join(cells))
    except api_keys.ApiKeyError as refused:
        return _refuse("quen apikey", t(language, f"cli-apikey-error-{refused.reason}"))
    return 0


async def _check(settings: Settings) -> int:
    """``quen check``: exit 1 when an invariant is broken (warnings alone keep 0), 2 when the
    database cannot be read (not to be mistaken for broken data). It only reads (after the usual
    migration), so it is safe on a running shop."""
    from datetime import UTC, datetime

    from tortoise.exceptions import DBConnectionError, OperationalError

    from loyalty.checks import broken, describe, run_checks
    from models.db import close_database, open_database

    try:
        await open_database(settings.database_url)
        try:
            findings = await run_checks(datetime.now(UTC))
        finally:
            await close_database()
    except (OSError, DBConnectionError, OperationalError) as error:
        language = settings.default_language
        return _refuse("quen check", t(language, "cli-check-unreadable", error=str(error)))
    print(describe(findings, settings.default_language))
    return 1 if broken(findings) else 0


def _backup_or_restore(settings: Settings, args: argparse.Namespace) -> int:
    from bot.backup import BackupRefused, backup, restore

    language = settings.default_language
    try:
        if args.command == "backup":
            size = backup(settings.database_url, Path(args.file), print)
            _say(language, "cli-backup-done", file=args.file, bytes=size)
        else:
            restore(settings.database_url, Path(args.file), force=args.force, say=print)
            _say(language, "cli-restore-done", file=args.file)
    except BackupRefused as refused:
        return _refuse(f"quen {args.command}", refused.text(language))
    return 0


def date_from(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quen", description="Quen: a loyalty program inside Telegram (and Zalo)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the bot: migrate, HTTP server, scheduler, Telegram")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("outbox", help="show the messages queued, sent, failed and why")
    analyze = commands.add_parser(
        "analyze", help="compute segments, the churn model and KPIs now, and print them"
    )
    analyze.add_argument("--as-of", type=date_from, help="analyse as of this day (YYYY-MM-DD)")
    analyze.add_argument("--json", action="store_true", help="print JSON for an analyst")
    demo = commands.add_parser("demo", help="fill an EMPTY database with a demo café chain")
    demo.add_argument("--members", type=int, default=2000, help="how many members (default 2000)")
    importing = commands.add_parser("import", help="load history from a till export")
    what = importing.add_subparsers(dest="what", required=True)
    purchases = what.add_parser("purchases", help="purchases from a CSV file")
    purchases.add_argument("file", help="the CSV file")
    purchases.add_argument("--date", required=True, help="the date column")
    purchases.add_argument("--amount", required=True, help="the amount column")
    purchases.add_argument("--customer", help="the till's customer id column")
    purchases.add_argument("--phone", help="the phone number column")
    purchases.add_argument("--items", help="the items column (separated by ;)")
    purchases.add_argument(
        "--date-format", default="%Y-%m-%d %H:%M", help="strptime format, shop time"
    )
    purchases.add_argument(
        "--amount-scale", type=float, default=1.0, help="multiply amounts by this to get VND"
    )
    purchases.add_argument("--encoding", default="utf-8-sig")
    purchases.add_argument("--delimiter", default=",")
    apikey = commands.add_parser("apikey", help="POS API keys: create, list, revoke")
    key_actions = apikey.add_subparsers(dest="action", required=True)
    create = key_actions.add_parser("create", help="a new key for a store (shown once)")
    create.add_argument("--store", required=True, help="the store's number or exact name")
    create.add_argument("--name", default="", help="a label, e.g. the till's name")
    key_actions.add_parser("list", help="every key, its store and when it was last used")
    revoke = key_actions.add_parser("revoke", help="end a key's access now")
    revoke.add_argument("id", type=int, help="the key's number (from list)")
    commands.add_parser(
        "check", help="verify the ledger, vouchers, purchases and outbox (exit 1 if broken)"
    )
    backup = commands.add_parser("backup", help="copy the database to FILE (safe while running)")
    backup.add_argument("file", help="the backup file to write")
    restore = commands.add_parser("restore", help="replace the database with FILE (bot stopped)")
    restore.add_argument("file", help="a file written by quen backup")
    restore.add_argument(
        "--force", action="store_true", help="overwrite a database that already has members"
    )
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
    zalo = commands.add_parser("zalo", help="the Zalo Official Account channel")
    zalo_what = zalo.add_subparsers(dest="zalo_command", required=True)
    authorize = zalo_what.add_parser(
        "authorize", help="print the OA consent URL, then store the tokens for the code"
    )
    authorize.add_argument(
        "--redirect-uri", help="the app's registered callback URL (default: QUEN_PUBLIC_URL/)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        # QUEN_DEFAULT_LANGUAGE may be the bad setting: say it in the program's own default.
        return _refuse("quen", t(DEFAULT_LANGUAGE, "cli-bad-setting", error=str(error)))
    _setup_logging(settings)
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
    elif args.command == "outbox":
        asyncio.run(_outbox(settings))
    elif args.command == "analyze":
        as_of = args.as_of.isoformat() if args.as_of else None
        return asyncio.run(_with_database(settings, lambda: _analyze(settings, as_of, args.json)))
    elif args.command == "demo":
        return asyncio.run(_with_database(settings, lambda: _demo(settings, args.members)))
    elif args.command == "import":
        return asyncio.run(_with_database(settings, lambda: _import(settings, args)))
    elif args.command == "zalo":
        return asyncio.run(_zalo_authorize(settings, args.redirect_uri))
    elif args.command == "apikey":
        return asyncio.run(_with_database(settings, lambda: _apikey(settings, args)))
    elif args.command == "check":
        return asyncio.run(_check(settings))
    elif args.command in ("backup", "restore"):
        return _backup_or_restore(settings, args)
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
