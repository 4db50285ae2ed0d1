"""The member card image: shop name, member name and tier, and the QR a cashier scans.

Pillow's default font has no Vietnamese glyphs, so text is drawn with DejaVu Sans (shipped inside
matplotlib, already a dependency for charts) after NFC normalisation: Telegram may deliver names in
decomposed form, which would draw tone marks as separate boxes.
"""

from __future__ import annotations

import io
import unicodedata
from functools import cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

WIDTH, HEIGHT = 900, 560
QR_SIZE = 360
BACKGROUND = (46, 32, 22)
ACCENT = (214, 163, 84)
TEXT = (250, 244, 235)
MAX_NAME_CHARS = 28


@cache
def _font_path(bold: bool) -> str:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name)


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_font_path(bold), size)


def _clean(text: str, limit: int = MAX_NAME_CHARS) -> str:
    """NFC, printable, and short enough to fit: names come from strangers' chat profiles."""
    text = "".join(ch for ch in unicodedata.normalize("NFC", text) if ch.isprintable())
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fitted(text: str, width: int, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    """The largest font up to ``size`` in which ``text`` fits ``width`` pixels (down to 18px)."""
    while size > 18 and _font(size, bold).getlength(text) > width:
        size -= 2
    return _font(size, bold)


def qr_image(payload: str, box_size: int = 10) -> Image.Image:
    """A plain black-on-white QR (level M: no logo, so no need for H's extra modules)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(payload)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def render_card(*, shop_name: str, member_name: str, tier_label: str, link: str) -> bytes:
    """The card as PNG bytes. ``tier_label`` arrives already translated."""
    card = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, WIDTH, 14), fill=ACCENT)
    margin = 48
    text_width = WIDTH - QR_SIZE - 3 * margin
    lines = (
        (_clean(shop_name, 40), 70, 44, True, ACCENT),
        (_clean(member_name) or "—", 220, 40, True, TEXT),
        (_clean(tier_label, 30), 285, 32, False, ACCENT),
    )
    for text, top, size, bold, colour in lines:
        draw.text((margin, top), text, font=_fitted(text, text_width, size, bold), fill=colour)
    qr = qr_image(link).resize((QR_SIZE, QR_SIZE), Image.Resampling.NEAREST)
    card.paste(qr, (WIDTH - QR_SIZE - margin, (HEIGHT - QR_SIZE) // 2 + 7))
    out = io.BytesIO()
    card.save(out, format="PNG", optimize=True)
    return out.getvalue()
