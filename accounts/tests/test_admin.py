import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from accounts.models import User
from accounts.roles import Role, role_of
from accounts.tests.factories import UserFactory
from core.models import AuditLogEntry

CHANGELIST = "/admin/accounts/user/"


def _change_url(user):
    return f"{CHANGELIST}{user.pk}/change/"


def _change_form(user, **overrides):
    location = user.home_location
    data = {
        "email": user.email,
        "display_name": user.display_name,
        "phone": user.phone,
        "city": user.city,
        "bio": user.bio,
        "home_lat": str(location.y) if location else "",
        "home_lng": str(location.x) if location else "",
        "is_active": "on" if user.is_active else "",
        "is_verified": "on" if user.is_verified else "",
        "role": str(role_of(user)),
        "reason": "",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.mark.django_db
def test_changelist_search_and_filters(admin_client, django_assert_max_num_queries):
    UserFactory.create_batch(20)
    target = UserFactory(display_name="Findable Person")

    with django_assert_max_num_queries(14):
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200

    response = admin_client.get(CHANGELIST, {"q": "findable"})
    assert list(response.context["cl"].result_list) == [target]
    response = admin_client.get(CHANGELIST, {"role": "admin"})
    assert [u.is_superuser for u in response.context["cl"].result_list] == [True]


@pytest.mark.django_db
def test_admin_add_user_page_works(admin_client):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 200
    response = admin_client.post(
        f"{CHANGELIST}add/",
        {
            "email": "added@example.com",
            "usable_password": "true",
            "password1": "a-long-unusual-passphrase-7",
            "password2": "a-long-unusual-passphrase-7",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email="added@example.com").exists()


@pytest.mark.django_db
def test_ban_through_the_change_form_is_audited(admin_client, admin_user, user):
    response = admin_client.post(
        _change_url(user), _change_form(user, is_active="", reason="Fraud")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.is_active is False
    entry = AuditLogEntry.objects.get(action="user.ban")
    assert (entry.actor, entry.reason) == (admin_user, "Fraud")


@pytest.mark.django_db
def test_ban_through_the_change_form_needs_a_reason(admin_client, user):
    response = admin_client.post(_change_url(user), _change_form(user, is_active=""))

    assert response.status_code == 200
    assert "Give a reason for the ban." in response.content.decode()
    user.refresh_from_db()
    assert user.is_active is True
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_role_change_through_the_change_form_is_audited(admin_client, user):
    response = admin_client.post(
        _change_url(user),
        _change_form(user, role="moderator", reason="New team member", city="Taraz"),
    )

    assert response.status_code == 302
    user = User.objects.get(pk=user.pk)
    assert role_of(user) == Role.MODERATOR
    assert user.city == "Taraz"
    entry = AuditLogEntry.objects.get(action="user.role_change")
    assert entry.reason == "New team member"


@pytest.mark.django_db
def test_profile_edit_through_the_change_form_writes_no_audit(admin_client, user):
    response = admin_client.post(_change_url(user), _change_form(user, city="Taraz"))
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).city == "Taraz"
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_moderator_sees_no_role_field_and_cannot_edit_staff(
    moderator_client, admin_user, user
):
    page = moderator_client.get(_change_url(user))
    assert page.status_code == 200
    assert 'name="role"' not in page.content.decode()

    # staff accounts are read-only for moderators
    response = moderator_client.post(
        _change_url(admin_user), _change_form(admin_user, is_active="", reason="x")
    )
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.is_active


@pytest.mark.django_db
def test_moderator_cannot_set_passwords(moderator_client, user):
    response = moderator_client.get(f"{CHANGELIST}{user.pk}/password/")
    assert response.status_code == 403


@pytest.mark.django_db
def test_moderator_verifies_through_list_editing_and_it_is_audited(
    moderator_client, moderator, user
):
    response = moderator_client.get(CHANGELIST)
    formset = response.context["cl"].formset
    data = {
        "form-TOTAL_FORMS": str(formset.total_form_count()),
        "form-INITIAL_FORMS": str(formset.initial_form_count()),
        "_save": "Save",
    }
    for index, form in enumerate(formset.forms):
        data[f"form-{index}-id"] = str(form.instance.pk)
        if form.instance.pk == user.pk or form.instance.is_verified:
            data[f"form-{index}-is_verified"] = "on"

    response = moderator_client.post(CHANGELIST, data)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_verified is True
    entry = AuditLogEntry.objects.get(action="user.verify")
    assert entry.actor == moderator


@pytest.mark.django_db
def test_ban_action_asks_for_a_reason_then_bans(moderator_client, moderator):
    users = UserFactory.create_batch(2)
    selection = {
        "action": "ban_users",
        ACTION_CHECKBOX_NAME: [str(u.pk) for u in users],
    }

    # first step: the reason page
    response = moderator_client.post(CHANGELIST, selection)
    assert response.status_code == 200
    assert "Ban users" in response.content.decode()
    assert all(User.objects.get(pk=u.pk).is_active for u in users)

    # an empty reason is refused
    response = moderator_client.post(
        CHANGELIST, {**selection, "apply": "1", "reason": ""}
    )
    assert response.status_code == 200
    assert all(User.objects.get(pk=u.pk).is_active for u in users)

    # with a reason, both are banned and audited
    response = moderator_client.post(
        CHANGELIST, {**selection, "apply": "1", "reason": "Spam wave"}
    )
    assert response.status_code == 302
    assert not any(User.objects.get(pk=u.pk).is_active for u in users)
    assert list(
        AuditLogEntry.objects.filter(action="user.ban").values_list("reason", flat=True)
    ) == ["Spam wave", "Spam wave"]


@pytest.mark.django_db
def test_ban_action_reports_what_it_could_not_do(moderator_client, admin_user, user):
    response = moderator_client.post(
        CHANGELIST,
        {
            "action": "ban_users",
            ACTION_CHECKBOX_NAME: [str(admin_user.pk), str(user.pk)],
            "apply": "1",
            "reason": "cleanup",
        },
        follow=True,
    )

    text = response.content.decode()
    assert "1 user(s) banned." in text
    assert "Only admins can ban or unban staff members." in text
    assert User.objects.get(pk=admin_user.pk).is_active
    assert not User.objects.get(pk=user.pk).is_active


@pytest.mark.django_db
def test_unban_action(moderator_client, user):
    user.is_active = False
    user.save()
    moderator_client.post(
        CHANGELIST,
        {
            "action": "unban_users",
            ACTION_CHECKBOX_NAME: [str(user.pk)],
            "apply": "1",
            "reason": "",
        },
    )
    assert User.objects.get(pk=user.pk).is_active
    assert AuditLogEntry.objects.filter(action="user.unban").count() == 1


@pytest.mark.django_db
def test_make_and_remove_moderator_actions_are_admin_only_and_audited(
    admin_client, client, user
):
    admin_client.post(
        CHANGELIST, {"action": "make_moderators", ACTION_CHECKBOX_NAME: [str(user.pk)]}
    )
    assert role_of(User.objects.get(pk=user.pk)) == Role.MODERATOR

    admin_client.post(
        CHANGELIST,
        {"action": "remove_moderators", ACTION_CHECKBOX_NAME: [str(user.pk)]},
    )
    assert role_of(User.objects.get(pk=user.pk)) == Role.USER
    assert AuditLogEntry.objects.filter(action="user.role_change").count() == 2


@pytest.mark.django_db
def test_moderators_do_not_get_role_actions(moderator_client, user):
    response = moderator_client.get(CHANGELIST)
    actions = dict(response.context["action_form"].fields["action"].choices)
    assert "ban_users" in actions
    assert "make_moderators" not in actions

    moderator_client.post(
        CHANGELIST, {"action": "make_moderators", ACTION_CHECKBOX_NAME: [str(user.pk)]}
    )
    assert role_of(User.objects.get(pk=user.pk)) == Role.USER


@pytest.mark.django_db
def test_verify_badge_actions(admin_client, user):
    admin_client.post(
        CHANGELIST,
        {"action": "grant_verified_badge", ACTION_CHECKBOX_NAME: [str(user.pk)]},
    )
    assert User.objects.get(pk=user.pk).is_verified
    admin_client.post(
        CHANGELIST,
        {"action": "remove_verified_badge", ACTION_CHECKBOX_NAME: [str(user.pk)]},
    )
    assert not User.objects.get(pk=user.pk).is_verified


@pytest.mark.django_db
def test_plain_users_are_kept_out_of_the_admin(client, user):
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 302


@pytest.mark.django_db
def test_moderator_role_gives_the_admin_only_the_listed_permissions(moderator):
    moderator = User.objects.get(pk=moderator.pk)
    assert moderator.has_perm("accounts.change_user")
    assert moderator.has_perm("core.view_auditlogentry")
    assert not moderator.has_perm("accounts.delete_user")
    assert not moderator.has_perm("auth.change_group")


@pytest.mark.django_db
def test_change_form_uses_plain_coordinates_and_no_outside_scripts(admin_client, user):
    page = admin_client.get(_change_url(user)).content.decode()
    assert 'name="home_lat"' in page
    assert "cdn." not in page
    assert 'name="home_location"' not in page
    assert 'type="file"' not in page  # pictures only come through core.images

    response = admin_client.post(
        _change_url(user), _change_form(user, home_lat="43.25", home_lng="76.95")
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.home_location.y, user.home_location.x) == (43.25, 76.95)


@pytest.mark.django_db
def test_change_form_refuses_half_a_location(admin_client, user):
    response = admin_client.post(_change_url(user), _change_form(user, home_lat="43"))
    assert response.status_code == 200
    assert "Enter both coordinates, or neither." in response.content.decode()


@pytest.mark.django_db
def test_moderator_removes_an_offensive_picture_audited(
    moderator_client, moderator, user, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    from accounts.services import user_avatar_set
    from core.tests.image_files import image_bytes, upload

    with django_capture_on_commit_callbacks(execute=True):
        user = user_avatar_set(user=user, upload=upload(image_bytes("JPEG")))
    name = user.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(
            _change_url(user),
            _change_form(user, remove_avatar="on", reason="Offensive picture"),
        )

    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.avatar
    assert not default_storage.exists(name)
    entry = AuditLogEntry.objects.get(action="user.avatar_remove")
    assert (entry.actor, entry.reason) == (moderator, "Offensive picture")
