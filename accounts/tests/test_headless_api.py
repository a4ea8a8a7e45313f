"""The app API of allauth headless with JWTs, end to end with our DRF API."""

from urllib.parse import unquote

import pytest
from allauth.usersessions.models import UserSession

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD

APP = "/_allauth/app/v1"
PASSWORD = "a-long-unusual-passphrase-7"


def _post(client, path, data, **headers):
    return client.post(
        APP + path, data, content_type="application/json", headers=headers
    )


def _verification_key(message) -> str:
    for word in message.body.split():
        if "/accounts/confirm-email/" in word:
            return unquote(word.rstrip("/").rsplit("/", 1)[1])
    raise AssertionError(f"no verification link in: {message.body}")


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _login(client, email, password=DEFAULT_PASSWORD):
    response = _post(client, "/auth/login", {"email": email, "password": password})
    assert response.status_code == 200, response.json()
    return response.json()["meta"]


@pytest.mark.django_db
def test_signup_verify_login_refresh_call_api_logout(client, mailoutbox):
    # given a new person signs up through the app API
    response = _post(
        client,
        "/auth/signup",
        {"email": "ann@example.com", "password": PASSWORD, "display_name": "Ann K"},
    )
    assert response.status_code == 401  # not logged in yet: verify the e-mail
    flows = {f["id"]: f for f in response.json()["data"]["flows"]}
    assert flows["verify_email"]["is_pending"] is True
    session_token = response.json()["meta"]["session_token"]
    user = User.objects.get(email="ann@example.com")
    assert user.display_name == "Ann K"

    # an unverified account cannot log in
    assert (
        _post(
            client, "/auth/login", {"email": user.email, "password": PASSWORD}
        ).json()["meta"]["is_authenticated"]
        is False
    )

    # when the key from the e-mail is sent to the verify endpoint
    key = _verification_key(mailoutbox[-1])
    response = _post(
        client, "/auth/email/verify", {"key": key}, X_Session_Token=session_token
    )
    assert response.status_code == 200
    assert response.json()["meta"]["is_authenticated"] is True

    # then the person can log in and gets an access and a refresh token
    meta = _login(client, "ann@example.com", PASSWORD)
    access, refresh = meta["access_token"], meta["refresh_token"]

    # and the access token works on our API
    response = client.get("/api/v1/me/", headers=_bearer(access))
    assert response.status_code == 200
    assert response.json()["email"] == "ann@example.com"
    assert response.json()["display_name"] == "Ann K"

    # refreshing gives a new access token that works too
    response = _post(client, "/tokens/refresh", {"refresh_token": refresh})
    assert response.status_code == 200
    new_access = response.json()["data"]["access_token"]
    assert new_access != access
    assert client.get("/api/v1/me/", headers=_bearer(new_access)).status_code == 200

    # logging out ends the session: both access tokens are now rejected
    response = client.delete(APP + "/auth/session", headers=_bearer(new_access))
    assert response.status_code == 401
    for token in (access, new_access):
        response = client.get("/api/v1/me/", headers=_bearer(token))
        assert response.status_code == 401
        assert response.json()["detail"].startswith("Invalid or expired access token")
    # and so is the refresh token
    response = _post(client, "/tokens/refresh", {"refresh_token": refresh})
    assert response.status_code == 400


@pytest.mark.django_db
def test_ending_all_other_sessions_kills_their_tokens(client, user):
    # given the user is logged in on a phone and a tablet
    phone = _login(client, user.email)
    tablet = _login(client, user.email)
    assert UserSession.objects.filter(user=user).count() == 2

    # when the phone lists the sessions and ends every other one
    response = client.get(
        APP + "/auth/sessions", headers=_bearer(phone["access_token"])
    )
    assert response.status_code == 200
    sessions = response.json()["data"]
    others = [s["id"] for s in sessions if not s["is_current"]]
    assert len(others) == 1
    response = client.delete(
        APP + "/auth/sessions",
        {"sessions": others},
        content_type="application/json",
        headers=_bearer(phone["access_token"]),
    )
    assert response.status_code == 200

    # then the tablet's tokens are dead and the phone's still work
    me = "/api/v1/me/"
    assert client.get(me, headers=_bearer(tablet["access_token"])).status_code == 401
    assert client.get(me, headers=_bearer(phone["access_token"])).status_code == 200
    response = _post(
        client, "/tokens/refresh", {"refresh_token": tablet["refresh_token"]}
    )
    assert response.status_code == 400
    assert UserSession.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_access_token_carries_the_scopes_of_the_user(client, user, admin_user):
    import jwt

    plain = _login(client, user.email)["access_token"]
    staff = _login(client, admin_user.email)["access_token"]

    claims = jwt.decode(plain, options={"verify_signature": False})
    assert claims["scope"] == "read write"
    claims = jwt.decode(staff, options={"verify_signature": False})
    assert claims["scope"] == "read write admin"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer not-a-jwt", "Invalid or expired access token."),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "Invalid or"),
        ("Bearer ", "Invalid token header. No credentials provided."),
        ("Bearer a b", "Invalid token header. Token string should not contain"),
    ],
)
def test_garbage_tokens_get_a_401_with_a_clear_message(client, header, detail):
    response = client.get("/api/v1/me/", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"].startswith(detail)
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
def test_a_refresh_token_is_not_an_access_token(client, user):
    meta = _login(client, user.email)
    response = client.get("/api/v1/me/", headers=_bearer(meta["refresh_token"]))
    assert response.status_code == 401


@pytest.mark.django_db
def test_token_of_a_banned_user_is_rejected(client, user, admin_user):
    from accounts.services import user_ban

    token = _login(client, user.email)["access_token"]
    user_ban(actor=admin_user, user=user, reason="Scam listings")

    response = client.get("/api/v1/me/", headers=_bearer(token))

    assert response.status_code == 401


@pytest.mark.django_db
def test_headless_signup_with_a_taken_email_creates_nobody(client, user, mailoutbox):
    # allauth does not reveal which addresses have accounts: the answer looks
    # like a normal signup, and the owner of the address gets a warning e-mail.
    response = _post(
        client,
        "/auth/signup",
        {"email": user.email, "password": PASSWORD, "display_name": "Copycat"},
    )

    assert response.status_code == 401
    assert User.objects.filter(email__iexact=user.email).count() == 1
    user.refresh_from_db()
    assert user.display_name != "Copycat"
    assert mailoutbox[-1].to == [user.email]
    assert "Account Already Exists" in mailoutbox[-1].subject


@pytest.mark.django_db
def test_headless_signup_rejects_a_weak_password(client):
    response = _post(
        client,
        "/auth/signup",
        {"email": "new@example.com", "password": "password", "display_name": "New"},
    )

    assert response.status_code == 400
    params = {e.get("param") for e in response.json()["errors"]}
    assert params == {"password"}
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
def test_headless_signup_requires_a_display_name(client):
    response = _post(
        client, "/auth/signup", {"email": "n@example.com", "password": PASSWORD}
    )

    assert response.status_code == 400
    assert {e.get("param") for e in response.json()["errors"]} == {"display_name"}
    assert not User.objects.filter(email="n@example.com").exists()


@pytest.mark.django_db
def test_headless_login_is_locked_after_repeated_failures(client, user):
    for _ in range(5):
        response = _post(
            client, "/auth/login", {"email": user.email, "password": "nope"}
        )
        assert response.status_code == 400

    response = _post(
        client, "/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 400
    assert "Too many failed login attempts" in response.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_session_cookie_also_authenticates_the_api(client, user):
    client.force_login(user)
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["id"] == user.pk


@pytest.mark.django_db
def test_anonymous_api_call_is_401(client):
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."


@pytest.mark.django_db
def test_headless_login_with_two_factor_needs_the_code(client, user):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts.conftest import totp_code

    secret = generate_totp_secret()
    TOTP.activate(user, secret)

    response = _post(
        client, "/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 401
    flows = {f["id"]: f for f in response.json()["data"]["flows"]}
    assert flows["mfa_authenticate"]["is_pending"] is True
    assert "access_token" not in response.json()["meta"]
    session_token = response.json()["meta"]["session_token"]

    response = _post(
        client,
        "/auth/2fa/authenticate",
        {"code": "000000"},
        X_Session_Token=session_token,
    )
    assert response.status_code == 400

    response = _post(
        client,
        "/auth/2fa/authenticate",
        {"code": totp_code(secret)},
        X_Session_Token=session_token,
    )
    assert response.status_code == 200
    access = response.json()["meta"]["access_token"]
    assert client.get("/api/v1/me/", headers=_bearer(access)).status_code == 200


@pytest.mark.django_db
def test_api_schema_generates_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", "/dev/null")


@pytest.mark.django_db
def test_signup_with_an_email_longer_than_the_column_is_a_400(client):
    # allauth cut it to 254 characters and signed up that other address
    email = "a" * 243 + "@example.com"

    response = _post(
        client,
        "/auth/signup",
        {"email": email, "password": PASSWORD, "display_name": "Ann K"},
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "message": "An e-mail address has at most 254 characters.",
            "code": "max_length",
            "param": "email",
        }
    ]
    assert not User.objects.exists()


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Token abc"])
def test_jwt_authentication_without_a_bearer_token_is_no_credentials(header):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from accounts.api.authentication import JWTAccessTokenAuthentication

    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    request = Request(APIRequestFactory().get("/api/v1/me/", **extra))
    assert JWTAccessTokenAuthentication().authenticate(request) is None
    if header is None:
        # Nothing read the headers: Django never built request.headers.
        assert "headers" not in request._request.__dict__
