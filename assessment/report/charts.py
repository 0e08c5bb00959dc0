"""Chart geometry: numbers in, shapes out. The templates draw them as inline SVG.

Only coordinates and numbers are computed here; labels stay plain text and are escaped by the
templates. Charts are small (tens of elements), so they cost almost nothing to lay out.
"""

from __future__ import annotations

import math

GAUGE_CX, GAUGE_CY, GAUGE_R = 150.0, 150.0, 120.0


def _pt(angle: float, radius: float = GAUGE_R) -> tuple[float, float]:
    return (round(GAUGE_CX + radius * math.cos(angle), 2),
            round(GAUGE_CY - radius * math.sin(angle), 2))


def _arc(start: float, end: float) -> str:
    x0, y0 = _pt(start)
    x1, y1 = _pt(end)
    return f"M {x0} {y0} A {GAUGE_R} {GAUGE_R} 0 0 1 {x1} {y1}"


def gauge(score: int | None) -> dict:
    """A half-circle gauge from 0 (left) to 100 (right)."""
    value = None
    if score is not None and score > 0:
        value = _arc(math.pi, math.pi * (1 - min(score, 100) / 100))
    ticks = []
    for mark in (0, 25, 50, 75, 100):
        angle = math.pi * (1 - mark / 100)
        (x0, y0), (x1, y1) = _pt(angle, GAUGE_R + 16), _pt(angle, GAUGE_R + 22)
        lx, ly = _pt(angle, GAUGE_R + 34)
        ticks.append({"x0": x0, "y0": y0, "x1": x1, "y1": y1, "lx": lx, "ly": round(ly + 4, 2),
                      "label": mark})
    return {"track": _arc(math.pi, 0.0), "value": value, "ticks": ticks,
            "score": "–" if score is None else str(score)}


def _wrap(text: str, width: int) -> list[str]:
    """Split a label into at most two lines of about `width` characters."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
        if len(lines[1]) > width:
            lines[1] = lines[1][: width - 1].rstrip() + "…"
    return lines


BAR_LABEL_CHARS = 30
BAR_X, BAR_W = 215.0, 235.0


def section_bars(sections: list[dict]) -> dict:
    """Horizontal bars, one per scored section, on a 0-100 scale."""
    rows, y = [], 8.0
    for s in sections:
        lines = _wrap(s["title"], BAR_LABEL_CHARS)
        height = 16.0 * len(lines) + 10
        score = s["score"]
        middle = y + height / 2
        rows.append({
            "lines": [{"text": text, "y": round(middle + 4 - 7.5 * (len(lines) - 1) + 15 * i, 2)}
                      for i, text in enumerate(lines)],
            "bar_y": round(y + height / 2 - 8, 2),
            "width": 0.0 if score is None else round(BAR_W * score / 100, 2),
            "value": "n/a" if score is None else str(score),
            "value_x": round(BAR_X + (0 if score is None else BAR_W * score / 100) + 6, 2),
            "text_y": round(y + height / 2 + 4, 2),
            "weak": score is not None and score < 50,
        })
        y += height
    grid = [{"x": round(BAR_X + BAR_W * mark / 100, 2), "label": mark} for mark in (0, 50, 100)]
    return {"rows": rows, "height": round(y + 22, 2), "grid": grid, "bar_x": BAR_X,
            "bar_w": BAR_W, "axis_y": round(y + 4, 2), "label_y": round(y + 16, 2),
            "top": 4.0}


PROJ_LEFT, PROJ_TOP, PROJ_W, PROJ_H = 40.0, 20.0, 440.0, 170.0


def projection(score: int | None, roadmap: list[dict]) -> dict:
    """Columns for today and the score projected after each roadmap phase."""
    points = [("Today", score, True)] + [(f"After {p['days']} days", p["score"], False)
                                         for p in roadmap]
    slot = PROJ_W / len(points)
    bars = []
    for i, (label, value, today) in enumerate(points):
        height = 0.0 if value is None else PROJ_H * value / 100
        x = PROJ_LEFT + slot * i + slot * 0.22
        bars.append({
            "x": round(x, 2), "w": round(slot * 0.56, 2),
            "y": round(PROJ_TOP + PROJ_H - height, 2), "h": round(height, 2),
            "cx": round(x + slot * 0.28, 2), "value": "n/a" if value is None else str(value),
            "value_y": round(PROJ_TOP + PROJ_H - height - 6, 2), "label": label,
            "today": today,
        })
    grid = [{"y": round(PROJ_TOP + PROJ_H * (1 - mark / 100), 2), "label": mark}
            for mark in (0, 25, 50, 75, 100)]
    return {"bars": bars, "grid": grid, "left": PROJ_LEFT, "right": PROJ_LEFT + PROJ_W,
            "base": PROJ_TOP + PROJ_H, "label_y": PROJ_TOP + PROJ_H + 18, "height": 220}


COST_X, COST_W = 170.0, 250.0


def cost_bars(costs) -> dict | None:
    """Last year's support spend (repairs highlighted) next to the cost of downtime."""
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
                     "value": costs.money(spend), "value_x": round(COST_X + COST_W * spend / top
                                                                    + 6, 2)})
        y += 34
    if downtime:
        rows.append({"label": "Cost of downtime", "y": y, "w": round(COST_W * downtime / top, 2),
                     "part": round(COST_W * downtime / top, 2),
                     "value": costs.money(downtime),
                     "value_x": round(COST_X + COST_W * downtime / top + 6, 2)})
        y += 34
    return {"rows": rows, "x": COST_X, "height": y + 6, "has_reactive": bool(reactive)}
