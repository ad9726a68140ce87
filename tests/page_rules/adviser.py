ADVISERS = {"adviser", "manager"}
PAGES = {
    ("GET", "/caseload"): {"adviser"},
    ("GET", "/young-people/{person_id:int}"): ADVISERS,
    ("GET", "/young-people/{person_id:int}/contacts/new"): ADVISERS,
    ("POST", "/young-people/{person_id:int}/contacts/new"): ADVISERS,
    ("GET", "/young-people/{person_id:int}/close"): ADVISERS,
    ("POST", "/young-people/{person_id:int}/close"): ADVISERS,
    ("POST", "/young-people/{person_id:int}/close/confirm"): ADVISERS,
    ("GET", "/young-people/{person_id:int}/reopen"): ADVISERS,
    ("POST", "/young-people/{person_id:int}/reopen"): ADVISERS,
    ("POST", "/young-people/{person_id:int}/reopen/confirm"): ADVISERS,
    ("GET", "/young-people/{person_id:int}/support-requests/new"): ADVISERS,
    ("POST", "/young-people/{person_id:int}/support-requests/new"): ADVISERS,
    ("GET", "/young-people/{person_id:int}/kept-open/new"): ADVISERS,
    ("POST", "/young-people/{person_id:int}/kept-open/new"): ADVISERS,
}
