from matching.dashboard import LISTINGS

PAGES = {
    ("GET", "/overview"): {"manager"}, ("POST", "/match-runs"): {"manager"},
    ("GET", "/settings"): {"manager"}, ("POST", "/settings"): {"manager"}, ("GET", "/fairness"): {"manager"},
    # The named list behind each overview count, and its CSV.
    **{("GET", f"/overview/{listing.slug}{tail}"): {"manager"} for listing in LISTINGS for tail in ("", "/csv")},
    # The list behind each figure of a chart's table (the figure in the query), and its CSV.
    ("GET", "/overview/charts/{chart:str}"): {"manager"}, ("GET", "/overview/charts/{chart:str}/csv"): {"manager"},
}
