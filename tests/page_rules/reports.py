PAGES = {
    ("GET", "/reports"): {"manager"}, ("GET", "/reports/cohort"): {"manager"},
    ("GET", "/reports/cohort.csv"): {"manager"}, ("GET", "/reports/cohort.xlsx"): {"manager"},
    ("GET", "/reports/oc3"): {"manager"}, ("GET", "/reports/oc3.csv"): {"manager"},
}
