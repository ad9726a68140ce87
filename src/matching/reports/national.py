"""National figures (England) that the reports set beside the council's own, from ../shared/domain.md section 4.

Each carries its age group, year, source and how well it was checked there ([V] checked against the source
named, [S] a secondary source only). Figures marked [U] there are left out. Update these when the DfE's
*Children looked after in England including adoptions* release is read for a newer year.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class NationalFigure:
    dimension: str  # the cohort table it belongs to
    row: str  # the row of that table it compares with
    band: str  # the age band of the cohort report it is a share of
    percent: int
    year: str
    source: str
    checked: bool  # True: [V]; False: [S], a secondary source only

    @property
    def words(self) -> str:
        quality = "" if self.checked else "; secondary source"
        return f"{self.percent}% of {self.band.lower()} year olds ({self.year}{quality})"


FIGURES = (
    NationalFigure("in_touch", "YES", "19 to 21", 91, "2020 to 2021",
                   "CYP Now, Leaving Care Special Report", checked=False),
    NationalFigure("in_touch", "NO", "22", 42, "2025",
                   "DfE, Children looked after in England 2025: care leavers aged 22 not in touch", checked=True),
    NationalFigure("activity", "NEET", "19 to 21", 38, "year ending March 2022",
                   "DfE written answer, 13 January 2023", checked=True),
    NationalFigure("activity", "EET", "22", 30, "2024",
                   "DfE, Children looked after in England 2024: activity of care leavers aged 22", checked=True),
    NationalFigure("activity", "NEET", "22", 26, "2024",
                   "DfE, Children looked after in England 2024: activity of care leavers aged 22", checked=True),
    NationalFigure("accommodation", "suitable", "19 to 21", 85, "2019",
                   "DfE, Children looked after in England 2019: care leavers in suitable accommodation",
                   checked=True),
)


def for_row(dimension: str, row: str) -> list[NationalFigure]:
    return [figure for figure in FIGURES if figure.dimension == dimension and figure.row == row]
