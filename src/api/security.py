"""Security headers on every response, error responses included (Litestar's before_send hook sees them all)."""

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from api.errors import request_id

STRICT_CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
              "form-action 'self'; frame-ancestors 'none'")
# The OpenAPI page is Swagger UI served from /static/swagger-ui (no third-party host); Litestar writes its
# start-up script and the schema inline, so that page alone allows inline script. It holds no personal data.
SCHEMA_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
              "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
# Static files (stylesheets, scripts, Swagger UI) may be cached; nothing else may be: every signed-in page
# and every /api/v1 answer can carry personal data, and the sign-in page gives back the address typed.
CACHEABLE = ("/static/",)


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    path = scope["path"]
    headers["Content-Security-Policy"] = SCHEMA_CSP if path.startswith("/schema") else STRICT_CSP
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    headers["X-Request-Id"] = request_id(scope)
    if not path.startswith(CACHEABLE):
        headers["Cache-Control"] = "no-store"  # personal data must not sit in caches (the browser's included)
    if scope.get("scheme") == "https":  # behind TLS (uvicorn honours X-Forwarded-Proto)
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
