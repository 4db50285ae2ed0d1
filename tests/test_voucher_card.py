"""Voucher card images: every kind of card scans back to exactly its link, full size, shrunk and
JPEG-compressed, with and without a logo in the QR; text is NFC-normalised and kept in its column.

Pure image tests: no database.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from loyalty.voucher_card import (
    BACKGROUND,
    HEIGHT,
    QR_LEFT,
    QR_PANEL,
    QR_TOP,
    TEXT_LEFT,
    TEXT_WIDTH,
    WIDTH,
    load_logo,
    render_voucher_card,
)

DECOMPOSED_NAME = "Nguye\u0302\u0303n Thi\u0323 A\u0301nh Tuye\u0302\u0301t " * 3
#: (title, member name, bot username): the three voucher kinds, long and decomposed text, and bot
#: usernames of 7, 17 and 31 characters, whose links need QR versions 6, 7 and 8.
CARDS = {
    "percent": ("Giảm 20% cho hóa đơn", "Lan", "Quenbot"),
    "item": ("Miễn phí 1 Bạc xỉu", "Trần Văn Bảo", "QuenCafeHanoi_bot"),
    "amount": ("Giảm 30.000\xa0₫", "Phạm Thị Hương", "QuenCafeHanoiLoyaltyProgram_bot"),
    "long": (
        "Miễn phí 1 Bạc xỉu đá size lớn kèm bánh mì pate trứng ốp la cho cả nhà " * 2,
        "Nguyễn Thị Ánh Tuyết Hoàng Phương Thảo Lê Ngọc Diễm My",
        "QuenCafeHanoiLoyaltyProgram_bot",
    ),
    "decomposed": ("Mie\u0302\u0303n phi\u0301 1 Ba\u0323c xi\u0309u", DECOMPOSED_NAME, "Quenbot"),
}
TOKEN = "Ab3_x-Yz9Q" * 2 + "kW"


def _link(bot: str, token: str = TOKEN) -> str:
    return f"https://t.me/{bot}?start=v_{token}"


@cache
def _logo() -> Image.Image:
    """A shop logo as load_logo returns one: a coloured RGBA square with a letter on it."""
    logo = Image.new("RGBA", (160, 160), (196, 30, 58, 255))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((12, 12, 148, 148), fill=(255, 204, 0, 255))
    draw.text((80, 80), "Q", font=ImageFont.load_default(72), fill=(20, 60, 160, 255), anchor="mm")
    return logo


@cache
def _card(case: str, with_logo: bool) -> Image.Image:
    title, name, bot = CARDS[case]
    png = render_voucher_card(
        shop_name="Cà Phê Quen — Hà Nội",
        title=title,
        member_name=name,
        expires_label="Hạn dùng: 30/11/2026",
        short_code="7K3M-9QXD-2F",
        link=_link(bot),
        logo=_logo() if with_logo else None,
    )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(png)).convert("RGB")


def _half(image: Image.Image) -> Image.Image:
    return image.resize((image.width // 2, image.height // 2))


def _jpeg(image: Image.Image) -> Image.Image:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=60)
    return Image.open(io.BytesIO(out.getvalue()))


VIEWS = {
    "full": lambda image: image,
    "half": _half,
    "jpeg": _jpeg,
    "half-jpeg": lambda image: _jpeg(_half(image)),
}


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("with_logo", [False, True], ids=["plain", "logo"])
@pytest.mark.parametrize("case", CARDS)
def test_every_card_scans_to_exactly_its_link(case: str, with_logo: bool, view: str) -> None:
    image = _card(case, with_logo)
    assert image.size == (WIDTH, HEIGHT) == (900, 560)
    results = zxingcpp.read_barcodes(VIEWS[view](image))
    assert [r.text for r in results] == [_link(CARDS[case][2])]
    assert results[0].ec_level == "H"


@pytest.mark.parametrize("with_logo", [False, True], ids=["plain", "logo"])
def test_different_links_give_different_payloads(with_logo: bool) -> None:
    logo = _logo() if with_logo else None
    links = [_link("Quenbot", token) for token in ("A" * 22, "B" * 21 + "C")]
    decoded = []
    for link in links:
        png = render_voucher_card(
            shop_name="Quen",
            title="Giảm 20% cho hóa đơn",
            member_name="Lan",
            expires_label="Hạn dùng: 30/11/2026",
            short_code="7K3M-9QXD-2F",
            link=link,
            logo=logo,
        )
        decoded += [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert decoded == links


def test_decomposed_text_draws_exactly_like_composed_text() -> None:
    def png(title: str, name: str) -> bytes:
        return render_voucher_card(
            shop_name="Quen",
            title=title,
            member_name=name,
            expires_label="Hạn dùng: 30/11/2026",
            short_code="7K3M-9QXD-2F",
            link=_link("Quenbot"),
        )

    composed = png("Miễn phí 1 Bạc xỉu", "Nguyễn Thị Ánh")
    assert (
        png(
            "Mie\u0302\u0303n phi\u0301 1 Ba\u0323c xi\u0309u",
            "Nguye\u0302\u0303n Thi\u0323 A\u0301nh",
        )
        == composed
    )
    assert png("Miễn phí 1 Bạc xỉu", "Nguyễn Thị Ánh Tuyết") != composed


@pytest.mark.parametrize("with_logo", [False, True], ids=["plain", "logo"])
def test_long_text_stays_in_its_column_and_the_logo_sits_in_the_qr(with_logo: bool) -> None:
    image = _card("long", with_logo)
    gutter = image.crop((TEXT_LEFT + TEXT_WIDTH + 1, 20, QR_LEFT, HEIGHT))
    assert gutter.getcolors() == [(gutter.width * gutter.height, BACKGROUND)]
    pixel = image.getpixel((QR_LEFT + QR_PANEL // 2 - 18, QR_TOP + QR_PANEL // 2))
    assert isinstance(pixel, tuple)
    colourful = max(pixel) - min(pixel) > 100  # the logo's yellow disc, not black or white
    assert colourful == with_logo


def test_load_logo_converts_once_and_refuses_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    Image.new("P", (1000, 600), 3).save(path)
    logo = load_logo(path)
    assert logo.mode == "RGBA" and max(logo.size) <= 256
    broken = tmp_path / "logo.jpg"
    broken.write_bytes(b"not an image")
    for unreadable in (broken, tmp_path / "missing.png"):
        with pytest.raises(ValueError, match="cannot read the logo"):
            load_logo(unreadable)
