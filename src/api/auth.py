"""Who is calling: bearer API tokens for the JSON API (created and revoked by an admin).

The JSON API takes no cookies, so cross-site request forgery cannot reach it; pages will use server-side
sessions with CSRF tokens. An OpenID Connect provider can be added beside the token check: it only has to
produce the same `Principal`.
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
