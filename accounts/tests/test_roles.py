import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from accounts import roles
from accounts.roles import MODERATORS_GROUP
from accounts.services import moderator_group_sync


def _codenames(group):
    return set(group.permissions.values_list("content_type__app_label", "codename"))


# Each app declares what its moderation needs in roles.MODERATOR_PERMISSIONS.
EXPECTED = {
    (app_label, f"{action}_{model}")
    for app_label, model, actions in roles.MODERATOR_PERMISSIONS
    for action in actions
}


def test_moderators_never_get_destructive_user_or_audit_permissions():
    assert ("accounts", "view_user") in EXPECTED
    assert ("accounts", "change_user") in EXPECTED
    assert ("accounts", "delete_user") not in EXPECTED
    assert ("core", "view_auditlogentry") in EXPECTED
    assert not {c for a, c in EXPECTED if a == "core" and c != "view_auditlogentry"}


@pytest.mark.django_db
def test_migrations_leave_the_moderators_group_with_exactly_its_permissions():
    # the data migration and the post_migrate sync ran for the test database
    group = Group.objects.get(name=MODERATORS_GROUP)
    assert _codenames(group) == EXPECTED


@pytest.mark.django_db
def test_sync_removes_extra_permissions_and_is_idempotent():
    group = Group.objects.get(name=MODERATORS_GROUP)
    group.permissions.add(Permission.objects.get(codename="delete_user"))

    moderator_group_sync()
    moderator_group_sync()

    assert _codenames(group) == EXPECTED
    assert Group.objects.filter(name=MODERATORS_GROUP).count() == 1


@pytest.mark.django_db
def test_sync_roles_command_picks_up_permissions_apps_append(monkeypatch):
    monkeypatch.setattr(
        roles,
        "MODERATOR_PERMISSIONS",
        [*roles.MODERATOR_PERMISSIONS, ("auth", "group", ("view",))],
    )
    import accounts.services

    monkeypatch.setattr(
        accounts.services, "MODERATOR_PERMISSIONS", roles.MODERATOR_PERMISSIONS
    )

    out = io.StringIO()
    call_command("sync_roles", stdout=out)

    group = Group.objects.get(name=MODERATORS_GROUP)
    assert _codenames(group) == EXPECTED | {("auth", "view_group")}
    assert (
        out.getvalue().strip()
        == f"Moderators: {len(EXPECTED) + 1} permissions in sync."
    )


@pytest.mark.django_db
def test_sync_is_strict_about_unknown_models(monkeypatch):
    import accounts.services

    monkeypatch.setattr(
        accounts.services,
        "MODERATOR_PERMISSIONS",
        [("accounts", "nosuchmodel", ("view",))],
    )
    with pytest.raises(LookupError):
        moderator_group_sync()


@pytest.mark.django_db
def test_site_row_names_our_site_for_emails():
    from django.contrib.sites.models import Site

    site = Site.objects.get_current()
    assert (site.name, site.domain) == ("Bazaar", "127.0.0.1:8000")
