"""allauth's pages in our design: every one renders for the right visitor."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from accounts.conftest import totp_code

ANONYMOUS_PAGES = [
    "account_signup",
    "account_login",
    "account_reset_password",
    "account_reset_password_done",
    "account_email_verification_sent",
]

LOGGED_IN_PAGES = [
    "account_logout",
    "account_change_password",
    "account_email",
    "mfa_index",
    "usersessions_list",
    "account_reauthenticate",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ANONYMOUS_PAGES)
def test_anonymous_allauth_page_renders_in_the_site_design(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert 'class="card auth-card"' in html
    assert "/static/css/app.css" in html


@pytest.mark.django_db
@pytest.mark.parametrize("name", LOGGED_IN_PAGES)
def test_logged_in_allauth_page_renders_in_the_site_design(logged_in_client, name):
    response = logged_in_client.get(reverse(name))
    assert response.status_code == 200, response.get("Location")
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert "account-nav" in html or "auth-card" in html


@pytest.mark.django_db
def test_totp_activation_page_renders_after_reauthentication(reauthenticated_client):
    response = reauthenticated_client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="totp-qr"' in html
    assert "account-nav" in html


@pytest.mark.django_db
def test_totp_activation_asks_to_reauthenticate_first(logged_in_client):
    response = logged_in_client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


@pytest.mark.django_db
def test_password_set_page_renders_for_a_user_without_password(client, user):
    user.set_unusable_password()
    user.save()
    client.force_login(user)
    response = client.get(reverse("account_set_password"))
    assert response.status_code == 200
    assert b"account-nav" in response.content


@pytest.mark.django_db
def test_confirm_email_page_renders_for_a_valid_key(client, mailoutbox):
    client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "display_name": "New Person",
            "password1": "a-long-unusual-passphrase-7",
            "password2": "a-long-unusual-passphrase-7",
        },
    )
    key_url = _confirmation_path(mailoutbox[-1].body)

    response = client.get(key_url)

    assert response.status_code == 200
    assert b"new@example.com" in response.content
    assert b"btn" in response.content


@pytest.mark.django_db
def test_mfa_recovery_code_pages_render_once_totp_is_active(
    reauthenticated_client, user
):
    logged_in_client = reauthenticated_client
    secret = logged_in_client.get(reverse("mfa_activate_totp")).context["form"].secret
    response = logged_in_client.post(
        reverse("mfa_activate_totp"), {"code": totp_code(secret)}
    )
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user).count() == 2  # totp + codes

    for name in (
        "mfa_index",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_deactivate_totp",
    ):
        page = logged_in_client.get(reverse(name))
        assert page.status_code == 200, name
        assert b"account-nav" in page.content


@pytest.mark.django_db
def test_allauth_form_errors_use_our_error_styles(client, user):
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": "wrong-password"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errorlist nonfield"' in html
    assert "The email address and/or password you specified are not correct." in html


def _confirmation_path(body: str) -> str:
    for word in body.split():
        if "/accounts/confirm-email/" in word:
            return word[word.index("/accounts/") :]
    raise AssertionError(f"no confirmation link in: {body}")


@pytest.mark.django_db
def test_confirm_email_page_with_a_bad_key_explains_itself(client):
    response = client.get("/accounts/confirm-email/not-a-real-key/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "expired or is invalid" in html
    assert 'class="card auth-card"' in html


@pytest.mark.django_db
def test_account_inactive_page_renders(client):
    response = client.get(reverse("account_inactive"))
    assert response.status_code == 200
    assert b"auth-card" in response.content
