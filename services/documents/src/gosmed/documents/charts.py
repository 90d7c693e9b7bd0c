"""An analyte's values over time as an SVG chart, drawn by matplotlib: the values as a line,
the reference range as a shaded band, the values outside it as red diamonds, dates on the x
axis.

CPU-bound: called in the render pool's worker processes. It draws on a `Figure` of its own
(matplotlib's object API, no pyplot and so no global figure state or GUI backend), saved with
matplotlib's SVG backend; the text stays text, so the PDF's words remain searchable.
"""

import base64
import io
from datetime import date

from gosmed.documents.domain import AnalyteSeries, ddmmyyyy

WIDTH_INCHES = 7.0
HEIGHT_INCHES = 2.2
LINE = "#0d4cd3"
BAND = "#2e7d32"
OUT_OF_RANGE = "#c62828"
# matplotlib's bundled font has Cyrillic, so no system font is needed for the axis labels
FONT = "DejaVu Sans"
MAX_TICKS = 6
SVG_SALT = "gosmed"  # the same series always gives the same SVG, ids included


def date_ticks(days: list[date]) -> list[date]:
    """The dates to label on the x axis: each value's, or evenly spread ones when there are
    more than `MAX_TICKS`."""
    unique = sorted(set(days))
    if len(unique) <= MAX_TICKS:
        return unique
    step = (len(unique) - 1) / (MAX_TICKS - 1)
    return [unique[round(i * step)] for i in range(MAX_TICKS)]


def chart_svg(series: AnalyteSeries) -> bytes:
    """The chart of the numeric values of `series` (at least one) as an SVG document."""
    from matplotlib import rc_context  # heavy imports, only in the worker processes
    from matplotlib.figure import Figure

    points = series.charted
    assert points, "a chart needs a numeric value"
    days = [p.taken_on for p in points]
    x = [day.toordinal() for day in days]  # plain numbers: one per day
    y = [float(p.number) for p in points if p.number is not None]
    with rc_context(
        {"font.family": FONT, "font.size": 8, "svg.fonttype": "none", "svg.hashsalt": SVG_SALT}
    ):
        figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES))
        axes = figure.add_subplot()
        axes.plot(x, y, color=LINE, marker="o", markersize=4, linewidth=1.2)
        outside = [(a, b) for a, b, p in zip(x, y, points, strict=True) if p.out_of_range]
        if outside:
            axes.scatter(
                [a for a, _ in outside],
                [b for _, b in outside],
                marker="D",
                s=42,
                color=OUT_OF_RANGE,
                zorder=3,
                label="вне нормы",
            )
        banded = series.low is not None or series.high is not None
        if banded:
            low = float(series.low) if series.low is not None else min(y)
            high = float(series.high) if series.high is not None else max(y)
            bottom, top = min(low, *y), max(high, *y)
            margin = (top - bottom) * 0.15 or 1.0
            axes.axhspan(
                low if series.low is not None else bottom - margin,
                high if series.high is not None else top + margin,
                color=BAND,
                alpha=0.15,
                linewidth=0,
                label="норма",
            )
            axes.set_ylim(bottom - margin, top + margin)
        span = (x[-1] - x[0]) * 0.05 or 7  # one date: a week either side
        axes.set_xlim(x[0] - span, x[-1] + span)
        ticks = date_ticks(days)
        axes.set_xticks([d.toordinal() for d in ticks], labels=[ddmmyyyy(d) for d in ticks])
        axes.set_ylabel(series.unit or "")
        axes.grid(visible=True, axis="y", color="#dddddd", linewidth=0.5)
        axes.spines[["top", "right"]].set_visible(False)
        if outside or banded:
            axes.legend(loc="upper left", frameon=False, fontsize=7)
        figure.tight_layout()
        output = io.BytesIO()
        figure.savefig(output, format="svg", metadata={"Date": None})
    return output.getvalue()


def chart_data_uri(series: AnalyteSeries) -> str:
    """The chart as a `data:` URI for an `<img>` (WeasyPrint draws it as vectors)."""
    return "data:image/svg+xml;base64," + base64.b64encode(chart_svg(series)).decode("ascii")
