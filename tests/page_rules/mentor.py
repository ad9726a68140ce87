"""Mentors' own pages, mentor sign-up (public) and vetting new mentors (managers and administrators)."""

MENTOR = {"mentor"}
VETTERS = {"manager", "admin"}
PAGES = {
    ("GET", "/mentees"): MENTOR,
    ("GET", "/mentees/{match_id:int}/meetings/new"): MENTOR,
    ("POST", "/mentees/{match_id:int}/meetings"): MENTOR,
    ("GET", "/mentees/{match_id:int}/meetings/{meeting_id:int}"): MENTOR,
    ("POST", "/mentees/{match_id:int}/meetings/{meeting_id:int}"): MENTOR,
    ("GET", "/profile"): MENTOR,
    ("GET", "/profile/edit"): MENTOR, ("POST", "/profile/edit"): MENTOR,
    ("GET", "/profile/account"): MENTOR, ("POST", "/profile/account"): MENTOR,
    ("GET", "/profile/pause"): MENTOR, ("POST", "/profile/pause"): MENTOR,
    ("GET", "/profile/resume"): MENTOR, ("POST", "/profile/resume"): MENTOR,
    ("GET", "/mentors/pending"): VETTERS,
    ("GET", "/mentors/{mentor_id:int}/vetting"): VETTERS, ("POST", "/mentors/{mentor_id:int}/vetting"): VETTERS,
    ("GET", "/mentors/{mentor_id:int}/decline"): VETTERS, ("POST", "/mentors/{mentor_id:int}/decline"): VETTERS,
}
SIGN_UP = "/mentors/sign-up"
PUBLIC = {("GET", SIGN_UP), ("GET", f"{SIGN_UP}/check-answers"), ("POST", f"{SIGN_UP}/check-answers"),
          ("GET", f"{SIGN_UP}/done")} | {
    (method, f"{SIGN_UP}/{step}") for step in ("about-you", "your-role", "what-you-offer", "availability")
    for method in ("GET", "POST")}
