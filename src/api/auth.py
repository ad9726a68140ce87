"""Who is calling: bearer API tokens for the JSON API, server-side sessions for the pages.

The JSON API takes no cookies, so cross-site request forgery cannot reach it; pages use sessions kept in
the database (api/stores.py) with CSRF tokens on every form. An OpenID Connect provider can be added beside
the password sign-in: it only has to put the same user id in the session, and both produce a `Principal`.
"""

from dataclasses import dataclass

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware

from matching.services import users


@dataclass(frozen=True)
class Principal:
    id: int
    role: str
    department_id: int | None


def _principal(engine, token: str) -> Principal | None:
    with engine.connect() as connection:
        found = users.identity_for_token(connection, token)
        return Principal(*found) if found else None


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("Sign in: send an API token as 'Authorization: Bearer <token>'")
        principal = await anyio.to_thread.run_sync(_principal, connection.app.state.engine, token.strip())
        if principal is None:
            raise NotAuthorizedException("That API token is not valid (unknown, revoked, or its user is inactive)")
        return AuthenticationResult(user=principal, auth=None)


bearer_auth = DefineMiddleware(BearerTokenMiddleware)


def _session_principal(engine, user_id: int) -> Principal | None:
    with engine.connect() as connection:
        found = users.identity_for_user(connection, user_id)
        return Principal(*found) if found else None


class SessionMiddleware(AbstractAuthenticationMiddleware):
    """Pages: the user id in the server-side session, checked against an active account on every request
    (so deactivating someone signs them out everywhere at once)."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        user_id = connection.session.get("user_id") if "session" in connection.scope else None
        principal = await anyio.to_thread.run_sync(_session_principal, connection.app.state.engine, user_id) \
            if isinstance(user_id, int) else None
        if principal is None:
            raise NotAuthorizedException("Sign in to continue")
        return AuthenticationResult(user=principal, auth=None)


session_auth = DefineMiddleware(SessionMiddleware, exclude=["^/sign-in", "^/static"])
