PAGES = {
    ("GET", "/young-people/{person_id:int}/housing"): {"adviser", "manager"},
    ("GET", "/young-people/{person_id:int}/housing/new"): {"adviser", "manager"},
    ("POST", "/young-people/{person_id:int}/housing/new"): {"adviser", "manager"},
    ("GET", "/housing-applications/{application_id:int}"): {"adviser", "manager"},
    ("POST", "/housing-applications/{application_id:int}"): {"adviser", "manager"},
}
