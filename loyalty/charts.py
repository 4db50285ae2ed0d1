"""The ``/stats`` picture: one tall PNG an owner reads on a phone.

Three panels, top to bottom: visits (bars) and revenue (line) over time, members by segment,
and the monthly cohorts' retention as a heat map. All words come from the caller in the owner's
language (``ChartText``); this module only draws.

It uses ``matplotlib.figure.Figure`` directly, never pyplot: no global figure manager and no
GUI backend, so charts can be drawn in worker threads side by side. Fonts and sizes are passed
to each element rather than set in ``rcParams`` for the same reason. DejaVu Sans ships with
matplotlib and covers Vietnamese, so names like "Khách quen" never turn into boxes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FuncFormatter, MaxNLocator

from loyalty.kpis import Cohort

FONT = "DejaVu Sans"
#: 1080 x 1600 pixels: a phone's width, and fonts at 100 dpi stay legible when the chat shrinks it.
WIDTH_IN, HEIGHT_IN, DPI = 10.8, 16.0, 100
TITLE_PT, PANEL_PT, LABEL_PT, TICK_PT, CELL_PT = 32, 26, 22, 20, 20
#: At most this many dates under the bars: more would overlap at a readable size.
MAX_DATE_LABELS = 7
VISITS_COLOR, REVENUE_COLOR, SEGMENT_COLOR = "#9ecae1", "#e6550d", "#3182bd"


@dataclass(frozen=True)
class ChartText:
    """Everything written on the chart, in the owner's language.

    Money is shown in thousands or millions of ₫ with the caller's suffixes and decimal mark
    (``"k"``, ``"tr"``, ``","`` in Vietnamese). Dates default to day first, as everywhere in
    Vietnam (see README, "Languages").
    """

    title: str
    visits: str
    revenue: str
    segments: str
    cohorts: str
    months_since: str
    no_data: str
    thousand: str = "k"
    million: str = "M"
    decimal_mark: str = "."
    day_format: str = "%d/%m"
    month_format: str = "%m/%Y"


def _decimal(value: float, digits: int, text: ChartText) -> str:
    """``1.5`` / ``1,5``, without trailing zeros."""
    shown = f"{value:.{digits}f}"
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    return shown.replace(".", text.decimal_mark)


def money_label(vnd: float, text: ChartText) -> str:
    """An axis label for an amount: ``850 ₫``, ``85k ₫``, ``1.2M ₫`` (caller's suffixes)."""
    if abs(vnd) >= 1_000_000:
        return f"{_decimal(vnd / 1_000_000, 1, text)}{text.million} ₫"
    if abs(vnd) >= 1000:
        return f"{_decimal(vnd / 1000, 1, text)}{text.thousand} ₫"
    return f"{_decimal(vnd, 0, text)} ₫"


def _count_label(count: int, text: ChartText) -> str:
    """Grouped with the mark that is not the decimal one (``1.234`` when decimals use ``,``)."""
    return f"{count:,}".replace(",", "." if text.decimal_mark == "," else ",")


def _font(size: int) -> FontProperties:
    return FontProperties(family=FONT, size=size)


def _ticks(ax: Axes) -> None:
    ax.tick_params(labelsize=TICK_PT, labelfontfamily=FONT)


def _no_data(ax: Axes, text: ChartText) -> None:
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        text.no_data,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=LABEL_PT,
        fontfamily=FONT,
        color="#777777",
    )


def _visits_panel(ax: Axes, series: Sequence[tuple[date, int, int]], text: ChartText) -> None:
    if not any(visits for _, visits, _ in series):
        ax.set_title(text.visits + " · " + text.revenue, fontsize=PANEL_PT, fontfamily=FONT)
        _no_data(ax, text)
        return
    x = np.arange(len(series))
    bars = ax.bar(x, [visits for _, visits, _ in series], color=VISITS_COLOR, label=text.visits)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    step = math.ceil(len(series) / MAX_DATE_LABELS)
    ax.set_xticks(x[::step], [day.strftime(text.day_format) for day, _, _ in series[::step]])
    _ticks(ax)
    money = ax.twinx()
    (line,) = money.plot(
        x,
        [revenue for _, _, revenue in series],
        color=REVENUE_COLOR,
        linewidth=3,
        marker="o",
        markersize=7,
        label=text.revenue,
    )
    money.set_ylim(bottom=0)
    money.yaxis.set_major_locator(MaxNLocator(nbins=5))
    money.yaxis.set_major_formatter(FuncFormatter(lambda vnd, _: money_label(vnd, text)))
    _ticks(money)
    # The legend is the panel's title, above the plot where it hides no bar.
    ax.legend(
        handles=[bars, line],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=2,
        frameon=False,
        prop=_font(PANEL_PT),
    )


def _segments_panel(ax: Axes, segments: dict[str, int], text: ChartText) -> None:
    ax.set_title(text.segments, fontsize=PANEL_PT, fontfamily=FONT)
    shown = sorted(((n, name) for name, n in segments.items() if n > 0), reverse=True)
    if not shown:
        _no_data(ax, text)
        return
    y = np.arange(len(shown))
    ax.barh(y, [n for n, _ in shown], color=SEGMENT_COLOR)
    ax.set_yticks(y, [name for _, name in shown])
    ax.invert_yaxis()  # the largest segment on top
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda n, _: _count_label(int(n), text)))
    ax.set_xlim(0, shown[0][0] * 1.15)  # room for the count after the longest bar
    for row, (n, _) in enumerate(shown):
        ax.text(
            n,
            row,
            " " + _count_label(n, text),
            va="center",
            fontsize=TICK_PT,
            fontfamily=FONT,
        )
    ax.spines[["top", "right"]].set_visible(False)
    _ticks(ax)


def _cohorts_panel(ax: Axes, cohorts: Sequence[Cohort], text: ChartText) -> None:
    ax.set_title(text.cohorts, fontsize=PANEL_PT, fontfamily=FONT)
    if not cohorts:
        _no_data(ax, text)
        return
    width = max(len(cohort.active) for cohort in cohorts)
    shares = np.full((len(cohorts), width), np.nan)
    for row, cohort in enumerate(cohorts):
        shares[row, : len(cohort.active)] = cohort.active
    # Months not reached yet stay blank (NaN is drawn transparent).
    ax.imshow(shares, cmap="YlGn", vmin=0.0, vmax=1.0, aspect="auto")
    for (row, column), share in np.ndenumerate(shares):
        if not np.isnan(share):
            ax.text(
                column,
                row,
                f"{round(share * 100)}%",
                ha="center",
                va="center",
                fontsize=CELL_PT,
                fontfamily=FONT,
                color="white" if share > 0.6 else "black",
            )
    ax.set_xticks(np.arange(width), [str(k) for k in range(width)])
    ax.set_yticks(
        np.arange(len(cohorts)),
        [f"{cohort.month.strftime(text.month_format)} ({cohort.size})" for cohort in cohorts],
    )
    ax.set_xlabel(text.months_since, fontsize=LABEL_PT, fontfamily=FONT)
    ax.tick_params(length=0)
    _ticks(ax)


def stats_chart(
    series: list[tuple[date, int, int]],
    segments: dict[str, int],
    cohorts: list[Cohort],
    text: ChartText,
) -> bytes:
    """The ``/stats`` PNG (1080 x 1600). ``series`` is ``kpis.visits_and_revenue``'s output,
    ``segments`` members per segment (labels as shown), ``cohorts`` ``kpis.cohort_retention``'s.
    An empty panel says ``text.no_data`` instead of drawing empty axes."""
    # A margin of 0.15 in: labels flush with the edge look cut off in a chat bubble.
    layout = ConstrainedLayoutEngine(w_pad=0.15, h_pad=0.1)
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout=layout)
    figure.suptitle(text.title, fontsize=TITLE_PT, fontfamily=FONT, fontweight="bold", wrap=True)
    top, middle, bottom = figure.subplots(3, 1, height_ratios=[1.1, 1.0, 1.2])
    _visits_panel(top, series, text)
    _segments_panel(middle, segments, text)
    _cohorts_panel(bottom, cohorts, text)
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=DPI)
    return png.getvalue()
