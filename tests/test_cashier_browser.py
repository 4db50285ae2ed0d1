"""The cashier page in a real headless Chromium (Debian's, driven by playwright; no browser is
downloaded): log in, type a member's phone, record a purchase, redeem a voucher, see the second
redemption refused, and decode a voucher QR from Chromium's fake camera.

Without /usr/bin/chromium these tests are skipped, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from PIL import Image

from bot.cashier_web import BASE
from loyalty import vouchers
from loyalty.cards import qr_image
from models.purchases import Purchase
from models.rewards import Voucher
from tests.conftest import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.test_cashier_web import Shopfront, running_shop

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("CI needs Debian's chromium for the cashier page tests", pytrace=False)
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)

from playwright.async_api import Page, async_playwright, expect  # noqa: E402


def write_y4m(image: Image.Image, path: Path, frames: int = 10) -> None:
    """A Y4M video of ``image`` standing still (4:2:0, as Chromium's fake camera reads it)."""
    canvas = Image.new("RGB", (640, 480), "white")
    picture = image.convert("RGB")
    picture.thumbnail((440, 440))
    canvas.paste(picture, ((640 - picture.width) // 2, (480 - picture.height) // 2))
    y, u, v = canvas.convert("YCbCr").split()
    half = (320, 240)
    frame = y.tobytes() + u.resize(half).tobytes() + v.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            out.write(b"FRAME\n" + frame)


async def open_page(extra_args: list[str]) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            context = await browser.new_context(viewport={"width": 390, "height": 844})
            yield await context.new_page()
        finally:
            await browser.close()


@pytest_asyncio.fixture
async def shopfront(db: str, fake: FakeTelegram, clock: FakeClock) -> AsyncIterator[Shopfront]:
    async with running_shop({}, db, fake, clock) as front:
        yield front


@pytest_asyncio.fixture
async def page() -> AsyncIterator[Page]:
    async for opened in open_page([]):
        yield opened


async def log_in(page: Page, shopfront: Shopfront) -> None:
    await page.goto(f"{shopfront.base}{BASE}?lang=vi")
    await page.fill("#login-code", await shopfront.code_for(shopfront.cashier))
    await page.click("#login-button")
    await expect(page.locator("#who")).to_have_text("Minh · Quận 1")


async def test_a_day_at_the_web_till(page: Page, shopfront: Shopfront) -> None:
    await log_in(page, shopfront)

    await page.fill("#lookup-code", "0912345678")
    await page.click("#lookup-button")
    await expect(page.locator("#result-text")).to_contain_text("Lan Nguyễn")
    await page.fill("#amount", "85.000")
    await page.click("#record")
    await expect(page.locator("#message")).to_contain_text("+85 điểm. Xác nhận?")
    await page.click("#confirm-yes")
    await expect(page.locator("#message")).to_contain_text("Đã ghi 85.000 ₫ cho Lan Nguyễn")
    bill = await Purchase.get()
    assert (bill.amount_vnd, bill.store_id) == (85_000, shopfront.store_a.id)

    code = vouchers.grouped(shopfront.voucher.short_code)
    await page.fill("#lookup-code", code)
    await page.click("#lookup-button")
    await expect(page.locator("#result-text")).to_contain_text("Bạc xỉu")
    await page.click("#redeem")
    await expect(page.locator("#message")).to_contain_text("Đã dùng voucher «Bạc xỉu»")
    assert (await Voucher.get(id=shopfront.voucher.id)).status == vouchers.REDEEMED

    await page.fill("#lookup-code", code)
    await page.click("#lookup-button")
    message = page.locator("#message")
    await expect(message).to_contain_text("đã được dùng lúc")
    await expect(message).to_have_class("error")
    await expect(page.locator("#redeem")).to_be_hidden()

    await page.click("#logout")
    await expect(page.locator("#login")).to_be_visible()
    await page.reload()
    await expect(page.locator("#login")).to_be_visible()  # the cookie's session is gone


async def test_wrong_login_code_is_refused_in_english(page: Page, shopfront: Shopfront) -> None:
    await page.goto(f"{shopfront.base}{BASE}?lang=en")
    await page.fill("#login-code", "0000 0000")
    await page.click("#login-button")
    await expect(page.locator("#message")).to_contain_text("That code is not right")
    await expect(page.locator("#till")).to_be_hidden()


async def test_the_page_decodes_a_voucher_qr_from_the_camera(
    shopfront: Shopfront, tmp_path: Path
) -> None:
    link = f"https://t.me/QuenTestBot?start={vouchers.VOUCHER_PREFIX}{shopfront.voucher_token}"
    video = tmp_path / "voucher.y4m"
    write_y4m(qr_image(link), video)
    camera = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    async for page in open_page(camera):
        await log_in(page, shopfront)
        has_detector = await page.evaluate("'BarcodeDetector' in window")
        await page.click("#scan")
        await expect(page.locator("#result-text")).to_contain_text("Bạc xỉu", timeout=15_000)
        await expect(page.locator("#lookup-code")).to_have_value(link)
        decoder = await page.evaluate("document.body.dataset.decoder")
        assert decoder == ("BarcodeDetector" if has_detector else "jsQR")
        await expect(page.locator("#camera")).to_be_hidden()  # the camera is let go
