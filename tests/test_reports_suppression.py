"""Small-number suppression: counts under 5 withheld, and nothing withheld can be worked out from the rest.

The check of "cannot be worked out" here is independent of the function's own (a linear programme): it
enumerates, by brute force, every table of whole numbers that agrees with everything shown, and asks that each
withheld cell takes at least two values among them.
"""

from itertools import product

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.reports.suppression import FEWER_THAN, THRESHOLD, WITHHELD, suppress


def shown(table):
    rows = [[cell.shown for cell in line] + [total.shown] for line, total in zip(table.cells, table.row_totals, strict=True)]
    return rows + [[cell.shown for cell in table.column_totals] + [table.total.shown]]


def consistent_values(counts, table, spread=8):
    """Every whole-number table that matches what `table` shows, given what the published rule tells a reader
    ("fewer than 5" is 1 to 4; "withheld" is 5 or more), with each withheld inner cell tried within `spread` of
    its true value: enough to find a second value wherever one exists nearby. Built row by row (each row must
    match its own total), then the rows combined and their columns checked."""
    published = shown(table)
    height, width = len(counts), len(counts[0])

    def fits(value, label):
        if isinstance(label, int):
            return value == label
        return 1 <= value < THRESHOLD if label == FEWER_THAN else value >= THRESHOLD

    def row_options(i):
        hidden = [j for j in range(width) if not isinstance(published[i][j], int)]
        ranges = [range(max(0, counts[i][j] - spread), counts[i][j] + spread + 1) for j in hidden]
        for guess in product(*ranges):
            line = counts[i][:]
            for j, value in zip(hidden, guess, strict=True):
                line[j] = value
            line.append(sum(line))
            if all(fits(line[j], published[i][j]) for j in range(width + 1)):
                yield line

    found = []
    for rows in product(*(list(row_options(i)) for i in range(height))):
        totals = [sum(line[j] for line in rows) for j in range(width + 1)]
        if all(fits(totals[j], published[height][j]) for j in range(width + 1)):
            found.append([*rows, totals])
    return found


def assert_nothing_recoverable(counts):
    table = suppress(counts)
    published = shown(table)
    options = consistent_values(counts, table)
    assert options, "the true table itself must be among those consistent with what is shown"
    for i, line in enumerate(published):
        for j, label in enumerate(line):
            if not isinstance(label, int):
                assert len({option[i][j] for option in options}) >= 2, f"cell {(i, j)} can be worked out: {published}"
    return published


def test_counts_under_five_are_fewer_than_five_and_zero_and_large_counts_are_shown():
    table = suppress([[50, 60], [70, 80]])
    assert shown(table) == [[50, 60, 110], [70, 80, 150], [120, 140, 260]]
    small = suppress([[0, 0], [0, 40]])
    assert shown(small) == [[0, 0, 0], [0, 40, 40], [0, 40, 40]]
    assert suppress([[4]]).cells[0][0].shown == FEWER_THAN and suppress([[5]]).cells[0][0].shown == 5


def test_a_small_count_alone_in_its_row_takes_another_cell_with_it():
    published = assert_nothing_recoverable([[3, 10, 12], [8, 9, 20]])
    assert published[0][0] == FEWER_THAN
    assert sum(not isinstance(label, int) for label in published[0]) >= 2  # not recoverable by subtraction
    assert published[0][2] == 12 and published[1][2] == 20  # and no more withheld than needed here


def test_two_ones_in_a_line_that_sums_to_two_are_not_left_for_a_reader_to_split():
    # Both "fewer than 5", the rest of the row shown: the row total leaves 2, so each would be 1.
    published = assert_nothing_recoverable([[1, 1, 30], [20, 20, 20]])
    assert published[0][:2] == [FEWER_THAN, FEWER_THAN]
    assert published[0][2] == WITHHELD or published[0][3] == WITHHELD


def test_a_small_total_is_withheld_as_well():
    published = assert_nothing_recoverable([[3, 0], [0, 40]])
    assert published[0][2] == FEWER_THAN and published[2][0] == FEWER_THAN


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 2).flatmap(lambda height: st.integers(2, 3).flatmap(
    lambda width: st.lists(st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 9]), min_size=width, max_size=width),
                           min_size=height, max_size=height))))
def test_no_withheld_cell_of_any_small_table_can_be_worked_out(counts):
    table = suppress(counts)
    published = shown(table)
    if table.withheld_entirely:
        assert {label for line in published for label in line} == {WITHHELD}
        return
    for i, line in enumerate(counts):
        for j, value in enumerate(line):
            label = published[i][j]
            assert label == value if label not in {FEWER_THAN, WITHHELD} else True
            assert (label == FEWER_THAN) == (0 < value < THRESHOLD)
    assert_nothing_recoverable(counts)


def test_a_table_whose_every_cell_would_give_itself_away_is_withheld_whole():
    # Four cells of 1, total "fewer than 5": shown as small counts, each could only be 1.
    table = suppress([[1, 1], [1, 1]])
    assert table.withheld_entirely and {label for line in shown(table) for label in line} == {WITHHELD}
    assert not suppress([[1, 1], [1, 0]]).withheld_entirely  # 3 people in 3 cells of 4: not all must be 1
    assert_nothing_recoverable([[1, 1], [1, 0]])


def test_a_table_that_needs_no_suppression_is_left_alone_and_bad_tables_are_refused():
    assert all(cell.visible for line in suppress([[5, 6], [7, 8]]).cells for cell in line)
    for bad in ([[1, 2], [3]], [[-1, 5]]):
        try:
            suppress(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted")
