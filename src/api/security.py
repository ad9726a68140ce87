"""Security headers on every response, error responses included (Litestar's before_send hook sees them all)."""

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

STRICT_CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
              "form-action 'self'; frame-ancestors 'none'")
# The OpenAPI pages load Swagger UI from its CDN; they hold no personal data.
SCHEMA_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
              "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
              "object-src 'none'; frame-ancestors 'none'")


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["Content-Security-Policy"] = SCHEMA_CSP if scope["path"].startswith("/schema") else STRICT_CSP
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if scope["path"].startswith("/api/"):
        headers["Cache-Control"] = "no-store"  # personal data must not sit in caches
    if scope.get("scheme") == "https":  # behind TLS (uvicorn honours X-Forwarded-Proto)
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
