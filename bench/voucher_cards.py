"""How many voucher card images one core draws per second, without and with a shop logo.

Renders N cards (default 500) with distinct links, short codes and member names, the three voucher
kinds' titles in turn, and prints cards/s and the time per card (p50/p99/max). The first card of
each run builds the cached template (on the first run also importing matplotlib for its fonts) and
is reported on its own; the next 20 warm the text cache and are not timed. The process is pinned
to one CPU where the OS allows it (Linux).

    .venv/bin/python bench/voucher_cards.py
    .venv/bin/python bench/voucher_cards.py --cards 2000
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from PIL import Image, ImageDraw, features

from loyalty.voucher_card import load_logo, render_voucher_card
from loyalty.vouchers import CROCKFORD, grouped

WARM_UP = 20
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
TITLES = ("Giảm 20% cho hóa đơn", "Miễn phí 1 Bạc xỉu", "Giảm 30.000 ₫")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
MIDDLE = ("Thị", "Văn", "Ngọc", "Minh", "Thanh", "Hữu", "Đức", "Quốc", "Thu", "Bảo")
GIVEN = ("Anh", "Tuyết", "Hương", "Dũng", "Hải", "Lan", "Phương", "Thảo", "Khoa", "Diễm")
EXPIRES = ("Hạn dùng: 30/11/2026", "Hạn dùng: 01/12/2026", "Hạn dùng: 23/12/2026")


def _pin_to_one_cpu() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no os.sched_setaffinity here): the OS may spread the work"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu} with os.sched_setaffinity"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _vouchers(count: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    names = [f"{f} {m} {g}" for f in FAMILY for m in MIDDLE for g in GIVEN]
    rng.shuffle(names)
    vouchers = []
    for n in range(count):
        name = names[n % len(names)]
        token = "".join(rng.choice(TOKEN_ALPHABET) for _ in range(22))
        vouchers.append(
            {
                "title": TITLES[n % len(TITLES)],
                "member_name": name if n < len(names) else f"{name} {n}",
                "expires_label": EXPIRES[n % len(EXPIRES)],
                "short_code": grouped("".join(rng.choice(CROCKFORD) for _ in range(10))),
                "link": f"https://t.me/QuenCafeBot?start=v_{token}",
            }
        )
    return vouchers


def _sample_logo(folder: str) -> Image.Image:
    """A logo file as an owner would upload one, read through ``load_logo``."""
    logo = Image.new("RGB", (512, 512), (196, 30, 58))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((40, 40, 472, 472), fill=(255, 204, 0))
    draw.rectangle((200, 150, 312, 362), fill=(20, 60, 160))
    path = Path(folder) / "logo.png"
    logo.save(path)
    return load_logo(path)


def _run(label: str, cards: int, logo: Image.Image | None) -> None:
    vouchers = _vouchers(cards + WARM_UP + 1, seed=7 if logo is None else 8)
    shop = f"Cà Phê Quen ({label})"  # a template of its own: the first card is really cold
    started = time.perf_counter()
    render_voucher_card(shop_name=shop, logo=logo, **vouchers[0])
    first = time.perf_counter() - started
    for voucher in vouchers[1 : WARM_UP + 1]:
        render_voucher_card(shop_name=shop, logo=logo, **voucher)
    timings, sizes = [], []
    started = time.perf_counter()
    for voucher in vouchers[WARM_UP + 1 :]:
        begun = time.perf_counter()
        png = render_voucher_card(shop_name=shop, logo=logo, **voucher)
        timings.append((time.perf_counter() - begun) * 1000)
        sizes.append(len(png))
    elapsed = time.perf_counter() - started
    timings.sort()
    p99 = timings[max(int(len(timings) * 0.99) - 1, 0)]
    print(
        f"{label}: {cards} cards in {elapsed:.2f} s = {cards / elapsed:.1f} cards/s; per card "
        f"p50 {statistics.median(timings):.2f} ms, p99 {p99:.2f} ms, max {timings[-1]:.2f} ms; "
        f"PNG {statistics.fmean(sizes) / 1024:.1f} KiB on average; "
        f"first card (empty caches) {first * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=500)
    args = parser.parse_args()
    pinned = _pin_to_one_cpu()
    zlib = "zlib-ng" if features.check_feature("zlib_ng") else "zlib"
    print(
        f"machine: {platform.machine()}, {_cpu_model()}, {os.cpu_count()} CPUs, "
        f"python {platform.python_version()}, Pillow {version('pillow')} ({zlib}), "
        f"qrcode {version('qrcode')}"
    )
    print(pinned)
    _run("no logo", args.cards, None)
    with tempfile.TemporaryDirectory() as folder:
        _run("with logo", args.cards, _sample_logo(folder))


if __name__ == "__main__":
    main()
