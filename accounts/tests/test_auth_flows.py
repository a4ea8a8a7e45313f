"""Sign-up, verification, log in/out, passwords, e-mail change, lockout and
two-factor through the browser pages."""

from urllib.parse import unquote

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from accounts.conftest import login, totp_code
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

PASSWORD = "a-long-unusual-passphrase-7"


def _link(message, marker):
    for word in message.body.split():
        if marker in word:
            return unquote(word[word.index("/accounts/") :])
    raise AssertionError(f"no {marker} link in: {message.body}")


def _signup(client, email="new@example.com", password=PASSWORD, name="New Person"):
    return client.post(
        reverse("account_signup"),
        {
            "email": email,
            "display_name": name,
            "password1": password,
            "password2": password,
        },
    )


@pytest.mark.django_db
def test_signup_needs_email_verification_before_login(client, mailoutbox):
    # when someone signs up
    response = _signup(client)

    # then they are sent to "check your e-mail", not logged in
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="new@example.com")
    assert user.display_name == "New Person"
    assert client.get(reverse("accounts:settings")).status_code == 302
    assert "[Bazaar]" in mailoutbox[-1].subject

    # and when they open the link from the e-mail and confirm
    confirm = _link(mailoutbox[-1], "/accounts/confirm-email/")
    response = client.post(confirm)

    # then the address is verified and they are logged in
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified is True
    assert client.get(reverse("accounts:settings")).status_code == 200


@pytest.mark.django_db
def test_signup_with_a_taken_email_creates_nobody_and_warns_the_owner(
    client, user, mailoutbox
):
    response = _signup(client, email=user.email.upper(), name="Copycat")

    # allauth does not tell strangers which addresses have accounts
    assert response.status_code == 302
    assert User.objects.filter(email__iexact=user.email).count() == 1
    assert mailoutbox[-1].to == [user.email]
    assert "Account Already Exists" in mailoutbox[-1].subject


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-7", "This password is too short"),
        ("password123", "This password is too common"),
        ("12345678901234", "This password is entirely numeric"),
    ],
)
def test_signup_rejects_weak_passwords_on_the_form(client, password, message):
    response = _signup(client, password=password)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="errorlist"' in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
def test_signup_rejects_a_bad_display_name(client):
    response = _signup(client, name="x@y.kz")
    assert response.status_code == 200
    assert "The display name cannot contain" in response.content.decode()
    assert not User.objects.exists()


# The e-mail column holds 254 characters (Django's EmailField).
LONGEST_EMAIL = "a" * 242 + "@example.com"
TOO_LONG_EMAIL = "a" * 243 + "@example.com"


@pytest.mark.django_db
def test_signup_refuses_an_email_longer_than_the_column(client, mailoutbox):
    # allauth cut such an address to fit and signed up that other, truncated
    # address (and sent the verification mail there)
    response = _signup(client, email=TOO_LONG_EMAIL)

    assert response.status_code == 200
    assert "An e-mail address has at most 254 characters." in response.content.decode()
    assert not User.objects.exists()
    assert not EmailAddress.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db
def test_signup_takes_an_email_as_long_as_the_column(client):
    response = _signup(client, email=LONGEST_EMAIL)

    assert response.status_code == 302
    assert User.objects.get().email == LONGEST_EMAIL


@pytest.mark.django_db
def test_adding_an_email_longer_than_the_column_is_a_form_error(logged_in_client, user):
    # a 500 on PostgreSQL: value too long for type character varying(254)
    response = logged_in_client.post(
        reverse("account_email"), {"action_add": "", "email": TOO_LONG_EMAIL}
    )

    assert response.status_code == 200
    assert "An e-mail address has at most 254 characters." in response.content.decode()
    assert list(EmailAddress.objects.values_list("email", flat=True)) == [user.email]


@pytest.mark.django_db
def test_log_in_and_out(client, user):
    login(client, user)
    assert client.get(reverse("accounts:settings")).status_code == 200

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert client.get(reverse("accounts:settings")).status_code == 302


@pytest.mark.django_db
def test_login_is_locked_after_five_failures_even_with_the_right_password(client, user):
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": user.email, "password": "wrong"}
        )
        assert response.status_code == 200

    response = client.post(
        reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_login_goes_through_allauth(client, admin_user):
    # the admin's own login form is replaced by allauth's (rate limits, 2FA)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": admin_user.email, "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_login_is_locked_out_after_repeated_failures(client, admin_user):
    login_url = reverse("account_login") + "?next=/admin/"
    for _ in range(5):
        client.post(login_url, {"login": admin_user.email, "password": "guess"})

    response = client.post(
        login_url, {"login": admin_user.email, "password": DEFAULT_PASSWORD}
    )

    assert "Too many failed login attempts" in response.content.decode()
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_admin_login_works_for_staff_and_refuses_others(client, admin_user, user):
    response = client.post(
        reverse("account_login") + "?next=/admin/",
        {"login": admin_user.email, "password": DEFAULT_PASSWORD},
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200

    other = type(client)()
    login(other, user)
    assert other.get("/admin/login/").status_code == 403
    assert other.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_password_change(logged_in_client, user):
    response = logged_in_client.post(
        reverse("account_change_password"),
        {"oldpassword": DEFAULT_PASSWORD, "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_password_change_rejects_a_wrong_old_password(logged_in_client, user):
    response = logged_in_client.post(
        reverse("account_change_password"),
        {"oldpassword": "nope", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert "Please type your current password." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.django_db
def test_password_reset_by_email(client, user, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302

    link = _link(mailoutbox[-1], "/accounts/password/reset/key/")
    response = client.get(link)
    assert response.status_code == 302  # allauth moves the key into the session
    form_url = response["Location"]
    assert client.get(form_url).status_code == 200
    response = client.post(form_url, {"password1": PASSWORD, "password2": PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_password_reset_with_a_bad_key_says_so(client, user):
    response = client.get("/accounts/password/reset/key/1-bad-key/", follow=True)
    assert response.status_code == 200
    assert "Bad Token" in response.content.decode()


@pytest.mark.django_db
def test_email_change_takes_effect_after_verification(
    logged_in_client, user, mailoutbox
):
    response = logged_in_client.post(
        reverse("account_email"), {"action_add": "", "email": "new.address@example.com"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email != "new.address@example.com"  # not before verification

    confirm = _link(mailoutbox[-1], "/accounts/confirm-email/")
    logged_in_client.post(confirm)

    user.refresh_from_db()
    assert user.email == "new.address@example.com"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "primary"))


@pytest.mark.django_db
def test_email_change_to_a_taken_address_never_takes_it_over(
    logged_in_client, user, mailoutbox
):
    other = UserFactory()
    own_email = user.email

    response = logged_in_client.post(
        reverse("account_email"), {"action_add": "", "email": other.email}
    )

    # allauth answers as for a free address (no enumeration)
    assert response.status_code == 302
    assert mailoutbox[-1].to == [other.email]

    # and even when the link it sent there is followed, the address stays
    # with its owner: a verified address is never verified for a second user
    logged_in_client.post(_link(mailoutbox[-1], "/accounts/confirm-email/"))
    user.refresh_from_db()
    assert user.email == own_email
    assert not EmailAddress.objects.filter(
        user=user, email=other.email, verified=True
    ).exists()
    assert EmailAddress.objects.get(email=other.email, verified=True).user == other


@pytest.mark.django_db
def test_two_factor_login_with_totp_and_with_a_recovery_code(
    reauthenticated_client, user
):
    # given the user turns on an authenticator app
    page = reauthenticated_client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    response = reauthenticated_client.post(
        reverse("mfa_activate_totp"), {"code": totp_code(secret)}
    )
    assert response.status_code == 302
    codes = Authenticator.objects.get(
        user=user, type=Authenticator.Type.RECOVERY_CODES
    ).wrap()
    recovery_code = codes.get_unused_codes()[0]

    # when they log in elsewhere, the password is not enough
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    # a wrong code is refused
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert "_auth_user_id" not in client.session

    # a recovery code lets them in, once
    response = client.post(reverse("mfa_authenticate"), {"code": recovery_code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    codes = Authenticator.objects.get(
        user=user, type=Authenticator.Type.RECOVERY_CODES
    ).wrap()
    assert recovery_code not in codes.get_unused_codes()

    # and so does the authenticator app on a third device
    third = Client()
    third.post(
        reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
    )
    response = third.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert third.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_reauthentication_with_a_wrong_password_is_refused(logged_in_client):
    response = logged_in_client.post(
        reverse("account_reauthenticate"), {"password": "nope"}
    )
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()


@pytest.mark.django_db
def test_banned_user_cannot_log_in(client, user, admin_user):
    from accounts.services import user_ban

    user_ban(actor=admin_user, user=user, reason="Fraud")

    response = client.post(
        reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("account_inactive")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("account_inactive")).status_code == 200
