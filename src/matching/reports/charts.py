"""Bar charts drawn on the server as SVG: no browser script is needed, and they print.

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
