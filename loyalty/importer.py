"""Importing a till's purchase history from a CSV export (``quen import purchases FILE.csv``).

Decisions, and why:

* **History, not points.** Imported purchases are written with ``source="import"``, ``points=0``,
  no ledger entry, no cashier and no store. They happened before the program existed, under no
  promise of points: crediting them would hand out a points liability the owner never decided on
  and push people up tiers overnight. They still are visits for everything that reads purchases
  (analytics, win-back), which is the point of importing them.
* **Idempotent.** Each row's ``idempotency_key`` is ``import:`` + the SHA-256 of its normalised
  content (till id, else phone, the UTC time, the amount in đồng, the items) and of its occurrence
  number among identical rows in the file, so importing a file twice adds nothing while two
  identical rows (two coffees rung up in the same minute) stay two purchases. Keys that already
  exist are looked up once per batch and counted as duplicates; the insert itself is
  ``ON CONFLICT DO NOTHING``, so a concurrent import cannot fail on them either.
* **Members.** A row's member is found by till id (``Customer.pos_ref``) first, then by phone
  (E.164, as members who joined in the chat have it). A till id that is unknown is recorded on the
  member found by the row's phone if that member has no till id yet, so the till history of
  someone who already joined in the chat lands on their card; otherwise a new member is created.
  Only rows that are imported create or link members: a duplicate or a rejected row changes
  nobody (re-importing a file after someone asked to be erased does not bring their phone back).
  A till id that belongs to an erased member still points at that anonymous record.
* **Imported members** have no chat account, no consent record and no marketing consent: they
  receive nothing until they join, and when they join with the same phone the chat member is
  merged into them (``loyalty.members.set_phone``). ``display_name`` is empty, ``language`` is
  ``vi``, and ``joined_at`` is the import time (``now``): the record entered Quen then, and their
  first visit is already in their purchases. Joining in the chat later sets it to the join time.
* **Bad rows are set aside, bad files are refused.** A row that cannot be trusted (date, amount,
  customer) goes to a rejects CSV with its line number and the reason, and the rest is imported.
  A file that cannot be read as a whole (missing columns, wrong encoding, broken CSV, empty) is
  refused by ``ImportRefused`` before anything is written: it is read once in full first. The
  refusal is a message key with facts (``locales/*/cli.ftl``), so ``quen`` says it in the
  operator's language; the rejects file's reasons stay English, like a log.
* **Amounts.** With ``amount_scale`` 1 the column is in đồng, which have no fractions, so a dot or
  comma followed by groups of three digits separates thousands (``85.000``, ``1,250,000``), as at
  the till. With another scale (an export in thousands of ₫) a dot or comma is a decimal point
  (``85.5`` x 1000 = 85.500 ₫). Either way the result must be a whole, positive number of đồng of
  at most 1.000.000.000 ₫.
* **Speed.** The file is streamed and handled in batches, each one transaction with a few
  statements (existing keys, unknown till ids and phones, new members, purchases), never a query
  per row; phone numbers are parsed once per distinct text.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache, reduce
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction
from tqdm import tqdm

from locales import Refusal, t
from loyalty import audit
from loyalty.phones import to_e164
from models.members import Customer
from models.purchases import Purchase

if TYPE_CHECKING:
    from _csv import Reader as CsvReader
    from _csv import Writer as CsvWriter

IMPORT = "import"
KEY_PREFIX = "import:"
MAX_AMOUNT_VND = 1_000_000_000
POS_REF_LENGTH = 64  # Customer.pos_ref's column
#: Rows per transaction at most: a batch's keys are one ``IN (...)`` list, and SQLite allows
#: 32,766 parameters a statement (asyncpg 32,767).
MAX_BATCH = 20_000

_CURRENCY = re.compile(r"\s*(?:₫|đ|vnđ|vnd)\s*$", re.IGNORECASE)
_GROUPED = re.compile(r"\d{1,3}(?:([.,\s])\d{3})(?:\1\d{3})*")
_DECIMAL = re.compile(r"\d+(?:[.,]\d+)?")
_SEPARATORS = re.compile(r"[.,\s]")

T = TypeVar("T")


class ImportRefused(Refusal):
    """The file as a whole cannot be imported; nothing was written. ``key`` is
    ``import-refused-<why>``, and its facts say what to fix."""

    def __init__(self, why: str, **facts: object) -> None:
        super().__init__(f"import-refused-{why}", **facts)


def _either(names: list[str]) -> Callable[[str], str]:
    """``'a' or 'b' or 'c'`` in the language the refusal is shown in."""

    def said(language: str) -> str:
        return reduce(
            lambda first, second: t(language, "import-either", first=first, second=second), names
        )

    return said


@dataclass(frozen=True)
class Columns:
    """Where things are in the till's export: column names (matched ignoring case and spaces
    around them) and how values are written. At least one of ``customer`` (the till's customer
    id) and ``phone`` is needed to tell whose purchase a row is: settings that cannot work raise
    ``ImportRefused`` here, so the CLI reports them like a refused file."""

    date: str
    amount: str
    customer: str | None = None
    phone: str | None = None
    items: str | None = None
    #: ``strptime`` format. Times without a zone (no ``%z``) are the shop's local time.
    date_format: str = "%Y-%m-%d %H:%M"
    #: Multiply by this to get đồng (1000 for an export in thousands of ₫).
    amount_scale: float = 1.0
    item_separator: str = ";"
    encoding: str = "utf-8-sig"
    delimiter: str = ","

    def __post_init__(self) -> None:
        if not self.customer and not self.phone:
            raise ImportRefused("no-member-column")
        if not self.amount_scale > 0:
            raise ImportRefused("bad-scale", scale=str(self.amount_scale))
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ImportRefused("unknown-encoding", encoding=repr(self.encoding)) from None


@dataclass
class ImportReport:
    """What an import did. ``rows`` = ``imported`` + ``duplicates`` + ``rejected``.

    ``new_members`` were created by this import; ``linked_members`` existed before it (joined in
    the chat, or came with an earlier import) and received purchases from it. ``rejects_path`` is
    the rejects CSV, or None when no row was rejected."""

    rows: int
    imported: int
    duplicates: int
    rejected: int
    new_members: int
    linked_members: int
    seconds: float
    rejects_path: Path | None


class _Rejected(Exception):
    """This row is set aside; the message is the reason written to the rejects file."""


@dataclass(frozen=True)
class _Row:
    pos_ref: str | None
    phone: str | None  # E.164
    at: datetime  # UTC
    amount_vnd: int
    items: list[str]
    key: str


@dataclass(frozen=True)
class _Layout:
    """The positions of the needed columns in the header."""

    fields: int
    date: int
    amount: int
    customer: int | None
    phone: int | None
    items: int | None


async def import_purchases(
    path: Path,
    columns: Columns,
    *,
    zone: ZoneInfo,
    now: datetime,
    rejects: Path | None = None,
    progress: bool = True,
    batch_size: int = 5000,
) -> ImportReport:
    """Import a till's purchase history; see the module docstring for the rules.

    ``now`` (aware) is the import time: later dates are rejected, and it is new members'
    ``joined_at``. Rejected rows go to ``rejects`` (default ``FILE.rejects.csv`` next to the file).
    The progress bar (rows/s, ETA) is shown on a terminal only. ``batch_size`` rows make one
    transaction (at most ``MAX_BATCH``: each batch's lookups are single ``IN`` lists). Raises
    ``ImportRefused`` for a file that cannot be imported at all, before writing anything.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be from 1 to {MAX_BATCH}")
    started = time.perf_counter()
    header, layout, total = _survey(path, columns)
    rejects_path = rejects or path.with_name(path.name + ".rejects.csv")
    importer = _Importer(columns, zone=zone, now=now.astimezone(UTC))
    with (
        _RejectsFile(rejects_path, header) as rejected,
        path.open(encoding=columns.encoding, newline="") as source,
        tqdm(total=total, unit=" rows", disable=None if progress else True) as bar,
    ):
        reader = csv.reader(source, delimiter=columns.delimiter)
        _read_header(reader)  # checked by _survey
        for batch in _batches(importer.rows(reader, layout, rejected), batch_size):
            await importer.store(batch)
            bar.update(importer.seen - bar.n)
        bar.update(importer.seen - bar.n)
    report = ImportReport(
        rows=importer.seen,
        imported=importer.imported,
        duplicates=importer.duplicates,
        rejected=rejected.count,
        new_members=len(importer.created),
        linked_members=len(importer.linked),
        seconds=time.perf_counter() - started,
        rejects_path=rejects_path if rejected.count else None,
    )
    await audit.record(
        None,
        "purchases.import",
        path.name,
        rows=report.rows,
        imported=report.imported,
        duplicates=report.duplicates,
        rejected=report.rejected,
        new_members=report.new_members,
        linked_members=report.linked_members,
    )
    return report


class _Importer:
    """One import's state: counts so far, and the till ids and phones already matched to members
    (so each is looked up in the database once per import, not once per row)."""

    def __init__(self, columns: Columns, *, zone: ZoneInfo, now: datetime) -> None:
        self.columns = columns
        self.zone = zone
        self.now = now
        self.scale = Decimal(str(columns.amount_scale))
        self.seen = 0
        self.imported = 0
        self.duplicates = 0
        self.created: set[int] = set()
        self.linked: set[int] = set()
        # A member id, or a Customer not yet inserted (created in the current batch).
        self._by_ref: dict[str, int | Customer] = {}
        self._by_phone: dict[str, int | Customer] = {}
        self._with_ref: set[int] = set()
        self._phones: dict[str, str | None] = {}
        self._occurrences: dict[int, int] = {}
        # Exports are mostly in time order, and many rows share a minute: parse each text once.
        self._local_time = lru_cache(maxsize=1 << 16)(self._parse_time)

    # Reading rows

    def rows(self, reader: CsvReader, layout: _Layout, rejects: _RejectsFile) -> Iterator[_Row]:
        """The good rows of the file; the others go to ``rejects``."""
        line = reader.line_num + 1
        for record in reader:
            if record:
                self.seen += 1
                try:
                    yield self._row(record, layout)
                except _Rejected as problem:
                    rejects.write(line, str(problem), record)
            line = reader.line_num + 1

    def _row(self, record: list[str], layout: _Layout) -> _Row:
        if len(record) != layout.fields:
            raise _Rejected(f"{len(record)} fields, the header has {layout.fields}")
        pos_ref = record[layout.customer].strip() if layout.customer is not None else ""
        if len(pos_ref) > POS_REF_LENGTH:
            raise _Rejected(f"customer id is longer than {POS_REF_LENGTH} characters")
        phone = self._phone(record[layout.phone], pos_ref) if layout.phone is not None else None
        if not pos_ref and phone is None:
            raise _Rejected("no customer id and no phone")
        at = self._local_time(record[layout.date].strip())
        if at > self.now:
            raise _Rejected(f"date {record[layout.date].strip()!r} is in the future")
        amount = _amount_vnd(record[layout.amount], self.scale)
        items = self._items(record[layout.items]) if layout.items is not None else []
        key = self._key(pos_ref, phone, at, amount, items)
        return _Row(pos_ref or None, phone, at, amount, items, key)

    def _phone(self, text: str, pos_ref: str) -> str | None:
        raw = text.strip()
        if not raw:
            return None
        if raw not in self._phones:
            self._phones[raw] = to_e164(raw)
        phone = self._phones[raw]
        if phone is None and not pos_ref:
            raise _Rejected(f"phone {raw!r} is not a valid phone number")
        return phone

    def _parse_time(self, text: str) -> datetime:
        try:
            moment = datetime.strptime(text, self.columns.date_format)
        except ValueError:
            raise _Rejected(
                f"date {text!r} does not match the format {self.columns.date_format}"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(UTC)

    def _items(self, text: str) -> list[str]:
        names = (" ".join(name.split()) for name in text.split(self.columns.item_separator))
        return [unicodedata.normalize("NFC", name) for name in names if name]

    def _key(
        self, pos_ref: str, phone: str | None, at: datetime, amount: int, items: list[str]
    ) -> str:
        who = f"ref:{pos_ref}" if pos_ref else f"phone:{phone}"
        content = "\x1f".join((who, at.strftime("%Y-%m-%dT%H:%M:%SZ"), str(amount), *items))
        digest = hashlib.sha256(content.encode()).digest()
        # Counted by a 64-bit prefix to keep a million rows small in memory: a collision only
        # numbers a row 2 instead of 1, the same way on every run over the same file.
        seen = int.from_bytes(digest[:8], "big")
        occurrence = self._occurrences.get(seen, 0) + 1
        self._occurrences[seen] = occurrence
        return KEY_PREFIX + hashlib.sha256(digest + occurrence.to_bytes(4, "big")).hexdigest()

    # Writing batches

    async def store(self, batch: list[_Row]) -> None:
        """Insert the batch's new purchases (and the members they need) in one transaction."""
        async with in_transaction():
            keys = [row.key for row in batch]
            known = set(
                await Purchase.filter(idempotency_key__in=keys).values_list(
                    "idempotency_key", flat=True
                )
            )
            fresh = [row for row in batch if row.key not in known]
            self.duplicates += len(batch) - len(fresh)
            if not fresh:
                return
            owners = await self._members_of(fresh)
            await Purchase.bulk_create(
                [
                    Purchase(
                        customer_id=owner,
                        amount_vnd=row.amount_vnd,
                        points=0,
                        items=row.items,
                        idempotency_key=row.key,
                        created_at=row.at,
                        source=IMPORT,
                    )
                    for row, owner in zip(fresh, owners, strict=True)
                ],
                ignore_conflicts=True,
            )
        self.imported += len(fresh)
        self.linked.update(owner for owner in owners if owner not in self.created)

    async def _members_of(self, rows: list[_Row]) -> list[int]:
        """Each row's member id, creating and linking members as the module docstring says."""
        await self._load(
            {row.pos_ref for row in rows if row.pos_ref and row.pos_ref not in self._by_ref},
            {row.phone for row in rows if row.phone and row.phone not in self._by_phone},
        )
        new: list[Customer] = []
        links: dict[int, str] = {}
        owners = [self._owner(row, new, links) for row in rows]
        if new:
            await self._create(new)
        for member_id, pos_ref in links.items():
            await Customer.filter(id=member_id, pos_ref__isnull=True).update(pos_ref=pos_ref)
        return [owner if isinstance(owner, int) else owner.id for owner in owners]

    async def _load(self, refs: set[str], phones: set[str]) -> None:
        found: list[tuple[int, str | None, str | None]] = []
        if refs:
            found += await Customer.filter(pos_ref__in=list(refs)).values_list(
                "id", "pos_ref", "phone"
            )
        if phones:
            found += await Customer.filter(phone__in=list(phones)).values_list(
                "id", "pos_ref", "phone"
            )
        for member_id, pos_ref, phone in found:
            self._remember(member_id, pos_ref, phone)

    def _remember(self, member: int | Customer, pos_ref: str | None, phone: str | None) -> None:
        if pos_ref:
            self._by_ref[pos_ref] = member
            if isinstance(member, int):
                self._with_ref.add(member)
        if phone:
            self._by_phone[phone] = member

    def _owner(self, row: _Row, new: list[Customer], links: dict[int, str]) -> int | Customer:
        """The member a row belongs to: known by till id, else by phone, else a new one."""
        if row.pos_ref:
            owner = self._by_ref.get(row.pos_ref)
            if owner is not None:
                return owner
            holder = self._by_phone.get(row.phone) if row.phone else None
            if isinstance(holder, int) and holder not in self._with_ref:
                links[holder] = row.pos_ref  # a member without a till id: this one is theirs
                self._remember(holder, row.pos_ref, None)
                return holder
            if isinstance(holder, Customer) and holder.pos_ref is None:
                holder.pos_ref = row.pos_ref
                self._remember(holder, row.pos_ref, None)
                return holder
            # The phone is someone else's (another till id): the new member goes without it.
            phone = row.phone if holder is None else None
            return self._new(row.pos_ref, phone, new)
        assert row.phone is not None
        holder = self._by_phone.get(row.phone)
        return self._new(None, row.phone, new) if holder is None else holder

    def _new(self, pos_ref: str | None, phone: str | None, new: list[Customer]) -> Customer:
        member = Customer(
            display_name="", language="vi", pos_ref=pos_ref, phone=phone, joined_at=self.now
        )
        new.append(member)
        self._remember(member, pos_ref, phone)
        return member

    async def _create(self, members: list[Customer]) -> None:
        """Insert new members and learn their ids. A phone taken meanwhile (someone joined in the
        chat during the import) makes the insert of a member with a till id do nothing: it is
        inserted again without the phone. One with only a phone belongs to whoever has it."""
        await Customer.bulk_create(members, ignore_conflicts=True)
        refs = [member.pos_ref for member in members if member.pos_ref]
        phones = [member.phone for member in members if not member.pos_ref]
        by_ref = dict(await Customer.filter(pos_ref__in=refs).values_list("pos_ref", "id"))
        by_phone = dict(await Customer.filter(phone__in=phones).values_list("phone", "id"))
        again = []
        for member in members:
            found = by_ref.get(member.pos_ref) if member.pos_ref else by_phone.get(member.phone)
            if found is None:
                if member.pos_ref and member.phone:
                    del self._by_phone[member.phone]
                    member.phone = None
                again.append(member)
                continue
            member.id = found
            self.created.add(found)
            self._remember(found, member.pos_ref, member.phone)
        if again:
            await self._create(again)


@dataclass
class _RejectsFile:
    """Rejected rows as CSV: line number, reason, then the row as it was. Written from the first
    reject on; a rejects file left by an earlier run of the same file is removed when this run
    rejects nothing, so it cannot be mistaken for this run's."""

    path: Path
    header: list[str]
    count: int = 0
    _file: IO[str] | None = None
    _writer: CsvWriter | None = None

    def __enter__(self) -> _RejectsFile:
        return self

    def write(self, line: int, reason: str, record: list[str]) -> None:
        if self._writer is None:
            self._file = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "reason", *self.header])
        self._writer.writerow([line, reason, *record])
        self.count += 1

    def __exit__(self, *_: object) -> None:
        if self._file is not None:
            self._file.close()
        elif self.path.exists():
            self.path.unlink()


def _survey(path: Path, columns: Columns) -> tuple[list[str], _Layout, int]:
    """Read the whole file once before writing anything: its header, where the needed columns
    are, and how many rows it has. Whatever makes the file unreadable is refused here."""
    try:
        with path.open(encoding=columns.encoding, newline="") as source:
            reader = csv.reader(source, delimiter=columns.delimiter)
            try:
                header = _read_header(reader)
                if header is None:
                    raise ImportRefused("empty", file=path.name)
                layout = _layout(path, header, columns)
                rows = sum(1 for record in reader if record)
            except csv.Error as error:
                raise ImportRefused(
                    "not-csv", file=path.name, line=str(reader.line_num), error=str(error)
                ) from None
    except UnicodeDecodeError:
        raise _undecodable(path, columns.encoding) from None
    except OSError as error:
        raise ImportRefused("unreadable", path=str(path), error=str(error.strerror)) from None
    if not rows:
        raise ImportRefused("no-rows", file=path.name)
    return header, layout, rows


def _read_header(reader: CsvReader) -> list[str] | None:
    """The first record that is not a blank line, if any."""
    for record in reader:
        if record:
            return record
    return None


def _layout(path: Path, header: list[str], columns: Columns) -> _Layout:
    names = [name.strip().lstrip("\ufeff").strip().casefold() for name in header]

    def position(column: str | None) -> int | None:
        if column is None:
            return None
        found = [i for i, name in enumerate(names) if name == column.strip().casefold()]
        if len(found) > 1:
            raise ImportRefused(
                "duplicate-column", file=path.name, count=len(found), column=repr(column)
            )
        return found[0] if found else None

    wanted = (columns.date, columns.amount, columns.customer, columns.phone, columns.items)
    missing = [repr(name) for name in wanted if name is not None and position(name) is None]
    if missing:
        raise ImportRefused(
            "missing-columns", file=path.name, missing=_either(missing), columns=", ".join(header)
        )
    date, amount = position(columns.date), position(columns.amount)
    assert date is not None and amount is not None
    return _Layout(
        fields=len(header),
        date=date,
        amount=amount,
        customer=position(columns.customer),
        phone=position(columns.phone),
        items=position(columns.items),
    )


def _undecodable(path: Path, encoding: str) -> ImportRefused:
    """Where the file stops being ``encoding`` text, for the person who has to fix it."""
    label = "UTF-8" if codecs.lookup(encoding).name.startswith("utf-8") else encoding
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with path.open("rb") as raw:
        while True:
            chunk = raw.read(1 << 20)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                line += error.object[: error.start].count(b"\n")
                byte = error.object[error.start : error.start + 1].hex().upper()
                return ImportRefused(
                    "undecodable", file=path.name, encoding=label, byte=byte, line=str(line)
                )
            if not chunk:
                return ImportRefused("not-text", file=path.name, encoding=label)
            line += chunk.count(b"\n")


def _amount_vnd(text: str, scale: Decimal) -> int:
    """A positive whole number of đồng from the export's amount (see "Amounts" above)."""
    number = _CURRENCY.sub("", text).strip()
    digits = number.lstrip("-+").strip()
    if scale == 1 and _GROUPED.fullmatch(digits):
        value = Decimal(_SEPARATORS.sub("", digits))
    elif _DECIMAL.fullmatch(digits):
        value = Decimal(digits.replace(",", "."))
    else:
        raise _Rejected(f"amount {text.strip()!r} is not a number")
    vnd = value * scale
    if vnd == 0:
        raise _Rejected("amount is zero")
    if number.startswith("-"):
        raise _Rejected("amount is negative")
    if vnd != vnd.to_integral_value():
        raise _Rejected(f"amount {text.strip()!r} is not a whole number of đồng")
    if vnd > MAX_AMOUNT_VND:
        raise _Rejected(f"amount {vnd:,.0f} VND is over the {MAX_AMOUNT_VND:,} VND limit")
    return int(vnd)


def _batches(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
