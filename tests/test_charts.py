"""The ``/stats`` picture: a real PNG of the promised size, with or without data, in Vietnamese."""

from __future__ import annotations

import io
import warnings
from datetime import date, timedelta

import pytest
from PIL import Image

from loyalty.charts import ChartText, money_label, stats_chart
from loyalty.kpis import Cohort

VIETNAMESE = ChartText(
    title="Thống kê tháng 11/2026 — Cà Phê Quen",
    visits="Lượt mua",
    revenue="Doanh thu",
    segments="Khách theo nhóm",
    cohorts="Tỷ lệ quay lại theo tháng",
    months_since="Số tháng sau lần mua đầu",
    no_data="Chưa có dữ liệu",
    thousand="k",
    million="tr",
    decimal_mark=",",
)
ENGLISH = ChartText(
    title="November 2026",
    visits="Visits",
    revenue="Revenue",
    segments="Members by segment",
    cohorts="Monthly retention",
    months_since="Months since the first purchase",
    no_data="No data yet",
)

SERIES = [
    (date(2026, 8, 3) + timedelta(days=7 * week), 20 + week, (20 + week) * 55_000)
    for week in range(16)
]
SEGMENTS = {"Khách mới": 340, "Khách trung thành": 120, "Sắp mất": 45, "Nhà vô địch": 0}
COHORTS = [
    Cohort(date(2026, 9, 1), 40, [1.0, 0.5, 0.25]),
    Cohort(date(2026, 10, 1), 30, [1.0, 0.4]),
    Cohort(date(2026, 11, 1), 25, [1.0]),
]


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()  # the whole file decodes, not just its header
    assert image.format == "PNG"
    return image


def ink(image: Image.Image) -> int:
    """How many pixels are not white: an all-white picture would pass the size checks."""
    return sum(image.convert("L").histogram()[:250])


def test_a_full_chart_is_a_phone_sized_png() -> None:
    image = decoded(stats_chart(SERIES, SEGMENTS, COHORTS, ENGLISH))
    assert image.size == (1080, 1600)
    assert ink(image) > 50_000


def test_an_empty_shop_still_gets_a_picture() -> None:
    empty = decoded(stats_chart([], {}, [], ENGLISH))
    assert empty.size == (1080, 1600)
    assert ink(empty) > 0  # the title and the "no data" lines
    # Buckets without a single purchase are no data either.
    quiet = [(date(2026, 11, day), 0, 0) for day in (1, 8, 15)]
    assert decoded(stats_chart(quiet, {"new": 0}, [], ENGLISH)).size == (1080, 1600)


def test_vietnamese_labels_render_without_missing_glyphs() -> None:
    """matplotlib warns for every glyph its font lacks: none may be missing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = stats_chart(SERIES, SEGMENTS, COHORTS, VIETNAMESE)
        empty = stats_chart([], {}, [], VIETNAMESE)
    assert decoded(full).size == decoded(empty).size == (1080, 1600)


def test_a_single_bucket_and_a_single_cohort() -> None:
    one = [(date(2026, 11, 22), 3, 150_000)]
    image = decoded(stats_chart(one, {"Khách mới": 1}, [COHORTS[-1]], VIETNAMESE))
    assert image.size == (1080, 1600)


@pytest.mark.parametrize(
    ("vnd", "english", "vietnamese"),
    [
        (0, "0 ₫", "0 ₫"),
        (850, "850 ₫", "850 ₫"),
        (85_000, "85k ₫", "85k ₫"),
        (1_500_000, "1.5M ₫", "1,5tr ₫"),
        (2_000_000, "2M ₫", "2tr ₫"),
        (12_345_678, "12.3M ₫", "12,3tr ₫"),
    ],
)
def test_money_on_the_axis(vnd: int, english: str, vietnamese: str) -> None:
    assert money_label(vnd, ENGLISH) == english
    assert money_label(vnd, VIETNAMESE) == vietnamese
