"""The voucher card image: what the voucher gives, whose it is, until when, the short code to read
aloud, and the QR a cashier scans (optionally with the shop's logo in its centre).

Cards are drawn on every claim and every re-send, so they must be cheap (the target is 100 cards a
second on one core). What makes them so, measured on the 2-core EPYC VM (bench/voucher_cards.py):

* Everything that does not change between vouchers (background, shop name, panels, logo tile,
  palette) is drawn once per shop, logo and QR version and cached; a card copies that template and
  adds the QR and four text fields.
* The QR is one byte-mode segment at a version cached per link length, with one fixed mask.
  Letting qrcode try all eight masks and score each in pure Python costs ~12 ms a card, more than
  everything else together. Decoders read the mask from the symbol, so any mask is valid, and in a
  trial of 300 links shrunk, blurred and JPEG-compressed to the edge of readability the fixed mask
  failed no more often than qrcode's scored choice.
* Text is fitted and rasterised once per distinct string and stamped from a cache: titles and
  expiry dates repeat across a day's vouchers, and FreeType rasterising is most of text's cost.
* The card is mapped onto a fixed palette (text colour ramps, black and white, the logo's colours)
  before PNG encoding: an 8-bit image skips PNG's per-row filter search and packs a third of the
  bytes, so quantizing and encoding take ~3 ms instead of ~10 ms, and the file is half the size.

Text is drawn with DejaVu (shipped inside matplotlib) after NFC normalisation, as on the member
card: Telegram may deliver names decomposed, which would draw tone marks as separate boxes.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont, ImageOps
from qrcode.constants import ERROR_CORRECT_H
from qrcode.util import MODE_8BIT_BYTE, QRData

WIDTH, HEIGHT = 900, 560
MARGIN = 44
#: The white square holding the QR and its quiet zone; modules are a whole number of pixels in it.
QR_PANEL = 400
QR_LEFT, QR_TOP = WIDTH - MARGIN - QR_PANEL, (HEIGHT - QR_PANEL) // 2 + 7
QUIET_ZONE = 4
#: One mask for every card (see the module docstring); 1 did best in the readability trial.
QR_MASK = 1
#: The logo tile (logo on a white square) as a share of the QR symbol's width: level H restores
#: about 30% of the codewords, and a 23%-wide square hides about 5% of the modules.
LOGO_SHARE = 0.23
LOGO_PADDING = 0.12
#: A loaded logo is reduced to this: it is drawn at under 100 px, and big files cost memory.
LOGO_MAX = 256
#: zlib level 3 is as fast as 1 with the zlib-ng that Pillow's wheels bundle, and a third smaller.
PNG_LEVEL = 3

BACKGROUND = (46, 32, 22)
ACCENT = (214, 163, 84)
TEXT = (250, 244, 235)
CODE_PANEL = (72, 52, 36)
BLACK, WHITE = (0, 0, 0), (255, 255, 255)
#: Ink on paper pairs: antialiased text only makes blends of these, so the palette holds ramps.
RAMPS = ((TEXT, BACKGROUND), (ACCENT, BACKGROUND), (TEXT, CODE_PANEL))
RAMP_STEPS = 32

SANS, SANS_BOLD, MONO_BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono-Bold.ttf"
TEXT_LEFT = MARGIN
TEXT_WIDTH = QR_LEFT - 36 - MARGIN
CODE_BOX = (TEXT_LEFT, QR_TOP + QR_PANEL - 96, TEXT_LEFT + TEXT_WIDTH, QR_TOP + QR_PANEL)


@cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    import matplotlib

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)


def _clean(text: str, limit: int) -> str:
    """NFC, printable, single-spaced, at most ``limit`` characters: titles and names are typed by
    owners and strangers, and the cut bounds the work of fitting them. Any whitespace (a no-break
    space in ``30.000 ₫`` too) becomes one space rather than being dropped as unprintable."""
    text = unicodedata.normalize("NFC", text)
    text = " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ellipsised(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """``text`` as is if it fits ``width``, else cut to fit with a trailing ellipsis."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(words: list[str], font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    rows: list[str] = []
    for word in words:
        if rows and font.getlength(f"{rows[-1]} {word}") <= width:
            rows[-1] += f" {word}"
        else:
            rows.append(word)
    return rows


def _fit(
    text: str, face: str, size: int, smallest: int, lines: int
) -> tuple[list[str], ImageFont.FreeTypeFont]:
    """``text`` in at most ``lines`` rows of ``TEXT_WIDTH`` at the largest size from ``size`` down
    to ``smallest``; what still does not fit at ``smallest`` is ellipsised (a readable cut name
    beats a whole one in tiny print)."""
    words = text.split() or ["—"]
    while True:
        font = _font(face, size)
        rows = _wrap(words, font, TEXT_WIDTH)
        fits = len(rows) <= lines and all(font.getlength(row) <= TEXT_WIDTH for row in rows)
        if fits or size <= smallest:
            break
        size -= 2
    rows = [*rows[: lines - 1], " ".join(rows[lines - 1 :])]
    return [_ellipsised(row, font, TEXT_WIDTH) for row in rows], font


@dataclass(frozen=True)
class _Text:
    """Text fitted to the column and rasterised: per row, its coverage mask and where the mask
    goes relative to the text's top-left corner."""

    rows: tuple[tuple[Image.Image, int, int], ...]
    height: int


@lru_cache(maxsize=128)
def _text(text: str, face: str, size: int, smallest: int, lines: int = 1) -> _Text:
    """See the module docstring: rasterised once, stamped on every card that repeats it."""
    rows, font = _fit(text, face, size, smallest, lines)
    line_height = round(font.size * 1.2)
    stamps = []
    for number, row in enumerate(rows):
        left, top, right, bottom = (round(edge) for edge in font.getbbox(row))
        mask = Image.new("L", (max(right - left, 1), max(bottom - top, 1)))
        ImageDraw.Draw(mask).text((-left, -top), row, font=font, fill=255)
        stamps.append((mask, left, top + number * line_height))
    return _Text(tuple(stamps), line_height * len(rows))


def _stamp(card: Image.Image, text: _Text, left: int, top: int, colour: tuple[int, ...]) -> None:
    for mask, x, y in text.rows:
        card.paste(colour, (left + x, top + y), mask)


def load_logo(path: str | Path) -> Image.Image:
    """The shop's logo, opened and converted once (RGBA, EXIF rotation applied, at most
    ``LOGO_MAX`` px a side) so that every card can reuse it: pass the same object each time, as
    the card templates are cached by the logo's identity. Treat it as read-only."""
    try:
        with Image.open(path) as opened:
            logo = ImageOps.exif_transpose(opened).convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read the logo {str(path)!r}: {error}") from error
    logo.thumbnail((LOGO_MAX, LOGO_MAX), Image.Resampling.LANCZOS)
    return logo


class _Same:
    """A logo as a cache key, by identity: Pillow images compare pixel by pixel and cannot be
    hashed. The cache keeps the key, and so the image, alive, so its id cannot be reused."""

    __slots__ = ("image",)

    def __init__(self, image: Image.Image | None) -> None:
        self.image = image

    def __hash__(self) -> int:
        return id(self.image)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.image is self.image


@dataclass(frozen=True)
class _Template:
    """What every card of one shop, logo and QR version shares."""

    card: Image.Image
    box: int  # pixels per QR module
    qr_at: tuple[int, int]
    tile: Image.Image | None
    tile_at: tuple[int, int]
    palette: Image.Image


def _blend(paper: tuple[int, int, int], ink: tuple[int, int, int], t: float) -> tuple[int, ...]:
    return tuple(round(p + (i - p) * t) for p, i in zip(paper, ink, strict=True))


def _logo_tile(logo: Image.Image, size: int, colours: int) -> Image.Image:
    """The logo centred on a white square of ``size`` px, reduced to ``colours`` colours (so that
    every pixel is in the card's palette)."""
    tile = Image.new("RGBA", (size, size), WHITE)
    inner = round(size * (1 - 2 * LOGO_PADDING))
    picture = logo.copy()
    picture.thumbnail((inner, inner), Image.Resampling.LANCZOS)
    tile.alpha_composite(picture, ((size - picture.width) // 2, (size - picture.height) // 2))
    return tile.convert("RGB").quantize(colors=colours).convert("RGB")


@lru_cache(maxsize=32)
def _template(shop_name: str, logo: _Same, version: int) -> _Template:
    """The static part of the card, drawn once per shop, logo and QR version (a shop's links all
    have the same length, so one version per shop)."""
    modules = version * 4 + 17
    box = QR_PANEL // (modules + 2 * QUIET_ZONE)
    side = modules * box
    qr_at = (QR_LEFT + (QR_PANEL - side) // 2, QR_TOP + (QR_PANEL - side) // 2)

    card = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, WIDTH, 14), fill=ACCENT)
    draw.rectangle((QR_LEFT, QR_TOP, QR_LEFT + QR_PANEL - 1, QR_TOP + QR_PANEL - 1), fill=WHITE)
    draw.rectangle(CODE_BOX, fill=CODE_PANEL)
    _stamp(card, _text(_clean(shop_name, 40), SANS_BOLD, 34, 22), TEXT_LEFT, QR_TOP, ACCENT)

    ramps = [
        _blend(paper, ink, step / (RAMP_STEPS - 1))
        for ink, paper in RAMPS
        for step in range(RAMP_STEPS)
    ]
    colours = list(dict.fromkeys([BLACK, WHITE, *ramps]))
    tile, tile_at = None, (0, 0)
    if logo.image is not None:
        size = round(side * LOGO_SHARE)
        tile = _logo_tile(logo.image, size, 256 - len(colours))
        colours += [rgb for _, rgb in tile.getcolors(256) or [] if isinstance(rgb, tuple)]
        tile_at = (qr_at[0] + (side - size) // 2, qr_at[1] + (side - size) // 2)
    palette = Image.new("P", (1, 1))
    palette.putpalette([channel for colour in colours for channel in colour])
    return _Template(card, box, qr_at, tile, tile_at, palette)


@cache
def _version(length: int) -> int:
    """The smallest QR version holding ``length`` bytes at level H: a shop's links all have one
    length, so qrcode's per-card fitting is done once."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_H)
    code.add_data(QRData(b"\0" * length, mode=MODE_8BIT_BYTE))
    return int(code.best_fit())


def _qr(link: str) -> qrcode.QRCode:
    """The link as one byte-mode segment (qrcode would otherwise search it for digit and capital
    runs, which a URL with a random token hardly has), at the cached version and the fixed mask."""
    data = QRData(link.encode(), mode=MODE_8BIT_BYTE)
    code = qrcode.QRCode(
        version=_version(len(data)),
        error_correction=ERROR_CORRECT_H,
        border=0,
        mask_pattern=QR_MASK,
    )
    code.add_data(data)
    code.make(fit=False)
    return code


def render_voucher_card(
    *,
    shop_name: str,
    title: str,
    member_name: str,
    expires_label: str,
    short_code: str,
    link: str,
    logo: Image.Image | None = None,
) -> bytes:
    """The card as PNG bytes. ``title`` and ``expires_label`` arrive translated, ``short_code``
    already grouped for reading aloud; ``logo`` should come from ``load_logo`` and be reused."""
    code = _qr(link)
    template = _template(shop_name, _Same(logo), code.version)
    card = template.card.copy()

    modules = code.modules_count
    pixels = bytes(0 if dark else 255 for row in code.modules for dark in row)
    side = modules * template.box
    qr = Image.frombytes("L", (modules, modules), pixels)
    card.paste(qr.resize((side, side), Image.Resampling.NEAREST), template.qr_at)
    if template.tile is not None:
        card.paste(template.tile, template.tile_at)

    top = QR_TOP + 62
    fields = (
        (_text(_clean(title, 60), SANS_BOLD, 46, 26, lines=2), TEXT, 0),
        (_text(_clean(member_name, 40), SANS_BOLD, 30, 24), TEXT, 18),
        (_text(_clean(expires_label, 40), SANS, 26, 20), ACCENT, 14),
    )
    for text, colour, gap in fields:
        top += gap
        _stamp(card, text, TEXT_LEFT, top, colour)
        top += text.height
    code_text = _text(_clean(short_code, 20), MONO_BOLD, 44, 28)
    (mask, x, y), *_ = code_text.rows
    centre_x, centre_y = (CODE_BOX[0] + CODE_BOX[2]) // 2, (CODE_BOX[1] + CODE_BOX[3]) // 2
    _stamp(card, code_text, centre_x - x - mask.width // 2, centre_y - y - mask.height // 2, TEXT)

    indexed = card.quantize(palette=template.palette, dither=Image.Dither.NONE)
    out = io.BytesIO()
    indexed.save(out, format="PNG", optimize=False, compress_level=PNG_LEVEL)
    return out.getvalue()
