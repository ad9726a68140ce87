"""The administrator's pages: people, departments and API tokens; and the public set-password page."""

ADMIN = {"admin"}
PUBLIC = {("GET", "/set-password/{link:str}"), ("POST", "/set-password/{link:str}")}
PAGES = {
    ("GET", "/people"): ADMIN,
    ("GET", "/people/invite"): ADMIN,
    ("POST", "/people/invite"): ADMIN,
    ("GET", "/people/{user_id:int}"): ADMIN,
    ("GET", "/people/{user_id:int}/role"): ADMIN,
    ("POST", "/people/{user_id:int}/role"): ADMIN,
    ("GET", "/people/{user_id:int}/deactivate"): ADMIN,
    ("POST", "/people/{user_id:int}/deactivate"): ADMIN,
    ("POST", "/people/{user_id:int}/activate"): ADMIN,
    ("POST", "/people/{user_id:int}/unlock"): ADMIN,
    ("POST", "/people/{user_id:int}/password-link"): ADMIN,
    ("GET", "/departments"): ADMIN,
    ("GET", "/departments/new"): ADMIN,
    ("POST", "/departments/new"): ADMIN,
    ("GET", "/departments/{department_id:int}/rename"): ADMIN,
    ("POST", "/departments/{department_id:int}/rename"): ADMIN,
    ("GET", "/departments/{department_id:int}/deactivate"): ADMIN,
    ("POST", "/departments/{department_id:int}/deactivate"): ADMIN,
    ("GET", "/tokens"): ADMIN,
    ("GET", "/tokens/new"): ADMIN,
    ("POST", "/tokens/new"): ADMIN,
    ("GET", "/tokens/{token_id:int}/revoke"): ADMIN,
    ("POST", "/tokens/{token_id:int}/revoke"): ADMIN,
}
