PAGES = {
    ("GET", "/reports"): {"manager"}, ("GET", "/reports/cohort"): {"manager"},
    ("GET", "/reports/cohort.csv"): {"manager"}, ("GET", "/reports/cohort.xlsx"): {"manager"},
    ("GET", "/reports/oc3"): {"manager"}, ("GET", "/reports/oc3.csv"): {"manager"},
    ("GET", "/reports/outcomes"): {"manager"}, ("GET", "/reports/outcomes.csv"): {"manager"},
    ("GET", "/reports/outcomes.xlsx"): {"manager"},
    ("GET", "/reports/keeping-in-touch"): {"manager"}, ("GET", "/reports/keeping-in-touch.csv"): {"manager"},
    ("GET", "/reports/local-offer"): {"manager"}, ("GET", "/reports/local-offer.csv"): {"manager"},
}
PAGES[("GET", "/reports/annual")] = {"manager"}
PAGES[("GET", "/reports/housing")] = PAGES[("GET", "/reports/housing.csv")] = {"manager"}
