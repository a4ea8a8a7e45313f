import logging

from django.apps import apps as django_apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.models import NotificationKind, User
from accounts.roles import (
    MODERATOR_PERMISSIONS,
    MODERATORS_GROUP,
    Role,
    check_active_change,
    check_role_change,
    check_verified_change,
    role_of,
)

# Notifications live in their own module; these names are the public entry
# points every app uses (`accounts.services.notification_send`).
from accounts.services_notifications import (  # noqa: F401
    notification_digest_send,
    notification_email_send,
    notification_mark_all_read,
    notification_mark_read,
    notification_preferences_update,
    notification_send,
    notification_unsubscribe,
)
from accounts.validators import (
    clean_display_name,
    clean_phone,
    clean_text,
    location_point,
)
from core.errors import Conflict
from core.images import ImageSize, clean_image
from core.services import audit_log_record

logger = logging.getLogger(__name__)


# --- Roles ----------------------------------------------------------------------


def moderator_group_sync(*, registry=None, strict: bool = True):
    """Create or update the Moderators group with exactly MODERATOR_PERMISSIONS.

    The single place that defines the group: the data migration passes its
    historical `registry` with `strict=False` (apps migrated later are skipped
    and added by the sync that runs after every `migrate`); `manage.py
    sync_roles` and the post_migrate handler use the live registry, strictly.
    """
    registry = registry or django_apps
    group_model = registry.get_model("auth", "Group")
    permission_model = registry.get_model("auth", "Permission")
    content_type_model = registry.get_model("contenttypes", "ContentType")
    with transaction.atomic():
        group, _ = group_model.objects.get_or_create(name=MODERATORS_GROUP)
        permissions = []
        for app_label, model_name, actions in MODERATOR_PERMISSIONS:
            try:
                model = registry.get_model(app_label, model_name)
            except LookupError:
                if strict:
                    raise
                continue
            content_type, _ = content_type_model.objects.get_or_create(
                app_label=app_label, model=model_name
            )
            for action in actions:
                permission, _ = permission_model.objects.get_or_create(
                    content_type=content_type,
                    codename=f"{action}_{model_name}",
                    defaults={"name": f"Can {action} {model._meta.verbose_name}"},
                )
                permissions.append(permission)
        group.permissions.set(permissions)
    return group


def user_set_role(*, actor: User, user: User, role: str, reason: str = "") -> User:
    """Make `user` a plain user, a moderator or an admin; audited."""
    with transaction.atomic():
        user = _locked(user)
        _apply_role(actor=actor, user=user, role=role, reason=reason)
    return user


def user_ban(*, actor: User, user: User, reason: str) -> User:
    """Ban `user`: they can no longer log in and every session ends; audited."""
    with transaction.atomic():
        user = _locked(user)
        if not user.is_active:
            raise Conflict("This user is already banned.", field="is_active")
        _apply_active(actor=actor, user=user, is_active=False, reason=reason)
    return user


def user_unban(*, actor: User, user: User, reason: str = "") -> User:
    """Lift `user`'s ban; audited."""
    with transaction.atomic():
        user = _locked(user)
        if user.is_active:
            raise Conflict("This user is not banned.", field="is_active")
        _apply_active(actor=actor, user=user, is_active=True, reason=reason)
    return user


def user_set_verified(
    *, actor: User, user: User, is_verified: bool, reason: str = ""
) -> User:
    """Grant or remove `user`'s verified badge; audited."""
    with transaction.atomic():
        user = _locked(user)
        _apply_verified(actor=actor, user=user, is_verified=is_verified, reason=reason)
    return user


def user_moderate(
    *,
    actor: User,
    user: User,
    role: str | None = None,
    is_active: bool | None = None,
    is_verified: bool | None = None,
    reason: str = "",
) -> User:
    """Apply several moderation changes at once (admin API, admin form); audited.

    `None` leaves a value as it is; values equal to the current ones are no-ops.
    All changes are checked before any is written, and written together.
    """
    with transaction.atomic():
        user = _locked(user)
        changes_role = role is not None and role != role_of(user)
        changes_active = is_active is not None and is_active != user.is_active
        changes_verified = is_verified is not None and is_verified != user.is_verified
        if changes_role:
            check_role_change(actor=actor, user=user, role=role)
        if changes_active:
            check_active_change(
                actor=actor, user=user, is_active=is_active, reason=reason
            )
        if changes_verified:
            check_verified_change(actor=actor, user=user)
        if changes_role:
            _apply_role(actor=actor, user=user, role=role, reason=reason)
        if changes_active:
            _apply_active(actor=actor, user=user, is_active=is_active, reason=reason)
        if changes_verified:
            _apply_verified(
                actor=actor, user=user, is_verified=is_verified, reason=reason
            )
    return user


def _locked(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


def _apply_role(*, actor: User, user: User, role: str, reason: str) -> None:
    check_role_change(actor=actor, user=user, role=role)
    previous = role_of(user)
    if previous == role:
        return
    group = moderator_group_sync()
    user.is_superuser = role == Role.ADMIN
    user.is_staff = role in (Role.MODERATOR, Role.ADMIN)
    user.save(update_fields=["is_superuser", "is_staff"])
    if role == Role.MODERATOR:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    audit_log_record(
        actor=actor,
        action="user.role_change",
        target=user,
        reason=reason,
        data={"from": str(previous), "to": str(role)},
    )
    notification_send(
        user=user,
        kind=NotificationKind.SYSTEM,
        title=f"Your role is now: {Role(role).label}",
        body="Changed by the site team.",
    )


def _apply_active(*, actor: User, user: User, is_active: bool, reason: str) -> None:
    check_active_change(actor=actor, user=user, is_active=is_active, reason=reason)
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    if not is_active:
        _end_all_sessions(user)
        # Open websockets outlive their session: close them too, on commit.
        from chat.services import user_sockets_close

        user_sockets_close(user_id=user.pk)
    audit_log_record(
        actor=actor,
        action="user.unban" if is_active else "user.ban",
        target=user,
        reason=reason.strip(),
    )


def _apply_verified(*, actor: User, user: User, is_verified: bool, reason: str) -> None:
    check_verified_change(actor=actor, user=user)
    if user.is_verified == is_verified:
        return
    user.is_verified = is_verified
    user.save(update_fields=["is_verified"])
    audit_log_record(
        actor=actor,
        action="user.verify" if is_verified else "user.unverify",
        target=user,
        reason=reason.strip(),
    )


def _end_all_sessions(user: User) -> None:
    # Ending the sessions also kills their JWT access and refresh tokens, which
    # are validated against the session (HEADLESS_JWT_STATEFUL_VALIDATION).
    from allauth.usersessions.adapter import get_adapter
    from allauth.usersessions.models import UserSession

    get_adapter().end_sessions(list(UserSession.objects.filter(user=user)))


# --- Profile ----------------------------------------------------------------------

AVATAR_SIZE = ImageSize("avatar", 256, 256, crop=True)


def user_profile_update(
    *,
    user: User,
    display_name: str,
    phone: str = "",
    city: str = "",
    bio: str = "",
    location: tuple[float, float] | None = None,
    avatar=None,
    remove_avatar: bool = False,
) -> User:
    """Update the user's own profile; `location` is (lat, lng) or None.

    `avatar` (an uploaded file) replaces the picture, `remove_avatar` removes
    it; the image is checked and cleaned before anything is written.
    """
    values = {
        "display_name": clean_display_name(display_name),
        "phone": clean_phone(phone),
        "city": clean_text(city, field="city", max_length=80),
        "bio": clean_text(bio, field="bio", max_length=2000, multiline=True),
        "home_location": location_point(location),
    }
    new_avatar = _clean_avatar(avatar) if avatar is not None else None
    with _AvatarSwap(user) as swap, transaction.atomic():
        locked = _locked(user)
        for name, value in values.items():
            setattr(user, name, value)
        update_fields = list(values)
        if new_avatar is not None or remove_avatar:
            swap.replace(new_avatar, old_name=locked.avatar.name)
            update_fields.append("avatar")
        user.save(update_fields=update_fields)
    return user


def user_avatar_set(*, user: User, upload) -> User:
    """Replace the user's avatar with a cleaned 256x256 copy of `upload`."""
    new_avatar = _clean_avatar(upload)
    with _AvatarSwap(user) as swap, transaction.atomic():
        locked = _locked(user)
        swap.replace(new_avatar, old_name=locked.avatar.name)
        user.save(update_fields=["avatar"])
    return user


def user_avatar_delete(
    *, user: User, actor: User | None = None, reason: str = ""
) -> User:
    """Remove the user's avatar and its file; audited when staff remove it."""
    with _AvatarSwap(user) as swap, transaction.atomic():
        locked = _locked(user)
        swap.replace(None, old_name=locked.avatar.name)
        user.save(update_fields=["avatar"])
        if actor is not None and actor.pk != user.pk:
            audit_log_record(
                actor=actor,
                action="user.avatar_remove",
                target=user,
                reason=reason.strip(),
            )
    return user


def _clean_avatar(upload):
    [avatar] = clean_image(
        upload,
        sizes=[AVATAR_SIZE],
        max_bytes=settings.AVATAR_MAX_BYTES,
        max_pixels=settings.AVATAR_MAX_PIXELS,
        field="avatar",
    )
    return avatar


class _AvatarSwap:
    """Swaps a user's avatar file around a transaction, leaving no orphans.

    Enter it *outside* `transaction.atomic()`: when the block fails, the file
    stored by `replace()` is deleted; when it commits, the old file is.
    """

    def __init__(self, user: User):
        self.user = user
        self.new_name = ""

    def __enter__(self):
        return self

    def replace(self, content, *, old_name: str) -> None:
        if content is None:
            self.user.avatar = ""
        else:
            self.user.avatar.save(content.name, content, save=False)
            self.new_name = self.user.avatar.name
        if old_name and old_name != self.new_name:
            transaction.on_commit(lambda: _delete_file(old_name))

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.new_name:
            _delete_file(self.new_name)
        return False


def _delete_file(name: str) -> None:
    try:
        default_storage.delete(name)
    except OSError:
        # A file we cannot delete is left behind, not worth failing a request.
        logger.warning("Could not delete avatar file %s", name, exc_info=True)
