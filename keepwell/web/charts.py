"""Charts drawn on the server as SVG: numbers in, markup out (pure functions).

Every chart has a title, labelled axes and its values printed as text beside the marks,
so it reads without hovering and without JavaScript; text is escaped. The SVG scales to
its container (a phone's width too): `viewBox` with `width="100%"`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from itertools import count

from markupsafe import Markup

INK = "#1b1f23"
MUTED = "#4f5b66"
LINE = "#c9d1cf"
# Distinguishable series colours, each at least 4.5:1 on white (they are also text).
PALETTE = ("#1f5f4a", "#b3261e", "#0b57a4", "#7a4b00", "#6b3fa0", "#4f5b66")
FONT = 'font-family="system-ui, sans-serif"'
_ids = count(1)


def _t(text: object) -> str:
    return escape(str(text), quote=True)


def _markup(parts: list[str]) -> Markup:
    """The chart's markup: every value in it was escaped by `_t` as it was written."""
    return Markup("".join(parts))  # noqa: S704 - built from escaped text only


def _number(value: float, percent: bool) -> str:
    if percent:
        return f"{100 * value:.0f} %"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"


def _open(width: int, height: int, title: str, description: str) -> tuple[str, str]:
    n = next(_ids)
    head = (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        f' width="100%" role="img" aria-labelledby="chart-t{n} chart-d{n}" {FONT}>'
        f'<title id="chart-t{n}">{_t(title)}</title><desc id="chart-d{n}">{_t(description)}</desc>'
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f'<text x="{width / 2:.0f}" y="22" text-anchor="middle" font-size="16" font-weight="600"'
        f' fill="{INK}">{_t(title)}</text>'
    )
    return head, "</svg>"


def _empty(title: str, message: str) -> Markup:
    head, tail = _open(600, 90, title, message)
    text = f'<text x="300" y="60" text-anchor="middle" font-size="14" fill="{MUTED}">'
    return _markup([head, text, _t(message), "</text>", tail])


def line_chart(
    *,
    title: str,
    x_label: str,
    y_label: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    percent: bool = False,
) -> Markup:
    """Lines over `labels` (e.g. months), one per series; every point's value printed.

    None is a gap (no data that month). With `percent` the values are shares (0..1).
    """
    values = [v for line in series.values() for v in line if v is not None]
    if not labels or not values:
        return _empty(title, "No data for this period yet.")
    width, height = 760, 360
    left, right, top, bottom = 64, 40, 64, 70
    low = min(0.0, min(values))
    high = max(values)
    high = max(high, 1.0) if percent else (high if high > low else low + 1)
    span = high - low
    inner_w, inner_h = width - left - right, height - top - bottom
    step = inner_w / max(1, len(labels) - 1) if len(labels) > 1 else 0

    def x(i: int) -> float:
        return left + (i * step if len(labels) > 1 else inner_w / 2)

    def y(v: float) -> float:
        return top + inner_h - (v - low) / span * inner_h

    head, tail = _open(width, height, title, f"{y_label} by {x_label}")
    parts = [head]
    # legend under the title
    lx, ly = left, 34
    for k, name in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        wide = 30 + 7 * len(name)
        if lx + wide > width - right and lx > left:  # the next line of the legend
            lx, ly = left, ly + 16
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="14" height="4" fill="{colour}"/>'
            f'<text x="{lx + 18}" y="{ly + 6}" font-size="12" fill="{INK}">{_t(name)}</text>'
        )
        lx += wide
    # y axis: four gridlines
    for g in range(5):
        v = low + span * g / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}"'
            f' stroke="{LINE}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11"'
            f' fill="{MUTED}">{_t(_number(v, percent))}</text>'
        )
    every = max(1, len(labels) // 12)
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle"'
                f' font-size="11" fill="{MUTED}">{_t(label)}</text>'
            )
    parts.append(
        f'<text x="{left + inner_w / 2:.0f}" y="{height - 18}" text-anchor="middle"'
        f' font-size="12" fill="{INK}">{_t(x_label)}</text>'
        f'<text transform="translate(16 {top + inner_h / 2:.0f}) rotate(-90)"'
        f' text-anchor="middle" font-size="12" fill="{INK}">{_t(y_label)}</text>'
    )
    for k, (name, line) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        segment: list[str] = []
        runs: list[list[str]] = [segment]
        for i, point in enumerate(line[: len(labels)]):
            if point is None:
                segment = []
                runs.append(segment)
                continue
            segment.append(f"{x(i):.1f},{y(point):.1f}")
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}"'
                    f' stroke-width="2.5"><title>{_t(name)}</title></polyline>'
                )
        for i, point in enumerate(line[: len(labels)]):
            if point is None:
                continue
            # the value above the point when it is the highest there, else below it
            others = [
                other[i] for other in series.values() if i < len(other) and other[i] is not None
            ]
            offset = -8 if point >= max(o for o in others if o is not None) else 16
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(point):.1f}" r="3.5" fill="{colour}"/>'
                f'<text x="{x(i):.1f}" y="{y(point) + offset:.1f}" text-anchor="middle"'
                f' font-size="10.5" fill="{colour}">{_t(_number(point, percent))}</text>'
            )
    parts.append(tail)
    return _markup(parts)


def _shade(share: float) -> tuple[str, str]:
    """A cell's fill for a share 0..1 (white to the brand green) and a readable text colour."""
    share = min(1.0, max(0.0, share))
    start, end = (255, 255, 255), (31, 95, 74)
    rgb = tuple(round(a + (b - a) * share) for a, b in zip(start, end, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb), ("#fff" if share > 0.45 else INK)


def heat_map(
    *,
    title: str,
    x_label: str,
    y_label: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    row_notes: Sequence[str] = (),
    percent: bool = True,
) -> Markup:
    """A grid of shares (0..1): one row per cohort, one column per period after; each
    cell shaded by its value and printed. None: not yet observable (left blank)."""
    if not rows or not columns:
        return _empty(title, "No cohorts in this period yet.")
    peak = max((v for row in values for v in row if v is not None), default=0.0) or 1.0
    cell_w, cell_h = 46, 26
    left, top = 150, 70
    width = left + cell_w * len(columns) + 20
    height = top + cell_h * len(rows) + 50
    head, tail = _open(max(width, 420), height, title, f"{y_label} against {x_label}")
    parts = [head]
    parts.append(
        f'<text x="{left + cell_w * len(columns) / 2:.0f}" y="44" text-anchor="middle"'
        f' font-size="12" fill="{INK}">{_t(x_label)}</text>'
        f'<text x="8" y="{top - 8}" font-size="12" fill="{INK}">{_t(y_label)}</text>'
    )
    for j, column in enumerate(columns):
        parts.append(
            f'<text x="{left + cell_w * j + cell_w / 2:.0f}" y="{top - 8}" text-anchor="middle"'
            f' font-size="11" fill="{MUTED}">{_t(column)}</text>'
        )
    for i, row in enumerate(rows):
        ty = top + cell_h * i
        note = f" ({row_notes[i]})" if i < len(row_notes) else ""
        parts.append(
            f'<text x="{left - 6}" y="{ty + cell_h / 2 + 4:.0f}" text-anchor="end" font-size="11"'
            f' fill="{INK}">{_t(row + note)}</text>'
        )
        for j in range(len(columns)):
            v = values[i][j] if j < len(values[i]) else None
            cx = left + cell_w * j
            if v is None:
                parts.append(
                    f'<rect x="{cx}" y="{ty}" width="{cell_w - 2}" height="{cell_h - 2}"'
                    f' fill="#f3f5f4"/>'
                )
                continue
            fill, ink = _shade(v / peak)
            parts.append(
                f'<rect x="{cx}" y="{ty}" width="{cell_w - 2}" height="{cell_h - 2}"'
                f' fill="{fill}" stroke="{LINE}" stroke-width="0.5"/>'
                f'<text x="{cx + (cell_w - 2) / 2:.0f}" y="{ty + cell_h / 2 + 3:.0f}"'
                f' text-anchor="middle" font-size="10.5" fill="{ink}">'
                f"{_t(_number(v, percent))}</text>"
            )
    parts.append(tail)
    return _markup(parts)


def bars(
    *,
    title: str,
    x_label: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    annotations: Sequence[str] = (),
    percent: bool = False,
    colour: str = PALETTE[0],
) -> Markup:
    """Horizontal bars, one per label, each with its value (or annotation) printed."""
    shown = [v for v in values if v is not None]
    if not labels or not shown:
        return _empty(title, "Nothing to show yet.")
    peak = max(max(shown), 1.0 if percent else 0.0) or 1.0
    left, bar_h, gap, top = 190, 22, 10, 44
    width = 760
    inner = width - left - 150
    height = top + (bar_h + gap) * len(labels) + 36
    head, tail = _open(width, height, title, f"{x_label} by {', '.join(map(str, labels[:5]))}")
    parts = [head]
    for i, label in enumerate(labels):
        y = top + (bar_h + gap) * i
        v = values[i]
        text = (
            annotations[i] if i < len(annotations) else ("—" if v is None else _number(v, percent))
        )
        w = 0.0 if v is None else max(0.0, v) / peak * inner
        short = label if len(label) <= 26 else label[:25] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + bar_h / 2 + 4:.0f}" text-anchor="end" font-size="12"'
            f' fill="{INK}"><title>{_t(label)}</title>{_t(short)}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + bar_h / 2 + 4:.0f}" font-size="12"'
            f' fill="{INK}">{_t(text)}</text>'
        )
    parts.append(
        f'<text x="{left + inner / 2:.0f}" y="{height - 10}" text-anchor="middle" font-size="12"'
        f' fill="{INK}">{_t(x_label)}</text>'
    )
    parts.append(tail)
    return _markup(parts)


def funnel(
    *,
    title: str,
    steps: Sequence[tuple[str, int, str]],
) -> Markup:
    """The hourglass: one centred bar per step, as wide as the customers who reached it,
    with the step's name on the left, the count (and its share of the first step) beside
    the bar and the drop-off to the next step printed between them. `steps`: (name,
    reached, drop-off text or "")."""
    if not steps or not any(n for _, n, _ in steps):
        return _empty(title, "No customers have reached any step yet.")
    width, bar_h, gap, top = 760, 30, 26, 44
    names_x, right = 250, 130  # the names end at names_x; the counts need `right`
    widest = width - names_x - 10 - right
    centre = names_x + 10 + widest / 2
    peak = max(n for _, n, _ in steps) or 1
    height = top + (bar_h + gap) * len(steps) + 10
    head, tail = _open(width, height, title, "customers reaching each step of the hourglass")
    parts = [head]
    first = steps[0][1] or 1
    for i, (name, reached, drop) in enumerate(steps):
        y = top + (bar_h + gap) * i
        w = max(2.0, reached / peak * widest)
        share = f" ({100 * reached / first:.0f} %)" if i else ""
        short = name if len(name) <= 32 else name[:31] + "…"
        parts.append(
            f'<text x="{names_x}" y="{y + bar_h / 2 + 5:.0f}" text-anchor="end"'
            f' font-size="13" font-weight="600" fill="{INK}"><title>{_t(name)}</title>'
            f"{_t(short)}</text>"
            f'<rect x="{centre - w / 2:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}"'
            f' fill="{PALETTE[0]}" rx="3"/>'
            f'<text x="{centre + w / 2 + 8:.1f}" y="{y + bar_h / 2 + 5:.0f}" font-size="13"'
            f' fill="{INK}">{_t(f"{reached:,}{share}")}</text>'
        )
        if drop:
            parts.append(
                f'<text x="{centre:.0f}" y="{y + bar_h + gap / 2 + 5:.0f}" text-anchor="middle"'
                f' font-size="12" fill="{PALETTE[1]}">↓ {_t(drop)}</text>'
            )
    parts.append(tail)
    return _markup(parts)
