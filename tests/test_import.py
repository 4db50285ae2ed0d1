"""Importing a till's purchase history from CSV (``loyalty.importer``), on a real database."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handlers.types import Shop
from loyalty.importer import Columns, ImportRefused, ImportReport, import_purchases
from models.ledger import LedgerEntry
from models.members import ChannelAccount, ConsentRecord, Customer
from models.purchases import Purchase
from tests.chat import Chat, join

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
TILL = Columns(date="Ngày", amount="Tổng", customer="Mã KH", phone="SĐT", items="Món")
HEADER = "Ngày,Mã KH,SĐT,Tổng,Món\n"


def write(folder: Path, text: str, name: str = "till.csv", encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


async def run(path: Path, columns: Columns = TILL, *, batch_size: int = 5000) -> ImportReport:
    return await import_purchases(
        path, columns, zone=ZONE, now=NOW, progress=False, batch_size=batch_size
    )


def rejects_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as source:
        return list(csv.DictReader(source))


async def test_both_kinds_of_customer_ids_thousands_and_items(db: str, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeffNgày,Mã KH,SĐT,Tổng,Món\n"
        "2026-01-05 08:15,KH001,0912 345 678,85,Bạc xỉu; Bánh mì \n"
        "2026-01-05 09:00,,+84 987 654 321,45.5,Cà phê sữa đá\n"
        "2026-02-01 19:30,KH001,,120,\n"
        '2026-03-01 07:00,KH002,,"30,5",Trà đào;;\n',
    )
    report = await run(path, replace(TILL, amount_scale=1000))

    assert (report.rows, report.imported, report.duplicates, report.rejected) == (4, 4, 0, 0)
    assert (report.new_members, report.linked_members, report.rejects_path) == (3, 0, None)
    assert not (tmp_path / "till.csv.rejects.csv").exists()
    first = await Customer.get(pos_ref="KH001")
    assert first.phone == "+84912345678"
    assert first.display_name == "" and first.language == "vi"
    assert first.marketing_consent is False and first.joined_at == NOW
    by_phone = await Customer.get(phone="+84987654321")
    assert by_phone.pos_ref is None
    assert (await Customer.get(pos_ref="KH002")).phone is None
    assert await ChannelAccount.all().count() == 0 and await ConsentRecord.all().count() == 0

    purchases = await Purchase.all().order_by("created_at")
    assert [(p.customer_id, p.amount_vnd, p.items) for p in purchases] == [
        (first.id, 85_000, ["Bạc xỉu", "Bánh mì"]),
        (by_phone.id, 45_500, ["Cà phê sữa đá"]),
        (first.id, 120_000, []),
        ((await Customer.get(pos_ref="KH002")).id, 30_500, ["Trà đào"]),
    ]
    assert purchases[0].created_at == datetime(2026, 1, 5, 1, 15, tzinfo=UTC)  # 08:15 in Saigon
    for purchase in purchases:
        assert purchase.source == "import" and purchase.points == 0
        assert purchase.cashier_id is None and purchase.store_id is None
        assert purchase.earn_entry_id is None and purchase.voided_at is None
        assert purchase.idempotency_key.startswith("import:")
        assert len(purchase.idempotency_key) <= 128
    assert await LedgerEntry.all().count() == 0
    assert (await Customer.get(id=first.id)).points_balance == 0


async def test_amounts_in_dong_group_thousands_like_the_till(db: str, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER + "2026-01-05 08:15,A,,85.000,\n"
        '2026-01-05 08:16,A,,"1,250,000",\n'
        "2026-01-05 08:17,A,,85000.0,\n"
        "2026-01-05 08:18,A,,45 000 ₫,\n"
        "2026-01-05 08:19,A,,85.5,\n",
    )
    report = await run(path)
    amounts = await Purchase.all().order_by("created_at").values_list("amount_vnd", flat=True)
    assert amounts == [85_000, 1_250_000, 85_000, 45_000]
    assert report.rejected == 1
    assert rejects_of(tmp_path / "till.csv.rejects.csv")[0]["reason"] == (
        "amount '85.5' is not a whole number of đồng"
    )


async def test_importing_the_same_file_twice_adds_nothing(db: str, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER + "2026-01-05 08:15,KH001,0912345678,85000,Bạc xỉu\n"
        "2026-01-06 08:15,,0987654321,45000,\n",
    )
    first = await run(path)
    assert (first.imported, first.new_members) == (2, 2)

    again = await run(path)
    assert (again.rows, again.imported, again.duplicates, again.rejected) == (2, 0, 2, 0)
    assert (again.new_members, again.linked_members) == (0, 0)
    assert await Purchase.all().count() == 2
    assert await Customer.all().count() == 2


async def test_identical_rows_are_two_purchases_once(db: str, tmp_path: Path) -> None:
    row = "2026-01-05 08:15,KH001,,29000,Cà phê đen\n"
    path = write(tmp_path, HEADER + row + row + "2026-01-05 08:15,KH001,,29000,Cà phê sữa\n")
    report = await run(path, batch_size=1)
    assert report.imported == 3
    assert await Purchase.filter(items=["Cà phê đen"]).count() == 2

    again = await run(path)
    assert (again.imported, again.duplicates) == (0, 3)
    # A later export with one more identical row adds exactly that one.
    bigger = write(tmp_path, HEADER + row + row + row, name="later.csv")
    later = await run(bigger)
    assert (later.imported, later.duplicates) == (1, 2)
    assert await Purchase.all().count() == 4


async def test_members_are_matched_by_till_id_then_phone(
    db: str, shop: Shop, tmp_path: Path
) -> None:
    await join(Chat(shop, user_id="1001"))  # joined in the chat with +84912001001
    joined = await Customer.get(phone="+84912001001")
    path = write(
        tmp_path,
        HEADER + "2026-01-05 08:00,,0987000001,10000,\n"  # phone only: a new member
        "2026-01-05 09:00,KH7,0987000001,20000,\n"  # that member's till id
        "2026-01-05 10:00,KH7,,30000,\n"
        "2026-01-05 11:00,KH8,0987000001,40000,\n"  # another till id: the phone stays with KH7
        "2026-01-05 12:00,KH9,0912001001,50000,\n"  # the chat member's till history
        "2026-01-05 13:00,KH9,,60000,\n",
    )
    for batch_size in (1, 5000):
        await Purchase.all().delete()
        await Customer.exclude(id=joined.id).delete()
        await Customer.filter(id=joined.id).update(pos_ref=None)
        report = await run(path, batch_size=batch_size)
        assert (report.imported, report.new_members, report.linked_members) == (6, 2, 1)
        kh7 = await Customer.get(pos_ref="KH7")
        assert kh7.phone == "+84987000001"
        assert (await Customer.get(pos_ref="KH8")).phone is None
        assert (await Customer.get(id=joined.id)).pos_ref == "KH9"
        owners = await Purchase.all().order_by("created_at").values_list("customer_id", flat=True)
        kh8 = (await Customer.get(pos_ref="KH8")).id
        assert owners == [kh7.id, kh7.id, kh7.id, kh8, joined.id, joined.id]


async def test_bad_rows_go_to_the_rejects_file(db: str, tmp_path: Path) -> None:
    future = (NOW + timedelta(days=2)).astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    path = write(
        tmp_path,
        HEADER + "2026-01-05 08:15,KH001,,85000,\n"  # line 2: fine
        "05/01/2026 08:15,KH001,,85000,\n"  # 3
        "2026-01-05 08:15,KH001,,abc,\n"  # 4
        "2026-01-05 08:15,KH001,,-85000,\n"  # 5
        "2026-01-05 08:15,KH001,,0,\n"  # 6
        "2026-01-05 08:15,KH001,,1000000001,\n"  # 7
        f"{future},KH001,,85000,\n"  # 8
        "2026-01-05 08:15,,,85000,\n"  # 9
        "2026-01-05 08:15,,12345,85000,\n"  # 10
        "2026-01-05 08:15,KH001,85000\n"  # 11
        "\n"  # 12: blank lines are skipped
        '2026-01-05 08:20,KH002,12345,"1.000.000.000","Trà\nđá"\n'  # 13-14: fine, phone ignored
        "2026-01-05 08:30,KH003,,x,\n",  # 15
    )
    report = await run(path)
    assert (report.rows, report.imported, report.rejected) == (12, 2, 10)
    assert report.rejects_path == tmp_path / "till.csv.rejects.csv"
    rejected = rejects_of(report.rejects_path)
    assert [(row["line"], row["reason"]) for row in rejected] == [
        ("3", "date '05/01/2026 08:15' does not match the format %Y-%m-%d %H:%M"),
        ("4", "amount 'abc' is not a number"),
        ("5", "amount is negative"),
        ("6", "amount is zero"),
        ("7", "amount 1,000,000,001 VND is over the 1,000,000,000 VND limit"),
        ("8", f"date '{future}' is in the future"),
        ("9", "no customer id and no phone"),
        ("10", "phone '12345' is not a valid phone number"),
        ("11", "3 fields, the header has 5"),
        ("15", "amount 'x' is not a number"),
    ]
    assert rejected[0]["Ngày"] == "05/01/2026 08:15" and rejected[0]["Mã KH"] == "KH001"
    big = await Purchase.get(amount_vnd=1_000_000_000)
    assert big.items == ["Trà đá"]
    assert (await Customer.get(id=big.customer_id)).phone is None

    # Fixed and imported again: the rejects file of the earlier run goes away.
    write(tmp_path, HEADER + "2026-01-05 08:15,KH001,,85000,\n")
    fixed = await run(path)
    assert (fixed.duplicates, fixed.rejected, fixed.rejects_path) == (1, 0, None)
    assert not (tmp_path / "till.csv.rejects.csv").exists()


async def test_a_file_in_another_encoding_is_refused(db: str, tmp_path: Path) -> None:
    columns = Columns(date="date", amount="amount", customer="customer", items="items")
    path = write(
        tmp_path,
        "date,customer,amount,items\n"
        "2026-01-05 08:15,KH001,85000,Bac xiu\n"
        "2026-01-05 09:15,KH002,45000,Cà phê\n",
        encoding="cp1258",  # a Windows export: à is the single byte 0xE0
    )
    with pytest.raises(ImportRefused) as refused:
        await run(path, columns)
    message = str(refused.value)
    assert "till.csv is not UTF-8 text: byte 0xE0 on line 3" in message
    assert "cp1258" in message
    assert await Purchase.all().count() == 0 and await Customer.all().count() == 0
    assert not (tmp_path / "till.csv.rejects.csv").exists()

    report = await run(path, replace(columns, encoding="cp1258"))
    assert report.imported == 2
    assert (await Purchase.get(amount_vnd=45000)).items == ["Cà phê"]


async def test_missing_columns_are_refused_by_name(db: str, tmp_path: Path) -> None:
    path = write(tmp_path, "Ngày,Mã KH,Tổng\n2026-01-05 08:15,KH001,85000\n")
    with pytest.raises(ImportRefused) as refused:
        await run(path)
    assert str(refused.value) == (
        "till.csv has no column 'SĐT' or 'Món'. Its columns are: Ngày, Mã KH, Tổng."
    )
    assert refused.value.text("vi") == (
        "Tệp till.csv không có cột 'SĐT' hoặc 'Món'. Các cột của tệp là: Ngày, Mã KH, Tổng."
    )
    assert await Purchase.all().count() == 0 and await Customer.all().count() == 0


async def test_empty_files_and_unusable_settings_are_refused(db: str, tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match=r"empty\.csv is empty"):
        await run(write(tmp_path, "", name="empty.csv"))
    with pytest.raises(ImportRefused, match=r"blank\.csv is empty"):
        await run(write(tmp_path, "\n\n", name="blank.csv"))
    with pytest.raises(ImportRefused, match=r"header\.csv has a header but no purchases"):
        await run(write(tmp_path, HEADER, name="header.csv"))
    with pytest.raises(ImportRefused, match="Cannot read"):
        await run(tmp_path / "missing.csv")
    with pytest.raises(ImportRefused, match="customer id column or a phone column"):
        Columns(date="Ngày", amount="Tổng")
    with pytest.raises(ImportRefused, match="Unknown encoding"):
        Columns(date="Ngày", amount="Tổng", phone="SĐT", encoding="tcvn3")
    assert await Purchase.all().count() == 0


async def test_local_formats_and_zoned_times(db: str, tmp_path: Path) -> None:
    columns = Columns(
        date="ngay",
        amount="tien",
        phone="dien thoai",
        date_format="%d/%m/%Y %H:%M:%S%z",
        delimiter=";",
    )
    path = write(
        tmp_path,
        " Ngay ; Tien ;Dien thoai\n05/01/2026 08:15:00+0000;85.000;0912345678\n",
    )
    report = await run(path, columns)
    assert report.imported == 1
    purchase = await Purchase.get()
    assert purchase.created_at == datetime(2026, 1, 5, 8, 15, tzinfo=UTC)
    assert purchase.amount_vnd == 85_000
