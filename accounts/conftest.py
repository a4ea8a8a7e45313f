"""Fixtures of the accounts tests."""

import pytest
from allauth.mfa.totp.internal import auth as totp_auth

from accounts.roles import Role
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture
def admin_user(db):
    return UserFactory(is_staff=True, is_superuser=True, display_name="Admin Aigerim")


@pytest.fixture
def logged_in_client(client, user):
    """A browser logged in through allauth's form (so reauthentication holds)."""
    login(client, user)
    return client


@pytest.fixture
def reauthenticated_client(logged_in_client):
    """Logged in and just re-entered the password (2FA setup asks for that)."""
    reauthenticate(logged_in_client)
    return logged_in_client


def reauthenticate(client, password=DEFAULT_PASSWORD):
    response = client.post("/accounts/reauthenticate/", {"password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def login(client, user, password=DEFAULT_PASSWORD, **extra):
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": password}, **extra
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def totp_code(secret: str) -> str:
    counter = next(totp_auth.yield_hotp_counters_from_time())
    return totp_auth.format_hotp_value(totp_auth.hotp_value(secret, counter))


def make_role(user, role):
    from accounts.services import moderator_group_sync

    group = moderator_group_sync()
    user.is_staff = role in (Role.MODERATOR, Role.ADMIN)
    user.is_superuser = role == Role.ADMIN
    user.save()
    if role == Role.MODERATOR:
        user.groups.add(group)
    return user
