"""Single sign-on with the council's OpenID Connect provider (Entra ID, Google, Okta…), by configuration.

Set OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_REDIRECT_URL and the sign-in page offers
"Sign in with your council account". The authorization-code flow uses state, nonce and PKCE; the ID
token's signature (the provider's published keys), issuer, audience, expiry and nonce are checked with
joserfc. The person is matched by e-mail to an existing, active account: accounts and roles are still
created by an admin, so single sign-on never invents a role. The session then holds the same user id a
password sign-in would, so every page and guard works unchanged.
"""

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from matching.settings import Settings


class SignInFailed(Exception):
    pass


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def _discover(http: httpx.Client, issuer: str) -> dict[str, Any]:
    found = http.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration").raise_for_status().json()
    if found.get("issuer") != issuer:
        raise SignInFailed("the provider's discovery document names another issuer")
    return found


def authorization_url(http: httpx.Client, settings: Settings) -> tuple[str, dict[str, str]]:
    """Where to send the person, and what the callback must find in their session (state, nonce, PKCE)."""
    provider = _discover(http, settings.oidc_issuer)
    verifier = secrets.token_urlsafe(48)
    flow = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24), "verifier": verifier}
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({"response_type": "code", "client_id": settings.oidc_client_id, "scope": "openid email profile",
                       "redirect_uri": settings.oidc_redirect_url, "state": flow["state"], "nonce": flow["nonce"],
                       "code_challenge": challenge, "code_challenge_method": "S256"})
    return f"{provider['authorization_endpoint']}?{query}", flow


def verified_email(http: httpx.Client, settings: Settings, flow: dict[str, str], code: str, state: str) -> str:
    """The e-mail address the provider vouches for, or SignInFailed with a reason a person can act on."""
    if not flow or not code or not secrets.compare_digest(state, flow.get("state", "")):
        raise SignInFailed("the sign-in did not start here, or took too long; start again")
    try:
        return _verified_email(http, settings, code, flow)
    except (JoseError, httpx.HTTPError, ValueError, KeyError) as error:
        raise SignInFailed("the council's sign-in could not be checked") from error


def _verified_email(http: httpx.Client, settings: Settings, code: str, flow: dict[str, str]) -> str:
    provider = _discover(http, settings.oidc_issuer)
    tokens = http.post(provider["token_endpoint"], data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": settings.oidc_redirect_url,
        "client_id": settings.oidc_client_id, "client_secret": settings.oidc_client_secret,
        "code_verifier": flow["verifier"]}).raise_for_status().json()
    keys = KeySet.import_key_set(http.get(provider["jwks_uri"]).raise_for_status().json())
    token = jwt.decode(tokens["id_token"], keys, algorithms=["RS256", "ES256", "PS256"])
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": settings.oidc_issuer},
                          aud={"essential": True, "value": settings.oidc_client_id},
                          nonce={"essential": True, "value": flow["nonce"]},
                          exp={"essential": True}).validate(token.claims)
    if token.claims.get("email_verified") is False or not token.claims.get("email"):
        raise SignInFailed("the council's account has no verified e-mail address")
    return str(token.claims["email"])
