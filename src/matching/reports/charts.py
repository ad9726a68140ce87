"""Bar and line charts drawn on the server as SVG: no browser script is needed, and they print.

A chart is a picture of a table the page shows beside it (for screen readers, and for the exact figures),
so the SVG is `role="img"` with a title and a description that name that table. A withheld count has no
bar: it says "fewer than 5" or "withheld" where the bar would be.
"""

from html import escape

BAR_COLOUR = "#1d70b8"  # GOV.UK blue: 5.2:1 against white
TEXT_COLOUR = "#0b0c0c"
ROW_HEIGHT, BAR_WIDTH, VALUE_WIDTH = 32, 320, 110
CHARACTER_WIDTH = 8.6  # an average character of 16px Arial: room for the longest label, so none is cut off


def bar_chart(chart_id: str, title: str, description: str, bars: list[tuple[str, int | str]]) -> str:
    """Horizontal bars, one per (label, value); a value given as words (a withheld count) draws no bar."""
    numbers = [value for _, value in bars if isinstance(value, int)]
    most = max(numbers, default=0) or 1
    height = ROW_HEIGHT * len(bars) + 8
    label_width = round(max((len(label) for label, _ in bars), default=10) * CHARACTER_WIDTH) + 16
    width = label_width + BAR_WIDTH + VALUE_WIDTH
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="app-chart" id="{escape(chart_id)}" '
             f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" viewBox="0 0 {width} {height}" '
             f'width="100%" style="max-width:{width}px" font-family="Arial, sans-serif" font-size="16">',
             f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
             f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>']
    for index, (label, value) in enumerate(bars):
        top = 4 + index * ROW_HEIGHT
        middle = top + ROW_HEIGHT / 2 + 5
        parts.append(f'<text x="{label_width - 8}" y="{middle}" text-anchor="end" fill="{TEXT_COLOUR}">'
                     f'{escape(label)}</text>')
        if isinstance(value, int):
            length = round(BAR_WIDTH * value / most, 1)
            parts.append(f'<rect x="{label_width}" y="{top + 4}" width="{length}" height="{ROW_HEIGHT - 8}" '
                         f'fill="{BAR_COLOUR}"/>')
            parts.append(f'<text x="{label_width + length + 6}" y="{middle}" fill="{TEXT_COLOUR}">{value}</text>')
        else:
            parts.append(f'<text x="{label_width + 6}" y="{middle}" fill="{TEXT_COLOUR}" font-style="italic">'
                         f'{escape(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# Lines over time: one per series, each with its own colour, dash and marker, so none is told apart by colour
# alone (WCAG 1.4.1), and a legend above them. Colours are 3:1 or more against white (WCAG 1.4.11).
SERIES_STYLES = [("#1d70b8", "", "circle"), ("#d4351c", "8 4", "square"), ("#00703c", "2 4", "diamond"),
                 ("#4c2c92", "12 4 2 4", "circle"), ("#6f777b", "4 2", "square")]
PLOT_WIDTH, PLOT_HEIGHT, AXIS_WIDTH, LEGEND_ROW = 560, 200, 56, 24


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 4}" y="{y - 4}" width="8" height="8" fill="{colour}"/>'
    if shape == "diamond":
        return f'<path d="M{x} {y - 5}L{x + 5} {y}L{x} {y + 5}L{x - 5} {y}Z" fill="{colour}"/>'
    return f'<circle cx="{x}" cy="{y}" r="4" fill="{colour}"/>'


def _nice_top(most: float) -> float:
    """The top of the value axis: a round number at or above the largest value (1, 2, 2.5 or 5 x 10^n)."""
    if most <= 0:
        return 1
    step = 1.0
    while step * 10 < most:
        step *= 10
    return next(step * factor for factor in (1, 2, 2.5, 5, 10) if step * factor >= most)


def line_chart(chart_id: str, title: str, description: str, labels: list[str],
               series: list[tuple[str, list[int | float | None]]]) -> str:
    """Lines over the points `labels` (months, say), one per (name, values) in `series`; a value of None (no
    figure that month) breaks its line, and the table beside the chart says why."""
    key = escape(chart_id)
    legend_height = LEGEND_ROW * len(series) + 8
    top = _nice_top(max((v for _, values in series for v in values if v is not None), default=0))
    step = PLOT_WIDTH / max(len(labels) - 1, 1)
    width, height = AXIS_WIDTH + PLOT_WIDTH + 40, legend_height + PLOT_HEIGHT + 56

    def y_of(value: float) -> float:
        return round(legend_height + PLOT_HEIGHT - PLOT_HEIGHT * value / top, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="app-chart" id="{key}" '
             f'aria-labelledby="{key}-title {key}-desc" viewBox="0 0 {width} {height}" width="100%" '
             f'style="max-width:{width}px" font-family="Arial, sans-serif" font-size="14">',
             f'<title id="{key}-title">{escape(title)}</title>', f'<desc id="{key}-desc">{escape(description)}</desc>']
    for index, (name, _) in enumerate(series):
        colour, dash, shape = SERIES_STYLES[index % len(SERIES_STYLES)]
        y = 4 + index * LEGEND_ROW + LEGEND_ROW / 2
        parts.append(f'<line x1="{AXIS_WIDTH}" y1="{y}" x2="{AXIS_WIDTH + 32}" y2="{y}" stroke="{colour}" '
                     f'stroke-width="3" stroke-dasharray="{dash}"/>' + _marker(shape, AXIS_WIDTH + 16, y, colour))
        parts.append(f'<text x="{AXIS_WIDTH + 40}" y="{y + 5}" fill="{TEXT_COLOUR}">{escape(name)}</text>')
    for fraction in (0, 0.5, 1):
        y = y_of(top * fraction)
        value = top * fraction
        parts.append(f'<line x1="{AXIS_WIDTH}" y1="{y}" x2="{AXIS_WIDTH + PLOT_WIDTH}" y2="{y}" stroke="#b1b4b6"/>')
        parts.append(f'<text x="{AXIS_WIDTH - 8}" y="{y + 5}" text-anchor="end" fill="{TEXT_COLOUR}">'
                     f'{value:g}</text>')
    for index, label in enumerate(labels):
        x = round(AXIS_WIDTH + index * step, 1)
        parts.append(f'<text x="{x}" y="{legend_height + PLOT_HEIGHT + 22}" text-anchor="middle" '
                     f'fill="{TEXT_COLOUR}">{escape(label)}</text>')
    for index, (_, values) in enumerate(series):
        colour, dash, shape = SERIES_STYLES[index % len(SERIES_STYLES)]
        points = [None if v is None else (round(AXIS_WIDTH + i * step, 1), y_of(v)) for i, v in enumerate(values)]
        for run in _runs(points):
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(f"{x},{y}" for x, y in run)}" fill="none" '
                             f'stroke="{colour}" stroke-width="3" stroke-dasharray="{dash}"/>')
            parts += [_marker(shape, x, y, colour) for x, y in run]
    parts.append("</svg>")
    return "".join(parts)


def _runs(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """The unbroken stretches of a line (a missing value ends one)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


def grouped_bar_chart(chart_id: str, title: str, description: str, names: list[str],
                      groups: list[tuple[str, list[int | str]]]) -> str:
    """Horizontal bars in groups: one group per (label, values), one bar per series in `names`, in the order of
    the legend above them (each series its own colour; each bar is labelled with its value). A value in words
    (a withheld count) has no bar, only its words."""
    key = escape(chart_id)
    most = max((value for _, values in groups for value in values if isinstance(value, int)), default=0) or 1
    bar = 20
    group_height = bar * len(names) + 12
    legend_height = LEGEND_ROW * len(names) + 8
    label_width = round(max((len(label) for label, _ in groups), default=10) * CHARACTER_WIDTH) + 16
    width, height = label_width + BAR_WIDTH + VALUE_WIDTH, legend_height + group_height * len(groups) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="app-chart" id="{key}" '
             f'aria-labelledby="{key}-title {key}-desc" viewBox="0 0 {width} {height}" width="100%" '
             f'style="max-width:{width}px" font-family="Arial, sans-serif" font-size="16">',
             f'<title id="{key}-title">{escape(title)}</title>', f'<desc id="{key}-desc">{escape(description)}</desc>']
    for index, name in enumerate(names):
        colour = SERIES_STYLES[index % len(SERIES_STYLES)][0]
        y = 4 + index * LEGEND_ROW
        parts.append(f'<rect x="{label_width}" y="{y + 4}" width="16" height="16" fill="{colour}"/>'
                     f'<text x="{label_width + 24}" y="{y + 17}" fill="{TEXT_COLOUR}">{escape(name)}</text>')
    for row, (label, values) in enumerate(groups):
        top = legend_height + row * group_height
        parts.append(f'<text x="{label_width - 8}" y="{top + group_height / 2 + 5}" text-anchor="end" '
                     f'fill="{TEXT_COLOUR}">{escape(label)}</text>')
        for index, value in enumerate(values):
            colour = SERIES_STYLES[index % len(SERIES_STYLES)][0]
            y = top + 4 + index * bar
            length = round(BAR_WIDTH * value / most, 1) if isinstance(value, int) else 0
            parts.append(f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar - 4}" fill="{colour}"/>'
                         f'<text x="{label_width + length + 6}" y="{y + bar / 2 + 3}" fill="{TEXT_COLOUR}" '
                         f'font-size="14">{escape(str(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)
