"""The manager's oversight pages: the audit log, scoring models and fairness, and imports."""

PAGES = {
    ("GET", "/audit-log"): {"manager"},
    ("GET", "/models"): {"manager"}, ("POST", "/models"): {"manager"},
    ("GET", "/models/compare"): {"manager"},
    ("GET", "/models/{version:str}/promote"): {"manager"}, ("POST", "/models/{version:str}/promote"): {"manager"},
    ("GET", "/models/fairness"): {"manager"},
    ("GET", "/imports"): {"manager"}, ("POST", "/imports"): {"manager"},
}
