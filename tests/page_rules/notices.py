EVERY_ROLE = {"admin", "manager", "adviser", "mentor", "department"}
PAGES = {("GET", "/notices"): EVERY_ROLE, ("POST", "/notices"): EVERY_ROLE}
