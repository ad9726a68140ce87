PAGES = {
    ("GET", "/proposals"): {"adviser", "manager"}, ("POST", "/proposals/{match_id:int}"): {"adviser", "manager"},
}
