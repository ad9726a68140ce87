"""Small-number suppression for every published table: no young person can be picked out of a report.

A count from 1 to `threshold - 1` is shown as "fewer than 5" (primary suppression). Then, so that no
suppressed count can be worked out from the totals and the other cells (secondary suppression), more cells
are withheld until, for every suppressed cell, the values an attacker could still give it, knowing every
shown cell, every total and the rule itself, span more than one whole number. A table too small to show any
part of safely is withheld whole, zeros included.

The attacker is modelled exactly as a linear programme (scipy's HiGHS): each line of the table with its
total is an equation; a primary cell lies between 1 and threshold - 1; a secondary cell is at least the
threshold, because only counts of at least the threshold are ever withheld as secondaries (zeros are shown:
they are nobody, and withholding one would tell the attacker it is not zero). A cell whose least and
greatest possible values meet is recoverable, and the smallest shown count on one of its lines is withheld
next. Checking by the attacker's own method, rather than by a rule of thumb such as "two suppressed cells in
every line", also catches what that rule misses: two cells of 1 in a line whose remainder is 2.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

THRESHOLD = 5
FEWER_THAN = f"fewer than {THRESHOLD}"
WITHHELD = "withheld"


@dataclass(frozen=True)
class Cell:
    count: int
    suppressed: str | None = None  # None, "primary", "secondary" or "table" (the whole table withheld)

    @property
    def shown(self) -> int | str:
        """What a report prints: the count, or the words in its place."""
        if self.suppressed == "primary":
            return FEWER_THAN
        return WITHHELD if self.suppressed else self.count

    @property
    def visible(self) -> bool:
        return self.suppressed is None


@dataclass(frozen=True)
class SuppressedTable:
    """`cells[i][j]` for the interior; `row_totals`, `column_totals` and `total` are cells too."""

    cells: list[list[Cell]]
    row_totals: list[Cell]
    column_totals: list[Cell]
    total: Cell

    @property
    def withheld_entirely(self) -> bool:
        return self.total.suppressed == "table"


def primary(count: int, threshold: int = THRESHOLD) -> Cell:
    """One count published on its own (no total beside it): withheld only when it is small."""
    return Cell(count, "primary" if 0 < count < threshold else None)


def suppress(counts: list[list[int]], threshold: int = THRESHOLD) -> SuppressedTable:
    """The table of `counts` (rows by columns) with its totals, small counts and what would reveal them withheld."""
    grid = _with_totals(counts)
    marks = {(i, j): "primary" for i, line in enumerate(grid) for j, value in enumerate(line) if 0 < value < threshold}
    while True:
        extra = _closing_a_line(grid, marks, threshold)
        if extra is None and (exposed := _first_recoverable(grid, marks, threshold)):
            extra = _next_to_withhold(grid, marks, exposed, threshold)
            if extra is None:  # nothing left to withhold near it: withhold every non-zero count
                _withhold_everything(grid, marks, threshold)
                break
        if extra is None:
            break
        marks[extra] = "secondary"
    table = [[Cell(value, marks.get((i, j))) for j, value in enumerate(line)] for i, line in enumerate(grid)]
    return SuppressedTable(cells=[line[:-1] for line in table[:-1]], row_totals=[line[-1] for line in table[:-1]],
                           column_totals=table[-1][:-1], total=table[-1][-1])


def _with_totals(counts: list[list[int]]) -> list[list[int]]:
    width = len(counts[0]) if counts else 0
    if any(len(line) != width for line in counts):
        raise ValueError("every row of the table must have the same number of columns")
    if any(value < 0 for line in counts for value in line):
        raise ValueError("counts cannot be negative")
    rows = [[*line, sum(line)] for line in counts]
    return [*rows, [sum(line[j] for line in rows) for j in range(width + 1)]]


def _lines(grid: list[list[int]]) -> list[list[tuple[int, int]]]:
    """Each row and each column of the grid, with its total as the last cell."""
    height, width = len(grid), len(grid[0])
    return [[(i, j) for j in range(width)] for i in range(height)] + \
           [[(i, j) for i in range(height)] for j in range(width)]


def recoverable(grid: list[list[int]], marks: dict[tuple[int, int], str], threshold: int = THRESHOLD) \
        -> dict[tuple[int, int], tuple[float, float]]:
    """For each withheld cell, the least and greatest value an attacker could give it from what is shown."""
    hidden = sorted(marks)
    if not hidden:
        return {}
    index = {cell: k for k, cell in enumerate(hidden)}
    equations, constants = [], []
    for line in _lines(grid):
        *parts, total = line
        if not any(cell in index for cell in line):
            continue
        row = np.zeros(len(hidden))
        constant = 0.0
        for cell, sign in [*((part, 1.0) for part in parts), (total, -1.0)]:
            if cell in index:
                row[index[cell]] += sign
            else:
                constant -= sign * grid[cell[0]][cell[1]]
        equations.append(row)
        constants.append(constant)
    bounds = [(1, threshold - 1) if marks[cell] == "primary" else (threshold, None) for cell in hidden]
    found = {}
    for k, cell in enumerate(hidden):
        objective = np.zeros(len(hidden))
        objective[k] = 1.0
        low = linprog(objective, A_eq=np.array(equations), b_eq=np.array(constants), bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=np.array(equations), b_eq=np.array(constants), bounds=bounds, method="highs")
        found[cell] = (low.fun, -high.fun if high.status == 0 else math.inf) if low.status == 0 else (math.nan,) * 2
    return found


def _closing_a_line(grid, marks, threshold: int) -> tuple[int, int] | None:
    """A line with a single withheld cell gives it away by subtraction: the cell to withhold beside it. Of
    that line's shown counts of at least `threshold`, one that also closes another such line (completing a
    rectangle), then inner cells before totals, then the smallest."""
    lines = _lines(grid)
    alone = [line for line in lines if sum(cell in marks for cell in line) == 1]
    lone_lines = [set(line) for line in alone]
    for line in alone:
        candidates = [c for c in line if c not in marks and grid[c[0]][c[1]] >= threshold]
        if candidates:
            height, width = len(grid), len(grid[0])
            return min(candidates, key=lambda c: (
                not any(c in other and other != set(line) for other in lone_lines),
                c[0] == height - 1 or c[1] == width - 1, grid[c[0]][c[1]], c))
    return None


def _withhold_everything(grid, marks, threshold: int) -> None:
    """Every non-zero count withheld; and if even that gives a count away (four cells of 1 whose total is
    "fewer than 5": shown zeros tell a reader each hidden cell is at least 1), the whole table, zeros too."""
    for i, line in enumerate(grid):
        for j, value in enumerate(line):
            if value and (i, j) not in marks:
                marks[i, j] = "secondary"
    if _first_recoverable(grid, marks, threshold):
        for i, line in enumerate(grid):
            for j, _ in enumerate(line):
                marks[i, j] = "table"


def _first_recoverable(grid, marks, threshold) -> tuple[int, int] | None:
    for cell, (low, high) in recoverable(grid, marks, threshold).items():
        # A whole number is recoverable when only one whole number lies in its range.
        if math.isnan(low) or (math.isfinite(high) and math.floor(high + 1e-6) <= math.ceil(low - 1e-6)):
            return cell
    return None


def _next_to_withhold(grid, marks, exposed: tuple[int, int], threshold: int) -> tuple[int, int] | None:
    """The smallest shown count of at least `threshold` on a line through `exposed` (inner cells before
    totals), or anywhere in the table when its own lines have none."""
    height, width = len(grid), len(grid[0])

    def candidates(cells):
        return [c for c in cells if c not in marks and grid[c[0]][c[1]] >= threshold]

    i, j = exposed
    near = candidates([(i, col) for col in range(width)] + [(row, j) for row in range(height)])
    anywhere = near or candidates([(row, col) for row in range(height) for col in range(width)])
    if not anywhere:
        return None
    return min(anywhere, key=lambda c: (grid[c[0]][c[1]], c[0] == height - 1 or c[1] == width - 1, c))
