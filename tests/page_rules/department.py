"""A department's pages: its own opportunities, and the referrals to them."""

D = {"department"}
PAGES = {
    ("GET", "/opportunities"): D,
    ("GET", "/opportunities/new"): D,
    ("POST", "/opportunities"): D,
    ("GET", "/opportunities/{opportunity_id:int}"): D,
    ("GET", "/opportunities/{opportunity_id:int}/edit"): D,
    ("POST", "/opportunities/{opportunity_id:int}/edit"): D,
    ("POST", "/opportunities/{opportunity_id:int}/pause"): D,
    ("GET", "/opportunities/{opportunity_id:int}/close"): D,
    ("POST", "/opportunities/{opportunity_id:int}/close"): D,
    ("GET", "/opportunities/{opportunity_id:int}/reopen"): D,
    ("POST", "/opportunities/{opportunity_id:int}/reopen"): D,
    ("GET", "/referrals"): D,
    ("GET", "/referrals/{match_id:int}"): D,
    ("POST", "/referrals/{match_id:int}"): D,
}
