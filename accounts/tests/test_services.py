import pytest
from django.core.files.storage import FileSystemStorage, default_storage

from accounts import services
from accounts.conftest import make_role
from accounts.models import Notification, User
from accounts.roles import Role, role_of
from accounts.tests.factories import UserFactory
from core.errors import Conflict, PermissionDenied, ValidationError
from core.models import AuditLogEntry
from core.tests.image_files import image_bytes, png_header_only, upload


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Role.USER, Role.MODERATOR),
        (Role.USER, Role.ADMIN),
        (Role.MODERATOR, Role.USER),
        (Role.MODERATOR, Role.ADMIN),
        (Role.ADMIN, Role.USER),
        (Role.ADMIN, Role.MODERATOR),
    ],
)
def test_set_role_moves_between_every_role(admin_user, start, target):
    user = make_role(UserFactory(), start)

    user = services.user_set_role(
        actor=admin_user, user=user, role=target, reason="team change"
    )

    user = User.objects.get(pk=user.pk)
    assert role_of(user) == target
    assert user.is_staff == (target != Role.USER)
    assert user.is_superuser == (target == Role.ADMIN)
    entry = AuditLogEntry.objects.get(action="user.role_change")
    assert entry.data == {"from": str(start), "to": str(target)}
    assert Notification.objects.filter(user=user, kind="system").count() == 1


@pytest.mark.django_db
def test_set_role_to_the_same_role_writes_nothing(admin_user, user):
    services.user_set_role(actor=admin_user, user=user, role=Role.USER)
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_admin_cannot_demote_themselves(admin_user):
    with pytest.raises(Conflict):
        services.user_set_role(actor=admin_user, user=admin_user, role=Role.USER)
    admin_user.refresh_from_db()
    assert admin_user.is_superuser


@pytest.mark.django_db
@pytest.mark.parametrize("actor_role", [Role.USER, Role.MODERATOR])
def test_only_admins_change_roles(actor_role, user):
    actor = make_role(UserFactory(), actor_role)
    with pytest.raises(PermissionDenied):
        services.user_set_role(actor=actor, user=user, role=Role.MODERATOR)
    assert role_of(User.objects.get(pk=user.pk)) == Role.USER


@pytest.mark.django_db
def test_unknown_role_is_a_validation_error(admin_user, user):
    with pytest.raises(ValidationError) as caught:
        services.user_set_role(actor=admin_user, user=user, role="king")
    assert caught.value.field == "role"


@pytest.mark.django_db
def test_ban_and_unban_are_audited(moderator, user):
    services.user_ban(actor=moderator, user=user, reason="  Spam  ")
    assert User.objects.get(pk=user.pk).is_active is False

    with pytest.raises(Conflict):
        services.user_ban(actor=moderator, user=user, reason="again")

    services.user_unban(actor=moderator, user=user)
    assert User.objects.get(pk=user.pk).is_active is True
    actions = list(AuditLogEntry.objects.order_by("pk").values_list("action", "reason"))
    assert actions == [("user.ban", "Spam"), ("user.unban", "")]


@pytest.mark.django_db
def test_ban_requires_a_reason(moderator, user):
    with pytest.raises(ValidationError) as caught:
        services.user_ban(actor=moderator, user=user, reason="   ")
    assert caught.value.field == "reason"
    assert User.objects.get(pk=user.pk).is_active


@pytest.mark.django_db
def test_plain_users_cannot_ban(user, other_user):
    with pytest.raises(PermissionDenied):
        services.user_ban(actor=user, user=other_user, reason="I don't like them")
    assert User.objects.get(pk=other_user.pk).is_active


@pytest.mark.django_db
def test_a_banned_moderator_cannot_ban(moderator, user):
    moderator.is_active = False
    moderator.save()
    with pytest.raises(PermissionDenied):
        services.user_ban(actor=moderator, user=user, reason="x")


@pytest.mark.django_db
def test_admin_can_ban_a_moderator(admin_user, moderator):
    services.user_ban(actor=admin_user, user=moderator, reason="abuse of power")
    assert User.objects.get(pk=moderator.pk).is_active is False


@pytest.mark.django_db
def test_verified_badge_is_audited(moderator, user):
    services.user_set_verified(actor=moderator, user=user, is_verified=True)
    services.user_set_verified(actor=moderator, user=user, is_verified=True)
    services.user_set_verified(actor=moderator, user=user, is_verified=False)

    actions = list(
        AuditLogEntry.objects.order_by("pk").values_list("action", flat=True)
    )
    assert actions == ["user.verify", "user.unverify"]


@pytest.mark.django_db
def test_profile_update_normalises_and_validates(user):
    services.user_profile_update(
        user=user,
        display_name="Dana  K",
        phone="+7 (701) 234 56 78",
        city=" Almaty\x00 ",
        bio="Line one\r\nLine two\x07",
        location=(43.25, 76.95),
    )

    user = User.objects.get(pk=user.pk)
    assert user.display_name == "Dana K"
    assert user.phone == "+77012345678"
    assert user.city == "Almaty"
    assert user.bio == "Line one\nLine two"
    assert (user.home_location.y, user.home_location.x) == (43.25, 76.95)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"phone": "not a phone"}, "phone"),
        ({"location": (float("nan"), 10.0)}, "lat"),
        ({"location": (10.0, float("inf"))}, "lng"),
        ({"location": ("43", "76")}, "lat"),
        ({"location": (True, 1.0)}, "lat"),
        ({"display_name": " "}, "display_name"),
    ],
)
def test_profile_update_refuses_bad_values_and_writes_nothing(user, kwargs, field):
    before = User.objects.values().get(pk=user.pk)
    arguments = {"display_name": "Fine Name", **kwargs}

    with pytest.raises(ValidationError) as caught:
        services.user_profile_update(user=user, **arguments)

    assert caught.value.field == field
    assert User.objects.values().get(pk=user.pk) == before


@pytest.mark.django_db
def test_profile_update_with_a_bad_avatar_writes_nothing(user):
    before = User.objects.values().get(pk=user.pk)

    with pytest.raises(ValidationError) as caught:
        services.user_profile_update(
            user=user,
            display_name="New Name",
            avatar=upload(png_header_only(50_000, 50_000), name="b.png"),
        )

    assert caught.value.field == "avatar"
    assert User.objects.values().get(pk=user.pk) == before


@pytest.mark.django_db
def test_avatar_file_is_removed_when_the_transaction_fails(user, monkeypatch):
    stored = []
    original_save = FileSystemStorage.save

    def spy_save(self, name, content, **kwargs):
        stored.append(original_save(self, name, content, **kwargs))
        return stored[-1]

    def failing_save(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(FileSystemStorage, "save", spy_save)
    monkeypatch.setattr(User, "save", failing_save)

    with pytest.raises(RuntimeError):
        services.user_avatar_set(user=user, upload=upload(image_bytes("JPEG")))

    assert len(stored) == 1
    assert not default_storage.exists(stored[0])
