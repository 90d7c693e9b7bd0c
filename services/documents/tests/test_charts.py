"""The matplotlib charts of a dynamics report, read back as SVG."""

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from gosmed.documents.charts import BAND, OUT_OF_RANGE, chart_svg, date_ticks
from gosmed.documents.domain import AnalyteSeries, analyte_series

from .samples import lab_values

SVG = "{http://www.w3.org/2000/svg}"


def series(code: str) -> AnalyteSeries:
    (found,) = (s for s in analyte_series(lab_values()) if s.code == code)
    return found


def parsed(code: str) -> ET.Element:
    return ET.fromstring(chart_svg(series(code)))


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def group(svg: ET.Element, group_id: str) -> ET.Element:
    (found,) = (g for g in svg.iter(f"{SVG}g") if g.get("id") == group_id)
    return found


def test_the_chart_has_the_dates_the_unit_the_band_and_a_legend() -> None:
    svg = parsed("GLU")

    labels = texts(svg)
    for day in ("09.01.2025", "08.02.2025", "10.03.2025", "09.04.2025"):
        assert day in labels
    assert "ммоль/л" in labels
    assert {"норма", "вне нормы"} <= set(labels)
    axes = group(svg, "axes_1")
    band = [p for p in axes.iter(f"{SVG}path") if f"fill: {BAND}" in (p.get("style") or "")]
    assert band  # the reference range, shaded


def test_only_the_out_of_range_values_are_marked() -> None:
    glucose = group(parsed("GLU"), "PathCollection_1")
    cholesterol = group(parsed("CHOL"), "PathCollection_1")

    def marks(collection: ET.Element) -> int:
        uses = list(collection.iter(f"{SVG}use"))
        assert all(OUT_OF_RANGE in (u.get("style") or "") for u in uses)
        return len(uses)

    assert marks(glucose) == 1  # 7.2 of 3.9–6.1
    assert marks(cholesterol) == 3  # 5.6, 5.3 and 5.9 of < 5.2


def test_a_series_within_its_range_has_no_marks() -> None:
    within = series("GLU")
    calm = AnalyteSeries(
        code=within.code,
        name=within.name,
        unit=within.unit,
        low=within.low,
        high=within.high,
        reference_text=within.reference_text,
        points=tuple(p for p in within.points if not p.out_of_range),
    )
    svg = ET.fromstring(chart_svg(calm))
    assert not [g for g in svg.iter(f"{SVG}g") if g.get("id") == "PathCollection_1"]
    assert "вне нормы" not in texts(svg)


def test_the_same_series_draws_the_same_svg() -> None:
    assert chart_svg(series("HGB")) == chart_svg(series("HGB"))


def test_many_dates_are_labelled_evenly_with_the_first_and_the_last() -> None:
    days = [date(2025, 1, 1) + timedelta(days=7 * i) for i in range(30)]
    assert date_ticks(days[:4]) == days[:4]
    ticks = date_ticks(days)
    assert len(ticks) == 6
    assert (ticks[0], ticks[-1]) == (days[0], days[-1])
    assert ticks == sorted(set(ticks))
