import pytest
from allauth.usersessions.models import UserSession
from rest_framework.test import APIClient

from accounts.conftest import make_role
from accounts.models import User
from accounts.roles import Role, role_of
from accounts.tests.factories import UserFactory
from core.models import AuditLogEntry

LIST = "/api/v1/admin/users/"


def _detail(user):
    return f"{LIST}{user.pk}/"


def _client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def admin_client(admin_user):
    return _client_for(admin_user)


@pytest.fixture
def moderator_client(moderator):
    return _client_for(moderator)


@pytest.mark.django_db
def test_admin_lists_users_with_search_and_filters(
    admin_client, admin_user, django_assert_max_num_queries
):
    dana = UserFactory(display_name="Dana Seller", city="Almaty")
    UserFactory(display_name="Timur", city="Astana")
    banned = UserFactory(display_name="Scammer", is_active=False)
    moderator = make_role(UserFactory(display_name="Marat"), Role.MODERATOR)
    UserFactory.create_batch(5)

    with django_assert_max_num_queries(6):
        response = admin_client.get(LIST)
    assert response.status_code == 200
    assert response.json()["count"] == 10

    def ids(query):
        response = admin_client.get(LIST, query)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids({"q": "dana"}) == {dana.pk}
    assert ids({"q": dana.email}) == {dana.pk}
    assert ids({"city": "astana"}) == {User.objects.get(display_name="Timur").pk}
    assert ids({"is_active": "false"}) == {banned.pk}
    assert ids({"role": "moderator"}) == {moderator.pk}
    assert ids({"role": "admin"}) == {admin_user.pk}
    assert len(ids({"role": "user"})) == 8


@pytest.mark.django_db
def test_admin_list_rejects_an_unknown_role_filter(admin_client):
    response = admin_client.get(LIST, {"role": "emperor"})
    assert response.status_code == 400
    assert "role" in response.json()["errors"]


@pytest.mark.django_db
def test_admin_list_rejects_a_boolean_filter_that_is_not_true_or_false(admin_client):
    response = admin_client.get(LIST, {"is_active": "maybe"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"is_active": ["Answer true or false."]}


@pytest.mark.django_db
def test_admin_reads_one_user_with_private_fields(admin_client, user):
    response = admin_client.get(_detail(user))
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert response.json()["role"] == "user"
    assert response.json()["is_active"] is True


@pytest.mark.django_db
def test_admin_unknown_user_is_404(admin_client):
    assert admin_client.get(f"{LIST}999999/").status_code == 404
    assert (
        admin_client.patch(f"{LIST}999999/", {"is_verified": True}).status_code == 404
    )


@pytest.mark.django_db
def test_admin_makes_a_user_moderator_audited(admin_client, admin_user, user):
    response = admin_client.patch(
        _detail(user), {"role": "moderator", "reason": "Helps with reports"}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "moderator"
    user.refresh_from_db()
    assert role_of(user) == Role.MODERATOR
    assert user.is_staff and not user.is_superuser
    entry = AuditLogEntry.objects.get(action="user.role_change")
    assert entry.actor == admin_user
    assert entry.target_id == str(user.pk)
    assert entry.reason == "Helps with reports"
    assert entry.data == {"from": "user", "to": "moderator"}


@pytest.mark.django_db
def test_ban_needs_a_reason(admin_client, user):
    response = admin_client.patch(_detail(user), {"is_active": False})

    assert response.status_code == 400
    assert response.json()["errors"] == {"reason": ["Give a reason for the ban."]}
    user.refresh_from_db()
    assert user.is_active
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_moderator_bans_a_user_which_ends_their_sessions(
    moderator_client, moderator, client, user
):
    from accounts.conftest import login

    login(client, user)
    assert UserSession.objects.filter(user=user).count() == 1

    response = moderator_client.patch(
        _detail(user), {"is_active": False, "reason": "Fake listings"}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["is_active"] is False
    assert UserSession.objects.filter(user=user).count() == 0
    assert client.get("/account/settings/").status_code == 302  # logged out
    entry = AuditLogEntry.objects.get(action="user.ban")
    assert (entry.actor, entry.reason) == (moderator, "Fake listings")

    response = moderator_client.patch(_detail(user), {"is_active": True})
    assert response.status_code == 200
    assert AuditLogEntry.objects.filter(action="user.unban").count() == 1


@pytest.mark.django_db
def test_moderator_cannot_change_roles(moderator_client, user):
    response = moderator_client.patch(_detail(user), {"role": "admin"})

    assert response.status_code == 403
    assert response.json()["detail"] == "Only admins can change roles."
    user.refresh_from_db()
    assert role_of(user) == Role.USER
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_moderator_cannot_ban_staff(moderator_client, admin_user):
    response = moderator_client.patch(
        _detail(admin_user), {"is_active": False, "reason": "coup"}
    )
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.is_active


@pytest.mark.django_db
def test_nobody_bans_themselves(admin_client, admin_user):
    response = admin_client.patch(
        _detail(admin_user), {"is_active": False, "reason": "oops"}
    )
    assert response.status_code == 409
    admin_user.refresh_from_db()
    assert admin_user.is_active


@pytest.mark.django_db
def test_combined_change_is_all_or_nothing(moderator_client, user):
    # the ban would be allowed, the role change is not: nothing is written
    response = moderator_client.patch(
        _detail(user), {"is_active": False, "reason": "spam", "role": "moderator"}
    )
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.is_active
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_admin_patch_with_nothing_to_change_is_400(admin_client, user):
    response = admin_client.patch(_detail(user), {"reason": "just because"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_admin_api_refuses_plain_users_and_anonymous(
    user_api_client, api_client, other_user
):
    for client, expected in ((user_api_client, 403), (api_client, 401)):
        assert client.get(LIST).status_code == expected
        assert client.get(_detail(other_user)).status_code == expected
        response = client.patch(
            _detail(other_user), {"is_active": False, "reason": "x"}
        )
        assert response.status_code == expected
    other_user.refresh_from_db()
    assert other_user.is_active


@pytest.mark.django_db
def test_admin_api_needs_the_admin_scope_in_the_token(client, admin_user):
    from allauth.headless.tokens.strategies.jwt import internal

    # given a staff member's token that carries only read and write
    client.force_login(admin_user)
    session = client.session
    token = internal.create_access_token(admin_user, session, {"scope": "read write"})

    response = client.get(LIST, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


@pytest.mark.django_db
def test_admin_scope_in_a_token_is_worthless_once_staff_status_is_gone(client, user):
    from allauth.headless.tokens.strategies.jwt import internal

    client.force_login(user)
    token = internal.create_access_token(
        user, client.session, {"scope": "read write admin"}
    )

    response = client.get(LIST, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 403


@pytest.mark.django_db
def test_read_only_token_cannot_write(client, user):
    from allauth.headless.tokens.strategies.jwt import internal

    client.force_login(user)
    token = internal.create_access_token(user, client.session, {"scope": "read"})
    headers = {"Authorization": f"Bearer {token}"}

    assert client.get("/api/v1/me/", headers=headers).status_code == 200
    response = client.patch(
        "/api/v1/me/", {"city": "X"}, content_type="application/json", headers=headers
    )
    assert response.status_code == 403
    assert response.json()["detail"].endswith("write.")
    user.refresh_from_db()
    assert user.city == "Almaty"
