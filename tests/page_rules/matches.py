ADVISERS = {"adviser", "manager"}
PAGES = {
    ("GET", "/proposals"): ADVISERS, ("POST", "/proposals/{match_id:int}"): ADVISERS,
    ("GET", "/matches/{match_id:int}"): ADVISERS, ("POST", "/matches/{match_id:int}/steps"): ADVISERS,
    ("GET", "/matches/{match_id:int}/steps/{to:str}"): ADVISERS,
    ("POST", "/matches/{match_id:int}/steps/{to:str}"): ADVISERS,
    ("GET", "/matches/{match_id:int}/check-ins/{check_in_id:int}"): ADVISERS,
    ("POST", "/matches/{match_id:int}/check-ins/{check_in_id:int}"): ADVISERS,
    ("GET", "/matches/{match_id:int}/meetings/new"): ADVISERS, ("POST", "/matches/{match_id:int}/meetings"): ADVISERS,
    ("GET", "/matches/{match_id:int}/meetings/{meeting_id:int}"): ADVISERS,
    ("POST", "/matches/{match_id:int}/meetings/{meeting_id:int}"): ADVISERS,
    ("GET", "/follow-ups"): ADVISERS,
}
