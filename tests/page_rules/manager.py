PAGES = {
    ("GET", "/overview"): {"manager"}, ("POST", "/match-runs"): {"manager"},
    ("GET", "/settings"): {"manager"}, ("POST", "/settings"): {"manager"}, ("GET", "/fairness"): {"manager"},
}
