EVERY_ROLE = {"admin", "manager", "adviser", "mentor", "department"}
PUBLIC = {("GET", "/sign-in"), ("POST", "/sign-in"), ("GET", "/sign-in/oidc"), ("GET", "/sign-in/oidc/callback")}
PAGES = {("GET", "/"): EVERY_ROLE, ("POST", "/sign-out"): EVERY_ROLE}
