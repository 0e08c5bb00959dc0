"""Chart geometry: numbers in, shapes out. The templates draw them as inline SVG.

Only coordinates and numbers are computed here; labels stay plain text and are escaped by the
templates. Charts are small (tens of elements), so they cost almost nothing to lay out.
"""

from __future__ import annotations

from ..core import severity

PROJ_LEFT, PROJ_TOP, PROJ_W, PROJ_H = 40.0, 20.0, 440.0, 170.0


def projection(score: int | None, roadmap: list[dict], band_id: str | None = None,
               band_label: str | None = None) -> dict:
    """Columns for today and the score projected after each roadmap phase, each in the fixed
    colour of its band (never a brand colour) and with its band named under it."""
    points = [("Today", score, True, band_id, band_label)] + [
        (f"After {p['days']} days", p["score"], False, p.get("band_id"), p.get("band"))
        for p in roadmap]
    slot = PROJ_W / len(points)
    bars = []
    for i, (label, value, today, band, named) in enumerate(points):
        height = 0.0 if value is None else PROJ_H * value / 100
        x = PROJ_LEFT + slot * i + slot * 0.22
        bars.append({
            "x": round(x, 2), "w": round(slot * 0.56, 2),
            "y": round(PROJ_TOP + PROJ_H - height, 2), "h": round(height, 2),
            "cx": round(x + slot * 0.28, 2), "value": "n/a" if value is None else str(value),
            "value_y": round(PROJ_TOP + PROJ_H - height - 6, 2), "label": label,
            "today": today, "fill": severity.band_colour(band), "band": named or "",
        })
    grid = [{"y": round(PROJ_TOP + PROJ_H * (1 - mark / 100), 2), "label": mark}
            for mark in (0, 25, 50, 75, 100)]
    return {"bars": bars, "grid": grid, "left": PROJ_LEFT, "right": PROJ_LEFT + PROJ_W,
            "base": PROJ_TOP + PROJ_H, "label_y": PROJ_TOP + PROJ_H + 18,
            "band_y": PROJ_TOP + PROJ_H + 31, "height": 232}


COST_X, COST_W = 170.0, 250.0
# The cost chart's own colours: fixed, apart from each other and from the severity colours, so
# no part of it reads as a risk level or takes a firm's brand colour.
COST_COLOURS = {"support": "#7a9cb0", "repairs": "#1f4e6b", "downtime": "#6a4c93"}
COST_LEGEND = {"support": "IT support paid", "repairs": "Of which repairs",
               "downtime": "Lost working time"}
SCORE_BAR = "#50626b"  # a section's score bar: a length, not a level


def cost_bars(costs) -> dict | None:
    """Last year's support spend (repairs in a darker part) next to the cost of downtime,
    with a legend naming each colour."""
    spend, reactive = costs.it_spend_12m, costs.reactive_spend_12m
    downtime = costs.downtime_cost_12m
    values = [v for v in (spend, downtime) if v]
    if not values:
        return None
    top = max(values)
    rows, y = [], 10.0
    if spend:
        rows.append({"label": "IT support paid", "y": y, "w": round(COST_W * spend / top, 2),
                     "part": round(COST_W * (reactive or 0) / top, 2),
                     "fill": COST_COLOURS["support"], "part_fill": COST_COLOURS["repairs"],
                     "value": costs.money(spend), "value_x": round(COST_X + COST_W * spend / top
                                                                    + 6, 2)})
        y += 34
    if downtime:
        rows.append({"label": "Cost of downtime", "y": y, "w": round(COST_W * downtime / top, 2),
                     "part": 0, "fill": COST_COLOURS["downtime"], "part_fill": None,
                     "value": costs.money(downtime),
                     "value_x": round(COST_X + COST_W * downtime / top + 6, 2)})
        y += 34
    keys = [key for key, shown in (("support", spend), ("repairs", spend and reactive),
                                   ("downtime", downtime)) if shown]
    legend = [{"x": 160 * i, "y": y + 4, "fill": COST_COLOURS[key],
               "label": COST_LEGEND[key]} for i, key in enumerate(keys)]
    return {"rows": rows, "x": COST_X, "height": y + 28, "has_reactive": bool(reactive),
            "legend": legend}
