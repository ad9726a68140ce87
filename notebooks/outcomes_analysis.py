# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # What came of the matches: an outcomes analysis for committee
#
# For the last complete year (1 April to 31 March): how many matches of each kind reached each step, how
# many of those proposed went on to the next step, how long the steps took, which departments' places led
# somewhere, and whether any group of young people does worse. Open it with Jupyter through jupytext, or run
# it as a script; the test suite runs it on a fresh database seeded with the synthetic borough and its two
# years of history (`tests/test_notebooks.py`). Set `DATABASE_URL` to run it on a council's own data.
#
# The published figures come from the service's own report (`matching.reports.outcomes`, the same numbers
# as the report page and its download, small counts suppressed) and the managers' overview
# (`matching.dashboard`). The cohort analysis below them, which follows each match proposed in the year up to
# today, is made here: it is for the committee's own reading and is **not suppressed**, so do not publish it.

# %%
import os
import statistics
from datetime import timedelta
from pathlib import Path
from tempfile import mkdtemp

import sqlalchemy as sa
from fixtures import demo

from matching import clock, dashboard, db
from matching.models import CareLeaver, Department, Match, MatchEvent, Opportunity
from matching.reports import outcomes as outcomes_report
from matching.reports.oc3 import CollectionYear, latest_complete_year

url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(mkdtemp()) / 'outcomes.sqlite3'}"
db.upgrade(url)
sa_engine = db.engine_for(url)
demo.load(sa_engine)  # the synthetic borough with two years of matches; nothing if data is already there
today = clock.today()
year = CollectionYear(latest_complete_year(today))
print(f"Outcomes for {year.label}, looked at on {today:%d %B %Y}")


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def percent(share: float | None, missing: str = "no") -> str:
    return missing if share is None else f"{share:.0%}"

# %% [markdown]
# ## The year's figures, as the report publishes them
# A match counts once for each step it reached within the year. Counts under 5, and any count that would
# reveal one, are withheld.

# %%
with db.session_scope(sa_engine) as session:
    report = outcomes_report.outcomes(session, year.ending)


def show(table: outcomes_report.CountTable) -> None:
    """A suppressed table as the report prints it, with its totals."""
    width = max(len(row) for row in [*table.rows, "Total"]) + 2
    print(table.title)
    print(" " * width + "".join(f"{column[:16]:>18}" for column in [*table.columns, "Total"]))
    for row, cells, total in zip(table.rows, table.table.cells, table.table.row_totals, strict=True):
        print(f"{row:<{width}}" + "".join(f"{cell.shown!s:>18}" for cell in [*cells, total]))
    print(f"{'Total':<{width}}" + "".join(f"{cell.shown!s:>18}"
                                         for cell in [*table.table.column_totals, table.table.total]))


show(report.steps)

# %% [markdown]
# ## Following each match proposed in the year
# The report counts steps within the year, so a match proposed in March and started in May counts in two
# years. To see how many proposals *lead* somewhere, take every match proposed in the year (the cohort) and
# follow it to today. The steps are the report's (`STEP_OF`), with the interview or offer added (the report
# has no such step). A match proposed late in the year may still be under way: the later steps are a floor.

# %%
FUNNEL = ("proposed", "approved", "referred", "interview_or_offer", "started", "sustained_3m", "sustained_6m",
          "completed", "lasted", "ended_early", "not_successful", "rejected")
STEP_WORDS = {key: words for key, words, _ in outcomes_report.STEPS} | {
    "interview_or_offer": "Interviewed or offered (opportunity)",
    "lasted": "Lasted: sustained 6 months or completed"}
LASTED = {"sustained_6m", "completed"}  # a job lasts six months, a placement or a mentoring is completed
EXTRA_STEPS = {("interviewed", "opportunity"): "interview_or_offer", ("offered", "opportunity"): "interview_or_offer"}
STEP_OF = outcomes_report.STEP_OF | EXTRA_STEPS
KIND_WORDS = dict(outcomes_report.KINDS)
start, after = dashboard.midnight(year.start), dashboard.midnight(year.end + timedelta(days=1))

with db.session_scope(sa_engine) as session:
    events = session.execute(
        sa.select(MatchEvent.match_id, MatchEvent.to_state, MatchEvent.at, Match.kind, Match.care_leaver_id,
                  Opportunity.kind.label("opportunity_kind"), Department.name.label("department"))
        .join(Match, Match.id == MatchEvent.match_id)
        .outerjoin(Opportunity, Opportunity.id == Match.opportunity_id)
        .outerjoin(Department, Department.id == Opportunity.department_id)
        .order_by(MatchEvent.match_id, MatchEvent.at, MatchEvent.id)).all()

# Each cohort match: its kind, its department, and the London day it first reached each step from its first
# proposal in the year on (a match re-opened later counts its steps once).
cohort: dict[int, dict] = {}
for event in events:
    if event.match_id not in cohort:
        if not (event.to_state == "proposed" and start <= event.at < after):
            continue
        cohort[event.match_id] = {"kind": "mentoring" if event.kind == "mentoring" else event.opportunity_kind,
                                  "department": event.department, "care_leaver_id": event.care_leaver_id,
                                  "days": {}}
    step = STEP_OF.get((event.to_state, event.kind))
    if step:
        reached_on = cohort[event.match_id]["days"]
        reached_on.setdefault(step, clock.london_day(event.at))
        if step in LASTED:
            reached_on.setdefault("lasted", clock.london_day(event.at))

kinds = [kind for kind, _ in outcomes_report.KINDS]
reached = {kind: dict.fromkeys(FUNNEL, 0) for kind in [*kinds, "all_opportunities"]}
for match in cohort.values():
    for step in match["days"]:
        reached[match["kind"]][step] += 1
        if match["kind"] != "mentoring":
            reached["all_opportunities"][step] += 1
KIND_WORDS["all_opportunities"] = "All opportunities"
shown_kinds = ["mentoring", "all_opportunities", *kinds[1:]]

print(f"{'':<48}" + "".join(f"{KIND_WORDS[kind][:15]:>17}" for kind in shown_kinds))
for step in FUNNEL:
    print(f"{STEP_WORDS[step][:46]:<48}" + "".join(
        f"{reached[kind][step]:>8} {'(' + percent(rate(reached[kind][step], reached[kind]['proposed']), '-') + ')':>8}"
        for kind in shown_kinds))

# %% [markdown]
# ### Cross-check: the cohort's size, counted a second way
# Every match in the cohort had a proposal in the year, which is what the report's "Proposed" row counts,
# so the two must agree kind by kind, although one is counted here from the events and the other by the report.

# %%
report_proposed = {kind: cell.count for kind, cell in zip(kinds, report.steps.table.cells[0], strict=True)}
cohort_proposed = {kind: reached[kind]["proposed"] for kind in kinds}
print("report:", report_proposed)
print("cohort:", cohort_proposed)
assert report_proposed == cohort_proposed, "the cohort and the report disagree on the proposals of the year"

# %% [markdown]
# ## Conversion from each step to the next
# Of the matches that reached a step, the share that reached the next. Mentoring has no interview: an
# introduction follows approval, and meetings follow the introduction.

# %%
PATHS = {"mentoring": ("proposed", "approved", "referred", "started", "lasted"),
         "opportunity": ("proposed", "approved", "referred", "interview_or_offer", "started", "lasted")}


conversion: dict[str, dict[str, float | None]] = {}
for kind in shown_kinds:
    path = PATHS["mentoring" if kind == "mentoring" else "opportunity"]
    conversion[kind] = {f"{before} -> {then}": rate(reached[kind][then], reached[kind][before])
                        for before, then in zip(path, path[1:], strict=False)}
    print(KIND_WORDS[kind])
    for pair, share in conversion[kind].items():
        print(f"  {pair:<36} {percent(share, 'no matches')}")

# After a start: lasted, ended early, or still under way today (a floor for the later steps).
after_start = {}
for group in ("mentoring", "opportunity"):
    started = [m for m in cohort.values() if (m["kind"] == "mentoring") == (group == "mentoring")
               and "started" in m["days"]]
    after_start[group] = {"started": len(started), "lasted": sum(1 for m in started if "lasted" in m["days"]),
                          "ended early": sum(1 for m in started if "ended_early" in m["days"])}
    after_start[group]["still under way"] = len(started) - after_start[group]["lasted"] - after_start[group][
        "ended early"]
    print(f"{group}: after a start", after_start[group])

# %% [markdown]
# ## How long the steps take
# The report's medians (of the matches whose later step fell in the year), the overview's month by month (the
# last twelve months), and the cohort's, with the middle half of the spread.

# %%
for duration in report.durations:
    print(f"report: {duration.label} ({duration.kind}): {duration.shown}, of {duration.count} matches")
with db.session_scope(sa_engine) as session:
    monthly = dashboard.decision_times(session, today)
for series, values in monthly.series.items():
    print(f"overview, {series}, by month:", ", ".join("-" if v is None else f"{v:g}" for v in values))

TIMES = {"proposal_to_decision": ("proposed", ("approved", "rejected")),
         "decision_to_start": ("approved", ("started",)),
         "proposal_to_start": ("proposed", ("started",))}


def spread(days: list[int]) -> dict[str, float | int | None]:
    if not days:
        return {"matches": 0, "median": None, "lower_quartile": None, "upper_quartile": None}
    quartiles = statistics.quantiles(days, n=4, method="inclusive") if len(days) > 1 else [days[0]] * 3
    return {"matches": len(days), "median": float(statistics.median(days)), "lower_quartile": quartiles[0],
            "upper_quartile": quartiles[2]}


times: dict[str, dict[str, dict]] = {}
for group in ("mentoring", "opportunity"):
    members = [m for m in cohort.values() if (m["kind"] == "mentoring") == (group == "mentoring")]
    times[group] = {}
    for name, (first, lasts) in TIMES.items():
        days = [(min(m["days"][s] for s in lasts if s in m["days"]) - m["days"][first]).days
                for m in members if first in m["days"] and any(s in m["days"] for s in lasts)]
        times[group][name] = spread(days)
        found = times[group][name]
        print(f"cohort, {group}, {name.replace('_', ' ')}: median {found['median']} days "
              f"(middle half {found['lower_quartile']} to {found['upper_quartile']}) over {found['matches']} matches")

# %% [markdown]
# ## Departments: which offer places, and which lead somewhere
# The report's table for the year, the overview's places offered and filled (all time), then for the cohort's
# opportunity matches each department's share of referrals that started and that lasted.

# %%
show(report.departments)
with db.session_scope(sa_engine) as session:
    places = dashboard.places_by_department(session, today)
for row in places:
    print(f"  {row.department:<40} places offered {row.offered:>4}  filled {row.filled:>4}  "
          f"({percent(rate(row.filled, row.offered), '-')})")

departments: dict[str, dict[str, int | float | None]] = {}
for match in cohort.values():
    if match["department"]:
        entry = departments.setdefault(match["department"], dict.fromkeys(
            ("proposed", "referred", "started", "lasted", "ended_early"), 0))
        steps = set(match["days"])
        entry["proposed"] += 1
        entry["referred"] += "referred" in steps
        entry["started"] += "started" in steps
        entry["lasted"] += "lasted" in steps
        entry["ended_early"] += "ended_early" in steps
for entry in departments.values():
    entry["start_rate"] = rate(entry["started"], entry["referred"])
    entry["lasting_rate"] = rate(entry["lasted"], entry["started"])
print(f"{'cohort department':<40}{'proposed':>9}{'referred':>9}{'started':>9}{'lasted':>8}{'start %':>9}{'last %':>8}")
for name, entry in sorted(departments.items()):
    print(f"{name:<40}{entry['proposed']:>9}{entry['referred']:>9}{entry['started']:>9}{entry['lasted']:>8}"
          f"{percent(entry['start_rate'], '-'):>9}{percent(entry['lasting_rate'], '-'):>8}")

# %% [markdown]
# ## Groups of young people
# From the report: of each group's young people whose case was open in the year, how many had a match
# proposed, approved, and succeeding (started or beyond) in the year. Then, from the cohort, what came of the
# matches proposed to each group: the share that started and the share that lasted. (The report's "succeeded"
# may follow an approval of the year before, so it is not divided by "approved" here.)

# %%
with db.session_scope(sa_engine) as session:
    people = {row.id: row for row in session.execute(
        sa.select(CareLeaver.id, CareLeaver.sex, CareLeaver.ethnicity, CareLeaver.disability, CareLeaver.former_uasc))}
groups: dict[str, dict[str, dict[str, int]]] = {}
cohort_groups: dict[str, dict[str, dict[str, int | float | None]]] = {}
for (dimension, _, group_of), table in zip(outcomes_report.GROUPS, report.groups, strict=True):
    show(table)
    groups[dimension] = {row: {key: cell.count for key, cell in zip(
        ("young_people", "proposed", "approved", "succeeded"), cells, strict=True)}
        for row, cells in zip(table.rows, table.table.cells, strict=True)}
    found: dict[str, dict] = {}
    for match in cohort.values():
        entry = found.setdefault(group_of(people[match["care_leaver_id"]]), {"matches": 0, "started": 0, "lasted": 0})
        entry["matches"] += 1
        entry["started"] += "started" in match["days"]
        entry["lasted"] += "lasted" in match["days"]
    for name, entry in sorted(found.items()):
        entry |= {"start_rate": rate(entry["started"], entry["matches"]),
                  "lasting_rate": rate(entry["lasted"], entry["matches"])}
        print(f"  cohort, {name:<32} matches {entry['matches']:>4}  started {percent(entry['start_rate']):>4}  "
              f"lasted {percent(entry['lasting_rate']):>4}")
    cohort_groups[dimension] = dict(sorted(found.items()))

# %% [markdown]
# ## What this says, in plain words

# %%
MIN_GROUP = outcomes_report.THRESHOLD * 4  # a smaller group's share moves too much with one person to compare


conclusions = []
for kind in ("mentoring", "all_opportunities"):
    counts = reached[kind]
    conclusions.append(
        f"{KIND_WORDS[kind]}: of {counts['proposed']} matches proposed in {year.short}, "
        f"{percent(rate(counts['approved'], counts['proposed']))} were approved, "
        f"{percent(rate(counts['started'], counts['proposed']))} started and "
        f"{percent(rate(counts['lasted'], counts['proposed']))} lasted six months or were completed "
        f"by {today:%d %B %Y}.")
    steps = {pair: share for pair, share in conversion[kind].items() if share is not None}
    if steps:
        weakest = min(steps, key=steps.get)
        before, then = weakest.split(" -> ")
        conclusions.append(f"  The most are lost between '{STEP_WORDS[before]}' and '{STEP_WORDS[then]}': "
                           f"{percent(steps[weakest])} go on.")
for group, found in times.items():
    decision, start_days = found["proposal_to_decision"]["median"], found["decision_to_start"]["median"]
    if decision is not None and start_days is not None:
        conclusions.append(f"For {'mentoring' if group == 'mentoring' else 'opportunities'}, an adviser decides on a "
                           f"proposal in {decision:g} days (the median) and a start follows approval "
                           f"{start_days:g} days later.")
ranked = [(entry["start_rate"], name) for name, entry in departments.items()
          if entry["start_rate"] is not None and entry["referred"] >= MIN_GROUP // 2]
if len(ranked) > 1:
    (low, low_name), (high, high_name) = min(ranked), max(ranked)
    conclusions.append(f"Of the departments with at least {MIN_GROUP // 2} referrals, {high_name} started "
                       f"{percent(high)} of the young people referred to it and {low_name} {percent(low)}.")
everyone = {key: sum(counts[key] for counts in groups["sex"].values()) for key in ("young_people", "succeeded")}
overall_share = rate(everyone["succeeded"], everyone["young_people"])
for dimension, words, _ in outcomes_report.GROUPS:
    shares = {name: rate(c["succeeded"], c["young_people"]) for name, c in groups[dimension].items()
              if c["young_people"] >= MIN_GROUP}
    if len(shares) > 1 and overall_share is not None:
        lowest = min(shares, key=shares.get)
        gap = round(100 * overall_share) - round(100 * shares[lowest])  # the points between the two shown
        conclusions.append(f"{words}: of the groups of at least {MIN_GROUP} young people, '{lowest}' had the smallest "
                           f"share with a match succeeding in the year, {percent(shares[lowest])} against "
                           f"{percent(overall_share)} of all ({gap} percentage points lower).")
print("\n".join(conclusions))

# %%
results = {"year": year.ending, "report": report, "cohort": {m: dict(v) for m, v in cohort.items()},
           "reached": reached, "conversion": conversion, "after_start": after_start, "times": times,
           "departments": departments, "groups": groups, "cohort_groups": cohort_groups, "conclusions": conclusions,
           "cross_check": {"report_proposed": report_proposed, "cohort_proposed": cohort_proposed}}
