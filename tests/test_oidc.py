"""Single sign-on with the council's OpenID Connect provider, against a fake provider (httpx.MockTransport)."""

import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from litestar.testing import TestClient

from api.app import create_app

ISSUER = "https://login.council.example"
CLIENT = "springboard"


class FakeProvider:
    """Discovery, keys and a token endpoint that returns the ID token the test asks for."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "council-1"})
        self.claims: dict = {}
        self.token_requests: list[dict] = []

    def id_token(self, key=None) -> str:
        return jwt.encode({"alg": "RS256", "kid": "council-1"}, self.claims, key or self.key)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
                                             "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/keys"})
        if request.url.path == "/keys":
            return httpx.Response(200, json=KeySet([self.key]).as_dict(private=False))
        if request.url.path == "/token":
            self.token_requests.append(parse_qs(request.content.decode()))
            return httpx.Response(200, json={"access_token": "a", "token_type": "Bearer", "id_token": self.token})
        return httpx.Response(404)


@pytest.fixture
def council(settings, browser):
    provider = FakeProvider()
    configured = settings.model_copy(update={"oidc_issuer": ISSUER, "oidc_client_id": CLIENT,
                                             "oidc_client_secret": "s3cret",
                                             "oidc_redirect_url": "http://testserver.local/sign-in/oidc/callback"})
    with TestClient(app=create_app(configured)) as client:
        client.app.state.http = httpx.Client(transport=httpx.MockTransport(provider.handle))
        yield client, provider


def _start(client) -> dict[str, str]:
    sent = client.get("/sign-in/oidc", follow_redirects=False)
    assert sent.status_code == 302 and sent.headers["location"].startswith(f"{ISSUER}/authorize?")
    return {k: v[0] for k, v in parse_qs(urlparse(sent.headers["location"]).query).items()}


def _claims(query: dict, **changes) -> dict:
    return {"iss": ISSUER, "aud": CLIENT, "sub": "x1", "email": "adviser@test.example.gov.uk",
            "email_verified": True, "nonce": query["nonce"], "iat": int(time.time()),
            "exp": int(time.time()) + 300} | changes


def test_the_sign_in_page_offers_the_council_account_only_when_configured(council, browser):
    client, _ = council
    assert "Sign in with your council account" in client.get("/sign-in").text
    assert "Sign in with your council account" not in browser.get("/sign-in").text
    assert browser.get("/sign-in/oidc", follow_redirects=False).status_code == 404


def test_a_council_account_signs_in_to_the_matching_springboard_account(council):
    client, provider = council
    query = _start(client)
    assert query["code_challenge_method"] == "S256" and query["client_id"] == CLIENT
    provider.claims = _claims(query)
    provider.token = provider.id_token()
    done = client.get(f"/sign-in/oidc/callback?code=abc&state={query['state']}", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/caseload"
    assert client.get("/caseload").status_code == 200
    assert provider.token_requests[0]["code_verifier"][0]  # PKCE: the verifier went to the token endpoint


@pytest.mark.parametrize("problem", ["state", "nonce", "audience", "signature", "expired", "unknown person"])
def test_a_doubtful_sign_in_is_refused(council, problem):
    client, provider = council
    query = _start(client)
    changes = {"nonce": {"nonce": "replayed"}, "audience": {"aud": "another-app"},
               "expired": {"exp": int(time.time()) - 10}, "unknown person": {"email": "stranger@council.example"}}
    provider.claims = _claims(query, **changes.get(problem, {}))
    provider.token = provider.id_token(RSAKey.generate_key(2048, parameters={"kid": "council-1"})
                                       if problem == "signature" else None)
    state = "forged" if problem == "state" else query["state"]
    refused = client.get(f"/sign-in/oidc/callback?code=abc&state={state}", follow_redirects=False)
    assert refused.status_code == 200 and 'class="govuk-error-summary"' in refused.text
    expected = "no Springboard access" if problem == "unknown person" else "Single sign-on failed"
    assert expected in refused.text
    assert client.get("/caseload", follow_redirects=False).headers["location"].startswith("/sign-in")
