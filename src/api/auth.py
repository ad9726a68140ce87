"""Who is calling: bearer API tokens for the JSON API, server-side sessions for the pages.

The JSON API takes no cookies, so cross-site request forgery cannot reach it; pages use sessions kept in
the database (api/stores.py) with CSRF tokens on every form. An OpenID Connect provider can be added beside
the password sign-in: it only has to put the same user id in the session, and both produce a `Principal`.
"""

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

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


@dataclass
class IdentityCache:
    """Who a credential belongs to, remembered for `seconds`.

    Checking a credential costs a query and a hop to a worker thread, more than a cheap list page itself
    (bench/RESULTS.md). The price of remembering is bounded: a token revoked or a user deactivated in this
    process is refused at once (`users.identities_changed`), but one changed by another process or instance
    is still accepted for up to `seconds`. Only valid credentials are remembered, so guessing fills nothing.
    """

    seconds: float
    clock: Callable[[], float] = time.monotonic
    _entries: dict[Hashable, tuple[Principal, float, int]] = field(default_factory=dict)

    async def principal(self, key: Hashable, load: Callable[..., Principal | None], *args) -> Principal | None:
        found = self._entries.get(key)
        if found and found[1] > self.clock() and found[2] == users.identities_changed:
            return found[0]
        seen = users.identities_changed  # before the read, so a change committed during it is not missed
        principal = await anyio.to_thread.run_sync(load, *args)
        if principal is not None and self.seconds > 0:
            self._forget_expired()
            self._entries[key] = (principal, self.clock() + self.seconds, seen)
        return principal

    def _forget_expired(self) -> None:
        if len(self._entries) > 1000:
            now = self.clock()
            self._entries = {key: entry for key, entry in self._entries.items() if entry[1] > now}


def _principal_of(engine, identify: Callable, credential) -> Principal | None:
    """`identify` (a users service) run on a plain connection of its own."""
    with engine.connect() as connection:
        found = identify(connection, credential)
        return Principal(*found) if found else None


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("Sign in: send an API token as 'Authorization: Bearer <token>'")
        state = connection.app.state
        principal = await state.identities.principal(("token", users.token_digest(token)), _principal_of,
                                                     state.engine, users.identity_for_token, token)
        if principal is None:
            raise NotAuthorizedException("That API token is not valid (unknown, revoked, or its user is inactive)")
        return AuthenticationResult(user=principal, auth=None)


bearer_auth = DefineMiddleware(BearerTokenMiddleware)


class SessionMiddleware(AbstractAuthenticationMiddleware):
    """Pages: the user id in the server-side session, checked against an active account (so deactivating
    someone signs them out everywhere, within the identity cache's few seconds)."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        user_id = connection.session.get("user_id") if "session" in connection.scope else None
        state = connection.app.state
        principal = await state.identities.principal(("user", user_id), _principal_of, state.engine,
                                                     users.identity_for_user, user_id) \
            if isinstance(user_id, int) else None
        if principal is None:
            raise NotAuthorizedException("Sign in to continue")
        return AuthenticationResult(user=principal, auth=None)


session_auth = DefineMiddleware(SessionMiddleware, exclude=["^/sign-in", "^/static"])
