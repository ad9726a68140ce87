PAGES = {
    ("GET", "/reports"): {"manager"}, ("GET", "/reports/annual"): {"manager"},
    ("GET", "/reports/annual.pdf"): {"manager"},
    ("GET", "/reports/oc3"): {"manager"}, ("GET", "/reports/oc3.csv"): {"manager"},
    **{("GET", f"/reports/{name}{suffix}"): {"manager"}
       for name in ("cohort", "outcomes", "keeping-in-touch", "local-offer", "housing")
       for suffix in ("", ".csv", ".xlsx")},
}
